-- expect: rejected unterminated_string | lexer: an unterminated `"` is an error at the quote; Lean steps past it and reads the rest as code
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat


theorem t : (2 : ℕ) + 2 = 5 := by
  norm_num "
#exit
