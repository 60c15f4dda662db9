-- expect: rejected elab_code | soundness.md row 16
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat

simproc cheat (_) := fun _ => return .done { expr := Lean.mkConst ``True }

theorem t : (2 : ℕ) + 2 = 5 := by
  simp
