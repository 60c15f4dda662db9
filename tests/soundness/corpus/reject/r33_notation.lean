-- expect: rejected elab_code | soundness.md row 21 | layer: screen | lexer: the notation's token `⊢"` swallows a quote, so after it Lean reads `#eval` as code where a reader sees a string
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat

notation "⊢\"" x => x

def s := ⊢" #eval IO.println 1 "

theorem t : (2 : ℕ) + 2 = 5 := by
  norm_num
