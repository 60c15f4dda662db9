"""The REPL protocol, pure: every recorded reply parses and classifies; framing; headers."""

from __future__ import annotations

import json

import pytest

from harness.checker import protocol
from harness.types import CommandResult, LeanMessage
from tests.conftest import shared_path
from tests.doubles.fake_repl import read_requests


def _fixture_pairs():
    root = shared_path("fixtures", "lean-repl")
    return sorted(root.rglob("*.expected.out"))


def test_every_recorded_reply_parses_and_classifies():
    outs = _fixture_pairs()
    assert len(outs) >= 21  # 17 core + 3 Mathlib + PR #92
    for out in outs:
        replies = protocol.split_replies(out.read_text(encoding="utf-8"))
        requests = read_requests(
            out.with_name(out.name.replace(".expected.out", ".in")).read_text()
        )
        assert len(replies) == len(requests), out.name
        for reply in replies:
            result = protocol.decode_reply(reply)
            assert protocol.classify(result) in ("accepted", "lean_error", "sorry")
            if "message" in reply and len(reply) == 1:
                assert result.repl_error == reply["message"]


# (fixture, the classification of each command-mode reply in order)
EXPECTED = {
    "tactic_sorry": ["sorry"],
    "dup_msg": ["accepted", "accepted", "lean_error"],
    "unknown_environment": ["lean_error"],
    "invalid_line_break": ["lean_error", "lean_error"],
    "incomplete": ["lean_error", "lean_error"],
    "line_breaks": ["lean_error", "sorry", "accepted"],
    "have_by_sorry": ["lean_error", "sorry"],
    "no_goal_sorry_2": ["lean_error"],
    "variables": ["accepted", "accepted", "sorry"],
    "app_type_mismatch2": ["lean_error", "sorry"],
    "Mathlib/H20231020": ["accepted"] * 4,
    "Mathlib/H20231115_3": ["accepted", "lean_error"],
    "Mathlib/exact": ["accepted", "sorry", None, "sorry", "lean_error"],
    "repl_pr92_timeout_unmerged/timeout": [
        "sorry",
        None,
        "sorry",
        None,
        "lean_error",
        "lean_error",
        "sorry",
        None,
    ],
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_classification_of_recorded_replies(name):
    out = shared_path("fixtures", "lean-repl", f"{name}.expected.out")
    replies = protocol.split_replies(out.read_text(encoding="utf-8"))
    got = [protocol.classify(protocol.decode_reply(r)) for r in replies]
    want = EXPECTED[name]
    assert [g if w is not None else None for g, w in zip(got, want, strict=False)] == want


def test_messages_and_sorries_decoded_with_positions():
    out = shared_path("fixtures", "lean-repl", "incomplete.expected.out")
    second = protocol.decode_reply(protocol.split_replies(out.read_text())[1])
    assert [(m.line, m.column, m.end_line, m.end_column) for m in second.messages] == [
        (3, 19, 3, 20),
        (1, 26, 3, 20),
    ]
    assert second.messages[0].text.startswith("unsolved goals\ncase pos")
    assert second.env == 1
    readme = protocol.split_replies(
        shared_path("fixtures", "lean-repl", "readme.expected.out").read_text()
    )
    first = protocol.decode_reply(readme[0])
    assert first.sorries[0].line == 1 and first.sorries[0].column == 29
    assert first.sorries[0].goal == "x : Unit\n⊢ Nat"
    # sorries inside a proof step carry no position
    have = protocol.split_replies(
        shared_path("fixtures", "lean-repl", "have_by_sorry.expected.out").read_text()
    )
    assert protocol.decode_reply(have[2]).sorries[0].line is None


@pytest.mark.parametrize("quote", ["'", "`"])
def test_sorry_warning_alone_counts_in_both_spellings(quote):
    warning = LeanMessage("warning", 1, 8, f"declaration uses {quote}sorry{quote}")
    assert protocol.classify(CommandResult(messages=(warning,))) == "sorry"
    other = LeanMessage("warning", 1, 8, "unused variable `h`")
    assert protocol.classify(CommandResult(messages=(other,))) == "accepted"
    error = LeanMessage("error", 2, 0, "unsolved goals")
    assert protocol.classify(CommandResult(messages=(warning, error))) == "lean_error"


def test_frame_is_one_line_and_a_blank_line():
    text = protocol.frame(protocol.encode_command("theorem t : 1 = 1 := by\n  rfl", 3))
    assert text.endswith("}\n\n") and text.count("\n") == 2
    assert json.loads(text) == {"cmd": "theorem t : 1 = 1 := by\n  rfl", "env": 3}
    assert "⊢" in protocol.frame({"cmd": "⊢"})  # ensure_ascii=False, as Lean reads UTF-8


def test_lean_json_lines_parse_and_skip_noise():
    # Lines in the shape `lean --json` prints (verification.md §4.1), plus a crash notice.
    output = "\n".join(
        [
            '{"caption":"","data":"declaration uses `sorry`","endPos":{"column":21,"line":3},'
            '"fileName":"A.lean","isSilent":false,"keepFullRange":false,"kind":"hasSorry",'
            '"pos":{"column":8,"line":3},"severity":"warning"}',
            '{"caption":"","data":"Unknown identifier `x`","endPos":null,"fileName":"A.lean",'
            '"pos":{"column":27,"line":4},"severity":"error"}',
            '{"data":"\'t\' depends on axioms: [sorryAx]","pos":{"column":0,"line":7},'
            '"severity":"information"}',
            "Stack overflow detected. Aborting.",
            "{not json",
        ]
    )
    messages = protocol.decode_lean_json_output(output)
    assert [(m.severity, m.line, m.column) for m in messages] == [
        ("warning", 3, 8),
        ("error", 4, 27),
        ("info", 7, 0),
    ]
    assert messages[1].end_line is None
    assert protocol.classify(CommandResult(messages=tuple(messages[:1]))) == "sorry"


def test_split_header_keys_on_imports_only():
    parts = protocol.split_header(
        "import Mathlib\nimport  Aesop\n\nset_option maxHeartbeats 400000\n\nopen Real\n"
    )
    assert parts.imports == ("import Mathlib", "import Aesop")
    assert parts.rest.strip() == "set_option maxHeartbeats 400000\n\nopen Real"
    assert parts.rest_line == 3  # the header line where `rest` begins (a blank one here)
    empty = protocol.split_header("")
    assert empty.imports == () and empty.rest == ""
    only = protocol.split_header("-- a comment\nimport Mathlib\n")
    assert only.imports == ("import Mathlib",) and not only.rest.strip()
    commented = protocol.split_header(
        "/- Copyright\n  licence -/\nimport Mathlib  -- everything\nimport Aesop\nopen Real"
    )
    assert commented.imports == ("import Mathlib", "import Aesop")
    assert commented.rest == "open Real" and commented.rest_line == 5
