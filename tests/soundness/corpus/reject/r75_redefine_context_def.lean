-- expect: needs_lean lean_error | soundness.md row 23 | context: def target : ℕ := 7 | layer: lean
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat

def target : ℕ := 8

theorem t : target % 2 = 0 := by decide
