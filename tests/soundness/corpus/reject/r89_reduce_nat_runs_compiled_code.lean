-- expect: rejected native_decide | soundness.md row 16
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat

def leak (n : ℕ) : ℕ :=
  match (IO.FS.writeFile "/tmp/pwned" "x" : IO Unit) () with
  | .ok _ _ => n
  | .error _ _ => n

theorem t : (2 : ℕ) + 2 = 5 := by
  have h : leak 4 = 4 := Lean.ofReduceNat _ _ (show Lean.reduceNat (leak 4) = 4 from rfl)
  omega
