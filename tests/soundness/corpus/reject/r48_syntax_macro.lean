-- expect: rejected elab_code | soundness.md row 16
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat

syntax "win" : tactic
macro_rules | `(tactic| win) => `(tactic| sorry)

theorem t : (2 : ℕ) + 2 = 5 := by
  win
