-- expect: rejected axiom | soundness.md row 8 | layer: screen
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat

axiom cheat : False

instance (priority := high) bad : Fact False := ⟨cheat⟩

theorem t : (2 : ℕ) + 2 = 5 := (Fact.out : False).elim
