-- expect: rejected instance | soundness.md row 21
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat

structure S where
  x : ℕ
deriving instance Inhabited for S

theorem t : (2 : ℕ) + 2 = 5 := by
  norm_num
