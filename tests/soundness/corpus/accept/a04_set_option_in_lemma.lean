-- expect: proved
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat

set_option maxRecDepth 5000 in
theorem helper : (2 : ℕ) ^ 10 = 1024 := by
  norm_num

theorem t (a b : ℝ) (h₀ : a = 2) (h₁ : b = 3) : a + b = 5 := by
  subst h₀ h₁
  norm_num
