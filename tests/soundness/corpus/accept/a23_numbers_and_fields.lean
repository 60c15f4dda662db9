-- expect: proved | lexer: numbers and field indices as Lean reads them
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat


theorem t (n : ℕ) (h₀ : 0 < n ∧ n < 1_000) (h₁ : 2 * n = 0x10) : n = 8 ∧ (2.5 : ℝ) > 1 := by
  have := h₀.1.ne'
  constructor
  · omega
  · norm_num
