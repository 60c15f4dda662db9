-- expect: proved | issue 12: attribute [local simp]
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat


theorem double_eq (n : ℕ) : n + n = 2 * n := by ring

attribute [local simp] double_eq

theorem t (n : ℕ) (h : n = 3) : n + n = 6 := by
  simp [h]
