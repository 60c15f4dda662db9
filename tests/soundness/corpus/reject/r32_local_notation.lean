-- expect: rejected scope | soundness.md row 21
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat

local notation "five" => (4 : ℕ)

theorem t : (2 : ℕ) + 2 = 5 := by
  show 2 + 2 = five
  rfl
