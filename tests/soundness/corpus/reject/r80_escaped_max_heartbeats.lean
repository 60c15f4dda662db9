-- expect: rejected max_heartbeats
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat

set_option «maxHeartbeats» 0 in
theorem t : (2 : ℕ) + 2 = 5 := by
  norm_num
