-- expect: rejected open_private | soundness.md row 13
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat

open private Lean.Kernel.Environment.add in
theorem t : (2 : ℕ) + 2 = 5 := by
  norm_num
