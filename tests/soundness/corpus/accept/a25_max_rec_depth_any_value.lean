-- expect: proved | issue 12: any maxRecDepth; lean.timeout_s bounds the check
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat


set_option maxRecDepth 100000000 in
theorem t : (2 : ℕ) ^ 100 % 7 = 2 := by
  norm_num
