-- expect: rejected variable | soundness.md row 20
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat

variable (h : (1 : ℕ) = 2)
include h

theorem t : (2 : ℕ) + 2 = 5 := by
  omega
