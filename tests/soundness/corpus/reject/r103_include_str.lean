-- expect: rejected include_str | soundness.md row 16 | layer: screen | issue 12: a host file read into an error message reaches the repair prompt, attempts.jsonl and the reports
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat

def bashrc : String := include_str "../../.bashrc"

theorem t : (2 : ℕ) + 2 = 5 := by
  have h : bashrc = "" := rfl
  norm_num
