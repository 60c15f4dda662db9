-- expect: error --trust-header | layer: harness check (known suite headers) | a module of the project that holds answers, or unchecked declarations
import Mathlib
import Bench.Solutions

theorem cheat : (2 : ℕ) + 2 = 5 := Bench.Solutions.cheat
