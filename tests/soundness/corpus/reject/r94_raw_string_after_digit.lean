-- expect: rejected glued_number | lexer: `2r"\"` is `2` then the raw string `r"\"` (no escapes), so the `#exit` after it is code
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat


def s := (2r"\" #exit "")
theorem t : (2 : ℕ) + 2 = 5 := by
  norm_num
