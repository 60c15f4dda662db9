"""The proof search: samples x repair rounds, as a pipeline between the prover and Lean.

For each problem, `search.samples` independent samples; each sample is a conversation of up to
1 + `search.repair_rounds` rounds, in which the reason the last round failed goes back to the
model (`prompts.repair_message`), and which stops at its first proved round. Infrastructure
failures (`prover_error`, `checker_error`) are not repair material: the round goes to the back
of its queue and is retried, up to `search.infra_retries` times, then recorded as it is.

The run directory (`record.RunRecord`) is the truth. Resume reads its index: finished rounds
are skipped exactly, a sample with finished rounds continues at its next round with its
conversation rebuilt from the record, and rounds whose last line is an infrastructure failure
are retried (the new line supersedes the old).

This module is the run around the search: choosing problems, checking prerequisites, the run
header, and the summary and reports at the end. The parts of the search itself:

    plan.py     what remains, from the record (pure)
    budget.py   tokens, cost, stop_on_success: when to send no more requests (pure)
    attempt.py  one round: prompt -> answer -> extract -> verify -> Attempt
    engine.py   the scheduling of rounds between prover and Lean workers
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from harness.checker import preflight
from harness.config import Config, config_hash
from harness.engine import Engine, one_line
from harness.errors import ConfigError
from harness.plan import Budget, Plan
from harness.progress import ProgressCounts, make_progress
from harness.record import (
    CoveredProblem,
    RecordIndex,
    RunHeader,
    RunRecord,
    Selection,
    harness_version,
    summarize_record,
    timestamp,
)
from harness.types import Problem, Suite, Summary

__all__ = [
    "run",
    "run_async",
    "run_search",
    "parse_shard",
    "shard_from_env",
    "select_problems",
    "default_out_dir",
]


# ---------------------------------------------------------------------------------------------
# Selecting problems


def parse_shard(text: str) -> tuple[int, int]:
    """`"i/n"` (0 <= i < n) -> (i, n)."""
    try:
        i_text, n_text = text.split("/", 1)
        i, n = int(i_text), int(n_text)
    except ValueError:
        raise ConfigError(f"--shard {text!r}: expected i/n, e.g. 0/4") from None
    if n < 1 or not 0 <= i < n:
        raise ConfigError(f"--shard {text!r}: need 0 <= i < n")
    return i, n


def shard_from_env(env: dict[str, str] | None = None) -> tuple[int, int] | None:
    """The shard of a Slurm array task (`--array=0-3` or `1-4`), or None outside one."""
    env = os.environ if env is None else env
    task, count = env.get("SLURM_ARRAY_TASK_ID"), env.get("SLURM_ARRAY_TASK_COUNT")
    if not task or not count:
        return None
    try:
        i = int(task) - int(env.get("SLURM_ARRAY_TASK_MIN", "0") or 0)
        n = int(count)
    except ValueError:
        return None
    return (i, n) if 0 <= i < n else None


def select_problems(
    problems: Iterable[Problem], limit: int | None = None, shard: tuple[int, int] | None = None
) -> list[Problem]:
    """The first `limit` problems, then every n-th from the i-th: deterministic, disjoint shares."""
    chosen = list(problems)
    if limit is not None:
        chosen = chosen[:limit]
    if shard is not None:
        i, n = shard
        chosen = chosen[i::n]
    return chosen


def default_out_dir(
    suite: str,
    shard: tuple[int, int] | None = None,
    config: Config | None = None,
    limit: int | None = None,
) -> Path:
    """`runs/<suite>-<model>-<config hash>[-firstN][-shardIofN]`: the same command, the same
    directory, so running it again resumes."""
    name = Path(suite).stem if os.sep in suite else suite
    parts = [name]
    if config is not None:
        model = config.prover.model.rstrip("/").rsplit("/", 1)[-1]
        parts += [model, config_hash(config)[:8]]
    tail = f"-first{limit}" if limit is not None else ""
    tail += f"-shard{shard[0]}of{shard[1]}" if shard else ""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", "-".join(p for p in parts if p))
    return Path("runs") / f"{slug}{tail}"


# ---------------------------------------------------------------------------------------------
# Prerequisites


# ---------------------------------------------------------------------------------------------
# The run


def checked_by(config: Config) -> str:
    lean = config.lean
    return f"kimina {', '.join(lean.kimina_urls)}" if lean.backend == "kimina" else lean.backend


def confirmation(config: Config) -> str:
    if config.lean.backend == "kimina":
        return "not done: remote checker (confirm with `harness recheck RUN_DIR`)"
    if not config.soundness.confirm:
        return "off: soundness.confirm false (the checking process's own audits)"
    if config.lean.backend == "oneshot":
        return "audits in a second process (the compiled .olean is not re-checked)"
    return "fresh process: the environment replayed through the kernel, then audited"


def sandbox(config: Config) -> str:
    if config.lean.backend == "kimina":
        return "remote: the server's"
    return "bwrap" if config.lean.sandbox == "bwrap" else "unsandboxed (lean.sandbox: none)"


def _header(
    config: Config,
    suite: Suite,
    problems: list[Problem],
    old: RunHeader,
    versions: dict[str, str],
    limit: int | None,
    shard: tuple[int, int] | None,
) -> RunHeader:
    """This invocation's header: the problems, time and invocations of earlier ones kept."""
    seen = {p.name for p in old.problems}
    listed = list(old.problems)
    listed += [CoveredProblem(p.name, p.split) for p in problems if p.name not in seen]
    return RunHeader(
        harness_version=harness_version(),
        config_hash=config_hash(config),
        suite=suite.source,
        lean_toolchain=versions.get("lean_toolchain") or old.lean_toolchain or "unknown",
        mathlib_rev=versions.get("mathlib_rev") or old.mathlib_rev or "unknown",
        model=config.prover.model,
        prompt=config.prompt,
        samples=config.search.samples,
        repair_rounds=config.search.repair_rounds,
        selection=Selection(limit=limit, shard=f"{shard[0]}/{shard[1]}" if shard else None),
        started=old.started or timestamp(),
        finished=None,
        stopped=None,
        wall_s=old.wall_s or 0.0,
        invocations=old.invocations + 1,
        problems=listed,
        checked_by=checked_by(config),
        confirmation=confirmation(config),
        sandbox=sandbox(config),
    )


def _lean_versions(config: Config, suite: Suite, log: Callable[[str], None]) -> dict[str, str]:
    """The Lean project's versions, with a warning when the suite was written for another."""
    try:
        from harness.checker.toolchain import project_versions

        versions = project_versions(config.lean.project_dir)
    except Exception:  # versions are information, never a reason to stop
        return {}
    pinned = suite.source.lean_toolchain
    have = versions.get("lean_toolchain", "unknown")
    if pinned and have not in ("", "unknown") and pinned.split(":")[-1] != have.split(":")[-1]:
        log(
            f"harness: warning: suite {suite.source.suite} is pinned to Lean {pinned}, "
            f"but {config.lean.project_dir} uses {have}; results may differ"
        )
    return versions


def _open_record(
    record: RunRecord, config: Config, force: bool, log: Callable[[str], None]
) -> RecordIndex:
    """Refuse a different config (unless forced), cut a torn last line, index the record."""
    diff = record.check_config(config, force=force)
    if diff:
        log(f"harness: warning: continuing with a changed config ({'; '.join(diff)})")
    record.dir.mkdir(parents=True, exist_ok=True)
    torn = record.repair()
    if torn:
        log(f"harness: {record.attempts_path}: removed a torn last line ({torn} bytes)")
    index = record.index()
    if index.unreadable:
        log(f"harness: {record.attempts_path}: skipped {index.unreadable} unreadable lines")
    return index


def _finish(
    record: RunRecord,
    header: RunHeader,
    seconds: float,
    stopped: str | None,
    error: BaseException | None,
    write_report: bool,
    log: Callable[[str], None],
) -> Summary:
    """The header's end (time, why it stopped), the summary and the reports."""
    header.wall_s = round((header.wall_s or 0.0) + seconds, 3)
    header.stopped = stopped or (one_line(error) if error is not None else None)
    header.finished = timestamp() if error is None and stopped is None else None
    record.write_header(header)
    summary = summarize_record(record)
    record.write_summary(summary)
    if write_report:
        try:
            from harness.report import write_reports

            write_reports(record.dir)
        except Exception as exc:  # the record is safe; a report can be rebuilt later
            log(f"harness: warning: report not written ({exc}); run `harness report {record.dir}`")
    return summary


async def run_search(
    config: Config,
    suite: Suite,
    out_dir: str | os.PathLike[str],
    *,
    limit: int | None = None,
    shard: tuple[int, int] | None = None,
    force: bool = False,
    progress: bool = True,
    log: Callable[[str], None] | None = None,
    write_report: bool = True,
) -> Summary:
    """Run (or resume) the search of `suite` into `out_dir`; returns the run's summary."""
    log = log or (lambda line: print(line, file=sys.stderr, flush=True))
    from harness.client import ProverClient, require_api_key
    from harness.prompts import check_template

    # Every config mistake is caught before the run directory is touched.
    check_template(config.prompt)
    api_key = require_api_key(config)  # before any work: a missing key is one clear line
    decompose = config.search.strategy == "decompose"
    if decompose:
        from harness.decompose import decomposer_config

        check_template(config.decomposer.prompt, "decomposer.prompt")
        if config.lean.backend == "oneshot":
            raise ConfigError(
                "search.strategy decompose needs Lean's goals at each `sorry`, which only the "
                "REPL reports: set lean.backend to repl (or kimina)"
            )
        sketcher = decomposer_config(config)
        sketcher_key = require_api_key(sketcher)
    preflight(config)

    secrets = [k for k in (api_key, sketcher_key if decompose else None) if k]
    record = RunRecord(out_dir, secrets=secrets)
    problems = select_problems(suite.problems, limit, shard)
    async with contextlib.AsyncExitStack() as clients:
        client = await clients.enter_async_context(ProverClient(config.prover, api_key))
        decomposer = client
        if decompose and (sketcher.base_url, sketcher_key, sketcher.model) != (
            config.prover.base_url,
            api_key,
            config.prover.model,
        ):
            decomposer = await clients.enter_async_context(ProverClient(sketcher, sketcher_key))
        fresh = not record.exists()
        if fresh and problems:
            await client.probe()  # a dead endpoint: one line, and no run directory
        index = _open_record(record, config, force, log)
        plan = Plan.of(index.last, config.search)
        runner = None
        if decompose:
            from harness.decompose import Decomposition

            runner = Decomposition(config, record, problems, log)
            left, proved = await runner.pending()
            counts = ProgressCounts(len(problems), len(problems) - len(left), proved)
        else:
            counts = ProgressCounts(
                problems=len(problems),
                done=sum(1 for p in problems if not plan.work(p.name)),
                proved=sum(1 for p in problems if plan.proved(p.name)),
            )
        if not fresh:
            log(
                f"harness: resuming {record.dir}: {len(index.finished())} rounds already "
                f"recorded, {counts.done}/{counts.problems} problems done, "
                f"{counts.proved} proved"
            )
            if counts.done < len(problems):
                await client.probe()
        versions = _lean_versions(config, suite, log)
        header = _header(config, suite, problems, record.read_header(), versions, limit, shard)
        record.write_config(config)
        record.write_header(header)

        budget = Budget.of(config.search, record.iter_effective(light=True, index=index))
        display = make_progress(counts, enabled=progress)
        engine = Engine(config, record, plan, budget, problems, display, log)
        started = time.monotonic()
        error: BaseException | None = None
        try:
            if counts.done < len(problems):  # a finished run makes no request and no check
                from harness.checker import open_checker

                record.open()
                display.start()
                try:
                    async with open_checker(config) as checker:
                        if runner is not None:
                            await runner.run(client, decomposer, checker, budget, display)
                        else:
                            await engine.run(client, checker)
                finally:
                    display.stop()
        except BaseException as exc:
            error = exc
            raise
        finally:
            record.close()
            seconds = time.monotonic() - started
            stopped = runner.stopped if runner is not None else engine.stopped
            if stopped is None and error is None:
                stopped = _infrastructure_left(record)
            summary = _finish(record, header, seconds, stopped, error, write_report, log)
    return summary


def _infrastructure_left(record: RunRecord) -> str | None:
    """Why a run that ran to its end is not complete: rounds whose last line is still an
    infrastructure failure (retries exhausted), which the next run retries."""
    failed = sum(1 for e in record.index().last.values() if e.verdict.is_infrastructure)
    if not failed:
        return None
    return (
        f"{failed} rounds ended in infrastructure failures (prover_error/checker_error); "
        "run the same command again to retry them"
    )


async def run_async(
    config: Config,
    out_dir: str | os.PathLike[str] | None = None,
    *,
    suite: Suite | None = None,
    from_dir: str | None = None,
    limit: int | None = None,
    shard: tuple[int, int] | None = None,
    force: bool = False,
    progress: bool = True,
) -> Summary:
    """Load the config's suite (unless given) and run the search; the library form of `harness run`."""
    if suite is None:
        from harness.suites import load_suite

        suite = load_suite(config.suite, config, from_dir=from_dir)
    if shard is None:
        shard = shard_from_env()
    out = (
        Path(out_dir)
        if out_dir is not None
        else default_out_dir(config.suite, shard, config, limit)
    )
    return await run_search(
        config, suite, out, limit=limit, shard=shard, force=force, progress=progress
    )


def run(config: Config, out_dir: str | os.PathLike[str] | None = None, **kwargs: Any) -> Summary:
    """Synchronous `run_async`: `harness.run(config)` does what `harness run` does."""
    return asyncio.run(run_async(config, out_dir, **kwargs))
