-- expect: rejected scope | layer: screen
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat

mutual
theorem a : True := trivial

theorem t : (2 : ℕ) + 2 = 5 := by
  norm_num
