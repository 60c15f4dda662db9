-- expect: rejected max_rec_depth
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat

set_option maxRecDepth 100000000 in
theorem t : (2 : ℕ) + 2 = 5 := by
  norm_num
