"""`python -m harness.checker`: the REPL pool's own process (see pool_process.py)."""

import sys

from harness.checker.pool_process import main

sys.exit(main())
