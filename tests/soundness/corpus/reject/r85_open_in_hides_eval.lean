-- expect: rejected elab_code | soundness.md row 16
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat

open Lean in
#eval IO.FS.writeFile "/tmp/pwned" "x"

theorem t : (2 : ℕ) + 2 = 5 := by
  norm_num
