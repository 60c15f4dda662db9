-- expect: sorry sorry | soundness.md row 5
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat

def f (n : ℕ) : ℕ := f n + 1
decreasing_by sorry

theorem t : (2 : ℕ) + 2 = 5 := by
  have h := f.eq_1 0
  omega
