"""Configuration: defaults, YAML file, --set overrides, and errors that name the key."""

from __future__ import annotations

import re

import pytest
import yaml

from harness.config import (
    Config,
    config_diff,
    config_hash,
    config_to_dict,
    load_config,
    parse_overrides,
)
from harness.errors import ConfigError


def test_defaults_point_at_deepseek_prover_on_aimlapi():
    config = load_config()
    assert config.suite == "smoke"
    assert config.prover.base_url == "https://api.aimlapi.com/v1"
    assert config.prover.model == "deepseek/deepseek-prover-v2"
    assert config.prover.api_key_env == "AIMLAPI_KEY"
    assert config.lean.memory_mb >= 12288


def test_yaml_file_then_overrides(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(
        "suite: minif2f-test\nprover:\n  model: m1\n  temperature: 0.6\nsearch:\n  samples: 8\n"
    )
    config = load_config(path, ["prover.model=m2", "search.repair_rounds=2", "lean.workers=3"])
    assert config.suite == "minif2f-test"
    assert config.prover.model == "m2"
    assert config.prover.temperature == 0.6
    assert config.search.samples == 8
    assert config.search.repair_rounds == 2
    assert config.lean.workers == 3


def test_override_values_are_yaml():
    assert parse_overrides(["a.b=[1, 2]", "c=true", "d=x y"]) == {
        "a": {"b": [1, 2]},
        "c": True,
        "d": "x y",
    }


def test_repl_command_accepts_a_list_or_a_shell_string():
    assert load_config(None, ["lean.repl_command=lake exe 'my repl'"]).lean.repl_command == [
        "lake",
        "exe",
        "my repl",
    ]
    assert load_config(None, ["lean.repl_command=[python, fake.py]"]).lean.repl_command == [
        "python",
        "fake.py",
    ]


@pytest.mark.parametrize(
    ("override", "message"),
    [
        (
            "prover.temperture=0.5",
            "prover.temperture: unknown key; did you mean prover.temperature?",
        ),
        ("search.samples=many", "search.samples: expected an integer, got 'many'"),
        ("search.samples=0", "search.samples: expected a positive number"),
        ("lean.backend=docker", "lean.backend: expected one of repl, oneshot"),
        ("prover=3", "prover: expected a mapping"),
        ("lean.repl_command=", "lean.repl_command: expected a command"),
        ("bogus=1", "bogus: unknown key"),
    ],
)
def test_bad_keys_and_values_name_the_key(override, message):
    with pytest.raises(ConfigError) as err:
        load_config(None, [override])
    assert message in str(err.value)


def test_errors_in_a_file_name_the_file(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("search:\n  samples: [1\n")
    with pytest.raises(ConfigError, match=r"bad.yaml:\d+: not valid YAML"):
        load_config(path)
    path.write_text("search:\n  sample: 3\n")
    with pytest.raises(
        ConfigError, match=r"bad.yaml: search.sample: unknown key; did you mean search.samples"
    ):
        load_config(path)
    with pytest.raises(ConfigError, match="cannot read config"):
        load_config(tmp_path / "missing.yaml")


def test_dump_holds_no_secret_and_round_trips(monkeypatch, tmp_path):
    monkeypatch.setenv("AIMLAPI_KEY", "sk-very-secret-123")
    config = load_config(None, ["search.samples=2"])
    assert config.api_key() == "sk-very-secret-123"
    text = yaml.safe_dump(config_to_dict(config))
    assert "sk-very-secret-123" not in text
    path = tmp_path / "round.yaml"
    path.write_text(text)
    assert load_config(path) == config


def test_hash_and_diff_track_what_changed():
    a, b = load_config(), load_config(None, ["search.samples=16"])
    assert config_hash(a) == config_hash(Config())
    assert config_hash(a) != config_hash(b)
    assert config_diff(config_to_dict(a), config_to_dict(b)) == ["search.samples: 4 -> 16"]


def test_retired_keys_still_load_and_are_noted_once_each(monkeypatch, capsys):
    """Run directories from earlier versions carry prover.transport / lean.pipeline_depth."""
    import harness.config

    monkeypatch.setattr(harness.config, "_noted_retired", set())  # "once" is per process
    retired = {"prover": {"transport": "harness"}, "lean": {"pipeline_depth": 2}}
    config = load_config(overrides=retired)
    assert config == load_config()
    load_config(overrides=retired)  # noted once, not once per load
    notes = capsys.readouterr().err.splitlines()
    assert len(notes) == 2
    assert all(line.startswith("harness: note: ") for line in notes)
    assert sum("prover.transport" in line for line in notes) == 1
    assert sum("lean.pipeline_depth" in line for line in notes) == 1


def test_kimina_backend_keys():
    config = load_config()
    assert config.lean.kimina_urls == [] and config.lean.kimina_api_key_env == "LEAN_SERVER_API_KEY"
    one = load_config(None, ["lean.backend=kimina", "lean.kimina_urls=http://lean-1:8000/"])
    assert one.lean.backend == "kimina" and one.lean.kimina_urls == ["http://lean-1:8000"]
    several = load_config(None, ["lean.kimina_urls=http://a:8000, https://b.example.org"])
    assert several.lean.kimina_urls == ["http://a:8000", "https://b.example.org"]
    listed = load_config(None, {"lean": {"kimina_urls": ["http://a:8000", "http://a:8000/"]}})
    assert listed.lean.kimina_urls == ["http://a:8000"]  # the same server once
    assert load_config(None, ["lean.kimina_api_key_env=MY_KEY"]).lean.kimina_api_key_env == "MY_KEY"


@pytest.mark.parametrize(
    "value, says",
    [
        ("localhost:8000", "not an http:// or https:// URL"),
        ("ftp://a:8000", "not an http:// or https:// URL"),
        ("http://", "not an http:// or https:// URL"),
        ("http://a:80000", "malformed port"),
        ("http://user:secret@a:8000", "no credentials in the URL"),
        ("http://a:8000/?key=1", "no ?query"),
        ("[1, 2]", "lean.kimina_urls[0]: expected a URL"),
        ("{a: 1}", "expected a URL or a list of URLs"),
    ],
)
def test_kimina_urls_are_validated(value, says):
    with pytest.raises(ConfigError, match=re.escape(says)) as caught:
        load_config(None, [f"lean.kimina_urls={value}"])
    assert str(caught.value).startswith("lean.kimina_urls")
    assert "secret" not in str(caught.value)


def test_kimina_key_is_never_in_the_config(monkeypatch):
    monkeypatch.setenv("LEAN_SERVER_API_KEY", "sk-kimina-DISTINCTIVE")
    config = load_config(None, ["lean.backend=kimina", "lean.kimina_urls=http://a:8000"])
    assert "sk-kimina-DISTINCTIVE" not in yaml.safe_dump(config_to_dict(config))
    with pytest.raises(ConfigError, match="expected one of repl, oneshot, kimina"):
        load_config(None, ["lean.backend=remote"])


@pytest.mark.parametrize(
    "override, key",
    [
        ("prover.base_url=notaurl", "prover.base_url"),
        ("prover.base_url=ftp://host/v1", "prover.base_url"),
        ("prover.base_url=http:///v1", "prover.base_url"),
        ("prover.temperature=5", "prover.temperature"),
        ("prover.temperature=-0.1", "prover.temperature"),
        ("prover.top_p=2", "prover.top_p"),
        ("prover.top_p=0", "prover.top_p"),
    ],
)
def test_invalid_prover_url_or_sampling_values_are_config_errors(override, key):
    with pytest.raises(ConfigError, match=key):
        load_config(None, [override])


def test_valid_prover_url_and_sampling_edges_are_accepted():
    config = load_config(
        None, ["prover.base_url=http://127.0.0.1:8000/v1", "prover.temperature=0", "prover.top_p=1"]
    )
    assert (config.prover.temperature, config.prover.top_p) == (0, 1)


def test_relative_project_dir_resolves_against_the_config_files_directory(tmp_path, monkeypatch):
    conf_dir = tmp_path / "conf"
    conf_dir.mkdir()
    (conf_dir / "c.yaml").write_text("lean:\n  project_dir: proj\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert load_config(conf_dir / "c.yaml").lean.project_dir == str(conf_dir / "proj")
    # --set is relative to the current directory; an absolute path stays as written
    over = load_config(conf_dir / "c.yaml", ["lean.project_dir=mine"])
    assert over.lean.project_dir == "mine"
    assert load_config(None, [f"lean.project_dir={tmp_path}"]).lean.project_dir == str(tmp_path)


def test_project_dir_written_where_it_is_meant_keeps_its_text(tmp_path, monkeypatch):
    (tmp_path / "c.yaml").write_text("lean:\n  project_dir: proj\n")
    monkeypatch.chdir(tmp_path)  # the config's directory: the same place (the hash stays)
    assert load_config("c.yaml").lean.project_dir == "proj"


def test_default_project_dir_outside_the_checkout_is_the_checkouts(tmp_path, monkeypatch):
    from tests.conftest import ROOT

    monkeypatch.chdir(tmp_path)  # no lean_project here
    assert load_config().lean.project_dir == str(ROOT / "lean_project")
    (tmp_path / "lean_project").mkdir()  # the current directory's, when it has one
    assert load_config().lean.project_dir == "lean_project"
