-- expect: rejected elab_code | soundness.md row 21
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat

macro_rules | `(tactic| norm_num) => `(tactic| sorry)

theorem t : (2 : ℕ) + 2 = 5 := by
  norm_num
