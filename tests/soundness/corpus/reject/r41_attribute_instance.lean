-- expect: needs_lean statement_changed | soundness.md row 28 | layer: statement comparison
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat

def badAdd : Add ℕ := ⟨fun _ _ => 0⟩
attribute [instance] badAdd

theorem t : (2 : ℕ) + 2 = 0 := rfl
