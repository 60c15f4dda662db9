-- expect: rejected auto_implicit
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat

set_option «autoImplicit» true

theorem t : (2 : ℕ) + 2 = 5 := by
  norm_num
