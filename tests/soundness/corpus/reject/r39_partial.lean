-- expect: rejected partial | soundness.md row 27
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat

partial def loop (n : ℕ) : ℕ := loop n

theorem t : (2 : ℕ) + 2 = 5 := by
  norm_num
