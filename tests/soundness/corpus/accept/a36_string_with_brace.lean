-- expect: proved | issue 12: a plain string containing `{` (no s!/m!/f!: nothing is interpolated)
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat


def template : String := "{x} + {y}"

theorem t : template.length = 9 := by
  decide
