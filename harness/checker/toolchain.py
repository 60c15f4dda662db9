"""The Lean toolchain around the checker: versions, `harness doctor` probes, `harness setup` steps.

Probes return `Check` values (name, ok, detail, fix); setup runs `SetupStep`s one after another,
streaming each tool's output, and stops at the first failure with a `PrerequisiteError` naming
the step and how to fix it. Nothing here runs at import time or when a config is built.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from harness.config import Config
from harness.errors import HarnessError, PrerequisiteError

__all__ = [
    "Check",
    "SetupStep",
    "project_versions",
    "read_toolchain",
    "read_mathlib_rev",
    "doctor_checks",
    "setup_steps",
    "run_setup",
    "ELAN_INSTALL_HINT",
]

ELAN_INSTALL_HINT = (
    "install elan: `apt install elan` (Debian/Ubuntu) or "
    "`curl https://elan.lean-lang.org/elan-init.sh -sSf | sh`, then open a new shell"
)
PYTHON_DEPENDENCIES = ("httpx", "yaml", "rich", "jinja2", "matplotlib")


# ---------------------------------------------------------------------------------------------
# Versions of a Lake project


def read_toolchain(project_dir: str | os.PathLike[str]) -> str:
    try:
        text = (Path(project_dir) / "lean-toolchain").read_text(encoding="utf-8").strip()
    except OSError:
        return "unknown"
    return text or "unknown"


def read_mathlib_rev(project_dir: str | os.PathLike[str]) -> str:
    try:
        data = json.loads((Path(project_dir) / "lake-manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "unknown"
    for package in data.get("packages") or ():
        if isinstance(package, dict) and str(package.get("name", "")).lower() == "mathlib":
            return str(package.get("rev") or "unknown")
    return "unknown"


def project_versions(project_dir: str | os.PathLike[str]) -> dict[str, str]:
    """`lean_toolchain` and `mathlib_rev` of a Lake project; "unknown" where not known."""
    return {
        "lean_toolchain": read_toolchain(project_dir),
        "mathlib_rev": read_mathlib_rev(project_dir),
    }


# ---------------------------------------------------------------------------------------------
# doctor


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""

    def line(self) -> str:
        status = "OK  " if self.ok else "FAIL"
        text = f"{status} {self.name}: {self.detail}"
        if not self.ok and self.fix:
            text += f" -> {self.fix}"
        return text


def _version(command: list[str], cwd: str | None = None) -> str | None:
    try:
        done = subprocess.run(
            command, cwd=cwd, capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    lines = (done.stdout or done.stderr).strip().splitlines()
    return lines[0].strip() if lines else ""


def _repl_binary(config: Config) -> Path | None:
    """The REPL binary the repl_command names, if it names a path (lake env PATH, or PATH)."""
    project = Path(config.lean.project_dir)
    for part in reversed(config.lean.repl_command):
        if "/" in part or part.endswith("repl"):
            path = Path(part)
            return path if path.is_absolute() else project / path
    return None


def _check_python() -> Check:
    missing = []
    for name in PYTHON_DEPENDENCIES:
        try:
            importlib.import_module(name)
        except Exception:
            missing.append(name)
    if missing:
        return Check(
            "python packages",
            False,
            f"cannot import {', '.join(missing)}",
            "pip install -e . (in the harness checkout)",
        )
    return Check("python packages", True, ", ".join(PYTHON_DEPENDENCIES))


def _check_tool(name: str, args: list[str], fix: str) -> Check:
    path = shutil.which(name)
    if not path:
        return Check(name, False, "not found on PATH", fix)
    version = _version([path, *args])
    if version is None:
        return Check(name, False, f"{path} does not run", fix)
    return Check(name, True, f"{version} ({path})")


PROJECT_DIR_HINT = (
    "set lean.project_dir to a Lake project (a relative path counts from the config file's "
    "directory, or from the current directory without one)"
)


def _check_toolchain(config: Config) -> Check:
    project = Path(config.lean.project_dir).absolute()
    wanted = read_toolchain(project)
    if wanted == "unknown":
        return Check(
            "project toolchain", False, f"{project}/lean-toolchain missing", PROJECT_DIR_HINT
        )
    if not shutil.which("elan"):
        return Check("project toolchain", False, f"needs {wanted}; elan missing", ELAN_INSTALL_HINT)
    listed = _version_all(["elan", "toolchain", "list"])
    short = wanted.split(":", 1)[-1]
    if listed is not None and short in listed:
        return Check("project toolchain", True, f"{wanted} installed")
    return Check(
        "project toolchain",
        False,
        f"{wanted} not installed",
        f"elan toolchain install {wanted} (or `harness setup`)",
    )


def _version_all(command: list[str]) -> str | None:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def custom_repl(config: Config) -> bool:
    """A repl_command that is not run through elan's tools (`lake env ...`): a binary or script
    of the user's own, which needs neither elan nor lake."""
    command = config.lean.repl_command
    return config.lean.backend == "repl" and Path(command[0]).name not in ("lake", "lean", "elan")


def _check_custom_repl(config: Config) -> Check:
    """The program of a custom repl_command exists and starts (stdin closed: it must not fail
    at once; one that is still waiting after a few seconds has started too)."""
    command = config.lean.repl_command
    program = command[0]
    found = shutil.which(program) if os.sep not in program else program
    name = "REPL command"
    if not found or not Path(found).is_file():
        return Check(name, False, f"{program}: not found", "check lean.repl_command")
    project = Path(config.lean.project_dir)
    try:
        done = subprocess.run(
            [found, *command[1:]],
            cwd=project if project.is_dir() else None,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=10,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return Check(name, True, f"{' '.join(command)} starts (still waiting for input)")
    except OSError as exc:
        reason = exc.strerror or exc.__class__.__name__
        return Check(name, False, f"{found} does not start ({reason})", "check lean.repl_command")
    if done.returncode != 0:
        why = (done.stderr.strip().splitlines() or ["no output"])[-1][:200]
        return Check(
            name,
            False,
            f"{' '.join(command)} exited {done.returncode} at once: {why}",
            "check lean.repl_command",
        )
    return Check(name, True, f"{' '.join(command)} starts")


def _check_repl(config: Config) -> Check:
    if custom_repl(config):
        return _check_custom_repl(config)
    binary = _repl_binary(config)
    if binary is None:
        return Check("REPL binary", True, f"repl_command {config.lean.repl_command} (not a path)")
    if binary.is_file() and os.access(binary, os.X_OK):
        return Check("REPL binary", True, str(binary))
    return Check(
        "REPL binary", False, f"{binary} not built", "harness setup (runs `lake build repl`)"
    )


def _check_mathlib(config: Config) -> Check:
    build = Path(config.lean.project_dir) / ".lake" / "packages" / "mathlib" / ".lake" / "build"
    if build.is_dir():
        return Check("Mathlib cache", True, str(build))
    return Check(
        "Mathlib cache", False, f"{build} missing", "harness setup (runs `lake exe cache get`)"
    )


def _check_endpoint(config: Config) -> Check:
    """GET base_url/models over the network, with the key when it is set: only a 2xx is OK."""
    url = config.prover.base_url.rstrip("/") + "/models"
    name = "prover endpoint (network)"
    headers = dict(config.prover.extra_headers)
    key = config.api_key()
    if key:
        headers["Authorization"] = f"Bearer {key}"
    try:
        response = httpx.get(url, headers=headers, timeout=httpx.Timeout(5.0, connect=3.0))
    except httpx.HTTPError as exc:
        return Check(
            name,
            False,
            f"GET {url}: unreachable ({exc.__class__.__name__})",
            "check prover.base_url and the network",
        )
    status = response.status_code
    if 200 <= status < 300:
        return Check(name, True, f"GET {url}: HTTP {status}")
    if status in (401, 403):
        fix = f"check the key in ${config.prover.api_key_env}"
    else:
        fix = "check prover.base_url (an OpenAI-compatible base URL, usually ending in /v1)"
    phrase = f" {response.reason_phrase}" if response.reason_phrase else ""
    return Check(name, False, f"GET {url}: HTTP {status}{phrase}", fix)


def _check_sandbox(config: Config) -> Check:
    """`lean.sandbox: bwrap` needs bubblewrap, and it must be able to make its namespaces here
    (it cannot inside some containers): run `true` in the sandbox Lean would get."""
    from harness.checker.sandbox import INSTALL_HINT, sandboxed

    lean = config.lean
    if lean.sandbox == "none":
        return Check("sandbox", False, "lean.sandbox: none (model code would run unconfined)",
                     "install bubblewrap and set lean.sandbox: bwrap")  # fmt: skip
    if shutil.which("bwrap") is None:
        return Check("sandbox", False, "bwrap is not on PATH", INSTALL_HINT)
    with tempfile.TemporaryDirectory(prefix="harness-doctor-") as scratch:
        try:
            argv, env = sandboxed(["true"], {"PATH": "/usr/bin:/bin"}, lean=dataclasses.replace(
                lean, project_dir=scratch), scratch=scratch, cwd=scratch)  # fmt: skip
            done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=20)
        except (OSError, subprocess.SubprocessError, HarnessError) as exc:
            return Check("sandbox", False, f"bwrap cannot run: {exc}", INSTALL_HINT)
    if done.returncode != 0:
        why = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return Check("sandbox", False, f"bwrap cannot make its sandbox here: {why}",
                     "run where user namespaces are allowed, or set lean.sandbox: none")  # fmt: skip
    return Check("sandbox", True, "bwrap: no network, own namespaces, read-only binds")


def _check_key(config: Config) -> Check:
    name = config.prover.api_key_env
    if os.environ.get(name):
        return Check("prover key", True, f"${name} is set")
    return Check("prover key", False, f"${name} is not set", f"export {name}=<your key>")


# ---------------------------------------------------------------------------------------------
# doctor, backend "kimina": the servers instead of a local toolchain (these contact the network)

# The header the suites use; its imports must load on the server (the probes check they did).
KIMINA_DOCTOR_HEADER = (
    "import Mathlib\nimport Aesop\n\nset_option maxHeartbeats 400000\n\n"
    "open BigOperators Real Nat Topology Rat\n\n"
)
KIMINA_DOCTOR_BODY = (
    "#check Nat\n#check Real.pi\nexample : True := by aesop\n#eval Lean.versionString\n"
)


def _kimina_key_check(config: Config) -> Check:
    name = config.lean.kimina_api_key_env
    if os.environ.get(name):
        return Check("kimina key", True, f"${name} is set (sent as a bearer token)")
    return Check(
        "kimina key",
        True,
        f"${name} is not set: no Authorization header (fine for servers without "
        "LEAN_SERVER_API_KEY)",
    )


def _kimina_snippet(client: httpx.Client, url: str, timeout: float) -> tuple[str, dict]:
    """POST the doctor's snippet to /api/check, or /verify where that answers 404: (route, result)."""
    code = KIMINA_DOCTOR_HEADER + KIMINA_DOCTOR_BODY
    seconds = max(1, int(timeout + 0.999))
    read = httpx.Timeout(10.0, read=2 * seconds + 90.0)
    response = client.post(
        url + "/api/check",
        json={
            "snippets": [{"id": "doctor", "code": code}],
            "timeout": seconds,
            "debug": False,
            "reuse": True,
            "infotree": None,
        },
        timeout=read,
    )
    route = "/api/check"
    if response.status_code == 404:
        route = "/verify"
        response = client.post(
            url + route,
            json={
                "codes": [{"custom_id": "doctor", "proof": code}],
                "timeout": seconds,
                "infotree_type": None,
                "disable_cache": False,
            },
            timeout=read,
        )
    if response.status_code != 200:
        raise ValueError(f"HTTP {response.status_code} on {route}")
    results = response.json().get("results")
    if not isinstance(results, list) or len(results) != 1 or not isinstance(results[0], dict):
        raise ValueError(f"malformed answer on {route}")
    return route, results[0]


def _kimina_server_checks(config: Config, url: str, key: str | None) -> Iterator[Check]:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    name = f"kimina {url}"
    with httpx.Client(headers=headers, timeout=httpx.Timeout(5.0, connect=3.0)) as client:
        try:
            health = client.get(url + "/health")
        except httpx.HTTPError as exc:
            yield Check(
                name,
                False,
                f"GET /health: unreachable ({exc.__class__.__name__})",
                "start the server (docs/remote.md) or fix lean.kimina_urls",
            )
            return
        try:
            status = health.json().get("status") if health.status_code == 200 else None
        except ValueError:
            status = None
        if status != "ok":
            yield Check(
                name,
                False,
                f'GET /health answered HTTP {health.status_code}, not {{"status": "ok"}}',
                "is this a Kimina Lean Server? lean.kimina_urls takes its base URL",
            )
            return
        yield Check(name, True, "GET /health: ok")
        started = time.monotonic()
        try:
            route, result = _kimina_snippet(client, url, config.lean.timeout_s)
        except (httpx.HTTPError, ValueError) as exc:
            detail = str(exc) if isinstance(exc, ValueError) else exc.__class__.__name__
            fix = (
                f"check the key in ${config.lean.kimina_api_key_env}"
                if "HTTP 401" in detail or "HTTP 403" in detail
                else "see the server's log"
            )
            yield Check(f"{name} #check", False, f"snippet failed: {detail}", fix)
            return
    seconds = time.monotonic() - started
    error = result.get("error")
    response = result.get("response")
    if error or not isinstance(response, dict):
        yield Check(
            f"{name} #check",
            False,
            f"snippet failed on {route}: {str(error or 'no response')[:200]}",
            "see the server's log (a REPL out of memory needs LEAN_SERVER_MAX_REPL_MEM >= 12G)",
        )
        return
    messages = [m for m in response.get("messages") or () if isinstance(m, dict)]
    errors = [str(m.get("data", "")) for m in messages if m.get("severity") == "error"]
    if errors:
        yield Check(
            f"{name} #check",
            False,
            f"`#check Nat` with the suites' header failed: {errors[0].splitlines()[0][:200]}",
            "the server must have Mathlib and Aesop (its Docker image does)",
        )
        return
    version = None
    for m in messages:
        text = str(m.get("data", "")).strip()
        if m.get("severity") == "info" and text.startswith('"') and text[1:2].isdigit():
            version = text.strip('"')
    shown = f"Lean {version}" if version else "Lean version not reported"
    yield Check(
        f"{name} #check",
        True,
        f"`#check Nat` with the suites' header on {route}: OK in {seconds:.1f} s ({shown})",
    )
    wanted = read_toolchain(config.lean.project_dir)
    if version and wanted != "unknown" and wanted.split(":")[-1].lstrip("v") != version:
        yield Check(
            f"{name} Lean",
            False,
            f"the server runs Lean {version}, {config.lean.project_dir} pins {wanted}",
            "build the server with --build-arg LEAN_SERVER_LEAN_VERSION="
            f"{wanted.split(':')[-1]} (docs/remote.md), or point lean.project_dir at a "
            "project of the server's version",
        )


def _kimina_checks(config: Config) -> Iterator[Check]:
    urls = list(config.lean.kimina_urls)
    if not urls:
        yield Check(
            "kimina servers",
            False,
            "lean.backend is kimina but lean.kimina_urls is empty",
            "--set lean.kimina_urls=http://HOST:8000 (docs/remote.md)",
        )
        return
    yield Check(
        "kimina servers",
        True,
        f"{len(urls)} URL(s); the next checks contact them over the network "
        "(GET /health, then one `#check Nat` snippet each); local elan/lake checks skipped",
    )
    yield _kimina_key_check(config)
    key = os.environ.get(config.lean.kimina_api_key_env) or None
    for url in urls:
        yield from _kimina_server_checks(config, url, key)


def doctor_checks(config: Config) -> Iterator[Check]:
    """Every check `harness doctor` prints, in order (each computed when reached). With
    `lean.backend: kimina` the servers are checked instead of the local toolchain. Only the
    checks named "(network)" or "kimina ..." contact another machine; the rest are local."""
    yield _check_python()
    if config.lean.backend == "kimina":
        yield from _kimina_checks(config)
    else:
        if custom_repl(config):
            why = f"not needed by lean.repl_command ({config.lean.repl_command[0]})"
            for skipped in ("elan", "lake", "lean", "project toolchain", "Mathlib cache"):
                yield Check(skipped, True, f"not checked: {why}")
            yield _check_repl(config)
        else:
            yield _check_tool("elan", ["--version"], ELAN_INSTALL_HINT)
            yield _check_tool(
                "lake", ["--version"], "install elan (it provides lake), then `harness setup`"
            )
            yield _check_tool(
                "lean", ["--version"], "install elan (it provides lean), then `harness setup`"
            )
            yield _check_toolchain(config)
            yield _check_repl(config)
            yield _check_mathlib(config)
        yield _check_sandbox(config)
    yield _check_endpoint(config)
    yield _check_key(config)


# ---------------------------------------------------------------------------------------------
# setup


@dataclass(frozen=True)
class SetupStep:
    name: str
    command: list[str]
    fix: str
    skip_if: Callable[[], bool] | None = None


def _manifest_has(project: Path, name: str) -> bool:
    try:
        data = json.loads((project / "lake-manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return any(p.get("name") == name for p in data.get("packages") or () if isinstance(p, dict))


def setup_steps(config: Config) -> list[SetupStep]:
    project = Path(config.lean.project_dir)
    toolchain = read_toolchain(project)
    return [
        SetupStep(
            "install the Lean toolchain",
            ["elan", "toolchain", "install", toolchain],
            f"check network access, or install {toolchain} by hand with elan",
        ),
        SetupStep(
            "pin the REPL in lake-manifest.json",
            ["lake", "update", "REPL"],
            "check network access to github.com (lake clones leanprover-community/repl)",
            skip_if=lambda: _manifest_has(project, "REPL"),
        ),
        SetupStep(
            "fetch Mathlib's prebuilt cache",
            ["lake", "exe", "cache", "get"],
            "check network access; re-run `harness setup` (the download resumes)",
        ),
        SetupStep(
            "build the REPL",
            ["lake", "build", "repl"],
            f"see the lake output above; try `rm -rf {project}/.lake/packages/REPL/.lake` and rerun",
        ),
    ]


def run_setup(config: Config, emit: Callable[[str], None] = print) -> None:
    """Run the setup steps, streaming output through `emit`; raise at the first failing step."""
    project = Path(config.lean.project_dir).absolute()
    if not (project / "lean-toolchain").is_file():
        raise PrerequisiteError(
            f"setup: {project} is not a Lake project (no lean-toolchain); {PROJECT_DIR_HINT}"
        )
    if not shutil.which("elan"):
        raise PrerequisiteError(
            f"setup: step 'find elan' failed: elan not found; {ELAN_INSTALL_HINT}"
        )
    steps = setup_steps(config)
    for number, step in enumerate(steps, 1):
        if step.skip_if is not None and step.skip_if():
            emit(f"[{number}/{len(steps)}] {step.name}: already done")
            continue
        emit(f"[{number}/{len(steps)}] {step.name}: {' '.join(step.command)}")
        if not shutil.which(step.command[0]):
            raise PrerequisiteError(
                f"setup: step '{step.name}' failed: {step.command[0]} not found; {ELAN_INSTALL_HINT}"
            )
        try:
            proc = subprocess.Popen(
                step.command,
                cwd=project,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                errors="replace",
            )
        except OSError as exc:
            raise PrerequisiteError(f"setup: step '{step.name}' failed: {exc}; {step.fix}") from exc
        assert proc.stdout is not None
        with proc:
            for line in proc.stdout:
                emit("    " + line.rstrip())
        if proc.returncode != 0:
            raise PrerequisiteError(
                f"setup: step '{step.name}' failed (`{' '.join(step.command)}` exited "
                f"{proc.returncode}); {step.fix}"
            )
    emit("setup: done; `harness doctor` checks the result")
