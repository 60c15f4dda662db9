-- expect: rejected comment_trick | lexer: `/--/` is a doc-comment token whose body starts at `/`, not an empty doc comment
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat

theorem t : (2 : ℕ) + 2 = 5 := by
  /--/ #exit -/
  norm_num
