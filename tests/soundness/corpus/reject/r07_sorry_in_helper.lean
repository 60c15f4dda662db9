-- expect: sorry sorry | soundness.md row 4
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat

theorem helper : False := by sorry

theorem t : (2 : ℕ) + 2 = 5 := helper.elim
