-- expect: proved | issue 12: a model-defined Decidable instance (a wrong one would not typecheck)
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat


instance decEvenSq (n : ℕ) : Decidable (Even (n ^ 2)) :=
  decidable_of_iff (Even n) (by simp [Nat.even_pow])

theorem t : Even (4 ^ 2) := by
  decide
