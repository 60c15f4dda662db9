"""A repair conversation that outgrows the model's context (HTTP 400 from the server): the round
is recorded as `truncated` with the client's note, and the sample ends there."""

from __future__ import annotations

import json
from typing import Any

import pytest

from harness.cli import main
from tests.doubles.chat_server import ChatServer, Reply, Status
from tests.run.helpers import KEY, KEY_ENV, MARKER, PROBLEMS, SAMPLES, read_lines, write_setup

pytestmark = pytest.mark.timeout(120)

OVERFLOW = {
    "error": {
        "message": "This model's maximum context length is 32768 tokens. However, you "
        "requested 40000 tokens. Please reduce the length of the messages.",
        "type": "invalid_request_error",
    }
}


class OutgrowingProver:
    """Round 0: a proof Lean rejects (repair material). Any repair round: the 400 a server
    gives when prompt + max_tokens exceed the context."""

    def __init__(self) -> None:
        self.rounds_asked: list[int] = []

    def __call__(self, request: dict[str, Any]) -> Reply | Status:
        rnd = sum(1 for m in request["messages"] if m["role"] == "assistant")
        self.rounds_asked.append(rnd)
        if rnd:
            return Status(400, body=json.dumps(OVERFLOW))
        prompt = request["messages"][-1]["content"]
        start = prompt.index("theorem ")
        statement = prompt[start : prompt.index(":=", start) + 2]
        return Reply(f"```lean4\n{statement} by\n  exact {MARKER}\n```")


def run(config, out) -> int:
    return main(["run", str(config), "--out", str(out), "--limit", str(PROBLEMS), "--no-progress"])


def test_an_outgrown_conversation_is_truncated_with_the_note_and_ends_its_sample(
    tmp_path, monkeypatch
):
    monkeypatch.setenv(KEY_ENV, KEY)
    prover = OutgrowingProver()
    with ChatServer(prover) as server:
        # two repair rounds allowed: without the rule each sample would ask a round 2 as well
        config, _ = write_setup(tmp_path, server.url, repair_rounds=2)
        out = tmp_path / "run"
        assert run(config, out) == 0
        lines = read_lines(out)

        assert sorted(set(prover.rounds_asked)) == [0, 1]  # no longer round 2 was started
        by_round: dict[int, list[dict]] = {}
        for line in lines:
            by_round.setdefault(line["round"], []).append(line)
        assert sorted(by_round) == [0, 1]
        assert len(by_round[0]) == len(by_round[1]) == PROBLEMS * SAMPLES
        assert {line["verdict"] for line in by_round[0]} == {"lean_error"}
        for line in by_round[1]:
            assert line["verdict"] == "truncated" and line["finish_reason"] == "length"
            # the client's note is the round's detail, with the server's own words
            assert "outgrew the model's context" in line["error"]
            assert "maximum context length is 32768 tokens" in line["error"]
            assert line["ends_sample"] is True
        summary = json.loads((out / "summary.json").read_text())
        assert summary["attempts"] == 2 * PROBLEMS * SAMPLES

        # resuming the finished run asks nothing more: the ended samples stay ended
        asked = len(prover.rounds_asked)
        assert run(config, out) == 0
        assert len(prover.rounds_asked) == asked
        assert read_lines(out) == lines


def test_a_plain_max_tokens_truncation_still_gets_its_repair_round(tmp_path, monkeypatch):
    """Only the context overflow ends a sample; an answer cut by max_tokens is repair material."""
    monkeypatch.setenv(KEY_ENV, KEY)
    asked: list[int] = []

    def responder(request: dict[str, Any]) -> Reply:
        asked.append(sum(1 for m in request["messages"] if m["role"] == "assistant"))
        return Reply("```lean4\ntheorem x : True := by\n  simp [Nat.", finish_reason="length")

    with ChatServer(responder) as server:
        config, _ = write_setup(tmp_path, server.url, repair_rounds=1)
        out = tmp_path / "run"
        assert run(config, out) == 0
    lines = read_lines(out)
    assert sorted(set(asked)) == [0, 1]
    assert [line["verdict"] for line in lines] == ["truncated"] * (2 * PROBLEMS * SAMPLES)
    assert all(
        line["error"] == "the answer hit prover.max_tokens (finish_reason=length)" for line in lines
    )
    assert not any(line["ends_sample"] for line in lines)
