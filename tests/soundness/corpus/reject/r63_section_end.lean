-- expect: rejected scope | soundness.md row 19 | layer: screen
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat

theorem helper : True := trivial
end

theorem t : (2 : ℕ) + 2 = 5 := by
  norm_num
