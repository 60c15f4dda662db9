-- expect: proved
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat

set_option maxHeartbeats 200000 in
theorem t (a b : ℝ) (h₀ : a = 2) (h₁ : b = 3) : a + b = 5 := by
  linarith
