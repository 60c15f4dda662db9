-- expect: rejected glued_number | lexer: a number stops at the first character that cannot continue it, so `2set_option` is `2` then `set_option`
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat


def two := 2set_option debug.skipKernelTC true in
theorem t : (2 : ℕ) + 2 = 5 := by
  norm_num
