-- expect: proved | issue 12: a model-defined instance; the statement comparison judges what it changes
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat


instance : Fact (Nat.Prime 7) := ⟨by norm_num⟩

theorem t : Nat.Prime 7 := Fact.out
