#!/usr/bin/env python3
r"""A stand-in for leanprover-community/repl: speaks its protocol on stdin/stdout, runs no Lean.

Use it wherever the harness wants a REPL command:

    lean.repl_command: [python, tests/doubles/fake_repl.py, --script, rules.json, --log, log.jsonl]

Use ABSOLUTE paths (sys.executable, str(path)): the harness starts the command with its working
directory set to lean.project_dir, so relative paths would be resolved from there.

Arguments (all optional; FAKE_REPL_SCRIPT / FAKE_REPL_LOG / FAKE_REPL_REPLAY environment
variables are read too, but the harness strips unknown variables from Lean's environment, so
pass them as arguments when the harness starts the double):
  --replay FILE.in   answer requests found in this recorded fixture with the recorded replies
                     from FILE.expected.out (repeatable). Requests are matched as JSON objects,
                     then by `cmd` text alone; each recorded reply is used once, in order.
  --script FILE.json rules and knobs (below).
  --log FILE         append one JSON line per event: {"event": "start", "pid", "argv",
                     "environ"} when the process starts, {"event": "request", "pid", "request",
                     "raw"} for every request, in the order received. The start event also
                     has "cwd" and "limits" ({"as", "fsize"} soft rlimits in bytes,
                     "session_leader"), so tests can see how the harness started it.

Framing (as the real REPL): a request is read as lines up to a blank line; lines are joined
WITHOUT newlines after trimming their ends (so a raw newline inside a JSON string vanishes, as in
the real REPL); lines starting with `#` or `--` outside a request are skipped. Each reply is
pretty-printed JSON over several lines, followed by one blank line. EOF ends the process.

Default answers (no rule matched), for {"cmd": ..., "env": n}:
  - imports (only without "env"): accepted; a new environment. Modules in the script's
    "bad_imports" are ignored silently (as upstream does); `#check Real.pi` fails unless Mathlib
    was imported (table "constants_from": {"Real.pi": "Mathlib"}, extendable).
  - an unknown "env" → {"message": "Unknown environment."}
  - `#check NAME` → info "NAME : Type" (error "Unknown identifier `NAME`" when NAME needs a
    module not imported, or was never declared in a `theorem|lemma|def|abbrev` of the chain
    and is listed in "unknown_constants").
  - `#print axioms NAME` → info "'NAME' depends on axioms: [propext, Classical.choice,
    Quot.sound]" ("axioms" in the script changes the list; [] gives "'NAME' does not depend on
    any axioms"; sorryAx is added when NAME's declaration contained `sorry`); unknown NAME →
    error "Unknown constant `NAME`" (when "strict_constants": true).
  - the fidelity audit (`theorem __harness_fidelity : ... exact @NAME`) → accepted silently,
    like any other declaration (a rule matching "__harness_fidelity" makes it fail).
  - text containing the word `sorry` → a sorries entry at each `sorry` ({"proofState", "pos",
    "goal", "endPos"}: endPos is pos + 5 columns) plus the warning "declaration uses `sorry`"
    (script "sorry_quote": "'" gives the older 'sorry' spelling). Its goal: see Goals below.
  - anything else → accepted: {"env": n} with no messages.
  Every command reply carries a new env number (0, 1, 2, ... per process), as upstream.
  {"pickleTo": PATH, "env": n} writes the environment (its imports and the texts of the commands
  that built it) to PATH as JSON; {"unpickleEnvFrom": PATH} reads it and, as the REPL's kernel
  replay would, judges every recorded command again by the rules (never by what the file
  claims): a command a rule gives an error fails the replay ({"message": ...}).
  {"tactic": TEXT, "proofState": n} (tactic mode) for a proof state this process reported →
    {"proofState": m, "goals": [...], "proofStatus": ...} with a new proof state m; an unknown
    n → {"message": "Unknown proof state."}. By default: a tactic made only of `have NAME :
    TYPE := ...` lines (at its first column) leaves the state's goal open with `NAME : TYPE`
    added before `⊢` ("Incomplete: open goals remain", as have_by_sorry and
    app_type_mismatch2); any other tactic closes it (goals [], "Completed", or "Incomplete:
    contains sorry" when the tactic has a `sorry`). Each `sorry` in the tactic gets a sorries
    entry {"proofState", "goal"} (no position, as upstream), numbered before the reply's own
    state. The rules (below) are matched against the tactic text too.
  Other requests (files, proof-state pickling) → {"message": "fake_repl: ..."}.

Goals (a test double, not Lean: it reads text, never types). Every sorry and every tactic
reply makes a new proof state; proof state numbers count up per process across commands (0, 1,
2, ...), as upstream. The goal of a `sorry` in a command is:
  1. the script's "sorry_goals" entry, verbatim, if one matches (below); otherwise
  2. hypothesis lines, then `⊢ TARGET`:
     - hypotheses: the binders of the declaration the sorry is in (the last `theorem|lemma|def|
       abbrev|instance|example` before it), `(x y : T)`, `{x : T}`, `⦃x : T⦄`, `[h : C]` as
       `x y : T` / `h : C`, an anonymous `[C]` as `inst✝ : C` (`inst✝¹` for the one before,
       ...); then every `have NAME : TYPE :=` (`have : TYPE` is `this`) of the proof whose proof
       is over before the sorry and is not inside another `have`'s proof that is over too.
       Consecutive hypotheses of the same type share a line (`x y : T`), as in Lean. Types are
       whitespace-squashed source text, not Lean's pretty-printing (`∃ (k : Nat), P` stays so;
       Lean prints `∃ k, P`); `variable`s, `intro`, `obtain`, `cases` ... are not seen.
     - TARGET: the TYPE of the innermost `have` whose proof holds the sorry (`have h : T := by
       sorry`, `have h : T := sorry`, or a sorry in the indented block under `have h : T := by`:
       a `have`'s proof runs to the next line indented no deeper than the `have`'s line); else
       the declaration's type (between the first `:` at bracket depth 0 after its name and its
       `:=`, squashed); else `False`.
  In tactic mode the same rules apply inside the tactic text, with the proof state's goal
  giving the hypotheses and the target (a `case` line is not copied into a have's goal).

Script JSON (all keys optional):
  {"rules": [RULE, ...],        first matching rule wins; a rule matches when its "match"
                                 substring occurs in the cmd (or "match_re" regex searches it)
   "latency_s": 0.0 | {"fixed": s} | {"lognormal": {"median": s, "sigma": x}}
                | {"samples": [s, ...]}, with optional "scale": k (multiplies) and "seed"
                                 sleep before answering each command (not the import)
   "import_latency_s": 0.0,     sleep before answering a command with imports
   "bad_imports": [], "constants_from": {}, "unknown_constants": [], "axioms": [...],
   "sorry_quote": "`", "strict_constants": false,
   "sorry_goals": [{"after": TEXT, "goal": GOAL}, ...]
                                 a sorry (command or tactic) whose preceding text in its
                                 request contains TEXT gets GOAL verbatim; when several match,
                                 the one whose TEXT occurs last before the sorry wins (the later
                                 entry on a tie)
   "compromised": false}          true: once this process has run a command the harness did
                                 not write (model text), it forges every reply, as code running
                                 inside Lean could: no errors, no sorries, clean axioms
  RULE keys (besides "match"/"match_re"):
   "error": TEXT              an error message; placed at the first occurrence of "at"
                              (default: the match text) in the cmd: line and column computed.
                              In tactic mode: {"message": "Lean error:\n<input>:1:1: TEXT"} (a
                              parse error, as unknown_tactic)
   "tactic_error": TEXT       (tactic mode) {"message": "Lean error:\nTEXT"}: a tactic that
                              throws, as app_type_mismatch2 and Mathlib/exact
   "goals": [GOAL, ...]       (tactic mode) the goals left ("Incomplete: open goals remain"
                              unless empty)
   "proof_status": TEXT       (tactic mode) the proofStatus instead of the computed one
   "warning": TEXT / "info": TEXT   same, with that severity ("at" as for errors); in tactic
                              mode a message at line 0, column 0 (as invalid_tactic)
   "sorry": true              report a sorry at "at" (goal "goal", default "⊢ False")
   "repl_error": TEXT         reply {"message": TEXT}
   "raw": TEXT                write TEXT (then a blank line) instead of a JSON reply
   "reply": {...}             reply this object verbatim ("env" is filled in if absent and
                              "no_env" is not set; in tactic mode "proofState" is)
   "exec": PYTHON             run this Python in the double's process (model code running inside
                              Lean) and report the value it leaves in `result` as an info message
   "in_env": TEXT             (a condition) the rule fires only in an environment built by a
                              command containing TEXT (e.g. the model's instance: Lean prints a
                              statement differently where that instance is in scope)
   "hang": true               never answer (sleep until killed)
   "crash": true              write half a JSON reply, then exit 1
   "exit": CODE               exit at once with CODE, no reply
   "once_file": PATH          the rule fires only if PATH does not exist, and creates it
                              (so a crash can happen once across processes)
   "only_pid_first": true     (with "crash"/"exit"/"hang") fire only in the first process that
                              sees it — an alias for once_file in the log's directory
"""

from __future__ import annotations

import json
import math
import os
import random
import re
import resource
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

DEFAULT_AXIOMS = ["propext", "Classical.choice", "Quot.sound"]
DECL_RE = re.compile(
    r"^\s*(?:@\[[^\]]*\]\s*)?(?:private\s+|protected\s+|noncomputable\s+)*"
    r"(theorem|lemma|def|abbrev|instance|example)\s*([^\s:({\[]*)",
    re.M,
)
IMPORT_RE = re.compile(r"^\s*import\s+(.+)$")
# What the harness writes itself (probes, the suite's options/opens and statement, audits): the
# rest of a command is model text, which a "compromised" process takes over on.
HARNESS_TEXT = re.compile(
    r"\s*(?:$|#check |#print axioms |theorem __harness_|set_option |open |example : True := by aesop)"
    r"|[\s\S]*\b__harness_c?ref\b"
)


def parse_args(argv: list[str]) -> dict[str, Any]:
    opts: dict[str, Any] = {"replay": [], "script": None, "log": None}
    if os.environ.get("FAKE_REPL_REPLAY"):
        opts["replay"].extend(os.environ["FAKE_REPL_REPLAY"].split(os.pathsep))
    opts["script"] = os.environ.get("FAKE_REPL_SCRIPT")
    opts["log"] = os.environ.get("FAKE_REPL_LOG")
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg in ("--replay", "--script", "--log") and i + 1 < len(argv):
            if arg == "--replay":
                opts["replay"].append(argv[i + 1])
            else:
                opts[arg[2:]] = argv[i + 1]
            i += 2
        else:
            i += 1
    return opts


def read_requests(text: str) -> list[str]:
    """Split an .in transcript the way the REPL reads stdin."""
    requests, chunk = [], []
    for line in text.split("\n"):
        if line.strip():
            if not chunk and (line.startswith("#") or line.startswith("--")):
                continue
            chunk.append(line.rstrip())
        elif chunk:
            requests.append("".join(chunk))
            chunk = []
    if chunk:
        requests.append("".join(chunk))
    return requests


def read_reply_texts(text: str) -> list[str]:
    replies, chunk = [], []
    for line in text.split("\n"):
        if line.strip():
            chunk.append(line)
        elif chunk:
            replies.append("\n".join(chunk))
            chunk = []
    if chunk:
        replies.append("\n".join(chunk))
    return replies


class Replay:
    def __init__(self, paths: list[str]) -> None:
        self.pairs: list[tuple[Any, str]] = []
        self.used: set[int] = set()
        for path in paths:
            source = Path(path)
            expected = source.with_name(source.name[: -len(".in")] + ".expected.out")
            requests = read_requests(source.read_text(encoding="utf-8"))
            replies = read_reply_texts(expected.read_text(encoding="utf-8"))
            for raw, reply in zip(requests, replies, strict=False):
                try:
                    request = json.loads(raw)
                except ValueError:
                    request = raw
                self.pairs.append((request, reply))

    def answer(self, request: Any) -> str | None:
        for match in (
            lambda r: r == request,
            lambda r: (
                isinstance(r, dict)
                and isinstance(request, dict)
                and "cmd" in r
                and r.get("cmd") == request.get("cmd")
            ),
        ):
            for index, (recorded, reply) in enumerate(self.pairs):
                if index not in self.used and match(recorded):
                    self.used.add(index)
                    return reply
        return None


# -- goals of sorries (see "Goals" in the module docstring) -------------------------------------

OPENERS, CLOSERS = "([{⟨⦃", ")]}⟩⦄"
HAVE_RE = re.compile(r"(?<![\w.'])(?:haveI|have)(?![\w'!?])[ \t]*([^\s:()\[\]{}⟨⟩]*)\s*:(?!=)")
SUPERSCRIPTS = "⁰¹²³⁴⁵⁶⁷⁸⁹"


def squash(text: str) -> str:
    return " ".join(text.split())


def top_level(text: str, start: int, stop: int | None = None) -> Iterator[tuple[int, int]]:
    """(offset, bracket depth) of each character of text[start:stop]."""
    depth = 0
    for i in range(start, len(text) if stop is None else stop):
        c = text[i]
        if c in CLOSERS:
            depth = max(0, depth - 1)
        yield i, depth
        if c in OPENERS:
            depth += 1


def top_assign(text: str, start: int) -> int | None:
    """The first `:=` at bracket depth 0 from `start`."""
    for i, depth in top_level(text, start):
        if depth == 0 and text.startswith(":=", i):
            return i
    return None


def line_indent(text: str, at: int) -> int:
    line_start = text.rfind("\n", 0, at) + 1
    line = text[line_start:]
    return len(line) - len(line.lstrip(" "))


class Have(NamedTuple):
    name: str
    type: str
    start: int  # the `have`
    proof: int  # after its `:=`
    end: int  # where its proof ends: the next line indented no deeper than the `have`'s line


def haves(text: str, start: int, stop: int) -> list[Have]:
    """The `have NAME : TYPE :=` (or `have : TYPE :=`, NAME `this`) in text[start:stop]."""
    out = []
    for found in HAVE_RE.finditer(text, start, stop):
        assign = top_assign(text, found.end())
        if assign is None:
            continue
        indent = line_indent(text, found.start())
        end = len(text)
        line_start = text.find("\n", assign) + 1
        while line_start > 0:
            line_end = text.find("\n", line_start)
            line = text[line_start : len(text) if line_end < 0 else line_end]
            if line.strip() and len(line) - len(line.lstrip(" ")) <= indent:
                end = line_start
                break
            line_start = line_end + 1
        type_ = squash(text[found.end() : assign])
        out.append(Have(found.group(1) or "this", type_, found.start(), assign + 2, end))
    return out


def signature(text: str, start: int) -> tuple[list[tuple[str, str]], str | None, int | None]:
    """A declaration's signature from `start` (after its name): its binders as (names, type)
    ((x y : T), {x : T}, ⦃x : T⦄, [inst : C], [C] as `inst✝`), its conclusion (between the
    first `:` at depth 0 and the `:=`, squashed) and the offset after its `:=`."""
    assign = top_assign(text, start)
    if assign is None:
        return [], None, None
    binders: list[tuple[str, str]] = []
    anonymous = 0
    colon = None
    group_start = None
    for i, depth in top_level(text, start, assign):
        c = text[i]
        if depth == 0 and c in OPENERS:
            group_start = i
        elif depth == 0 and c in CLOSERS and group_start is not None:
            inner = text[group_start + 1 : i]
            names, sep, type_ = inner.partition(" : ")
            type_ = type_.split(" := ")[0]  # an optional parameter's default value
            if sep and names.split():
                binders.append((" ".join(names.split()), squash(type_)))
            elif text[group_start] == "[" and inner.strip():
                binders.append(("inst✝", squash(inner)))
                anonymous += 1
            group_start = None
        elif depth == 0 and c == ":" and group_start is None:
            colon = i
            break
    # sanitizeNames numbers inaccessible names from the last: inst✝², inst✝¹, inst✝
    index = anonymous
    for k, (names, type_) in enumerate(binders):
        if names == "inst✝":
            index -= 1
            suffix = "".join(SUPERSCRIPTS[int(d)] for d in str(index)) if index else ""
            binders[k] = (names + suffix, type_)
    conclusion = squash(text[colon + 1 : assign]) if colon is not None else None
    return binders, conclusion or None, assign + 2


def hypothesis_lines(pairs: list[tuple[str, str]]) -> list[str]:
    """One `names : type` line per run of consecutive hypotheses of the same type (ppGoal)."""
    lines: list[tuple[str, str]] = []
    for names, type_ in pairs:
        if lines and lines[-1][1] == type_:
            lines[-1] = (lines[-1][0] + " " + names, type_)
        else:
            lines.append((names, type_))
    return [f"{names} : {type_}" for names, type_ in lines]


def goal_at(
    text: str, at: int, start: int, hyps: list[tuple[str, str]], base: list[str], target: str | None
) -> str:
    """The goal of the `sorry` at text[at]: the hypotheses (`base` lines, then `hyps` and the
    visible `have`s of text[start:at]), then `⊢` the type of the innermost `have` whose proof
    holds the sorry, else `target` (else `False`)."""
    found = haves(text, start, at)
    open_ = [h for h in found if h.proof <= at < h.end]
    visible = [
        h
        for h in found
        if h.end <= at and all(c.proof <= at < c.end for c in found if c.proof <= h.start < c.end)
    ]
    goal_target = open_[-1].type if open_ else (target or "False")
    pairs = hyps + [(h.name, h.type) for h in visible]
    return "\n".join([*base, *hypothesis_lines(pairs), f"⊢ {goal_target}"])


def position(text: str, needle: str) -> tuple[int, int]:
    index = text.find(needle) if needle else -1
    if index < 0:
        return 1, 0
    before = text[:index]
    line = before.count("\n") + 1
    column = len(before) - (before.rfind("\n") + 1)
    return line, column


def end_of(text: str, needle: str) -> tuple[int, int]:
    line, column = position(text, needle)
    return line, column + max(len(needle.split("\n")[0]), 1)


def message(severity: str, text: str, cmd: str, at: str) -> dict[str, Any]:
    line, column = position(cmd, at)
    end_line, end_column = end_of(cmd, at)
    return {
        "severity": severity,
        "pos": {"line": line, "column": column},
        "endPos": {"line": end_line, "column": end_column},
        "data": text,
    }


class FakeRepl:
    def __init__(self, script: dict[str, Any], replay: Replay | None, log: str | None) -> None:
        self.script = script
        self.replay = replay
        self.log_path = log
        # env -> {"modules": set, "decls": {name: sorry?}, "texts": the commands that built it}
        self.envs: list[dict[str, Any]] = []
        self.compromised = False
        seed = script.get("seed", 0)
        self.rng = random.Random(f"{seed}-{os.getpid()}")
        self.bad_imports = set(script.get("bad_imports", []))
        self.constants_from = {"Real.pi": "Mathlib", **script.get("constants_from", {})}
        self.proof_goals: list[str] = []  # proof state n → its goal ("" when none is left)

    # -- output ---------------------------------------------------------------------------------

    def log(self, event: dict[str, Any]) -> None:
        if not self.log_path:
            return
        event = {"pid": os.getpid(), "time": time.time(), **event}
        line = json.dumps(event, ensure_ascii=False) + "\n"
        fd = os.open(self.log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            os.write(fd, line.encode("utf-8"))
        finally:
            os.close(fd)

    @staticmethod
    def write(text: str) -> None:
        sys.stdout.write(text.rstrip("\n") + "\n\n")
        sys.stdout.flush()

    def reply(self, obj: dict[str, Any]) -> None:
        # Pretty-printed over several lines, never with a blank line inside (as Lean prints).
        self.write(json.dumps(obj, ensure_ascii=False, indent=1))

    # -- behaviour ------------------------------------------------------------------------------

    def sleep_latency(self, key: str) -> None:
        spec = self.script.get(key, 0.0)
        if isinstance(spec, int | float):
            seconds = float(spec)
        else:
            scale = float(spec.get("scale", 1.0))
            if "fixed" in spec:
                seconds = float(spec["fixed"])
            elif "lognormal" in spec:
                p = spec["lognormal"]
                seconds = float(p["median"]) * math.exp(self.rng.gauss(0.0, float(p["sigma"])))
            elif "samples" in spec:
                seconds = float(self.rng.choice(spec["samples"]))
            else:
                seconds = 0.0
            seconds *= scale
        if seconds > 0:
            time.sleep(seconds)

    def find_rule(self, cmd: str, env_texts: tuple[str, ...] = ()) -> dict[str, Any] | None:
        for rule in self.script.get("rules", []):
            if "match" in rule and rule["match"] not in cmd:
                continue
            if "in_env" in rule and not any(rule["in_env"] in text for text in env_texts):
                continue  # the environment lacks the declaration the rule depends on
            if "match_re" in rule and not re.search(rule["match_re"], cmd):
                continue
            if "match" not in rule and "match_re" not in rule:
                continue
            once = rule.get("once_file")
            if rule.get("only_pid_first") and not once and self.log_path:
                tag = re.sub(r"\W", "_", rule.get("match", rule.get("match_re", "")))[:40]
                once = f"{self.log_path}.once.{tag}"
            if once:
                try:
                    fd = os.open(once, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
                except FileExistsError:
                    continue
                os.close(fd)
            return rule
        return None

    def new_env(
        self, modules: set[str], decls: dict[str, bool], texts: tuple[str, ...] = ()
    ) -> int:
        self.envs.append({"modules": modules, "decls": decls, "texts": texts})
        return len(self.envs) - 1

    def pickle(self, path: str, env: Any) -> None:
        if not isinstance(env, int) or not 0 <= env < len(self.envs):
            self.reply({"message": "Unknown environment."})
            return
        record = self.envs[env]
        data = {"modules": sorted(record["modules"]), "texts": list(record["texts"])}
        Path(path).write_text(json.dumps(data), encoding="utf-8")
        self.reply({"env": env})

    def unpickle(self, path: str) -> None:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            self.reply({"message": f"fake_repl: cannot unpickle {path}: {exc}"})
            return
        decls: dict[str, bool] = {}
        for text in data.get("texts", []):
            rule = self.find_rule(text)
            if rule is not None and ("error" in rule or rule.get("crash") or "exit" in rule):
                self.reply({"message": f"(kernel) replay failed: {rule.get('error', 'error')}"})
                return
            has_sorry = re.search(r"\bsorry\b", text) is not None
            for found in DECL_RE.finditer(text):
                if found.group(1) != "example" and found.group(2):
                    decls[found.group(2)] = has_sorry
        modules = set(data.get("modules", []))
        self.reply({"env": self.new_env(modules, decls, tuple(data.get("texts", [])))})

    def forged(self, cmd: str, base: dict[str, Any]) -> None:
        """What code running inside Lean could print instead of Lean's answer."""
        messages = [
            message("info", f"'{name}' depends on axioms: [propext, Classical.choice, Quot.sound]",
                    cmd, "#print")
            for name in re.findall(r"#print\s+axioms\s+([^\s]+)", cmd)
        ]  # fmt: skip
        obj: dict[str, Any] = {"messages": messages} if messages else {}
        obj["env"] = self.new_env(base["modules"], dict(base["decls"]), base["texts"] + (cmd,))
        self.reply(obj)

    def handle(self, raw: str) -> None:
        try:
            request = json.loads(raw)
        except ValueError:
            # Upstream throws out of its loop here: the process dies.
            sys.stderr.write(
                f'uncaught exception: {{"message": "Could not parse JSON:\\n{raw[:80]}"}}\n'
            )
            sys.exit(1)
        self.log({"event": "request", "request": request, "raw": raw})
        if self.replay is not None:
            recorded = self.replay.answer(request)
            if recorded is not None:
                self.write(recorded)
                return
        if isinstance(request, dict) and "pickleTo" in request:
            self.pickle(str(request["pickleTo"]), request.get("env"))
            return
        if isinstance(request, dict) and "unpickleEnvFrom" in request:
            self.unpickle(str(request["unpickleEnvFrom"]))
            return
        if isinstance(request, dict) and "tactic" in request and "proofState" in request:
            self.tactic(str(request["tactic"]), request["proofState"])
            return
        if not isinstance(request, dict) or "cmd" not in request:
            self.reply({"message": "fake_repl: only commands and tactics are simulated"})
            return
        self.command(str(request["cmd"]), request.get("env"))

    # -- goals and tactics ----------------------------------------------------------------------

    def new_proof_state(self, goal: str) -> int:
        self.proof_goals.append(goal)
        return len(self.proof_goals) - 1

    def scripted_goal(self, text: str, at: int) -> str | None:
        """The script's "sorry_goals" entry for the sorry at text[at]: of the entries whose
        "after" occurs in text[:at], the one occurring last (the later entry on a tie)."""
        best, best_at = None, -1
        for entry in self.script.get("sorry_goals", []):
            where = text.rfind(str(entry["after"]), 0, at)
            if where >= 0 and where >= best_at:
                best, best_at = str(entry["goal"]), where
        return best

    @staticmethod
    def command_goal(body: str, at: int) -> str:
        decl = None
        for found in DECL_RE.finditer(body, 0, at):
            decl = found
        if decl is None:
            return goal_at(body, at, 0, [], [], None)
        binders, conclusion, proof = signature(body, decl.end())
        if proof is None or proof > at:
            return goal_at(body, at, at, [], [], None)  # a sorry inside the statement
        return goal_at(body, at, proof, binders, [], conclusion)

    def tactic(self, tactic: str, state: Any) -> None:
        if not isinstance(state, int) or not 0 <= state < len(self.proof_goals):
            self.reply({"message": "Unknown proof state."})
            return
        self.sleep_latency("latency_s")
        rule = self.find_rule(tactic)
        if rule is not None:
            if self.fatal(rule):
                return
            if "error" in rule:  # a parse error, as unknown_tactic.expected.out
                self.reply({"message": f"Lean error:\n<input>:1:1: {rule['error']}"})
                return
            if "tactic_error" in rule:  # a tactic that throws (app_type_mismatch2, exact?)
                self.reply({"message": f"Lean error:\n{rule['tactic_error']}"})
                return
            if "reply" in rule:
                obj = dict(rule["reply"])
                if "proofState" not in obj:
                    goals = obj.get("goals") or [""]
                    obj["proofState"] = self.new_proof_state(str(goals[0]))
                self.reply(obj)
                return
        # The state's goal: [case line], hypothesis lines, `⊢ target` (target lines indented).
        lines = self.proof_goals[state].split("\n")
        turnstile = max((i for i, line in enumerate(lines) if line.startswith("⊢")), default=None)
        case = lines[:1] if lines and lines[0].startswith("case ") else []
        hyps = lines[len(case) : turnstile] if turnstile is not None else []
        target = "\n".join(lines[turnstile:])[2:] if turnstile is not None else None
        sorries: list[dict[str, Any]] = []
        closes_main = False
        for found in re.finditer(r"\bsorry\b", tactic):
            goal = self.scripted_goal(tactic, found.start())
            inside = [
                h for h in haves(tactic, 0, found.start()) if h.proof <= found.start() < h.end
            ]
            closes_main = closes_main or not inside
            if goal is None:
                goal = goal_at(tactic, found.start(), 0, [], hyps, target)
            sorries.append({"proofState": self.new_proof_state(goal), "goal": goal})
        if rule is not None and "goals" in rule:
            goals = [str(g) for g in rule["goals"]]
        else:
            # A tactic made of `have`s only leaves the goal open with them added (have_by_sorry,
            # app_type_mismatch2); any other tactic closes it (the double cannot know better).
            heads = [line for line in tactic.split("\n") if line.strip() and line[0] != " "]
            added = [h for h in haves(tactic, 0, len(tactic)) if line_indent(tactic, h.start) == 0]
            only_haves = bool(heads) and all(HAVE_RE.match(line) for line in heads)
            goals = []
            if only_haves and added and not closes_main and turnstile is not None:
                new = hypothesis_lines([(h.name, h.type) for h in added])
                goals = ["\n".join([*case, *hyps, *new, *lines[turnstile:]])]
        messages = [
            {
                "severity": severity,
                "pos": {"line": 0, "column": 0},
                "endPos": {"line": 0, "column": 0},
                "data": rule[severity],
            }
            for severity in ("warning", "info")
            if rule is not None and severity in rule
        ]
        status = rule.get("proof_status") if rule is not None else None
        if status is None:
            status = (
                "Incomplete: open goals remain"
                if goals
                else "Incomplete: contains sorry"
                if sorries
                else "Completed"
            )
        obj: dict[str, Any] = {"sorries": sorries} if sorries else {}
        obj["proofStatus"] = status
        obj["proofState"] = self.new_proof_state(goals[0] if goals else "")
        if messages:
            obj["messages"] = messages
        obj["goals"] = goals
        self.reply(obj)

    def fatal(self, rule: dict[str, Any]) -> bool:
        """The rule's infrastructure behaviour (hang, crash, exit, repl_error, raw), if any."""
        if rule.get("hang"):
            while True:
                time.sleep(3600)
        if rule.get("crash"):
            sys.stdout.write('{"messages":\n [{"severity": "error",\n   "pos": {"li')
            sys.stdout.flush()
            os._exit(1)
        if "exit" in rule:
            sys.stdout.flush()
            os._exit(int(rule["exit"]))
        if "repl_error" in rule:
            self.reply({"message": rule["repl_error"]})
            return True
        if "raw" in rule:
            self.write(str(rule["raw"]))
            return True
        return False

    def command(self, cmd: str, env: Any) -> None:
        if env is not None and (not isinstance(env, int) or not 0 <= env < len(self.envs)):
            self.reply({"message": "Unknown environment."})
            return
        lines = cmd.split("\n")
        modules: set[str] = set()
        body_start = 0
        if env is None:
            for index, line in enumerate(lines):
                found = IMPORT_RE.match(line)
                if found:
                    modules.update(found.group(1).split())
                    body_start = index + 1
                elif line.strip():
                    break
            if modules:
                self.sleep_latency("import_latency_s")
            base = {"modules": modules - self.bad_imports, "decls": {}, "texts": ()}
        else:
            base = self.envs[env]
            self.sleep_latency("latency_s")
        body = "\n".join([""] * body_start + lines[body_start:])

        if self.script.get("compromised") and (self.compromised or not HARNESS_TEXT.match(body)):
            self.compromised = True  # model code ran here: from now on it answers for Lean
            self.forged(cmd, base)
            return
        rule = self.find_rule(cmd, base["texts"])
        if rule is not None and self.fatal(rule):
            return

        messages: list[dict[str, Any]] = []
        sorries: list[dict[str, Any]] = []
        decls: dict[str, bool] = dict(base["decls"])
        quote = self.script.get("sorry_quote", "`")
        has_sorry = re.search(r"\bsorry\b", body) is not None

        for found in DECL_RE.finditer(body):
            name = found.group(2)
            if found.group(1) != "example" and name:
                decls[name] = has_sorry

        if rule is not None:
            at = rule.get("at", rule.get("match", ""))
            for severity in ("error", "warning", "info"):
                if severity in rule:
                    messages.append(message(severity, rule[severity], cmd, at))
            if rule.get("sorry"):
                line, column = position(cmd, at)
                goal = rule.get("goal", "⊢ False")
                sorries.append(
                    {
                        "proofState": self.new_proof_state(goal),
                        "pos": {"line": line, "column": column},
                        "goal": goal,
                        "endPos": {"line": line, "column": column + len(at)},
                    }
                )
            if "reply" in rule:
                obj = dict(rule["reply"])
                if "env" not in obj and not rule.get("no_env"):
                    obj["env"] = self.new_env(
                        base["modules"] | modules, decls, base["texts"] + (cmd,)
                    )
                self.reply(obj)
                return

        if rule is not None and "exec" in rule:
            scope: dict[str, Any] = {}
            try:
                exec(rule["exec"], scope)  # the model's code, running inside "Lean"
                result = str(scope.get("result", ""))
            except Exception as exc:  # what the code could not do is the finding
                result = f"exec failed: {type(exc).__name__}: {exc}"
            messages.append(message("info", result, cmd, at))

        for found in re.finditer(r"#check\s+([^\s]+)", body):
            name = found.group(1)
            needs = self.constants_from.get(name)
            unknown = name in self.script.get("unknown_constants", []) and name not in decls
            if (
                needs and needs not in base["modules"] and needs not in modules - self.bad_imports
            ) or unknown:
                messages.append(message("error", f"Unknown identifier `{name}`", body, name))
            else:
                messages.append(message("info", f"{name} : Type", body, "#check"))
        for found in re.finditer(r"#print\s+axioms\s+([^\s]+)", body):
            name = found.group(1)
            if name not in decls and self.script.get("strict_constants"):
                messages.append(message("error", f"Unknown constant `{name}`", body, name))
                continue
            axioms = list(self.script.get("axioms", DEFAULT_AXIOMS))
            if decls.get(name):
                axioms.append("sorryAx")
            text = (
                f"'{name}' depends on axioms: [{', '.join(axioms)}]"
                if axioms
                else f"'{name}' does not depend on any axioms"
            )
            messages.append(message("info", text, body, "#print"))
        if has_sorry and not any(m["severity"] == "error" for m in messages):
            for found in re.finditer(r"\bsorry\b", body):
                before = body[: found.start()]
                line = before.count("\n") + 1
                column = len(before) - (before.rfind("\n") + 1)
                goal = self.scripted_goal(body, found.start()) or self.command_goal(
                    body, found.start()
                )
                sorries.append(
                    {
                        "proofState": self.new_proof_state(goal),
                        "pos": {"line": line, "column": column},
                        "goal": goal,
                        "endPos": {"line": line, "column": column + 5},
                    }
                )
            decl = DECL_RE.search(body)
            at = decl.group(2) if decl and decl.group(2) else ""
            messages.append(message("warning", f"declaration uses {quote}sorry{quote}", body, at))

        obj: dict[str, Any] = {}
        if sorries:
            obj["sorries"] = sorries
        if messages:
            obj["messages"] = messages
        texts = base["texts"] + ((cmd,) if env is not None else ())
        obj["env"] = self.new_env(base["modules"] | (modules - self.bad_imports), decls, texts)
        self.reply(obj)


def main(argv: list[str]) -> int:
    opts = parse_args(argv)
    script: dict[str, Any] = {}
    if opts["script"]:
        script = json.loads(Path(opts["script"]).read_text(encoding="utf-8") or "{}")
    replay = Replay(opts["replay"]) if opts["replay"] else None
    repl = FakeRepl(script, replay, opts["log"])
    limits = {
        "as": resource.getrlimit(resource.RLIMIT_AS)[0],
        "fsize": resource.getrlimit(resource.RLIMIT_FSIZE)[0],
        "session_leader": os.getsid(0) == os.getpid(),
    }
    repl.log(
        {
            "event": "start",
            "argv": argv,
            "environ": dict(os.environ),
            "cwd": os.getcwd(),
            "limits": limits,
        }
    )
    chunk: list[str] = []
    for line in sys.stdin:
        if line.strip():
            if not chunk and (line.startswith("#") or line.startswith("--")):
                continue
            chunk.append(line.rstrip())
        elif chunk:
            repl.handle("".join(chunk))
            chunk = []
    if chunk:
        repl.handle("".join(chunk))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
