-- expect: proved | lexer: a real nested comment
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat


theorem t (a b : ℝ) (h₀ : a = 2) (h₁ : b = 3) : a + b = 5 := by
  /- outer /- inner #exit -/ still a comment, #check here too -/
  -- #check in a line comment
  linarith
