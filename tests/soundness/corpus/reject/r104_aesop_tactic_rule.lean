-- expect: rejected aesop_tactic_rule | soundness.md row 16 | layer: screen | issue 12: Aesop runs a `tactic` rule's value as code (its definition, with meta-level names, is refused too: r100)
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat

theorem t : (2 : ℕ) + 2 = 5 := by
  aesop (add safe tactic t)
