#!/usr/bin/env python3
"""A stand-in for `lake env lean --json [--root=DIR] [-o OUT.olean] FILE` (no Lean inside).

Prefix arguments (before Lean's own): --log FILE (JSON line per run: argv, LEAN_PATH, file text),
--script FILE (JSON: {"errors": {SUBSTRING: TEXT}}). Per line of FILE: a line containing a
script substring → error TEXT there; `HANG` → sleep forever; `CRASH` → print "Stack overflow
detected. Aborting." and exit 134; `sorry` → warning "declaration uses `sorry`" at the line;
`#print axioms NAME` → information "'NAME' depends on axioms: [propext]". `import X` where X is
not Mathlib/Aesop needs X.olean in a LEAN_PATH directory. Writes OUT.olean when no error.
Exit status 1 when an error was reported, else 0, as `lean` does.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path


def main(argv: list[str]) -> int:
    log = script = None
    args: list[str] = []
    i = 0
    while i < len(argv):
        if argv[i] in ("--log", "--script"):
            if argv[i] == "--log":
                log = argv[i + 1]
            else:
                script = argv[i + 1]
            i += 2
            continue
        args.append(argv[i])
        i += 1
    rules = json.loads(Path(script).read_text()).get("errors", {}) if script else {}
    out = None
    if "-o" in args:
        out = args[args.index("-o") + 1]
    path = Path(args[-1])
    text = path.read_text(encoding="utf-8")
    if log:
        with open(log, "a", encoding="utf-8") as f:
            f.write(
                json.dumps(
                    {
                        "argv": args,
                        "LEAN_PATH": os.environ.get("LEAN_PATH"),
                        "file": path.name,
                        "text": text,
                        "cwd": os.getcwd(),
                    }
                )
                + "\n"
            )
    messages = []

    def emit(severity: str, line: int, column: int, data: str) -> None:
        messages.append(severity)
        print(
            json.dumps(
                {
                    "caption": "",
                    "data": data,
                    "endPos": None,
                    "fileName": str(path),
                    "pos": {"line": line, "column": column},
                    "severity": severity,
                }
            ),
            flush=True,
        )

    lean_path = [p for p in (os.environ.get("LEAN_PATH") or "").split(os.pathsep) if p]
    for number, line in enumerate(text.split("\n"), 1):
        if "HANG" in line:
            while True:
                time.sleep(3600)
        if "CRASH" in line:
            print("Stack overflow detected. Aborting.", flush=True)
            return 134
        stripped = line.strip()
        if stripped.startswith("import "):
            module = stripped.split()[1]
            if module not in ("Mathlib", "Aesop") and not any(
                (Path(d) / f"{module}.olean").is_file() for d in lean_path
            ):
                emit("error", number, 0, f"unknown module prefix '{module}'")
            continue
        for needle, data in rules.items():
            if needle in line:
                emit("error", number, line.index(needle), data)
        if "sorry" in line:
            emit("warning", number, 0, "declaration uses `sorry`")
        if stripped.startswith("#print axioms"):
            name = stripped.split()[2]
            emit("information", number, 0, f"'{name}' depends on axioms: [propext]")
    if "error" in messages:
        return 1
    if out:
        Path(out).write_bytes(b"olean")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
