-- expect: rejected elab_code | soundness.md row 9
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat

theorem t : (2 : ℕ) + 2 = 5 := by
  run_tac do
    let g ← Lean.Elab.Tactic.getMainTarget
    Lean.addDecl <| .axiomDecl { name := `t_ax, levelParams := [], type := g, isUnsafe := false }
  exact t_ax
