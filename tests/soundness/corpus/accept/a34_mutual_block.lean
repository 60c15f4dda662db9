-- expect: proved | issue 12: mutual ... end
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat


mutual
def isEven : ℕ → Bool
  | 0 => true
  | n + 1 => isOdd n
def isOdd : ℕ → Bool
  | 0 => false
  | n + 1 => isEven n
end

theorem t : isEven 10 = true := by
  decide
