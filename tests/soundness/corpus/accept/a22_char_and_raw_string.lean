-- expect: proved | lexer: char literals and raw strings where Lean reads them
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat


def c : Char := 'a'
def r : String := r"x"
def q : List Char := ['\n', '"']
theorem t (a b : ℝ) (h₀ : a = 2) (h₁ : b = 3) : a + b = 5 := by
  linarith
