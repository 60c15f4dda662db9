-- expect: rejected native_decide | soundness.md row 11
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat

theorem t (x : BitVec 8) : x + 0 = x := by bv_decide
