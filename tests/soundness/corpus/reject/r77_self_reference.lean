-- expect: needs_lean lean_error | soundness.md row 29 | layer: lean
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat

theorem t : (2 : ℕ) + 2 = 5 := by
  exact t
