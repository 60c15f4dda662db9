-- expect: rejected import | soundness.md row 25
import Lean
import Mathlib

theorem t : (2 : ℕ) + 2 = 5 := by
  norm_num
