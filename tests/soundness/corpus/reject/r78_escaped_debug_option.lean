-- expect: rejected debug_option | soundness.md row 12
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat

set_option «debug».skipKernelTC true in
theorem t : (2 : ℕ) + 2 = 5 := by
  exact absurd rfl (by decide)
