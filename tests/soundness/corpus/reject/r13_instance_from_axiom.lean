-- expect: rejected instance | soundness.md row 8
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat

instance (priority := high) bad : Fact False := ⟨by exact?⟩

theorem t : (2 : ℕ) + 2 = 5 := (Fact.out : False).elim
