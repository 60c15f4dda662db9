-- expect: rejected elab_code | soundness.md row 16
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat

-- the model's own compiled code (doing IO it would be refused first: rule io, r102)
def leak (n : ℕ) : ℕ := n * 1

theorem helper : ∀ n : ℕ, leak n = n := by
  plausible

theorem t : (2 : ℕ) + 2 = 5 := by
  norm_num
