-- expect: proved | issue 12: any maxHeartbeats; lean.timeout_s bounds the check
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat


set_option maxHeartbeats 0 in
theorem helper (x : ℝ) : 0 ≤ x ^ 2 := by positivity

set_option «maxHeartbeats» 10000000 in
theorem t (x : ℝ) : 0 ≤ x ^ 2 + 1 := by
  nlinarith [helper x]
