-- expect: proved
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat

theorem helper₁ (α β : ℝ) (hα : α = 1) (hβ : β = α) : β = 1 := by
  rw [hβ, hα]

theorem t (a b : ℝ) (h₀ : a = 2) (h₁ : b = 3) : a + b = 5 := by
  linarith
