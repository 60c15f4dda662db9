-- expect: rejected unsafe | soundness.md row 14
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat

unsafe def bogus : ℕ := unsafeCast "x"

theorem t : (2 : ℕ) + 2 = 5 := by
  norm_num
