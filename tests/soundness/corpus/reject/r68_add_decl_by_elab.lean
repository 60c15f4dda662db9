-- expect: rejected elab_code | soundness.md row 15
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat

theorem t : (2 : ℕ) + 2 = 5 := by_elab do
  Lean.addDecl default
  return default
