-- expect: proved
import Mathlib.Tactic
import Aesop
import Batteries.Data.List.Basic
set_option maxHeartbeats 400000
open Real Nat

theorem t (a b : ℝ) (h₀ : a = 2) (h₁ : b = 3) : a + b = 5 := by
  linarith
