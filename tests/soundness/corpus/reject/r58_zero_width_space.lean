-- expect: rejected invisible_unicode | soundness.md row 24
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat

theorem t : (2 : ℕ) + 2 = 5 := by
  norm​_num
