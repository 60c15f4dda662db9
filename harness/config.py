"""Configuration: every default in one place, one YAML file plus `--set key=value` overrides.

A config is plain data (frozen dataclasses); building one only reads a file. Keys are attribute
paths (`prover.max_tokens`). An unknown key fails naming it and the nearest valid one; a value
of the wrong type fails naming the key and the type it expected. The API key itself is never
part of the config: only the name of the environment variable that holds it.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import json
import os
import shlex
import sys
import types
import typing
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from harness.errors import ConfigError

__all__ = [
    "Config",
    "ProverConfig",
    "SearchConfig",
    "DecomposerConfig",
    "LeanConfig",
    "SoundnessConfig",
    "SuitesConfig",
    "load_config",
    "parse_overrides",
    "config_to_dict",
    "config_hash",
    "config_diff",
    "default_config_yaml",
    "DEFAULT_BASE_URL",
    "DEFAULT_MODEL",
    "DEFAULT_API_KEY_ENV",
]

DEFAULT_BASE_URL = "https://api.aimlapi.com/v1"
DEFAULT_MODEL = "deepseek/deepseek-prover-v2"
DEFAULT_API_KEY_ENV = "AIMLAPI_KEY"


def _default_cache_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "lean-harness")


@dataclass(frozen=True)
class ProverConfig:
    """The chat-completions endpoint and how to sample from it."""

    base_url: str = DEFAULT_BASE_URL
    model: str = DEFAULT_MODEL
    api_key_env: str = DEFAULT_API_KEY_ENV  # name of the environment variable holding the key
    max_tokens: int = 16384  # always sent; DeepSeek-Prover-V2 CoT answers average ~6.7k tokens
    temperature: float = 1.0
    top_p: float = 0.95
    n: int = 1
    seed: int | None = None
    extra_body: dict[str, Any] = field(default_factory=dict)  # passed through verbatim
    extra_headers: dict[str, str] = field(default_factory=dict)
    concurrency: int = 8  # requests in flight, at most
    connect_timeout_s: float = 10.0
    read_timeout_s: float = 900.0  # a 30k-token answer at ~40 tok/s takes ~12 minutes
    write_timeout_s: float = 60.0
    pool_timeout_s: float = 60.0  # waiting for a free connection (rarely: in-flight is capped)
    max_retries: int = 6
    backoff_base_s: float = 1.0
    backoff_max_s: float = 120.0
    retry_after_max_s: float = 600.0  # longest server-requested wait (Retry-After) we obey
    stream: bool = False  # server-sent events keep long generations' connections busy
    price_prompt_per_mtok: float | None = None  # USD per million prompt tokens, for cost
    price_completion_per_mtok: float | None = None

    def __post_init__(self) -> None:
        # what no request could fix is a config error, before any work
        try:
            url = urllib.parse.urlsplit(self.base_url)
            host = url.hostname
        except (ValueError, TypeError, AttributeError):
            url, host = None, None
        if url is None or url.scheme not in ("http", "https") or not host:
            raise ConfigError(
                f"prover.base_url: {self.base_url!r} is not an http:// or https:// URL with a "
                "host (e.g. https://api.example.com/v1)"
            )
        if not 0.0 <= self.temperature <= 2.0:
            raise ConfigError(f"prover.temperature: expected 0 to 2, got {self.temperature!r}")
        if not 0.0 < self.top_p <= 1.0:
            raise ConfigError(f"prover.top_p: expected more than 0, at most 1, got {self.top_p!r}")


@dataclass(frozen=True)
class SearchConfig:
    """Sampling and repair: the shape of the search."""

    samples: int = 4  # independent samples per problem (pass@k is reported for k <= samples)
    repair_rounds: int = 1  # compiler-feedback rounds after the first answer of a sample
    stop_on_success: bool = False  # True: a problem stops at its first proof (pass@k not exact)
    max_tokens: int | None = None  # run budget: total prompt+completion tokens
    max_cost: float | None = None  # run budget: USD, needs prover prices
    feedback_max_errors: int = 8  # Lean errors shown in a repair turn (Goedel-Prover-V2 uses 8)
    infra_retries: int = 3  # how often a round that hit prover_error/checker_error is retried
    # "whole": each sample is a whole-proof conversation; "decompose": each sample is a sketch
    # with `have ... := by sorry` holes (decomposer.*), whose holes the prover fills
    # (harness/decompose.py)
    strategy: str = "whole"
    sketch_repair_rounds: int = 1  # decompose: rounds that send a sketch's Lean errors back
    subgoal_samples: int = 4  # decompose: samples per hole of an accepted sketch
    subgoal_repair_rounds: int = 1  # decompose: repair rounds of each hole's sample


@dataclass(frozen=True)
class DecomposerConfig:
    """The model that writes proof sketches (search.strategy: decompose). Each key left null
    takes the prover's setting, so one endpoint serving DeepSeek-Prover-V2 works as it is."""

    model: str | None = None
    base_url: str | None = None
    api_key_env: str | None = None
    max_tokens: int | None = None
    temperature: float | None = None
    prompt: str = "decompose-v2"  # a built-in template name, or a path to a template file
    # USD per million tokens, for cost (null: the prover's prices)
    price_prompt_per_mtok: float | None = None
    price_completion_per_mtok: float | None = None


@dataclass(frozen=True)
class LeanConfig:
    """The local Lean toolchain and the REPL pool."""

    project_dir: str = "lean_project"
    repl_command: list[str] = field(
        default_factory=lambda: ["lake", "env", ".lake/packages/REPL/.lake/build/bin/repl"]
    )
    # "repl" (a pool of REPL processes), "oneshot" (`lake env lean --json`) or "kimina" (remote
    # Kimina Lean Servers at lean.kimina_urls; see docs/remote.md)
    backend: str = "repl"
    workers: int = 2  # REPL processes at most; each holds Mathlib (~6.5 GB)
    timeout_s: float = 120.0  # wall clock per check
    header_timeout_s: float = 900.0  # wall clock for a process's import
    memory_mb: int = 12288  # address-space limit per process; Mathlib needs ~9 GB of it
    file_size_mb: int = 512  # largest file a Lean process may write
    recycle_after: int = 200  # checks served before a process is replaced (the REPL never frees)
    scratch_dir: str | None = None  # temporary files; None: a fresh directory under the system tmp
    # one-shot backend: the command that runs `lean` inside the project (`--json FILE` is appended)
    lean_command: list[str] = field(default_factory=lambda: ["lake", "env", "lean"])
    # import module -> Lean command that must succeed once that module is imported (the REPL
    # ignores a bad import silently); every import block is also probed with `#check Nat`
    import_probes: dict[str, str] = field(
        default_factory=lambda: {"Mathlib": "#check Real.pi", "Aesop": "example : True := by aesop"}
    )
    # extra environment variable names passed to Lean besides the built-in allow-list
    env_passthrough: list[str] = field(default_factory=list)
    # "bwrap": every Lean process in a bubblewrap sandbox (checker/sandbox.py); "none": not
    sandbox: str = "bwrap"
    # paths Lean may read inside the sandbox, besides the system, the toolchain and project_dir
    sandbox_ro_binds: list[str] = field(default_factory=list)
    # backend "kimina": the servers' base URLs (one URL, several separated by commas or spaces,
    # or a list); lean.workers requests are in flight per URL, lean.timeout_s is the server's timeout
    kimina_urls: list[str] = field(default_factory=list)
    # the environment variable holding the servers' API key (sent as `Authorization: Bearer`);
    # the key itself is read from the environment only and never written anywhere
    kimina_api_key_env: str = "LEAN_SERVER_API_KEY"


@dataclass(frozen=True)
class SoundnessConfig:
    """What counts as a proof."""

    # trust the compiler: accepts Lean.ofReduceBool et al. (and lets Lean run model code natively)
    allow_native_decide: bool = False
    # `proved` only after a fresh Lean process, which never ran model text, replays the model's
    # environment through the kernel and audits it (REPL backend; soundness/verify.py)
    confirm: bool = True


@dataclass(frozen=True)
class SuitesConfig:
    """Where fetched suites live, and what to do with answer-hole problems."""

    # fetched catalogue suites go to <cache_dir>/suites/<name>/ (default ~/.cache/lean-harness)
    cache_dir: str = field(default_factory=_default_cache_dir)
    # "model": the model fills the `abbrev ..._solution := sorry` (and only that);
    # "skip": load_suite drops answer-hole problems and logs how many
    answer_holes: str = "model"


@dataclass(frozen=True)
class Config:
    suite: str = "smoke"  # a known suite's name, or a path to a suite file or directory
    prompt: str = "deepseek-v2"  # a template name, or a path to a user template file
    prover: ProverConfig = field(default_factory=ProverConfig)
    search: SearchConfig = field(default_factory=SearchConfig)
    decomposer: DecomposerConfig = field(default_factory=DecomposerConfig)
    lean: LeanConfig = field(default_factory=LeanConfig)
    soundness: SoundnessConfig = field(default_factory=SoundnessConfig)
    suites: SuitesConfig = field(default_factory=SuitesConfig)

    def api_key(self) -> str | None:
        """The prover key from the environment; never stored in the config itself."""
        value = os.environ.get(self.prover.api_key_env)
        return value or None


_CHOICES: dict[str, tuple[str, ...]] = {
    "lean.sandbox": ("bwrap", "none"),
    "lean.backend": ("repl", "oneshot", "kimina"),
    "suites.answer_holes": ("model", "skip"),
    "search.strategy": ("whole", "decompose"),
}
_POSITIVE = {
    "prover.max_tokens",
    "prover.concurrency",
    "prover.n",
    "search.samples",
    "lean.workers",
    "lean.timeout_s",
    "lean.header_timeout_s",
    "lean.memory_mb",
    "lean.recycle_after",
    "search.subgoal_samples",
    "decomposer.max_tokens",
}
_NON_NEGATIVE = {
    "search.repair_rounds",
    "prover.max_retries",
    "search.feedback_max_errors",
    "search.sketch_repair_rounds",
    "search.subgoal_repair_rounds",
}


# ---------------------------------------------------------------------------------------------
# Building and validating


def _all_keys(cls: type = Config, prefix: str = "") -> list[str]:
    keys = []
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        path = f"{prefix}{f.name}"
        if dataclasses.is_dataclass(hints[f.name]):
            keys.append(path)
            keys.extend(_all_keys(hints[f.name], path + "."))
        else:
            keys.append(path)
    return keys


def _type_name(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(tp))
    if origin is list:
        return "a list of " + _type_name(typing.get_args(tp)[0]) + "s"
    if origin is dict:
        return "a mapping"
    return {
        int: "an integer",
        float: "a number",
        str: "a string",
        bool: "true or false",
        type(None): "null",
    }.get(tp, str(tp))


def _coerce(key: str, value: Any, tp: Any) -> Any:
    """Check `value` against the annotation `tp`; return it (ints widen to floats)."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in typing.get_args(tp):
            return None
        for arg in typing.get_args(tp):
            if arg is type(None):
                continue
            try:
                return _coerce(key, value, arg)
            except ConfigError:
                continue
        raise ConfigError(f"{key}: expected {_type_name(tp)}, got {value!r}")
    if key == "lean.kimina_urls":
        return _url_list(key, value)
    if key == "lean.repl_command" and isinstance(value, str):
        parts = shlex.split(value)
        if not parts:
            raise ConfigError(f"{key}: expected a command, got an empty string")
        return parts
    if origin is list:
        (item_tp,) = typing.get_args(tp)
        if not isinstance(value, list):
            raise ConfigError(f"{key}: expected {_type_name(tp)}, got {value!r}")
        return [_coerce(f"{key}[{i}]", v, item_tp) for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{key}: expected a mapping, got {value!r}")
        return dict(value)
    if tp is bool:
        if isinstance(value, bool):
            return value
    elif tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif tp is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    elif tp is str:
        if isinstance(value, str):
            return value
    raise ConfigError(f"{key}: expected {_type_name(tp)}, got {value!r}")


def _url_list(key: str, value: Any) -> list[str]:
    """lean.kimina_urls: a string (URLs separated by commas or spaces) or a list of strings;
    each an http(s) URL with a host and no credentials (the key goes in the environment)."""
    if isinstance(value, str):
        items: list[Any] = value.replace(",", " ").split()
    elif isinstance(value, list):
        items = value
    else:
        raise ConfigError(f"{key}: expected a URL or a list of URLs, got {value!r}")
    urls: list[str] = []
    for i, item in enumerate(items):
        if not isinstance(item, str) or not item.strip():
            raise ConfigError(f"{key}[{i}]: expected a URL, got {item!r}")
        url = item.strip().rstrip("/")
        parsed = urllib.parse.urlsplit(url)
        try:
            parsed.port  # noqa: B018 (raises on a malformed port)
        except ValueError:
            raise ConfigError(f"{key}: {url!r} has a malformed port") from None
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ConfigError(f"{key}: {url!r} is not an http:// or https:// URL with a host")
        if parsed.username or parsed.password:
            raise ConfigError(
                f"{key}: {parsed.scheme}://{parsed.hostname}...: no credentials in the URL; "
                "put the key in the variable lean.kimina_api_key_env names"
            )
        if parsed.query or parsed.fragment:
            raise ConfigError(f"{key}: {url!r}: expected a base URL (no ?query or #fragment)")
        if url not in urls:
            urls.append(url)
    return urls


def _unknown_key(key: str) -> ConfigError:
    close = difflib.get_close_matches(key, _all_keys(), n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]}?" if close else ""
    return ConfigError(f"{key}: unknown key{hint}")


# Keys earlier versions wrote into run directories. Those runs must still resume and report,
# so the keys are accepted, ignored, and mentioned once.
RETIRED_KEYS: dict[str, str] = {
    "prover.transport": "the client always uses httpx's own transport",
    "lean.pipeline_depth": "each REPL process runs one job at a time",
    "soundness.max_heartbeats": "a model may set any maxHeartbeats; lean.timeout_s bounds the check",
    "soundness.max_rec_depth": "a model may set any maxRecDepth; lean.timeout_s bounds the check",
}
_noted_retired: set[str] = set()


def _note_retired(key: str) -> None:
    if key not in _noted_retired:
        _noted_retired.add(key)
        print(
            f"harness: note: {key} is no longer used ({RETIRED_KEYS[key]}); ignored",
            file=sys.stderr,
        )


def _build(cls: type, data: dict[str, Any], prefix: str = "") -> Any:
    if not isinstance(data, dict):
        raise ConfigError(f"{prefix.rstrip('.') or 'config'}: expected a mapping, got {data!r}")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    for key in [k for k in data if f"{prefix}{k}" in RETIRED_KEYS]:
        _note_retired(f"{prefix}{key}")
        data = {k: v for k, v in data.items() if k != key}
    for key in data:
        if key not in names:
            raise _unknown_key(f"{prefix}{key}")
    kwargs: dict[str, Any] = {}
    for name, value in data.items():
        key = f"{prefix}{name}"
        tp = hints[name]
        if dataclasses.is_dataclass(tp):
            kwargs[name] = _build(tp, value if value is not None else {}, key + ".")
        else:
            value = _coerce(key, value, tp)
            if key in _CHOICES and value not in _CHOICES[key]:
                raise ConfigError(
                    f"{key}: expected one of {', '.join(_CHOICES[key])}, got {value!r}"
                )
            if key in _POSITIVE and value is not None and value <= 0:
                raise ConfigError(f"{key}: expected a positive number, got {value!r}")
            if key in _NON_NEGATIVE and value is not None and value < 0:
                raise ConfigError(f"{key}: expected zero or more, got {value!r}")
            kwargs[name] = value
    return cls(**kwargs)


def parse_overrides(items: list[str] | None) -> dict[str, Any]:
    """`["prover.model=x", "search.samples=8"]` -> nested dict; values are parsed as YAML."""
    nested: dict[str, Any] = {}
    for item in items or []:
        if "=" not in item:
            raise ConfigError(f"--set {item!r}: expected key=value")
        key, raw = item.split("=", 1)
        key = key.strip()
        if not key:
            raise ConfigError(f"--set {item!r}: empty key")
        try:
            value = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError as exc:
            raise ConfigError(
                f"--set {key}: value is not valid YAML ({exc.__class__.__name__})"
            ) from exc
        node = nested
        parts = key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"--set {key}: {part} is not a section")
        node[parts[-1]] = value
    return nested


def merge_dicts(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """`base` with `extra` laid over it, section by section."""
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge_dicts(out[key], value)
        else:
            out[key] = value
    return out


def load_config(
    path: str | os.PathLike[str] | None = None,
    overrides: list[str] | dict[str, Any] | None = None,
) -> Config:
    """Read a YAML config (or none: all defaults) and apply `--set` overrides."""
    data: dict[str, Any] = {}
    if path is not None:
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"{p}: cannot read config ({exc.strerror or exc})") from exc
        try:
            loaded = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"{p}:{mark.line + 1}" if mark is not None else str(p)
            raise ConfigError(f"{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from exc
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            raise ConfigError(f"{p}: expected a mapping of keys at the top level")
        data = loaded
    extra = overrides if isinstance(overrides, dict) else parse_overrides(overrides)
    data = merge_dicts(data, extra)
    try:
        config = _build(Config, data)
    except ConfigError as exc:
        if path is not None:
            raise ConfigError(f"{path}: {exc}") from exc
        raise
    project_dir = _resolve_project_dir(config.lean.project_dir, path, data, extra)
    if project_dir != config.lean.project_dir:
        config = dataclasses.replace(
            config, lean=dataclasses.replace(config.lean, project_dir=project_dir)
        )
    return config


# The harness checkout's own Lake project: the default's fallback outside the checkout.
_CHECKOUT_PROJECT = Path(__file__).resolve().parent.parent / "lean_project"


def _resolve_project_dir(
    value: str, path: str | os.PathLike[str] | None, data: dict[str, Any], extra: dict[str, Any]
) -> str:
    """lean.project_dir: a relative path from a config file is relative to that file's directory;
    from --set, relative to the current directory. The default (`lean_project`) is the current
    directory's, else the harness checkout's. Kept as written when that is the same place (a
    recorded run's config hash stays), else made absolute (so every message names it whole)."""
    if Path(value).is_absolute():
        return value
    lean_extra = extra.get("lean")
    overridden = isinstance(lean_extra, dict) and "project_dir" in lean_extra
    lean_data = data.get("lean")
    in_data = isinstance(lean_data, dict) and "project_dir" in lean_data
    beside = (Path(path).parent / value).absolute() if path is not None else None
    # `harness config > FILE` writes the default's text: where FILE has no such directory,
    # it means the default (as without a file)
    default = value == LeanConfig.project_dir and (beside is None or not beside.exists())
    if beside is not None and in_data and not overridden and not default:
        resolved = beside
    elif (not in_data or default) and not Path(value).exists() and _CHECKOUT_PROJECT.is_dir():
        resolved = _CHECKOUT_PROJECT
    else:
        return value
    return value if resolved.resolve() == Path(value).resolve() else str(resolved)


# ---------------------------------------------------------------------------------------------
# Writing, hashing, comparing


def config_to_dict(config: Config) -> dict[str, Any]:
    """The resolved config as plain data. It holds no secret: only the key's variable name."""
    return dataclasses.asdict(config)


def config_hash(config: Config) -> str:
    """A short, stable digest of what makes results comparable (machine-local paths excluded)."""
    data = config_to_dict(config)
    data["suites"].pop("cache_dir", None)
    data["lean"].pop("scratch_dir", None)
    if config.search.strategy == "whole":  # decomposition's keys do not shape a whole-proof run
        data.pop("decomposer", None)
        for key in ("strategy", "sketch_repair_rounds", "subgoal_samples", "subgoal_repair_rounds"):
            data["search"].pop(key, None)
    blob = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict) and key != "extra_body" and key != "extra_headers":
            out.update(_flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def config_diff(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Keys whose values differ between two config dicts, as `key: old -> new` lines."""
    a, b = _flatten(old), _flatten(new)
    lines = []
    for key in sorted(set(a) | set(b)):
        if a.get(key) != b.get(key):
            lines.append(f"{key}: {a.get(key)!r} -> {b.get(key)!r}")
    return lines


def default_config_yaml() -> str:
    """The defaults as a YAML document (what `harness config` prints)."""
    return yaml.safe_dump(config_to_dict(Config()), sort_keys=False, allow_unicode=True)
