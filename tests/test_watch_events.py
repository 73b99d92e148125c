"""Events from successive records, the `--exit-on` conditions, the lines people read, and what a look at a
growing file sees: pure functions on fixed data."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import pytest

from losscli.report.events import event_line
from losscli.watch.conditions import CONDITIONS, met
from losscli.watch.events import Event, RunHistory, changes
from losscli.watch.growing import AppendedFile, Change, WholeFile

BOUNDARY = {"epoch": 1, "step": 20.0, "drop": 0.15, "relative_drop": 0.0257, "z": 8.2, "t": 9.0, "share": 0.9}


def record(verdict: str = "inconclusive", **more: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "run": "exp",
        "path": "/runs/exp",
        "format": "tensorboard",
        "verdict": verdict,
        "score": 0.0,
        "epochs": 1.0,
        "points": 20,
        "boundaries": [],
        "reason": "the run never crosses an epoch boundary (one epoch or less)",
        "error": None,
        "memorization": False,
        "eval": None,
        "late_epoch_rise": [],
        "warnings": [],
        "notes": [],
        "non_finite_losses": 0,
    }
    return {**base, **more}


def stepped(*epochs: int, **more: Any) -> dict[str, Any]:
    bounds = [{**BOUNDARY, "epoch": e, "step": 20.0 * e, "stepped": True} for e in epochs]
    return record("stepped", score=0.87, epochs=4.0, points=80, boundaries=bounds, reason="drops", **more)


def told(history: RunHistory, rec: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(e.event, e.details) for e in changes(history, rec, when=0.0)]


def test_the_first_record_is_found_and_the_first_stepped_boundary_is_told_with_the_verdict() -> None:
    history = RunHistory()
    assert told(history, record()) == [
        ("found", {"score": 0.0, "points": 20, "epochs": 1.0, "reason": record()["reason"]})
    ]
    events = told(history, stepped(1, 2))
    assert [kind for kind, _ in events] == ["verdict"]
    details = events[0][1]
    assert details["previous"] == "inconclusive" and details["stepped_boundaries"] == 2
    assert details["first_step"] == {"epoch": 1, "step": 20.0, "drop": 0.15, "relative_drop": 0.0257}


def test_a_boundary_that_steps_later_is_told_once_even_if_it_wavers() -> None:
    history = RunHistory()
    told(history, stepped(1))
    assert told(history, stepped(1, 2)) == [("step", {"epoch": 2, "step": 40.0, "drop": 0.15, "relative_drop": 0.0257})]
    wavering = stepped(1, 2)
    wavering["boundaries"][1]["stepped"] = False
    assert told(history, wavering) == []
    assert told(history, stepped(1, 2)) == []


def test_a_verdict_change_is_told_each_time() -> None:
    history = RunHistory()
    told(history, stepped(1))
    assert [k for k, _ in told(history, record("smooth"))] == ["verdict"]
    assert [k for k, _ in told(history, stepped(1))] == ["verdict"]


def test_an_eval_rise_memorization_and_nan_are_told_once() -> None:
    history = RunHistory()
    evaluation = {
        "points": 8,
        "best_loss": 5.86,
        "best_step": 20,
        "best_epoch": 1.0,
        "best_checkpoint": "checkpoint-20",
    }
    rising = stepped(1, memorization=True, eval={**evaluation, "last_loss": 5.93, "rises": True}, non_finite_losses=3)
    kinds = [k for k, _ in told(history, rising)]
    assert kinds == ["found", "eval_rise", "memorization", "nan"]
    again = copy.deepcopy(rising)
    again["eval"]["last_loss"] = 5.95
    assert told(history, again) == []


def test_any_new_item_of_any_list_in_the_record_is_an_event() -> None:
    """Findings (issue 12) show without a change here: the record's lists are diffed, items told by kind and step."""
    history = RunHistory()
    spike = {"kind": "spike", "step": 83, "epoch": 2.1, "value": 3.8, "message": "the loss jumps to 3.8 and recovers"}
    told(history, record())
    assert told(history, record(findings=[spike])) == [("finding", spike)]
    moved = {**spike, "value": 3.81}
    assert told(history, record(findings=[moved])) == []
    plateau = {"kind": "plateau", "step": 200, "epoch": 5.0, "value": 1.2, "message": "no progress"}
    assert told(history, record(findings=[moved, plateau])) == [("finding", plateau)]
    assert told(history, record(late_epoch_rise=[3])) == [("late_epoch_rise", {"value": 3})]


def test_an_event_as_json_starts_with_time_run_event_verdict() -> None:
    event = Event(0.0, "exp", "tensorboard", "/runs/exp", "step", "stepped", {"epoch": 2})
    assert list(event.record())[:4] == ["time", "run", "event", "verdict"]
    assert event.record()["time"] == "1970-01-01T00:00:00Z"
    assert event.record()["epoch"] == 2


@pytest.mark.parametrize(
    ("conditions", "rec", "expected"),
    [
        (("stepped",), stepped(1), ["stepped"]),
        (("stepped", "smooth"), record("smooth"), ["smooth"]),
        (("memorization",), stepped(1, memorization=True), ["memorization"]),
        (("eval_rise",), record(eval={"rises": True}), ["eval_rise"]),
        (("nan",), record(non_finite_losses=2), ["nan"]),
        (("nan", "spike"), record(findings=[{"kind": "spike", "step": 3}]), ["spike"]),
        (("nan", "eval_rise"), record(findings=[{"kind": "nan", "step": 3}]), ["nan"]),
        (("stepped", "memorization", "nan"), record("smooth"), []),
    ],
)
def test_exit_conditions(conditions: tuple[str, ...], rec: dict[str, Any], expected: list[str]) -> None:
    assert all(c in CONDITIONS for c in conditions)
    assert met(rec, conditions) == expected


def test_lines_for_people() -> None:
    def line(event: str, verdict: str, **details: Any) -> str:
        return event_line(Event(0.0, "exp", "tensorboard", "/runs/exp", event, verdict, details)).split("  ", 1)[1]

    first = {"epoch": 1, "step": 20.0, "drop": 0.15, "relative_drop": 0.0257}
    assert line("verdict", "stepped", previous="inconclusive", score=0.87, first_step=first, stepped_boundaries=2) == (
        "exp  inconclusive -> stepped: first stepped boundary at epoch 1 (step 20): drop 0.15 (2.6 %); 2 stepped "
        "boundaries (score 0.87)"
    )
    assert line("found", "smooth", score=0.0, reason="no concentrated drop") == (
        "exp  smooth: no concentrated drop (score 0.0)"
    )
    assert line("step", "stepped", **{**first, "epoch": 2, "step": 40}) == (
        "exp  another stepped boundary at epoch 2 (step 40): drop 0.15 (2.6 %)"
    )
    best = {"best_loss": 5.86, "best_step": 20, "best_checkpoint": "checkpoint-20", "last_loss": 5.93}
    assert line("memorization", "stepped", **best) == (
        "exp  memorization: eval loss rises while the train loss steps down; lowest 5.86 at step 20; keep checkpoint-20"
    )
    assert line("finding", "smooth", kind="spike", message="the loss jumps") == "exp  finding (spike): the loss jumps"


# --- what a look at a growing file sees ----------------------------------------------------------------------


def test_a_file_that_grows_then_is_written_again(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    followed = AppendedFile(path)
    assert followed.look() is Change.GONE
    path.write_bytes(b"one\ntwo\n")
    assert followed.look() is Change.GROWN
    followed.advance(8)
    assert followed.look() is Change.SAME
    with open(path, "ab") as handle:
        handle.write(b"thr")
    assert followed.look() is Change.GROWN
    followed.advance(8)  # the half line is left for later
    assert followed.look() is Change.SAME
    path.write_bytes(b"ONE\ntwo\nthree\n")  # written again from the start, longer: the bytes read differ
    assert followed.look() is Change.REPLACED
    assert followed.offset == 0


def test_a_file_replaced_or_truncated_is_read_from_the_start(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_bytes(b"a,b\n1,2\n")
    followed = AppendedFile(path)
    followed.look()
    followed.advance(8)
    (tmp_path / "new").write_bytes(b"a,b\n1,2\n3,4\n")
    os.replace(tmp_path / "new", path)  # same first bytes, another file
    assert followed.look() is Change.REPLACED
    followed.advance(12)
    path.write_bytes(b"a,b\n")
    assert followed.look() is Change.REPLACED


def test_a_whole_file_is_read_again_when_it_changes_and_says_when_it_has_settled(tmp_path: Path) -> None:
    path = tmp_path / "trainer_state.json"
    path.write_text("{}")
    whole = WholeFile(path)
    assert whole.look() is Change.REPLACED and not whole.settled
    whole.done()
    assert whole.look() is Change.SAME and whole.settled
    path.write_text('{"log_history": []}')
    assert whole.look() is Change.REPLACED and not whole.settled
    assert whole.look() is Change.REPLACED and whole.settled  # not read yet, but unchanged since the last look
