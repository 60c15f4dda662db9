-- expect: rejected elab_code | soundness.md row 21
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat

macro "finish" : tactic => `(tactic| sorry)

theorem t : (2 : ℕ) + 2 = 5 := by
  finish
