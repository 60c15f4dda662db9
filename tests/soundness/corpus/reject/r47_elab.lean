-- expect: rejected elab_code | soundness.md row 16
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat

elab "cheat" : tactic => do
  Lean.Elab.Tactic.closeMainGoal `cheat (Lean.mkConst ``True.intro)

theorem t : (2 : ℕ) + 2 = 5 := by
  cheat
