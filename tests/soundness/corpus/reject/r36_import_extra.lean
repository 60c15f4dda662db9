-- expect: rejected import | soundness.md row 25
import Mathlib
import Bench.Solutions

theorem t : (2 : ℕ) + 2 = 5 := Bench.Solutions.t
