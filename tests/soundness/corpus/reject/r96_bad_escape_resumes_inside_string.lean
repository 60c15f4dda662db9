-- expect: rejected bad_escape | lexer: after the error at `\q` Lean resumes inside the string, so `#exit` runs
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat


def s := "\q #exit"
theorem t : (2 : ℕ) + 2 = 5 := by
  norm_num
