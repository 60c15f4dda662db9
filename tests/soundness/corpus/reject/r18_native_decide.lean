-- expect: rejected native_decide | soundness.md row 11
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat

theorem t : 2 ^ 64 % 7 = 2 := by native_decide
