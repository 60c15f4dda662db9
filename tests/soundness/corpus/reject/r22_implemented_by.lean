-- expect: rejected implemented_by | soundness.md row 11
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat

def yes (_ : Unit) : Bool := true
@[implemented_by yes] def no (_ : Unit) : Bool := false

theorem lie : no () = true := by decide

theorem t : (2 : ℕ) + 2 = 5 := by
  have h := lie
  simp [no] at h
