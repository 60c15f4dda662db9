-- expect: proved
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat

/-- This lemma is an example; the notation `a + b` and every variable are as usual.
We never use sorry, axiom or instance here. -/
theorem t (a b : ℝ) (h₀ : a = 2) (h₁ : b = 3) : a + b = 5 := by
  rw [h₀, h₁]
  norm_num
