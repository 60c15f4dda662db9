-- expect: rejected glued_literal | lexer: after `!` a `'` starts a char literal, so `!'"'` is `!` and the char `"`; the `#exit` after it is code, not inside a string
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat


def b := !'"'
#exit
-- "
theorem t : (2 : ℕ) + 2 = 5 := by
  norm_num
