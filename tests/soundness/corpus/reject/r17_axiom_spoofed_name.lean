-- expect: rejected axiom | soundness.md row 10
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat

axiom «Quot.sound : a» : False

theorem t : (2 : ℕ) + 2 = 5 := «Quot.sound : a».elim
