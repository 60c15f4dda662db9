-- expect: rejected axiom | soundness.md row 8
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat

axiom cheat : False

theorem t : (2 : ℕ) + 2 = 5 := cheat.elim
