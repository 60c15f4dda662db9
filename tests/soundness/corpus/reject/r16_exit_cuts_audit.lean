-- expect: rejected exit | soundness.md row 10
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat

theorem helper : True := trivial
#exit

theorem t : (2 : ℕ) + 2 = 5 := by
  norm_num
