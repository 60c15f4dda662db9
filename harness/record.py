"""The run directory: the single record of a run, from which everything else is derived.

    config.yaml     the resolved config (no secrets: only the name of the key's variable)
    header.json     what makes numbers comparable: suite source, Lean/Mathlib, harness version,
                    config hash, the problems covered, start and finish times
    attempts.jsonl  one Attempt per finished round, appended and flushed as it happens
    summary.json    metrics.summarize() of the effective attempts
    report.md, report.html   written by harness.report

The reader is tolerant: a torn last line (a crash mid-write) is cut off before appending, and
when a key (problem, sample, round) appears more than once the last line wins, so a retried
infrastructure failure's new line supersedes the old one.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from harness.config import Config, config_diff, config_to_dict
from harness.errors import RecordError
from harness.metrics import summarize
from harness.types import Attempt, Summary, VerdictKind

__all__ = [
    "ATTEMPTS_FILE",
    "CONFIG_FILE",
    "HEADER_FILE",
    "SUMMARY_FILE",
    "RESUMABLE_KEYS",
    "RecordIndex",
    "RunRecord",
    "comparable_diff",
    "summarize_record",
    "merge_runs",
    "write_atomic",
]

ATTEMPTS_FILE = "attempts.jsonl"
CONFIG_FILE = "config.yaml"
HEADER_FILE = "header.json"
SUMMARY_FILE = "summary.json"

# Keys that may change between a run and its resumption without --force: they change how
# fast or how far a run goes, not what one round produces.
RESUMABLE_KEYS = frozenset(
    {
        "search.max_tokens",
        "search.max_cost",
        "prover.concurrency",
        "prover.transport",
        "lean.workers",
        "lean.pipeline_depth",
        "lean.scratch_dir",
        "suites.cache_dir",
    }
)

_UMASK = os.umask(0)
os.umask(_UMASK)

# Attempt fields dropped by a light read (enough for metrics, far less memory).
_HEAVY_FIELDS = ("answer", "proof", "messages", "goals")
# json.dumps(..., ensure_ascii=False) builds this encoder anew on every call: once per attempt
_LINE_ENCODER = json.JSONEncoder(ensure_ascii=False)


def write_atomic(path: str | os.PathLike[str], text: str | Iterable[str]) -> None:
    """Write a whole file so a reader sees the old or the new content, never half. `text` may
    come in pieces (a large report is then never held whole)."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_UMASK)  # as open() would (mkstemp makes 0600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            if isinstance(text, str):
                f.write(text)
            else:
                f.writelines(text)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def comparable_diff(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """config_diff without the keys a resumed run may change."""
    return [line for line in config_diff(old, new) if line.split(":", 1)[0] not in RESUMABLE_KEYS]


@dataclass
class RecordIndex:
    """Where each key's effective (last) line is, and what it said."""

    last: dict[tuple[str, int, int], tuple[int, str]] = field(default_factory=dict)
    lines: int = 0
    unreadable: int = 0  # complete lines that are not an attempt (skipped)
    # keys whose effective line ended its sample early (Attempt.ends_sample)
    ended: set[tuple[str, int, int]] = field(default_factory=set)

    def finished(self) -> set[tuple[str, int, int]]:
        """Keys done for good: anything but an infrastructure failure, which is retried."""
        infra = {VerdictKind.PROVER_ERROR.value, VerdictKind.CHECKER_ERROR.value}
        return {key for key, (_, verdict) in self.last.items() if verdict not in infra}


class RunRecord:
    """Reads and writes one run directory. `secrets` never reach a file written here."""

    def __init__(
        self, out_dir: str | os.PathLike[str], secrets: Iterable[str] = (), fsync: bool = False
    ) -> None:
        self.dir = Path(out_dir)
        self.config_path = self.dir / CONFIG_FILE
        self.header_path = self.dir / HEADER_FILE
        self.attempts_path = self.dir / ATTEMPTS_FILE
        self.summary_path = self.dir / SUMMARY_FILE
        self._secrets = tuple(s for s in secrets if s)
        self._fsync = fsync
        self._file: Any = None

    # -- whole files -------------------------------------------------------------------------

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, "***")
        return text

    def _write(self, path: Path, text: str) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        write_atomic(path, self._scrub(text))

    def exists(self) -> bool:
        return self.config_path.exists() or self.attempts_path.exists()

    def read_config(self) -> dict[str, Any] | None:
        if not self.config_path.exists():
            return None
        try:
            data = yaml.safe_load(self.config_path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise RecordError(
                f"{self.config_path}: cannot read the recorded config ({exc})"
            ) from exc
        if not isinstance(data, dict):
            raise RecordError(f"{self.config_path}: not a config mapping")
        return data

    def check_config(self, config: Config, force: bool = False) -> list[str]:
        """Refuse to continue a run recorded with a different config, naming the keys."""
        old = self.read_config()
        if old is None:
            return []
        diff = comparable_diff(old, config_to_dict(config))
        if diff and not force:
            shown = "; ".join(diff[:6]) + (f"; and {len(diff) - 6} more" if len(diff) > 6 else "")
            raise RecordError(
                f"{self.dir}: recorded with a different config ({shown}); "
                "use --force to continue with the new one, or choose another --out"
            )
        return diff

    def write_config(self, config: Config) -> None:
        text = yaml.safe_dump(config_to_dict(config), sort_keys=False, allow_unicode=True)
        self._write(self.config_path, text)

    def read_header(self) -> dict[str, Any]:
        if not self.header_path.exists():
            return {}
        try:
            return json.loads(self.header_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise RecordError(f"{self.header_path}: cannot read ({exc})") from exc

    def write_header(self, header: dict[str, Any]) -> None:
        self._write(self.header_path, json.dumps(header, indent=2, ensure_ascii=False) + "\n")

    def read_summary(self) -> dict[str, Any] | None:
        if not self.summary_path.exists():
            return None
        try:
            return json.loads(self.summary_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise RecordError(f"{self.summary_path}: cannot read ({exc})") from exc

    def write_summary(self, summary: Summary) -> None:
        text = json.dumps(summary.to_json(), indent=2, ensure_ascii=False) + "\n"
        self._write(self.summary_path, text)

    # -- attempts.jsonl ----------------------------------------------------------------------

    def repair(self) -> int:
        """Cut a torn last line (no newline: a crash mid-write). Returns the bytes removed."""
        path = self.attempts_path
        if not path.exists():
            return 0
        with open(path, "rb+") as f:
            size = f.seek(0, os.SEEK_END)
            if size == 0:
                return 0
            f.seek(size - 1)
            if f.read(1) == b"\n":
                return 0
            # Walk back to the last newline, a block at a time.
            end = size
            keep = 0
            block = 65536
            while end > 0:
                start = max(0, end - block)
                f.seek(start)
                chunk = f.read(end - start)
                i = chunk.rfind(b"\n")
                if i >= 0:
                    keep = start + i + 1
                    break
                end = start
            f.truncate(keep)
            return size - keep

    def _iter_lines(self) -> Iterator[tuple[int, bytes]]:
        """(offset, line) for each complete line; a torn last line is not yielded."""
        if not self.attempts_path.exists():
            return
        with open(self.attempts_path, "rb") as f:
            offset = 0
            for line in f:
                if not line.endswith(b"\n"):
                    return
                yield offset, line
                offset += len(line)

    @staticmethod
    def _parse(line: bytes, light: bool = False) -> Attempt | None:
        if not line.strip():
            return None
        try:
            data = json.loads(line)
        except ValueError:
            return None
        if not isinstance(data, dict) or not {"problem", "sample", "round", "verdict"} <= set(data):
            return None
        if light:
            for name in _HEAVY_FIELDS:
                data.pop(name, None)
        try:
            return Attempt.from_json(data)
        except TypeError:
            return None

    def index(self) -> RecordIndex:
        idx = RecordIndex()
        for offset, line in self._iter_lines():
            idx.lines += 1
            attempt = self._parse(line, light=True)
            if attempt is None:
                if line.strip():
                    idx.unreadable += 1
                continue
            idx.last[attempt.key] = (offset, attempt.verdict)
            if attempt.ends_sample:
                idx.ended.add(attempt.key)
            else:
                idx.ended.discard(attempt.key)
        return idx

    def iter_effective(
        self, light: bool = False, index: RecordIndex | None = None
    ) -> Iterator[Attempt]:
        """The effective attempts (last line per key), in file order. `light` drops the answer,
        proof and messages, for aggregates over long runs."""
        idx = index or self.index()
        wanted = {offset for offset, _ in idx.last.values()}
        for offset, line in self._iter_lines():
            if offset in wanted:
                attempt = self._parse(line, light=light)
                if attempt is not None:
                    yield attempt

    def read_at(self, offsets: Iterable[int]) -> list[Attempt]:
        """The attempts written at these offsets (from an index)."""
        out = []
        with open(self.attempts_path, "rb") as f:
            for offset in sorted(offsets):
                f.seek(offset)
                attempt = self._parse(f.readline())
                if attempt is not None:
                    out.append(attempt)
        return out

    def open(self) -> None:
        """Ready attempts.jsonl for appending (after cutting a torn last line)."""
        self.dir.mkdir(parents=True, exist_ok=True)
        self.repair()
        self._file = open(self.attempts_path, "a", encoding="utf-8")  # noqa: SIM115 (closed in close())

    def append(self, attempt: Attempt) -> None:
        if self._file is None:
            self.open()
        # vars(), not to_json(): asdict() deep-copies every message only for json to read it
        line = self._scrub(_LINE_ENCODER.encode(vars(attempt))) + "\n"
        self._file.write(line)
        self._file.flush()
        if self._fsync:
            os.fsync(self._file.fileno())

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self) -> RunRecord:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# Light attempts (about 1 KB each) _effective_light holds before it reads the file twice instead.
_ONE_PASS_MAX = 50_000


def _effective_light(record: RunRecord) -> Iterable[Attempt]:
    """record.iter_effective(light=True), the same attempts in the same order, in one read of
    the file instead of two (the index, then the lines it picks) when the run is not huge."""
    last: dict[tuple[str, int, int], Attempt] = {}
    for _, line in record._iter_lines():
        attempt = record._parse(line, light=True)
        if attempt is None:
            continue
        # re-inserted, so the dict's order is that of each key's last line: the file order
        last.pop(attempt.key, None)
        last[attempt.key] = attempt
        if len(last) > _ONE_PASS_MAX:
            return record.iter_effective(light=True)  # bounded memory: two passes
    return last.values()


def summarize_record(record: RunRecord, index: RecordIndex | None = None) -> Summary:
    """summary.json's content: a pure function of the run directory."""
    header = record.read_header()
    config = record.read_config() or {}
    samples = int(header.get("samples") or config.get("search", {}).get("samples") or 1)
    problems = [(p["name"], p.get("split")) for p in header.get("problems", [])]
    suite = (header.get("suite") or {}).get("suite") or config.get("suite") or "?"
    complete = bool(header.get("finished")) and not header.get("stopped")
    attempts = (
        _effective_light(record)
        if index is None
        else record.iter_effective(light=True, index=index)
    )
    return summarize(
        attempts,
        problems,
        suite,
        samples,
        complete=complete,
        stop_on_success=bool(config.get("search", {}).get("stop_on_success")),
    )


def merge_runs(dirs: list[str | os.PathLike[str]], out_dir: str | os.PathLike[str]) -> Summary:
    """Combine shard run directories (same suite, same config) into one run directory."""
    if not dirs:
        raise RecordError("merge: no run directories given")
    out = Path(out_dir)
    records = [RunRecord(d) for d in dirs]
    for r in records:
        if r.dir.resolve() == out.resolve():
            raise RecordError(f"merge: --out {out} is one of the inputs; choose a new directory")
        if r.read_config() is None:
            raise RecordError(f"{r.dir}: not a run directory (no {CONFIG_FILE})")
    first_config = records[0].read_config() or {}
    headers = [r.read_header() for r in records]
    for r, h in zip(records[1:], headers[1:], strict=True):
        diff = comparable_diff(first_config, r.read_config() or {})
        if diff:
            raise RecordError(
                f"merge: {r.dir} was run with a different config than {records[0].dir} "
                f"({'; '.join(diff[:6])})"
            )
        a, b = headers[0].get("suite") or {}, h.get("suite") or {}
        if (a.get("suite"), a.get("sha256")) != (b.get("suite"), b.get("sha256")):
            raise RecordError(
                f"merge: {r.dir} ran suite {b.get('suite')} ({b.get('sha256')}), "
                f"{records[0].dir} ran {a.get('suite')} ({a.get('sha256')})"
            )

    target = RunRecord(out)
    target.dir.mkdir(parents=True, exist_ok=True)
    seen: set[tuple[str, int, int]] = set()
    fd, tmp = tempfile.mkstemp(prefix=f".{ATTEMPTS_FILE}.", dir=target.dir)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            for r in records:
                for attempt in r.iter_effective():
                    seen.add(attempt.key)
                    f.write(json.dumps(attempt.to_json(), ensure_ascii=False) + "\n")
        os.replace(tmp, target.attempts_path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise

    problems: list[dict[str, Any]] = []
    names: set[str] = set()
    for h in headers:
        for p in h.get("problems", []):
            if p["name"] not in names:
                names.add(p["name"])
                problems.append(p)
    header = dict(headers[0])
    stopped = [
        f"{r.dir}: {h['stopped']}"
        for r, h in zip(records, headers, strict=True)
        if h.get("stopped")
    ]
    finished = [h.get("finished") for h in headers]
    header.update(
        {
            "problems": problems,
            "selection": {"limit": None, "shard": None},
            "merged_from": [str(r.dir) for r in records],
            "started": min((h.get("started") or "" for h in headers), default=None) or None,
            "finished": max(finished) if all(finished) else None,  # type: ignore[type-var]
            "stopped": "; ".join(stopped) or None,
            "wall_s": max(float(h.get("wall_s") or 0.0) for h in headers),
            "invocations": sum(int(h.get("invocations") or 0) for h in headers),
        }
    )
    target._write(
        target.config_path, yaml.safe_dump(first_config, sort_keys=False, allow_unicode=True)
    )
    target.write_header(header)
    summary = summarize_record(target)
    target.write_summary(summary)
    return summary
