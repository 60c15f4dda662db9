-- expect: proved
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat

theorem sorry_free_helper (stopping : ℕ) (h_admit : stopping = 1) : stopping + 1 = 2 := by
  omega

theorem t (a b : ℝ) (h₀ : a = 2) (h₁ : b = 3) : a + b = 5 := by
  have h_axiom := sorry_free_helper 1 rfl
  linarith
