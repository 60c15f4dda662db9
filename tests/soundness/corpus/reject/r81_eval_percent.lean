-- expect: rejected elab_code | soundness.md row 16
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat

-- the model's own compiled code (doing IO it would be refused first: rule io, r102)
def leak : ℕ := 0

theorem t : (2 : ℕ) + 2 = 5 := by
  have h := eval% leak
  norm_num
