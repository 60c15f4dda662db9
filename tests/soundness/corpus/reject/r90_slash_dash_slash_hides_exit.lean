-- expect: rejected comment_trick | lexer: after `/-` Lean skips one character unread, so `/-/- a -/` is ONE comment and the `#exit` after it runs
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat


theorem t : (2 : ℕ) + 2 = 5 := by
  /-/- looks like two openers -/ #exit
  norm_num
