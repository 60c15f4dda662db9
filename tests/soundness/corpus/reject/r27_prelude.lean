-- expect: rejected prelude | soundness.md row 14
prelude
import Init.Prelude

def Nat.gcd (_ _ : Nat) : Nat := 0

theorem t : (2 : ℕ) + 2 = 5 := by
  norm_num
