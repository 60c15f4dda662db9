-- expect: rejected option_value | layer: harness check (file header screen) | trace.profiler.output writes a file of the host's
import Mathlib

set_option trace.profiler.output "/tmp/owned"

theorem fine (n : ℕ) : n + 0 = n := by
  simp
