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

import datetime as dt
import functools
import heapq
import importlib.metadata
import json
import os
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from harness.config import RETIRED_KEYS, Config, config_diff, config_to_dict, merge_dicts
from harness.errors import RecordError
from harness.metrics import summarize
from harness.types import Attempt, SuiteSource, Summary, VerdictKind

__all__ = [
    "harness_version",
    "ATTEMPTS_FILE",
    "CONFIG_FILE",
    "HEADER_FILE",
    "SUMMARY_FILE",
    "RESUMABLE_KEYS",
    "CoveredProblem",
    "IndexEntry",
    "RecordIndex",
    "RunHeader",
    "RunRecord",
    "Selection",
    "comparable_diff",
    "summarize_record",
    "infrastructure_failures",
    "merge_runs",
    "timestamp",
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
        "lean.kimina_urls",
        "lean.kimina_api_key_env",
        "lean.pipeline_depth",
        "lean.scratch_dir",
        "suites.cache_dir",
    }
)


def harness_version() -> str:
    """The installed package's version (pyproject.toml is the one place it is written)."""
    try:
        return importlib.metadata.version("lean-harness")
    except importlib.metadata.PackageNotFoundError:  # a source tree that was never installed
        return "unknown"


_UMASK = os.umask(0)
os.umask(_UMASK)

# Attempt fields dropped by a light read (enough for metrics, far less memory).
_HEAVY_FIELDS = ("answer", "proof", "messages", "goals")
# json.dumps(..., ensure_ascii=False) builds this encoder anew on every call: once per attempt
_LINE_ENCODER = json.JSONEncoder(ensure_ascii=False)


@functools.lru_cache(maxsize=1)
def _utc_second(second: int) -> str:
    return dt.datetime.fromtimestamp(second, dt.UTC).isoformat(timespec="seconds")


def timestamp() -> str:
    """Now, in UTC to the second (ISO 8601): the record's clock."""
    return _utc_second(int(time.time()))  # formatted once per second, not once per attempt


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
    """config_diff without the keys a resumed run may change. A key the old config lacks (it
    was written before the key existed) counts as its default."""
    old = merge_dicts(config_to_dict(Config()), old)
    ignored = RESUMABLE_KEYS | RETIRED_KEYS.keys()  # retired keys: accepted, noted, ignored
    return [line for line in config_diff(old, new) if line.split(":", 1)[0] not in ignored]


# ---------------------------------------------------------------------------------------------
# header.json


@dataclass(frozen=True)
class CoveredProblem:
    """A problem a run covers (attempted or not): pass@k averages over these."""

    name: str
    split: str | None = None


@dataclass(frozen=True)
class Selection:
    """Which part of the suite the command line chose."""

    limit: int | None = None
    shard: str | None = None  # "i/n"

    def to_json(self) -> dict[str, Any]:
        return {"limit": self.limit, "shard": self.shard}


def _number(value: Any, kind: type, default: Any) -> Any:
    try:
        return default if value is None else kind(value)
    except (TypeError, ValueError):
        return default


@dataclass
class RunHeader:
    """header.json: what makes a run's numbers comparable, and how far it got.

    Read and written only by `RunRecord.read_header`/`write_header`. Reading is tolerant: a
    missing key takes its default, a key this version does not know is kept in `extra` and
    written back as it was."""

    harness_version: str | None = None
    config_hash: str | None = None
    suite: SuiteSource | None = None
    lean_toolchain: str | None = None  # "unknown" when the project does not say
    mathlib_rev: str | None = None
    model: str | None = None
    prompt: str | None = None
    samples: int | None = None
    repair_rounds: int | None = None
    selection: Selection = field(default_factory=Selection)
    started: str | None = None
    finished: str | None = None  # None: running, stopped early, or failed
    stopped: str | None = None  # why the run stopped early
    wall_s: float | None = None  # summed over invocations
    invocations: int = 0
    problems: list[CoveredProblem] = field(default_factory=list)
    merged_from: list[str] | None = None  # the shard directories of `harness merge`
    checked_by: str | None = None  # "repl", "oneshot" or "kimina <urls>"
    # how far a `proved` is confirmed: "fresh process" (a Lean process that never ran model
    # text), or why not ("off: soundness.confirm false", "not done: remote checker")
    confirmation: str | None = None
    sandbox: str | None = None  # "bwrap", "unsandboxed (lean.sandbox: none)", "remote: ..."
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "extra" or (f.name == "merged_from" and value is None):
                continue
            if f.name in ("suite", "selection"):
                value = None if value is None else value.to_json()
            elif f.name == "problems":
                value = [{"name": p.name, "split": p.split} for p in value]
            data[f.name] = value
        for key, value in self.extra.items():
            data.setdefault(key, value)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunHeader:
        names = {f.name for f in fields(cls)} - {"extra"}
        known = {k: v for k, v in data.items() if k in names}
        suite = known.get("suite")
        known["suite"] = SuiteSource.from_json(suite) if isinstance(suite, dict) else None
        selection = known.get("selection")
        known["selection"] = (
            Selection(
                limit=_number(selection.get("limit"), int, None),
                shard=selection.get("shard"),
            )
            if isinstance(selection, dict)
            else Selection()
        )
        known["problems"] = [
            CoveredProblem(str(p["name"]), p.get("split"))
            for p in known.get("problems") or []
            if isinstance(p, dict) and "name" in p
        ]
        for name in ("samples", "repair_rounds"):
            known[name] = _number(known.get(name), int, None)
        known["wall_s"] = _number(known.get("wall_s"), float, None)
        known["invocations"] = _number(known.get("invocations"), int, 0)
        merged = known.get("merged_from")
        known["merged_from"] = [str(d) for d in merged] if isinstance(merged, list) else None
        extra = {k: v for k, v in data.items() if k not in names}
        return cls(**known, extra=extra)


# ---------------------------------------------------------------------------------------------
# attempts.jsonl


class IndexEntry(NamedTuple):
    """What the index keeps of a key's effective line."""

    offset: int  # where the line starts in attempts.jsonl
    verdict: VerdictKind
    ends_sample: bool = False  # Attempt.ends_sample: the sample ended here, rounds to spare


@dataclass
class RecordIndex:
    """Where each key's effective (last) line is, and what it said."""

    last: dict[tuple[Any, ...], IndexEntry] = field(default_factory=dict)  # Attempt.key ->
    lines: int = 0
    unreadable: int = 0  # complete lines that are not an attempt (skipped)

    def finished(self) -> set[tuple[Any, ...]]:
        """Keys done for good: anything but an infrastructure failure, which is retried."""
        return {key for key, entry in self.last.items() if not entry.verdict.is_infrastructure}


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

    def read_header(self) -> RunHeader:
        """header.json (an empty header when there is none yet)."""
        if not self.header_path.exists():
            return RunHeader()
        try:
            data = json.loads(self.header_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise RecordError(f"{self.header_path}: cannot read ({exc})") from exc
        if not isinstance(data, dict):
            raise RecordError(f"{self.header_path}: not a header object")
        return RunHeader.from_json(data)

    def write_header(self, header: RunHeader) -> None:
        text = json.dumps(header.to_json(), indent=2, ensure_ascii=False) + "\n"
        self._write(self.header_path, text)

    def read_summary(self) -> dict[str, Any] | None:
        if not self.summary_path.exists():
            return None
        try:
            return json.loads(self.summary_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise RecordError(f"{self.summary_path}: cannot read ({exc})") from exc

    def write_summary(self, summary: Summary) -> None:
        data = summary.to_json()
        data["infrastructure_failures"] = infrastructure_failures(summary)
        text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
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
        except (TypeError, ValueError):  # a key missing, or not a verdict
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
            idx.last[attempt.key] = IndexEntry(offset, attempt.verdict, attempt.ends_sample)
        return idx

    def iter_effective(
        self, light: bool = False, index: RecordIndex | None = None
    ) -> Iterator[Attempt]:
        """The effective attempts (last line per key), in file order. `light` drops the answer,
        proof and messages, for aggregates over long runs."""
        idx = index or self.index()
        wanted = {entry.offset for entry in idx.last.values()}
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
        data = vars(attempt)
        if attempt.stage != "whole":  # a decomposition's ids, as to_json() writes them
            data = {**data, "id": attempt.node, "parent": attempt.parent}
        line = self._scrub(_LINE_ENCODER.encode(data)) + "\n"
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


def infrastructure_failures(summary: Summary) -> int:
    """Rounds whose last line is a prover_error or checker_error: not attempted for the model's
    reason (retries exhausted); the next run retries them."""
    return sum(
        count
        for kind, count in summary.by_verdict.items()
        if str(getattr(kind, "value", kind)) in ("prover_error", "checker_error")
    )


# Light attempts (about 1 KB each) _effective_light holds before it reads the file twice instead.
_ONE_PASS_MAX = 50_000


def _effective_light(record: RunRecord) -> Iterable[Attempt]:
    """record.iter_effective(light=True), the same attempts in the same order, in one read of
    the file instead of two (the index, then the lines it picks) when the run is not huge."""
    last: dict[tuple[Any, ...], Attempt] = {}
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
    samples = int(header.samples or config.get("search", {}).get("samples") or 1)
    problems = [(p.name, p.split) for p in header.problems]
    suite = (header.suite.suite if header.suite else None) or config.get("suite") or "?"
    complete = bool(header.finished) and not header.stopped
    attempts = (
        _effective_light(record)
        if index is None
        else record.iter_effective(light=True, index=index)
    )
    search = config.get("search") or {}
    return summarize(
        attempts,
        problems,
        suite,
        samples,
        complete=complete,
        stop_on_success=bool(search.get("stop_on_success")),
        strategy=str(search.get("strategy") or "whole"),  # configs before the key: whole
    )


def _describe_selection(selection: Selection) -> str:
    limit = f"the first {selection.limit} problems" if selection.limit else "every problem"
    return f"{limit}, shard {selection.shard}" if selection.shard else limit


def _selection_clash(a: Selection, b: Selection) -> str | None:
    """Why two runs are not shares of one selection (None: they are)."""
    if a.limit != b.limit:
        return "a different --limit"
    count_a = a.shard.split("/", 1)[-1] if a.shard else None
    count_b = b.shard.split("/", 1)[-1] if b.shard else None
    if count_a != count_b:
        return "a different --shard count" if a.shard and b.shard else "one is not a shard"
    return None


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
        a, b = headers[0].suite or SuiteSource(""), h.suite or SuiteSource("")
        if (a.suite, a.sha256) != (b.suite, b.sha256):
            raise RecordError(
                f"merge: {r.dir} ran suite {b.suite} ({b.sha256}), "
                f"{records[0].dir} ran {a.suite} ({a.sha256})"
            )
        why = _selection_clash(headers[0].selection, h.selection)
        if why:
            raise RecordError(
                f"merge: {r.dir} ran {_describe_selection(h.selection)}, {records[0].dir} ran "
                f"{_describe_selection(headers[0].selection)}: {why}"
            )
    shards = [h.selection.shard for h in headers if h.selection.shard]
    for shard in sorted({x for x in shards if shards.count(x) > 1}):
        twice = [
            str(r.dir) for r, h in zip(records, headers, strict=True) if h.selection.shard == shard
        ]
        raise RecordError(f"merge: shard {shard} is given twice ({', '.join(twice)})")

    target = RunRecord(out)
    target.dir.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{ATTEMPTS_FILE}.", dir=target.dir)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            # interleaved by finishing time (shards run at once), so the merged file's order is
            # still completion order, the order budget curves read; streamed, not held
            merged = heapq.merge(*(r.iter_effective() for r in records), key=lambda a: a.time)
            for attempt in merged:
                f.write(json.dumps(attempt.to_json(), ensure_ascii=False) + "\n")
        os.replace(tmp, target.attempts_path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise

    problems: list[CoveredProblem] = []
    names: set[str] = set()
    for h in headers:
        for p in h.problems:
            if p.name not in names:
                names.add(p.name)
                problems.append(p)
    stopped = [f"{r.dir}: {h.stopped}" for r, h in zip(records, headers, strict=True) if h.stopped]
    finished = [h.finished for h in headers]
    header = replace(
        headers[0],
        problems=problems,
        selection=Selection(),
        merged_from=[str(r.dir) for r in records],
        started=min((h.started or "" for h in headers), default=None) or None,
        finished=max(finished) if all(finished) else None,  # type: ignore[type-var]
        stopped="; ".join(stopped) or None,
        wall_s=max(h.wall_s or 0.0 for h in headers),
        invocations=sum(h.invocations for h in headers),
    )
    target._write(
        target.config_path, yaml.safe_dump(first_config, sort_keys=False, allow_unicode=True)
    )
    target.write_header(header)
    summary = summarize_record(target)
    target.write_summary(summary)
    return summary
