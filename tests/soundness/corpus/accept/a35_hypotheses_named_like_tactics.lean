-- expect: proved | issue 12: hypotheses named hint, stop, include, native (`include` as a name is Lean 4.9-era text: newer Lean reserves it)
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat


theorem t (a b : ℝ) (hint : a = 2) (stop : b = 3) (native : 0 < a) (include : 0 < b) :
    a + b = 5 := by
  have h := native
  have h' : 0 < a + b := add_pos native include
  rw [hint, stop]
  norm_num
