-- expect: proved
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat

theorem t (a b : ℝ) (h₀ : a = 2) (h₁ : b = 3) : a + b = 5 := by
  -- No sorry here: we avoid `admit`, `axiom`, `native_decide` and `#exit`.
  /- A nested /- comment -/ mentioning sorry, notation, variable, instance -/
  subst h₀ h₁
  norm_num
