-- expect: rejected meta_code | soundness.md row 16 | layer: screen | issue 12: configuration values are evaluated, so a model's `TacticM` discharger runs on the host
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat

open Lean Elab Tactic in
def evil : TacticM Unit := do
  IO.FS.writeFile "/tmp/pwned" "x"

theorem t₁ (a b : ℝ) (h₀ : a = 2) (h₁ : b = 3) : a + b = 5 := by
  linarith (config := { discharger := evil })

theorem t : (2 : ℕ) + 2 = 5 := by
  norm_num
