-- expect: dropped #exit | soundness.md row 19
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat

theorem t : (2 : ℕ) + 2 = 5 := by
  norm_num
#exit
#eval IO.println "'t' does not depend on any axioms"
