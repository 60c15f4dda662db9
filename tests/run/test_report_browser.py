"""report.html in a real browser: headless Chromium opens the report of a run the test makes
(the loopback chat server as the prover, the REPL double as Lean) and the test asserts what a
user sees: the rendered text (`innerText`, which leaves out what is hidden or folded away),
what is visible, and what a real mouse click on the page does.

Chromium is driven over the DevTools protocol on a pipe (`--remote-debugging-pipe`: JSON
messages separated by NUL bytes on file descriptors 3 and 4), so the test needs nothing beyond
the standard library. It skips, saying why, where Chromium is not installed (Debian:
`apt-get install chromium`; `.ci/run` installs it).

Set HARNESS_REPORT_SCREENSHOT=/path/shot.png to also save a screenshot of the opened failed
round.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

from harness.cli import main
from tests.doubles.chat_server import ChatServer, Reply
from tests.run.helpers import (
    ERROR_TEXT,
    KEY,
    KEY_ENV,
    MARKER,
    ScriptedProver,
    read_lines,
    smoke_problems,
    write_setup,
)

pytestmark = pytest.mark.timeout(180)


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


CHROMIUM = _chromium()
if CHROMIUM is None:
    pytest.skip(
        "real-browser test: Chromium is not installed (Debian/Ubuntu: apt-get install -y chromium)",
        allow_module_level=True,
    )

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--remote-debugging-pipe",
]
HOSTILE = "<script>window.pwned = 1</script><img src=x onerror='window.pwned = 2'>"
SAMPLES = 2


# ---------------------------------------------------------------------------------------------
# A DevTools-protocol client on a pipe


_TRAMPOLINE = """
import os, sys
r, w = int(sys.argv[1]), int(sys.argv[2])
os.dup2(r, 3)
os.dup2(w, 4)
os.close(r)
os.close(w)
os.execv(sys.argv[3], sys.argv[3:])
"""


def _above(fd: int, lowest: int) -> int:
    """`fd` moved to a descriptor number >= lowest."""
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, lowest)
    os.close(fd)
    return moved


class Browser:
    """One headless Chromium and one page, driven over the DevTools protocol."""

    def __init__(self, timeout: float = 30.0) -> None:
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="harness-chromium-")
        to_browser_r, self._to_browser = os.pipe()  # Chromium reads commands on fd 3
        self._from_browser, from_browser_w = os.pipe()  # ... and writes replies on fd 4
        # its ends away from 3 and 4, so that putting one there cannot close the other
        to_browser_r, from_browser_w = (_above(fd, 10) for fd in (to_browser_r, from_browser_w))
        # a small Python trampoline puts the pipe ends on fds 3 and 4 and becomes Chromium
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                _TRAMPOLINE,
                str(to_browser_r),
                str(from_browser_w),
                str(CHROMIUM),
                *FLAGS,
                f"--user-data-dir={self.profile}",
                "about:blank",
            ],
            pass_fds=(to_browser_r, from_browser_w),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []
        self.session: str | None = None
        try:
            target = self.send("Target.createTarget", {"url": "about:blank"}, session=False)
            attached = self.send(
                "Target.attachToTarget", {"targetId": target["targetId"], "flatten": True}, False
            )
            self.session = attached["sessionId"]
            self.send("Page.enable")
            self.send("Runtime.enable")
            self.send(
                "Emulation.setDeviceMetricsOverride",
                {"width": 1200, "height": 900, "deviceScaleFactor": 1, "mobile": False},
            )
        except BaseException:
            self.close()
            raise

    # -- the protocol ------------------------------------------------------------------------

    def _read_message(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no answer from Chromium")
            ready, _, _ = select.select([self._from_browser], [], [], left)
            if ready:
                chunk = os.read(self._from_browser, 1 << 20)
                if not chunk:
                    err = (
                        self.proc.stderr.read().decode(errors="replace") if self.proc.stderr else ""
                    )
                    raise RuntimeError(f"Chromium closed the pipe: {err[-2000:]}")
                self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def send(self, method: str, params: dict[str, Any] | None = None, session: bool = True) -> Any:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session and self.session:
            message["sessionId"] = self.session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            if "method" in reply:
                self.events.append(reply)

    def wait_event(self, method: str) -> dict[str, Any]:
        deadline = time.monotonic() + self.timeout
        while True:
            for i, event in enumerate(self.events):
                if event["method"] == method:
                    return self.events.pop(i)
            message = self._read_message(deadline)
            if "method" in message:
                self.events.append(message)

    # -- what a user does --------------------------------------------------------------------

    def open(self, url: str) -> None:
        self.events.clear()
        self.send("Page.navigate", {"url": url})
        self.wait_event("Page.loadEventFired")

    def js(self, expression: str) -> Any:
        result = self.send(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def click(self, selector: str) -> None:
        """A real left click (mouse down and up) at the middle of the element, scrolled into
        view first: what the page does with it is what a user gets."""
        box = self.js(
            f"""(() => {{
                const el = document.querySelector({json.dumps(selector)});
                if (!el) return null;
                el.scrollIntoView({{block: "center"}});
                const r = el.getBoundingClientRect();
                return {{x: r.left + Math.min(r.width / 2, 40), y: r.top + r.height / 2}};
            }})()"""
        )
        assert box is not None, f"nothing on the page matches {selector}"
        for kind in ("mousePressed", "mouseReleased"):
            self.send(
                "Input.dispatchMouseEvent",
                {"type": kind, "x": box["x"], "y": box["y"], "button": "left", "clickCount": 1},
            )

    def text(self, selector: str = "body") -> str:
        """The text a user sees in the element (innerText: nothing hidden or folded away)."""
        return self.js(
            f"(() => {{ const el = document.querySelector({json.dumps(selector)});"
            " return el ? el.innerText : null; })()"
        )

    def visible(self, selector: str) -> bool:
        return self.js(
            f"(() => {{ const el = document.querySelector({json.dumps(selector)});"
            " if (!el) return false; const r = el.getBoundingClientRect();"
            " return el.checkVisibility({visibilityProperty: true}) && r.width > 0 && r.height > 0;"
            " })()"
        )

    def screenshot(self, path: str | os.PathLike[str]) -> None:
        data = self.send("Page.captureScreenshot", {"format": "png"})["data"]
        Path(path).write_bytes(base64.b64decode(data))

    def close(self) -> None:
        try:
            self.send("Browser.close", session=False)
        except (OSError, RuntimeError, TimeoutError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for fd in (self._to_browser, self._from_browser):
            try:
                os.close(fd)
            except OSError:
                pass
        if self.proc.stderr:
            self.proc.stderr.close()
        shutil.rmtree(self.profile, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# A run with proved problems and a problem Lean always rejects


class Prover(ScriptedProver):
    """Problem 0: proved at once. Problem 1: a Lean error in every round (never proved), in an
    answer carrying hostile HTML. Problem 2: a Lean error, then proved in the repair round.
    Problem 3: prose without code."""

    def __call__(self, request: dict[str, Any]) -> Reply:
        i = self.problem_of(request)
        rnd = sum(1 for m in request["messages"] if m["role"] == "assistant")
        p = self.problems[i]

        def code(proof: str, before: str = "Here is the proof.") -> str:
            return f"{before}\n```lean4\n{p.header}{p.context}{p.statement} {proof}\n```"

        if i == 0 or (i == 2 and rnd == 1):
            return Reply(code(self.proofs[p.name]))
        if i in (1, 2):
            return Reply(code(f"by\n  intro\n  exact {MARKER}", before=f"My attempt {HOSTILE}"))
        return Reply("I believe it holds, but I cannot write it down.")


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("browser")
    problems = smoke_problems()
    old = os.environ.get(KEY_ENV)
    os.environ[KEY_ENV] = KEY
    try:
        with ChatServer(Prover(problems)) as server:
            config, _ = write_setup(tmp, server.url, samples=SAMPLES)
            out = tmp / "run"
            code = main(["run", str(config), "--out", str(out), "--limit", "4", "--no-progress"])
    finally:
        if old is None:
            os.environ.pop(KEY_ENV, None)
        else:
            os.environ[KEY_ENV] = old
    assert code == 0
    names = [p.name for p in problems]
    lines = {(x["problem"], x["sample"], x["round"]): x for x in read_lines(out)}
    failed = lines[(names[1], 0, 0)]
    assert failed["verdict"] == "lean_error"
    marker_line = next(n for n, t in enumerate(failed["proof"].split("\n"), 1) if MARKER in t)
    return {
        "dir": out,
        "url": (out / "report.html").as_uri(),
        "proved": [names[0], names[2]],
        "failed": [names[1], names[3]],
        "failed_attempt": f"p-{names[1]}-s0-r0",
        "marker_line": marker_line,
        "summary": json.loads((out / "summary.json").read_text()),
    }


@pytest.fixture(scope="module")
def browser():
    b = Browser()
    try:
        yield b
    finally:
        b.close()


# ---------------------------------------------------------------------------------------------


def test_browser_shows_the_pass_at_k_table_and_the_problem_columns(run, browser):
    browser.open(run["url"])
    assert browser.visible("table.pass-at-k")
    rows = [line.split("\t") for line in browser.text("table.pass-at-k").splitlines()]
    pass_at = run["summary"]["pass_at"]
    assert rows[0] == ["k", *pass_at]  # k = 1, 2
    assert rows[1] == ["pass@k", *(f"{100 * v:.1f}%" for v in pass_at.values())]
    assert rows[1] == ["pass@k", "50.0%", "50.0%"]  # 2 of 4 problems, each in both samples
    header = browser.text("table.problems").splitlines()[0].split("\t")
    assert header == ["problem", "split", "proved samples", "rounds", "first proof", "verdicts"]
    table = browser.text("table.problems")
    proved_late = run["proved"][1]
    row = next(line for line in table.splitlines() if line.startswith(proved_late))
    assert "sample 0, round 1" in row and "lean_error 2, proved 2" in row
    # one self-contained page: nothing was fetched
    assert browser.js("performance.getEntriesByType('resource').length") == 0


def test_browser_failed_attempt_opened_shows_its_error_marked_at_its_line(run, browser):
    browser.open(run["url"])
    details = f"#{run['failed_attempt']}"
    summary = browser.text(f"{details} > summary")
    # the row says why, before anything is opened
    assert "lean_error" in summary
    assert f"line {run['marker_line']}: {ERROR_TEXT}" in summary
    assert not browser.visible(f"{details} .ln-row.error")  # folded away
    assert ERROR_TEXT not in (browser.text(f"{details} .attempt-body") or "")

    browser.click(f"{details} > summary")
    assert browser.js(f"document.querySelector('{details}').open") is True
    marked = f"{details} .code .ln-row.error"
    assert browser.visible(marked)
    line_text = browser.text(marked)
    number, code = line_text.split("\t", 1) if "\t" in line_text else line_text.split(maxsplit=1)
    assert int(number) == run["marker_line"] and MARKER in code
    assert browser.text(f"{marked} mark") == MARKER  # Lean's span, underlined
    # the message sits right after its line
    message = browser.js(f"document.querySelector('{marked}').nextElementSibling.innerText")
    assert ERROR_TEXT in message and f"line {run['marker_line']}" in message
    # every line of the checked file is numbered
    numbers = browser.js(
        f"[...document.querySelectorAll('{details} .code > .ln, {details} .code > .ln-row > .ln')]"
        ".map(e => e.innerText)"
    )
    assert numbers == [str(n) for n in range(1, len(numbers) + 1)]
    assert len(numbers) >= run["marker_line"]
    # the model's raw answer, as text: its HTML did not run
    body = browser.text(f"{details} .attempt-body")
    assert "My attempt <script>window.pwned = 1</script>" in body
    assert browser.js("window.pwned === undefined")
    assert browser.js(f"document.querySelectorAll('{details} img, {details} script').length") == 0
    # the repair prompt sent for round 1, with the error marked in it
    assert "Repair prompt sent for round 1" in body
    repair = browser.text(f"{details} pre.repair")
    assert f"Error 1 (line {run['marker_line']}" in repair
    assert f"exact <error>{MARKER}</error>" in repair and ERROR_TEXT in repair

    shot = os.environ.get("HARNESS_REPORT_SCREENSHOT")
    if shot:
        browser.js(f"document.querySelector('{details}').scrollIntoView({{block: 'start'}})")
        browser.screenshot(shot)


def test_browser_code_font_is_readable(run, browser):
    browser.open(run["url"])
    browser.click(f"#{run['failed_attempt']} > summary")
    for selector in (".code", ".code .ln-row", "pre.answer", "pre.repair", ".lean-msg .msg"):
        element = f"#{run['failed_attempt']} {selector}"
        assert browser.visible(element), selector
        size = browser.js(f"getComputedStyle(document.querySelector('{element}')).fontSize")
        assert float(size.removesuffix("px")) >= 13.5, (selector, size)  # was 11 px


def test_browser_filter_hides_proved_problems(run, browser):
    browser.open(run["url"])
    everything = browser.text()
    assert all(name in everything for name in run["proved"] + run["failed"])

    browser.click("#filter input[value=failed]")
    table = browser.text("table.problems")
    assert all(name in table for name in run["failed"])
    assert not any(name in table for name in run["proved"])
    shown = browser.text()
    assert not any(name in shown for name in run["proved"])  # rows and sections alike
    for name in run["proved"]:
        assert not browser.visible(f"section#p-{name}")

    browser.click("#filter input[value=proved]")
    table = browser.text("table.problems")
    assert all(name in table for name in run["proved"])
    assert not any(name in table for name in run["failed"])

    browser.click("#filter input[value=all]")
    assert all(name in browser.text("table.problems") for name in run["proved"] + run["failed"])

    # a link can start filtered
    browser.open(run["url"] + "?show=failed")
    assert browser.js("document.querySelector('#filter input[value=failed]').checked")
    assert not any(name in browser.text() for name in run["proved"])


# ---------------------------------------------------------------------------------------------
# a whole run and a decomposition run compared at equal budget


def _errors(browser: Browser) -> list[dict[str, Any]]:
    """Console errors and uncaught exceptions the page raised so far."""
    browser.js("0")  # drains the events that arrived before this reply
    return [
        e
        for e in browser.events
        if e["method"] == "Runtime.exceptionThrown"
        or (e["method"] == "Runtime.consoleAPICalled" and e["params"].get("type") == "error")
    ]


def test_browser_comparison_page_shows_both_budget_curves(tmp_path, browser):
    from harness.report import compare_runs_html
    from tests.run.test_budget import make_decompose_run, make_whole_run

    whole = make_whole_run(tmp_path / "whole")
    decomp = make_decompose_run(tmp_path / "decomp")
    page = tmp_path / "cmp.html"
    page.write_text(compare_runs_html([whole, decomp]))
    browser.open(page.as_uri())
    assert _errors(browser) == []
    for axis in ("tokens", "calls"):
        assert browser.visible(f".budget-{axis} svg")
        for i in (0, 1):  # each run's curve, drawn
            assert browser.js(
                f"document.querySelector('.budget-{axis} svg #budget-{axis}-{i} path')"
                ".getTotalLength() > 0"
            )
    rows = [line.split("\t") for line in browser.text("table.solved-at-tokens").splitlines()]
    assert rows[0][1:] == ["whole", "decomp"] and rows[-1] == ["1,150", "0", "1"]
    budget = browser.text("table.budget")
    assert "decompose" in budget and "10 (prover 6, decomposer 4)" in budget
    assert browser.js("performance.getEntriesByType('resource').length") == 0


def test_browser_decomposed_problem_shows_its_holes(tmp_path, browser):
    from harness.report import write_reports
    from tests.run.test_budget import P, make_decompose_run

    run = make_decompose_run(tmp_path / "decomp")
    write_reports(run)
    browser.open((run / "report.html").as_uri() + f"#p-{P}-s0-k0")
    assert _errors(browser) == []
    assert browser.js(f"document.getElementById('p-{P}-s0-k0').open") is True  # the link opens it
    assert "<script>alert('x')</script>" in browser.text(f"#p-{P}-s0-k0 .attempt-body")
    outcomes = browser.js(
        f"[...document.querySelectorAll('#p-{P}-s1 table.holes td:nth-child(4)')]"
        ".map(e => e.innerText)"
    )
    assert outcomes == ["proved", "failed", "not tried"]
    assert browser.js("window.pwned === undefined")
