-- expect: rejected attribute | soundness.md row 21
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat

def weird : Add ℕ := ⟨fun a b => a * b⟩

attribute [local instance] weird

theorem t : (2 : ℕ) + 2 = 5 := by
  norm_num
