-- expect: rejected scope | soundness.md row 22
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat

theorem helper : True := trivial
open Hack

theorem t : (2 : ℕ) + 2 = 5 := by
  norm_num
