-- expect: rejected elab_code | soundness.md row 16
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat

def leak : ℕ :=
  match (IO.FS.writeFile "/tmp/pwned" "x" : IO Unit) () with
  | .ok _ _ => 0
  | .error _ _ => 1

theorem t : (2 : ℕ) + 2 = 5 := by
  have h := eval% leak
  norm_num
