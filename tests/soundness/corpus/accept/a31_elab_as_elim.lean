-- expect: proved | issue 12: @[elab_as_elim]
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat


@[elab_as_elim]
theorem two_step {P : ℕ → Prop} (n : ℕ) (h0 : P 0) (hs : ∀ k, P k → P (k + 1)) : P n := by
  induction n with
  | zero => exact h0
  | succ k ih => exact hs k ih

theorem t (n : ℕ) : 0 ≤ n := by
  induction n using two_step with
  | h0 => exact le_refl 0
  | hs k _ => exact Nat.zero_le _
