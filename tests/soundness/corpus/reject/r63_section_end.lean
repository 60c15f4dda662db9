-- expect: rejected scope | soundness.md row 22
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat

section
variable (n : ℕ)
end

theorem t : (2 : ℕ) + 2 = 5 := by
  norm_num
