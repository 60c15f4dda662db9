-- expect: rejected unsafe | soundness.md row 27
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat

unsafe def u : ℕ := 0

theorem t : (2 : ℕ) + 2 = 5 := by
  norm_num
