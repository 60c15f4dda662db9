-- expect: proved | issue 12: @[simps]
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat


structure Pt where
  x : ℕ
  y : ℕ

@[simps] def origin : Pt := ⟨1, 2⟩

theorem t : origin.x + origin.y = 3 := by
  simp
