-- expect: proved | issue 12: attribute [local instance]
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat


attribute [local instance] Classical.propDecidable

noncomputable def pick (p : Prop) : ℕ := if p then 1 else 0

theorem t : pick True = 1 := by
  simp [pick]
