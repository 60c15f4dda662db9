-- expect: proved
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat

noncomputable def half (x : ℝ) : ℝ := x / 2

theorem half_two : half 2 = 1 := by
  unfold half
  norm_num

theorem t (a b : ℝ) (h₀ : a = 2) (h₁ : b = 3) : a + b = 5 := by
  linarith
