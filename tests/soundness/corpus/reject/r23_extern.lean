-- expect: rejected extern | soundness.md row 11
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat

@[extern "lean_nat_add"] def myAdd (a b : ℕ) : ℕ := a * b

theorem t : (2 : ℕ) + 2 = 5 := by
  norm_num
