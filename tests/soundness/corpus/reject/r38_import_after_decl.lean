-- expect: rejected import | soundness.md row 25
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat

theorem helper : True := trivial
import Mathlib.Tactic

theorem t : (2 : ℕ) + 2 = 5 := by
  norm_num
