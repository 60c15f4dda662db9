-- expect: proved | issue 12: non-ASCII symbols in comments (emoji with a variation selector, a joined emoji, full-width and no-break spaces); bidi controls stay refused there (r57)
import Mathlib
import Aesop

set_option maxHeartbeats 400000

open BigOperators Real Nat Topology Rat

/-- The sum is 5 ✔️ (a ≤ b → a + b ≤ 2 * b; ∑ over nothing is 0). -/
theorem t (a b : ℝ) (h₀ : a = 2) (h₁ : b = 3) : a + b = 5 := by
  -- 代入　して計算する 👨‍👩‍👧
  /- step 2: norm_num closes it ✓ -/
  subst h₀ h₁
  norm_num
