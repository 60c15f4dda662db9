-- expect: rejected tactic_config_code | soundness.md row 16 | layer: screen | the code in a configuration field needs no meta-level name at all
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat

theorem t (a b : ℝ) (h₀ : a = 2) (h₁ : b = 3) : a + b = 5 := by
  linarith (config := { discharger := do pure () })
