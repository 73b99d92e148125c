"""The tally across an archive: trainings counted once, grouped by any key or by month and week, keys ranked by
how well they tell stepped from smooth runs apart (with a p that counts every way, or estimates it), and
`losscli summary` printing it for people and for scripts."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
from itertools import combinations
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import SAMPLE_LOGS

from losscli.api import classify
from losscli.cli import ExitStatus, app
from losscli.tally import group, separation_p, splits, trainings, value_of

ARCHIVE = SAMPLE_LOGS / "archive"
runner = CliRunner()


@pytest.fixture(scope="module")
def results() -> list[Any]:
    return classify([ARCHIVE], jobs=1).results


def test_a_training_logged_in_several_formats_counts_once(results: list[Any]) -> None:
    found, notes = trainings(results)
    assert len(results) == 15 and notes == []
    assert [t.name.rsplit("/", 1)[1] for t in found] == [f"sft-v{i}" for i in range(1, 7)]
    v4 = found[3]
    assert v4.formats == ("trainer_state", "tensorboard", "wandb_run") and v4.verdict == "stepped"
    assert [t.verdict for t in found] == ["smooth", "smooth", "inconclusive", "stepped", "smooth", "stepped"]


def test_formats_that_disagree_are_said_and_the_trainer_record_counts(results: list[Any]) -> None:
    changed = [
        dataclasses.replace(r, analysis=dataclasses.replace(r.analysis, verdict="smooth"))
        if r.format == "tensorboard" and r.run.startswith("sft-v4")
        else r
        for r in results
    ]
    found, notes = trainings(changed)
    assert found[3].verdict == "stepped"
    [note] = notes
    assert note.endswith("sft-v4: its formats disagree (trainer_state stepped, tensorboard smooth, wandb_run stepped); "
                         "counted as trainer_state says")  # fmt: skip


def test_months_and_iso_weeks_of_the_start(results: list[Any]) -> None:
    found, _ = trainings(results)
    assert [value_of(t, key="month") for t in found] == [
        "2026-07",
        "2026-08",
        "2026-09",
        "2026-10",
        "2026-10",
        "2026-11",
    ]
    assert value_of(found[0], key="week") == "2026-W28"  # Thursday 9 July 2026
    by_month = group(found, by=["month"])
    assert [(g.values[0], g.counts.stepped, g.counts.smooth, g.counts.inconclusive) for g in by_month] == [
        ("2026-07", 0, 1, 0),
        ("2026-08", 0, 1, 0),
        ("2026-09", 0, 0, 1),
        ("2026-10", 1, 1, 0),
        ("2026-11", 1, 0, 0),
    ]
    assert by_month[3].counts.share_stepped == 0.5 and by_month[2].counts.share_stepped is None
    with pytest.raises(ValueError, match="unknown key 'colour'"):
        group(found, by=["colour"])


def test_keys_are_ranked_by_how_well_they_separate(results: list[Any]) -> None:
    found, _ = trainings(results)
    ranked = splits(found)
    assert "started" not in [s.key for s in ranked] and "month" in [s.key for s in ranked]
    first = ranked[0]
    assert first.key == "epochs" and (first.separated, first.conclusive) == (5, 5)
    assert first.p == pytest.approx(0.4) and first.exact
    seed = next(s for s in ranked if s.key == "seed")
    assert seed.separated == seed.conclusive == 5 and seed.p == 1.0  # one value per run tells nothing
    assert [s.p for s in ranked] == sorted(s.p for s in ranked)


def _exact_by_hand(sizes: list[int], stepped: int, observed: int) -> float:
    total = sum(sizes)
    groups = [g for g, n in enumerate(sizes) for _ in range(n)]
    hits = ways = 0
    for chosen in combinations(range(total), stepped):
        per = [0] * len(sizes)
        for i in chosen:
            per[groups[i]] += 1
        ways += 1
        hits += sum(max(s, n - s) for s, n in zip(per, sizes)) >= observed
    return hits / ways


@pytest.mark.parametrize(
    ("sizes", "stepped", "observed"), [([2, 2], 2, 4), ([3, 1, 2], 3, 5), ([4, 4, 2], 5, 8), ([1, 1, 1], 1, 3)]
)
def test_the_exact_p_counts_every_way(sizes: list[int], stepped: int, observed: int) -> None:
    p, exact = separation_p(sizes, stepped=stepped, observed=observed)
    assert exact and p == pytest.approx(_exact_by_hand(sizes, stepped, observed))
    assert separation_p([2, 2], stepped=2, observed=4)[0] == pytest.approx(2 / 6)  # both groups pure: 2 of 6 ways


def test_the_estimated_p_is_close_to_the_exact_one_and_the_same_every_time() -> None:
    sizes, stepped = [30, 30, 20], 35
    ways = math.comb(sum(sizes), stepped)
    assert ways * sum(sizes) > 2_000_000  # too many to count: estimated
    p, exact = separation_p(sizes, stepped=stepped, observed=50)
    assert not exact and p == separation_p(sizes, stepped=stepped, observed=50)[0]  # the same seed every time
    # the exact p of these groups, by the hypergeometric law: P(separated >= 50) summed over the stepped counts
    exact_p = 0.0
    for a in range(31):
        for b in range(31):
            c = stepped - a - b
            if 0 <= c <= 20 and max(a, 30 - a) + max(b, 30 - b) + max(c, 20 - c) >= 50:
                exact_p += math.comb(30, a) * math.comb(30, b) * math.comb(20, c) / ways
    assert 0.005 < exact_p < 0.995 and abs(p - exact_p) < 4 * math.sqrt(exact_p * (1 - exact_p) / 2000) + 1e-3


def test_summary_by_month_prints_the_table() -> None:
    out = runner.invoke(app, ["summary", str(ARCHIVE), "--by", "month", "-j", "1"])
    assert out.exit_code == ExitStatus.OK
    assert out.stdout == (
        "month    runs  stepped  smooth  inconclusive  error  share stepped\n"
        "2026-07     1        0       1             0      0             0%\n"
        "2026-08     1        0       1             0      0             0%\n"
        "2026-09     1        0       0             1      0              -\n"
        "2026-10     2        1       1             0      0            50%\n"
        "2026-11     1        1       0             0      0           100%\n"
        "6 runs: 2 stepped, 3 smooth, 1 inconclusive (15 read: a training logged in several formats counts once)\n"
    )


def test_summary_by_two_keys_for_scripts() -> None:
    out = runner.invoke(app, ["summary", str(ARCHIVE), "--by", "model,adapter", "-f", "jsonl", "-j", "1"])
    records = [json.loads(line) for line in out.stdout.splitlines()]
    assert records == [
        {"model": "gpt2", "adapter": "none", "runs": 3, "stepped": 1, "smooth": 2, "inconclusive": 0, "error": 0,
         "share_stepped": 0.3333},
        {"model": "models/tiny-llama-base", "adapter": "lora r=16 alpha=32", "runs": 1, "stepped": 0, "smooth": 1,
         "inconclusive": 0, "error": 0, "share_stepped": 0.0},
        {"model": "models/tiny-llama-base", "adapter": "none", "runs": 2, "stepped": 1, "smooth": 0,
         "inconclusive": 1, "error": 0, "share_stepped": 1.0},
    ]  # fmt: skip
    assert out.stderr.startswith("6 runs: 2 stepped")
    rows = list(csv.DictReader(io.StringIO(runner.invoke(app, ["summary", str(ARCHIVE), "--by", "model", "-f", "csv",
                                                              "-j", "1"]).stdout)))  # fmt: skip
    assert [(r["model"], r["runs"], r["share_stepped"]) for r in rows] == [
        ("gpt2", "3", "0.3333"),
        ("models/tiny-llama-base", "3", "0.5"),
    ]


def test_summary_without_by_ranks_the_keys() -> None:
    out = runner.invoke(app, ["summary", str(ARCHIVE), "-j", "1"])
    assert out.exit_code == ExitStatus.OK
    lines = out.stdout.splitlines()
    assert lines[0] == "1. epochs: tells 5 of 5 stepped or smooth runs apart; p = 0.40 (every way counted)"
    assert lines[1].split() == ["value", "runs", "stepped", "smooth", "inconclusive", "error", "share", "stepped"]
    assert lines[2].split() == ["1", "1", "0", "0", "1", "0", "-"]
    assert any(line.startswith("7. seed: tells 5 of 5") and "p = 1.00" in line for line in lines)
    records = [
        json.loads(line) for line in runner.invoke(app, ["summary", str(ARCHIVE), "-f", "jsonl"]).stdout.splitlines()
    ]
    assert records[0] == {
        "key": "epochs", "value": 1, "rank": 1, "separated": 5, "conclusive": 5, "p": 0.4, "exact": True,
        "runs": 1, "stepped": 0, "smooth": 0, "inconclusive": 1, "error": 0, "share_stepped": None,
    }  # fmt: skip


def test_summary_rejects_an_unknown_key_before_reading(tmp_path: Any) -> None:
    out = runner.invoke(app, ["summary", str(ARCHIVE), "--by", "model,colour"])
    assert out.exit_code == ExitStatus.USAGE and "'colour' is not a key; choose from model, adapter" in out.stderr
    assert runner.invoke(app, ["summary", str(tmp_path)]).exit_code == ExitStatus.NO_RUNS


def test_classify_shows_chosen_keys_as_columns() -> None:
    out = runner.invoke(app, ["classify", str(ARCHIVE / "sft-v5"), "--columns", "adapter,epochs,started", "-j", "1"])
    header, *rows = out.stdout.splitlines()[:4]
    assert header.split()[:6] == ["run", "format", "adapter", "planned", "epochs", "started"]
    assert all("lora r=16 alpha=32" in row and "2026-10-22T16:20:12+00:00" in row for row in rows)
    bad = runner.invoke(app, ["classify", str(ARCHIVE), "--columns", "month"])
    assert bad.exit_code == ExitStatus.USAGE and "'month' is not a key" in bad.stderr


def test_the_readme_shows_the_real_output_of_summary() -> None:
    import re

    from conftest import ROOT

    readme = (ROOT / "README.md").read_text()
    blocks = dict(re.findall(r"```console\n\$ losscli (summary [^\n]+)\n(.*?)```", readme, flags=re.DOTALL))
    assert set(blocks) == {"summary sample_logs/archive --by month", "summary sample_logs/archive"}
    for command, shown in blocks.items():
        args = command.split()
        args[1] = str(ROOT / args[1])
        out = runner.invoke(app, [*args, "-j", "1"])
        assert out.exit_code == ExitStatus.OK
        assert out.stdout.startswith(shown), command  # the README may stop after the first keys


def test_runs_outside_a_trainer_folder_are_trainings_of_their_own() -> None:
    """An export file holds several runs, and a folder several exports: none of them is one training."""
    exports = classify([SAMPLE_LOGS / "wandb-exports"], jobs=1).results
    assert len(exports) == 4 and all(r.config.training is None for r in exports)
    found, notes = trainings(exports)
    assert len(found) == 4 and notes == []
