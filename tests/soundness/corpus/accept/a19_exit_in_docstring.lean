-- expect: proved
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat

/-- A helper. (Writing `#exit` here, in a docstring, stops nothing.) -/
theorem helper (x : ℝ) : 0 ≤ x ^ 2 := by positivity

theorem t (x : ℝ) : 0 ≤ x ^ 2 + 1 := by
  nlinarith [helper x]
