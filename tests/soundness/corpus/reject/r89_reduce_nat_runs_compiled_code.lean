-- expect: rejected native_decide | soundness.md row 16
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat

-- the model's own compiled code (doing IO it would be refused first: rule io, r102)
def leak (n : ℕ) : ℕ := n * 1

theorem t : (2 : ℕ) + 2 = 5 := by
  have h : leak 4 = 4 := Lean.ofReduceNat _ _ (show Lean.reduceNat (leak 4) = 4 from rfl)
  omega
