-- expect: rejected option_value | soundness.md row 16
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat

set_option trace.profiler.output "/tmp/owned" in
theorem helper : True := trivial

theorem t : (2 : ℕ) + 2 = 5 := by
  norm_num
