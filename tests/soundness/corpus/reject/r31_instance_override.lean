-- expect: needs_lean statement_changed | soundness.md row 21 | layer: statement comparison
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat

instance (priority := high) badAdd : Add ℕ := ⟨fun _ _ => 0⟩

theorem t : (2 : ℕ) + 2 = 0 := rfl
