-- expect: rejected opaque | soundness.md row 27
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat

opaque o : ℕ

theorem t : (2 : ℕ) + 2 = 5 := by
  have : o = o := rfl
  omega
