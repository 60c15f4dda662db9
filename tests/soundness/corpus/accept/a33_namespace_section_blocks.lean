-- expect: proved | issue 12: namespace and section blocks closed inside the aux
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat


namespace Helpers

theorem sq_nonneg' (x : ℝ) : 0 ≤ x ^ 2 := by positivity

end Helpers

section

open Real in
theorem pi_pos' : 0 < π := Real.pi_pos

end

noncomputable section Named
def half (x : ℝ) : ℝ := x / 2
end Named

theorem t (x : ℝ) : 0 ≤ x ^ 2 + 1 := by
  nlinarith [Helpers.sq_nonneg' x]
