-- expect: proved | issue 12: universe u
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat


universe u

theorem same {α : Type u} (a : α) : a = a := rfl

theorem t (n : ℕ) : n = n := same n
