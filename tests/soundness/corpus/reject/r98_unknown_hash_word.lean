-- expect: rejected unknown_hash_command | lexer: `#foo` is `#` then `foo` or an error, depending on notation in scope
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat


theorem t : (2 : ℕ) + 2 = 5 := by
  norm_num
#foo t
