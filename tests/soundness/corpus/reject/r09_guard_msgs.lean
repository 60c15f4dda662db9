-- expect: rejected guard_msgs | soundness.md row 6
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat

#guard_msgs (drop all) in
theorem t : (2 : ℕ) + 2 = 5 := by decide
