-- expect: rejected scope | soundness.md row 22
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat

namespace Hack
def Nat.Prime (_ : ℕ) : Prop := True
theorem _root_.t : Nat.Prime 1 := trivial
end Hack
