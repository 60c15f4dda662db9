-- expect: rejected debug_option | layer: harness check (file header screen) | issue 12: `harness check FILE` put everything above the first theorem into the header, and the header was never screened
import Mathlib
import Aesop

set_option maxHeartbeats 400000
set_option debug.skipKernelTC true

open BigOperators Real Nat Topology Rat

theorem cheat : (2 : ℕ) + 2 = 5 := by
  exact absurd rfl (by decide)
