-- expect: needs_lean statement_changed | soundness.md row 17 | suite: theorem t : (2 : ℕ) + 2 = 5 := | layer: lean
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat

theorem t : (2 : ℕ) + 2 = 4 := by
  norm_num
