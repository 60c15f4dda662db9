-- expect: proved
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat

open Finset in
theorem helper (n : ℕ) : ∑ i ∈ range n, (0 : ℕ) = 0 := by
  simp

theorem t (a b : ℝ) (h₀ : a = 2) (h₁ : b = 3) : a + b = 5 := by
  subst h₀ h₁
  norm_num
