-- expect: needs_lean statement_changed | soundness.md row 21 | layer: statement comparison
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat

local notation:50 (priority := high) a:51 " ≤ " b:51 => b < a

theorem t : (3 : ℕ) ≤ 2 := by decide
