"""A Trainer's log read in pieces and converted many entries at once: the same run as one entry at a time.

Three ways must agree on every log, real or made up: the file read in pieces (`json_pieces`, cut every few
bytes here) and converted column by column (`trainer_history.History`), the whole document read at once, and the
per-point pipeline every other reader of Trainer dicts uses (each entry by `trainer_dicts.entry_records`, then
`name_trainer_records` and the restart rule on the points), as the reference.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from conftest import corpus
from hypothesis import given, settings
from hypothesis import strategies as st

import losscli
from losscli.frame import COLUMNS, TRAIN_LOSS, columns_from_records
from losscli.parsers import json_pieces, trainer_history
from losscli.parsers.records import usable_step
from losscli.parsers.trainer_dicts import entry_records, is_summary, name_trainer_records
from losscli.parsers.trainer_history import History
from losscli.restarts import resolve_restarts

ROOT = Path(__file__).resolve().parent.parent


def reference(entries: list) -> tuple[list[tuple], list[str], int]:
    """The frame's rows, the naming notes and the entries skipped, one entry at a time (the reader before)."""
    records: list = []
    skipped = 0
    for entry in entries:
        step = usable_step(entry.get("step")) if isinstance(entry, dict) else None
        if step is None:
            skipped += 1
        elif not is_summary(entry):
            skipped += entry_records(entry, step, records)
    named, notes = name_trainer_records(records)
    columns, _ = resolve_restarts(columns_from_records(named))
    return rows(columns), notes, skipped


def rows(columns) -> list[tuple]:
    """Rows with NaN made comparable."""
    return [
        tuple("nan" if isinstance(v, float) and math.isnan(v) else v for v in row)
        for row in zip(*(getattr(columns, c).tolist() for c in COLUMNS))
    ]


def converted(entries: list, *, pieces: int) -> tuple[list[tuple], list[str], int]:
    history = History()
    for start in range(0, len(entries), pieces):
        history.add(entries[start : start + pieces])
    columns, _, notes = history.frame()
    return rows(columns), notes, history.skipped


entry_values = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(2**70), 2**70),
    st.booleans(),
    st.none(),
    st.text(max_size=3),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
)
entry_keys = st.sampled_from(
    ["loss", "grad_norm", "learning_rate", "epoch", "eval_loss", "eval_acc", "train/loss", "train_runtime", "x/y"]
)
steps = st.one_of(st.integers(-3, 40), st.floats(-3, 40), st.none(), st.booleans(), st.just("7"), st.just(2.0**70))


@st.composite
def logs(draw) -> list:
    """Logs as trainers write them (runs of entries with the same keys) with anything mixed in."""
    out: list = []
    for _ in range(draw(st.integers(0, 8))):
        keys = draw(st.lists(entry_keys, max_size=4, unique=True))
        plain = draw(st.booleans())
        for _ in range(draw(st.integers(1, 6))):
            entry = {k: draw(st.floats(-5, 5) if plain else entry_values) for k in keys}
            if draw(st.integers(0, 5)):
                entry["step"] = draw(st.integers(0, 30) if plain else steps)
            out.append(entry)
        if draw(st.integers(0, 6)) == 0:
            out.append(draw(st.one_of(st.integers(), st.lists(st.integers(), max_size=2), st.text(max_size=2))))
    return out


@settings(max_examples=300, deadline=None)
@given(logs(), st.integers(1, 7))
def test_columns_equal_the_points_one_entry_at_a_time(entries: list, pieces: int) -> None:
    assert converted(entries, pieces=pieces) == reference(entries)


def test_the_real_trainers_logs_convert_column_by_column(monkeypatch: pytest.MonkeyPatch) -> None:
    """Real state files: the same rows as the reference, and (a spy says) the rule for one entry only for the
    evaluations and summaries between runs of train entries."""
    one_by_one: list[int] = []
    original = History._add_one_by_one

    def spy(self, chunk, first):
        one_by_one.append(len(chunk))
        original(self, chunk, first)

    monkeypatch.setattr(History, "_add_one_by_one", spy)
    total = 0
    for path in (
        ROOT / "sample_logs" / "hf-stepped" / "trainer_state.json",
        corpus("ts-yc1999-alpaca") / "trainer_state.json",
        corpus("ts-medimind-10ep") / "trainer_state.json",
    ):
        entries = json.loads(path.read_text())["log_history"]
        assert converted(entries, pieces=len(entries)) == reference(entries)
        total += len(entries)
    assert max(one_by_one) < trainer_history._GROUP and sum(one_by_one) < total / 5


STATE_TEXTS = {
    "nan and wrong types": (
        '{"best_metric": null, "global_step": 4, "log_history": [{"loss": NaN, "step": 1, "epoch": 0.1}, '
        '{"loss": "oops", "step": 2}, {"loss": 1.5, "step": "x"}, {"loss": Infinity, "step": 3}, '
        '{"loss": 1.25, "step": 4, "epoch": 0.3}, [1, 2]], "max_steps": 4}'
    ),
    "nested and strings that look like cuts": (
        '{"log_history": [{"loss": 1.0, "step": 1, "note": "a}, {b"}, {"loss": 0.5, "step": 2, '
        '"extra": [{"a": 1}, {"b": 2}]}, {"eval_loss": 0.7, "step": 2, "epoch": 0.2}], "epoch": 0.2}'
    ),
    "log_history last, a BOM and a restart": "\ufeff"
    + json.dumps(
        {
            "global_step": 9,
            "log_history": [{"loss": 3.0 - s / 10, "step": s, "epoch": s / 10} for s in range(1, 10)]
            + [{"loss": 9.0, "step": s, "epoch": s / 10} for s in range(4, 8)],
        },
        indent=2,
    ),
    "not a top-level member": '{"args": {"log_history": [1]}, "log_history": [{"loss": 1.0, "step": 1}]}',
}


@pytest.mark.parametrize("name", sorted(STATE_TEXTS))
def test_read_in_pieces_or_whole_the_run_is_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    path = tmp_path / "r" / "trainer_state.json"
    path.parent.mkdir()
    path.write_text(STATE_TEXTS[name], encoding="utf-8")
    runs = {}
    for how, piece in (("pieces", 20), ("one piece", None), ("whole", None)):
        with monkeypatch.context() as patch:
            if piece:
                patch.setattr(json_pieces, "PIECE", piece)
            if how == "whole":

                def refuse(*args, **kwargs):
                    raise json_pieces.NotInPieces("test")

                patch.setattr("losscli.parsers.trainer_logs.load_in_pieces", refuse)
            [run] = losscli.load(path.parent)
        runs[how] = (rows(run.columns()), run.meta, run.warnings, run.notes)
    assert runs["pieces"] == runs["one piece"] == runs["whole"]


def test_a_big_state_file_is_read_in_pieces(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Written as `TrainerState.save_to_json` writes it, cut into many pieces, none parsed twice."""
    entries = [
        {"epoch": s / 100, "grad_norm": 1.5, "learning_rate": 1e-4, "loss": 2 - s / 1000, "step": s}
        for s in range(1, 2001)
    ]
    entries.insert(1000, {"epoch": 10.0, "eval_loss": float("nan"), "eval_runtime": 1.0, "step": 1000})
    path = tmp_path / "r" / "trainer_state.json"
    path.parent.mkdir()
    path.write_text(
        json.dumps({"global_step": 2000, "log_history": entries, "max_steps": 2000}, indent=2, sort_keys=True) + "\n"
    )
    taken: list[int] = []
    original = json_pieces.load_in_pieces

    def counting(raw, *, member, take, piece=None):
        def counted(elements):
            taken.append(len(elements))
            take(elements)

        return original(raw, member=member, take=counted, piece=piece)

    monkeypatch.setattr(json_pieces, "PIECE", 4096)
    monkeypatch.setattr("losscli.parsers.trainer_logs.load_in_pieces", counting)
    [run] = losscli.load(path.parent)
    assert len(taken) > 20 and sum(taken) == len(entries)
    assert run.metric(TRAIN_LOSS)["value"].tolist() == [2 - s / 1000 for s in range(1, 2001)]
    assert math.isnan(run.metric("eval/loss")["value"].iloc[0])
    assert run.meta["max_steps"] == 2000 and run.warnings == []
    assert np.isfinite(run.columns().epoch).all()
