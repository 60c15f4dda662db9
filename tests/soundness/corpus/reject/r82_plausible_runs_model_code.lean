-- expect: rejected elab_code | soundness.md row 16
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat

def leak (n : ℕ) : ℕ :=
  match (IO.FS.writeFile "/tmp/pwned" "x" : IO Unit) () with
  | .ok _ _ => n
  | .error _ _ => n

theorem helper : ∀ n : ℕ, leak n = n := by
  plausible

theorem t : (2 : ℕ) + 2 = 5 := by
  norm_num
