"""Progress while a run goes: a live bar on a terminal, plain periodic lines otherwise.

The search calls `attempt(...)` after each recorded round and `problem_done(...)` when a
problem has no work left; the display decides how often to show anything. Output goes to
stderr so stdout stays for results.
"""

from __future__ import annotations

import sys
import time
from typing import IO, Any

from harness.metrics import format_duration

__all__ = ["Progress", "ProgressCounts", "make_progress"]


class ProgressCounts:
    """What the display shows; kept by the search, read by the display."""

    def __init__(self, problems: int, done: int = 0, proved: int = 0) -> None:
        self.problems = problems
        self.done = done  # problems with no work left (this invocation's start included)
        self.proved = proved
        self.attempts = 0  # rounds recorded by this invocation
        self.tokens = 0
        self.started = time.monotonic()
        self.done_at_start = done

    def rate(self) -> float:
        """Rounds per minute in this invocation."""
        elapsed = max(1e-9, time.monotonic() - self.started)
        return 60.0 * self.attempts / elapsed

    def eta_s(self) -> float | None:
        finished = self.done - self.done_at_start
        remaining = self.problems - self.done
        if finished <= 0 or remaining <= 0:
            return None
        return (time.monotonic() - self.started) / finished * remaining


class Progress:
    """Base display: plain lines every `interval_s` seconds (and at the end)."""

    def __init__(
        self, counts: ProgressCounts, stream: IO[str] | None = None, interval_s: float = 10.0
    ):
        self.counts = counts
        self.stream = stream or sys.stderr
        self.interval_s = interval_s
        self._last = 0.0

    def line(self) -> str:
        c = self.counts
        return (
            f"problems {c.done}/{c.problems} done, {c.proved} proved · {c.attempts} rounds · "
            f"{c.tokens:,} tokens · {c.rate():.1f} rounds/min · ETA {format_duration(c.eta_s())}"
        )

    def start(self) -> None:
        self._last = time.monotonic()

    def attempt(self, proved: bool, tokens: int) -> None:
        self.counts.attempts += 1
        self.counts.tokens += tokens
        self.refresh()

    def problem_done(self, proved: bool) -> None:
        self.counts.done += 1
        self.counts.proved += int(proved)
        self.refresh()

    def refresh(self) -> None:
        now = time.monotonic()
        if now - self._last >= self.interval_s:
            self._last = now
            print(f"harness: {self.line()}", file=self.stream, flush=True)

    def stop(self) -> None:
        print(f"harness: {self.line()}", file=self.stream, flush=True)


class RichProgress(Progress):
    """A live bar (rich), redrawn at most a few times a second. The problem count, the proved
    count and the ETA come first and always show; the rest is dropped when the terminal is too
    narrow (80 columns keeps the essentials and the bar)."""

    _BAR = 20  # the bar's width when there is room; it shrinks to _MIN_BAR first
    _MIN_BAR = 10

    def __init__(self, counts: ProgressCounts, stream: IO[str] | None = None) -> None:
        super().__init__(counts, stream)
        from rich.console import Console
        from rich.progress import BarColumn, TextColumn
        from rich.progress import Progress as RichBar

        self._console = Console(file=self.stream)
        self._bar = RichBar(
            TextColumn("{task.fields[head]}"),
            BarColumn(bar_width=None),
            TextColumn("{task.fields[tail]}"),
            console=self._console,
            transient=False,
            refresh_per_second=4,
            expand=False,
        )
        self._task: Any = None

    def _fields(self) -> dict[str, str]:
        c = self.counts
        head = (
            f"problems {c.done}/{c.problems} · {c.proved} proved · ETA {format_duration(c.eta_s())}"
        )
        room = self._console.width - len(head) - self._MIN_BAR - 4
        tails = [
            f"{c.attempts} rounds · {c.rate():.1f} rounds/min · {c.tokens:,} tokens",
            f"{c.attempts} rounds · {c.rate():.1f} rounds/min",
            f"{c.attempts} rounds",
        ]
        tail = next((t for t in tails if len(t) <= room), "")
        return {"head": head, "tail": tail}

    def start(self) -> None:
        self._bar.start()
        self._task = self._bar.add_task(
            "run", total=self.counts.problems, completed=self.counts.done, **self._fields()
        )

    def refresh(self) -> None:
        if self._task is not None:
            fields = self._fields()
            bar = max(
                self._MIN_BAR,
                min(self._BAR, self._console.width - 4 - sum(map(len, fields.values()))),
            )
            self._bar.columns[1].bar_width = bar  # type: ignore[attr-defined]
            self._bar.update(self._task, completed=self.counts.done, **fields)

    def stop(self) -> None:
        self.refresh()
        self._bar.stop()


def make_progress(
    counts: ProgressCounts, enabled: bool = True, stream: IO[str] | None = None
) -> Progress:
    """A rich bar on a terminal, plain periodic lines otherwise; `enabled=False`: lines only."""
    stream = stream or sys.stderr
    if enabled and hasattr(stream, "isatty") and stream.isatty():
        return RichProgress(counts, stream)
    return Progress(counts, stream)
