-- expect: rejected elab_code | lexer: `#evalIO.println` is the longest token `#eval` followed by `IO.println`
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat


theorem t : (2 : ℕ) + 2 = 5 := by
  norm_num #evalIO.println "runs on the host"
