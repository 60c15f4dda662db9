-- expect: sorry sorry | lexer: identifier letters are Lean's set (Cyrillic is not one), so `sorryд` is `sorry` then an error
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat


theorem t : (2 : ℕ) + 2 = 5 := by
  exact sorryд
