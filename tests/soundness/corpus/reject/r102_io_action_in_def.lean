-- expect: rejected io | soundness.md row 16 | layer: screen | an `IO` action applied to the world token runs whenever the compiled definition runs
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat

def leak (n : ℕ) : ℕ :=
  match (IO.FS.writeFile "/tmp/pwned" "x" : IO Unit) () with
  | .ok _ _ => n
  | .error _ _ => n

theorem t : (2 : ℕ) + 2 = 5 := by
  norm_num
