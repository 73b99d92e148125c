"""Property-based and mutation tests: damaged copies of the real sample files of every format, via the CLI.

Every case copies one real file into a fresh folder, damages it (truncation at any byte, bit flips, junk bytes
inserted or appended, an empty file, binary junk under the known name, JSON and CSV values of the wrong type,
NaN and infinities, null, duplicated and decreasing steps) and runs
`losscli classify <path> -f jsonl -j 1` in-process. Whatever the damage:

- no traceback reaches the user, and the exit code is a documented one: 0 or 1 (3 only for a file found by its
  content, named on the command line, whose damage made it unrecognisable, with a line saying so);
- stdout is valid JSON Lines with the contract keys, one record per run found, and stderr ends with the one
  summary line;
- a run that failed has `verdict: error` and its message, and the exit code is 1 exactly when one failed
  (with `--strict`, also when anything warned);
- every problem is one line on stderr that names the damaged file (or the run folder holding it);
- no Python warning is printed (any warning Python would show the user fails the case), and no case runs
  longer than `CASE_SECONDS` (a hang fails the case).

At least `CASES_PER_FORMAT` (1,000) cases run for each format, shared among the format's samples and the kinds
of damage that apply to it; `LOSSCLI_FUZZ_SCALE=10` runs ten times as many, new ones (a scaled run is not
derandomized). The counts per format and per kind of damage are printed at the end of the pytest run ("losscli
mutation cases"), and the last test fails if a format got fewer than it should.

    tmp/case-N/                       one fresh folder per case
      run/trainer_state.json          the damaged file, laid out as its writer lays it out
"""

from __future__ import annotations

import itertools
import json
import math
import os
import re
import shutil
import signal
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import DATA, REQUIRED_KEYS, SAMPLE_LOGS, corpus
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from losscli.cli import ExitStatus, app
from losscli.parsers import all_formats

runner = CliRunner()
SCALE = max(1, int(os.environ.get("LOSSCLI_FUZZ_SCALE", "1")))
CASES_PER_FORMAT = 1000
CASE_SECONDS = 10  # a case takes 10-150 ms; one that takes this long hangs
SUMMARY = re.compile(r"^\d+ runs?: ")
PROBLEM = re.compile(r"^(warning|error|Error): ")
TRIED: Counter[tuple[str, str]] = Counter()  # (format, kind of damage) -> cases run
# Warnings Python does not show a user by default (python -W default shows them): not printed, so not failed.
HIDDEN_WARNINGS = (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning)


# --- the real files, laid out as their writers lay them out -------------------------------------------------


@dataclass(frozen=True)
class Sample:
    """One real file: where it comes from, where it goes in a case folder, what the command line names."""

    name: str
    source: Path
    layout: str  # the file's path inside the case folder
    target: str  # what is passed to `losscli classify`, relative to the case folder
    format: str  # the format as the README lists it (trainer_log apart from trainer_state)
    kind: str  # "json", "jsonl", "csv", "text" or "binary": which type mutations apply
    runs: int | None = 1  # records expected when the file is read; None: at least one
    siblings: tuple[tuple[str, Path], ...] = ()  # intact files of the same run: (path in the case folder, source)
    by_name: bool | None = None  # found by its name or folder (None: as its kind says)
    step_key: str = "current_steps"  # the key a JSONL sample's lines keep their step in

    @property
    def known_name(self) -> bool:
        """Found by its name or its folder, not by content: damage can never make it unrecognisable."""
        if self.by_name is not None:
            return self.by_name
        return self.kind in ("json", "jsonl", "binary") or self.name == "lightning_csv"


def _one(pattern: str) -> Path:
    found = sorted(SAMPLE_LOGS.glob(pattern))
    assert found, f"no sample file matches {pattern}"
    return found[0]


def _wandb_samples() -> list[Sample]:
    files = [
        *sorted(SAMPLE_LOGS.glob("*/wandb/*run-*/run-*.wandb")),
        *sorted(DATA.glob("wandb/typed/wandb/*/run-*.wandb")),
    ]
    samples = [
        Sample(
            f"wandb:{f.parent.parent.parent.name}",
            f,
            f"wandb/{f.parent.name}/{f.name}",
            f"wandb/{f.parent.name}",
            "wandb_run",
            "binary",
        )
        for f in files
        if not f.parent.is_symlink() and f.parent.name != "latest-run"
    ]
    assert len(samples) >= 4, f"expected the W&B run files of sample_logs/ and tests/data/wandb, found {files}"
    return samples


def _mlflow_samples() -> list[Sample]:
    """A run folder of the file store with one of its files damaged (a metric file, or `meta.yaml`), and the
    SQLite store."""
    run = _one("mlflow-file/mlruns/*/b101ecdefb694f9794998c39b0145916")
    parts = ("meta.yaml", "metrics/loss", "metrics/epoch", "metrics/eval_loss", "params/num_train_epochs")
    parts += ("tags/mlflow.runName",)

    def folder(damaged: str) -> Sample:
        siblings = tuple((f"mlruns/1/run/{p}", run / p) for p in parts if p != damaged)
        return Sample(
            f"mlflow_file:{damaged}",
            run / damaged,
            f"mlruns/1/run/{damaged}",
            "mlruns/1/run",
            "mlflow_file",
            "text",
            siblings=siblings,
            by_name=True,
        )

    sqlite = SAMPLE_LOGS / "mlflow-sqlite" / "mlflow.db"
    return [
        folder("metrics/loss"),
        folder("meta.yaml"),
        Sample("mlflow_sqlite", sqlite, "mlflow.db", "mlflow.db", "mlflow_sqlite", "binary", runs=None),
    ]


def _console_and_other_trainer_samples() -> list[Sample]:
    console = SAMPLE_LOGS / "console"
    tune = SAMPLE_LOGS / "torchtune" / "stepped"
    logs = sorted((tune / "logs").glob("log_*.txt"))
    swift = SAMPLE_LOGS / "swift" / "hf-stepped" / "logging.jsonl"
    public_swift = DATA / "other_trainers" / "swift" / "deepclima-r1" / "logging.jsonl"
    return [
        Sample(
            "console", console / "hf-stepped-ddp-tee.log", "train.log", "train.log", "console", "text", by_name=False
        ),
        Sample(
            "console:nan-filtered",
            console / "hf-nan-filtered.log",
            "slurm-1234.out",
            "slurm-1234.out",
            "console",
            "text",
            by_name=False,
        ),
        Sample(
            "torchtune",
            logs[-1],
            f"run/logs/{logs[-1].name}",
            "run",
            "torchtune",
            "text",
            siblings=(("run/torchtune_config.yaml", tune / "torchtune_config.yaml"),),
            by_name=True,
        ),
        Sample(
            "torchtune:config",
            tune / "torchtune_config.yaml",
            "run/torchtune_config.yaml",
            "run",
            "torchtune",
            "text",
            siblings=((f"run/logs/{logs[0].name}", logs[0]),),
            by_name=True,
        ),
        Sample(
            "swift",
            swift,
            "run/logging.jsonl",
            "run/logging.jsonl",
            "swift",
            "jsonl",
            by_name=False,
            step_key="global_step/max_steps",
        ),
        Sample(
            "swift:closing-line",
            public_swift,
            "run/logging.jsonl",
            "run/logging.jsonl",
            "swift",
            "jsonl",
            by_name=False,
            step_key="global_step/max_steps",
        ),
    ]


def _table_samples() -> list[Sample]:
    tables = DATA / "tables"
    return [
        Sample("loss_table", tables / "loss_table.csv", "losses.csv", "losses.csv", "loss_table", "csv"),
        Sample(
            "loss_table:jsonl",
            tables / "loss_table.jsonl",
            "losses.jsonl",
            "losses.jsonl",
            "loss_table",
            "jsonl",
            by_name=False,
            step_key="step",
        ),
        Sample(
            "loss_table:parquet",
            tables / "loss_table.parquet",
            "losses.parquet",
            "losses.parquet",
            "loss_table",
            "binary",
            by_name=False,
        ),
    ]


_EVENT_FILE = _one("hf-stepped/runs/*/events.out.tfevents.*")
SAMPLES = [
    Sample(
        "trainer_state",
        SAMPLE_LOGS / "hf-stepped" / "trainer_state.json",
        "run/trainer_state.json",
        "run",
        "trainer_state",
        "json",
    ),
    Sample(
        "checkpoint",
        SAMPLE_LOGS / "hf-stepped" / "checkpoint-60" / "trainer_state.json",
        "checkpoint-60/trainer_state.json",
        "checkpoint-60",
        "trainer_state",
        "json",
    ),
    Sample(
        "trainer_log",
        corpus("tl-agosalvez-20ep") / "trainer_log.jsonl",
        "run/trainer_log.jsonl",
        "run",
        "trainer_log",
        "jsonl",
    ),
    Sample(
        "lightning_csv",
        corpus("lt-slm-20ep") / "metrics.csv",
        "lightning_logs/version_0/metrics.csv",
        "lightning_logs/version_0/metrics.csv",
        "lightning_csv",
        "csv",
    ),
    *_wandb_samples(),
    Sample(
        "wandb_history",
        SAMPLE_LOGS / "wandb-exports" / "hf-stepped_history.csv",
        "hf-stepped_history.csv",
        "hf-stepped_history.csv",
        "wandb_history",
        "csv",
    ),
    Sample(
        "wandb_csv",
        SAMPLE_LOGS / "wandb-exports" / "wandb_export_train_loss.csv",
        "wandb_export_train_loss.csv",
        "wandb_export_train_loss.csv",
        "wandb_csv",
        "csv",
        runs=None,
    ),
    Sample(
        "tensorboard",
        _EVENT_FILE,
        "runs/hf-stepped/" + _EVENT_FILE.name,
        "runs/hf-stepped",
        "tensorboard",
        "binary",
    ),
    Sample(
        "tensorboard_csv",
        corpus("tbcsv-abiye-bert") / "train_loss.csv",
        "downloads/run-bert-tag-train_loss.csv",
        "downloads/run-bert-tag-train_loss.csv",
        "tensorboard_csv",
        "csv",
    ),
]
SAMPLES += [*_mlflow_samples(), *_console_and_other_trainer_samples(), *_table_samples()]
FORMATS = sorted({s.format for s in SAMPLES})
ORIGINAL = {s.name: s.source.read_bytes() for s in SAMPLES}


def test_every_registered_format_has_a_sample() -> None:
    registered = {f.name for f in all_formats()}
    assert registered <= set(FORMATS), registered - set(FORMATS)


def _param(sample: Sample) -> Any:
    return pytest.param(sample, id=sample.name)


ALL = [_param(s) for s in SAMPLES]
FIRST_OF_EACH_FORMAT = [_param(next(s for s in SAMPLES if s.format == f)) for f in FORMATS]
BY_KIND = {kind: [_param(s) for s in SAMPLES if s.kind == kind] for kind in ("json", "jsonl", "csv", "text")}

# How a format's cases are shared among the kinds of damage that apply to its files (each row sums to 1, with
# the fixed foreign-file cases on top).
SHARES = {
    "binary": {"truncated": 0.25, "bit_flips": 0.3, "junk": 0.25, "random_binary": 0.2},
    "json": {
        "truncated": 0.12,
        "bit_flips": 0.12,
        "junk": 0.1,
        "random_binary": 0.06,
        "json_wrong_types": 0.35,
        "json_values_and_steps": 0.25,
    },
    "jsonl": {"truncated": 0.15, "bit_flips": 0.15, "junk": 0.15, "random_binary": 0.05, "jsonl_wrong_types": 0.5},
    "csv": {"truncated": 0.15, "bit_flips": 0.15, "junk": 0.15, "random_binary": 0.05, "csv_wrong_types": 0.5},
    "text": {"truncated": 0.15, "bit_flips": 0.15, "junk": 0.15, "random_binary": 0.05, "text_lines": 0.5},
}


def budget(sample: Sample, test: str) -> int:
    """This sample's share of its format's cases for one kind of damage (a little over, since hypothesis may
    draw the same case twice)."""
    siblings = sum(s.format == sample.format for s in SAMPLES)
    return math.ceil(1.05 * CASES_PER_FORMAT * SCALE * SHARES[sample.kind][test] / siblings)


def explore(sample: Sample, test: str, case: Callable[[st.DataObject], None]) -> None:
    """Run `case` on `budget(sample, test)` examples drawn by hypothesis: the same ones on every CI run; a
    scaled run (LOSSCLI_FUZZ_SCALE) explores new ones."""

    @settings(
        max_examples=budget(sample, test),
        deadline=None,
        derandomize=SCALE == 1,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        case(data)

    run()


# --- running one case ---------------------------------------------------------------------------------------

_CASES: list[Path] = []  # the folder the case folders go in, made by the fixture below
_numbers = itertools.count()


@pytest.fixture(scope="module", autouse=True)
def _cases_and_counts(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> None:
    """A folder for the cases, and how many each format got printed in pytest's terminal summary."""
    _CASES[:] = [tmp_path_factory.mktemp("cases")]
    config = request.config
    if not config.pluginmanager.has_plugin("losscli-mutation-counts"):
        config.pluginmanager.register(_CountReporter(), "losscli-mutation-counts")


class _CountReporter:
    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not TRIED:
            return
        terminalreporter.write_sep("=", "losscli mutation cases")
        for fmt in sorted({f for f, _ in TRIED}):
            kinds = ", ".join(f"{kind} {n}" for (f, kind), n in sorted(TRIED.items()) if f == fmt)
            total = sum(n for (f, _), n in TRIED.items() if f == fmt)
            terminalreporter.write_line(f"{total:6d}  {fmt:16s} ({kinds})")
        terminalreporter.write_line(f"{sum(TRIED.values()):6d}  mutation cases in all (LOSSCLI_FUZZ_SCALE={SCALE})")


def place(sample: Sample, data: bytes) -> tuple[Path, Path, Path]:
    """A fresh case folder holding `data` under the sample's name: (folder, damaged file, path to name)."""
    folder = _CASES[0] / f"case-{next(_numbers)}"
    path = folder / sample.layout
    path.parent.mkdir(parents=True)
    path.write_bytes(data)
    for layout, source in sample.siblings:
        (folder / layout).parent.mkdir(parents=True, exist_ok=True)
        (folder / layout).write_bytes(source.read_bytes())
    return folder, path, folder / sample.target


def run_case(
    test: str, sample: Sample, data: bytes, *options: str, extra_files: dict[str, bytes] | None = None
) -> list[dict[str, Any]]:
    """Run classify on a damaged copy and check every promise of the module docstring; return the records."""
    TRIED[sample.format, test] += 1
    folder, damaged, target = place(sample, data)
    for name, content in (extra_files or {}).items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(content)
    try:
        result, printed = invoke(["classify", str(target), "-f", "jsonl", "-j", "1", *options])
        return check(result, printed, sample, names(damaged, target), strict="--strict" in options)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


class Hang(BaseException):
    """Raised by the alarm; a BaseException, so that no `except Exception` in losscli swallows it."""


def _alarm(signum: int, frame: Any) -> None:
    raise Hang


def invoke(args: list[str], seconds: int = CASE_SECONDS) -> tuple[Any, list[str]]:
    """The CLI in-process, with the Python warnings it would print on a real stderr (pytest hides them).
    A case that runs longer than `seconds` fails: a hang is a failure."""
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(seconds)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = runner.invoke(app, args)
    except Hang:
        pytest.fail(f"losscli {' '.join(args)} ran for more than {seconds} s (a hang)")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    printed = [
        warnings.formatwarning(w.message, w.category, w.filename, w.lineno, w.line)
        for w in caught
        if not issubclass(w.category, HIDDEN_WARNINGS)
    ]
    return result, printed


def names(damaged: Path, target: Path) -> tuple[str, ...]:
    """What a problem line may name: the damaged file, or the folder that is the run (TensorBoard...)."""
    return (f"{damaged}", f"{target}:") if target.is_dir() else (f"{damaged}",)


def check(
    result: Any, printed: list[str], sample: Sample, named: tuple[str, ...], strict: bool
) -> list[dict[str, Any]]:
    out, err = result.stdout, result.stderr
    context = f"\nexit {result.exit_code}\nstdout: {out[:2000]}\nstderr: {err[:2000]}"
    assert "Traceback" not in out and "Traceback" not in err, context
    crashed = result.exception is not None and not isinstance(result.exception, SystemExit)
    assert not crashed, f"{result.exception!r}{context}"
    assert not printed, f"Python warnings printed on stderr: {printed}{context}"

    lines = err.splitlines()
    problems = [line for line in lines if PROBLEM.match(line)]
    others = [line for line in lines if not PROBLEM.match(line)]
    for line in problems:
        assert any(name in line for name in named), f"a line that names none of {named}: {line!r}{context}"

    if lines and lines[-1].startswith("Error: no training logs found under "):
        assert not sample.known_name, f"{sample.name} under its own name must always be found{context}"
        assert out == "" and others == [], context
        assert any("not a training log" in line for line in problems), context
        # nothing found: 3, unless --strict makes the warning that says so a failure (1 comes before 3)
        assert result.exit_code == (ExitStatus.RUN_FAILED if strict else ExitStatus.NO_RUNS), context
        return []
    assert result.exit_code in (ExitStatus.OK, ExitStatus.RUN_FAILED), context
    # one summary line, the last (a stderr with no summary at all must not pass)
    assert len(others) == 1 and lines[-1] == others[0] and SUMMARY.match(others[0]), context

    records = [json.loads(line) for line in out.splitlines()]  # valid JSON Lines, or the test fails here
    assert all(isinstance(r, dict) and REQUIRED_KEYS <= r.keys() for r in records), context
    if sample.runs is None:
        assert records, context
    else:
        assert len(records) == sample.runs, f"expected {sample.runs} record(s){context}"
    assert others[0].startswith(f"{len(records)} run"), context
    errors = [r for r in records if r["verdict"] == "error"]
    for record in records:
        assert record["verdict"] in ("stepped", "smooth", "inconclusive", "error"), context
        if record["verdict"] == "error":
            assert isinstance(record["error"], str) and record["error"], context
            assert record["reason"], context
            assert f"error: {record['error']}" in lines, f"the record's error is not on stderr{context}"
        else:
            assert record["error"] is None, context
        for warning in record.get("warnings", []):
            assert f"warning: {warning}" in lines, f"a record's warning is not on stderr{context}"
    warned = any(line.startswith("warning: ") for line in problems)
    failed = bool(errors) or any(line.startswith("error: ") for line in problems) or (strict and warned)
    assert result.exit_code == (ExitStatus.RUN_FAILED if failed else ExitStatus.OK), context
    return records


# --- byte-level damage: every format ------------------------------------------------------------------------


def original(sample: Sample) -> bytes:
    return ORIGINAL[sample.name]


def _strict(data: st.DataObject) -> tuple[str, ...]:
    return ("--strict",) if data.draw(st.booleans(), "strict") else ()


def _no_checksums(sample: Sample, data: st.DataObject) -> tuple[str, ...]:
    """Binary formats also without their checksums, so that the decoders see the damage instead of the checks
    skipping it."""
    return ("--no-checksums",) if sample.kind == "binary" and data.draw(st.booleans(), "no checksums") else ()


@pytest.mark.parametrize("sample", ALL)
def test_truncated_at_any_byte(sample: Sample) -> None:
    """A run that crashed while writing: the file ends at any byte (0 is the empty file)."""
    raw = original(sample)

    def case(data: st.DataObject) -> None:
        near_end = st.integers(max(0, len(raw) - 64), len(raw))
        cut = data.draw(st.one_of(st.integers(0, len(raw)), near_end), "cut")
        run_case("truncated", sample, raw[:cut], *_strict(data))

    explore(sample, "truncated", case)


@pytest.mark.parametrize("sample", ALL)
def test_bit_flips(sample: Sample) -> None:
    """Bit rot: 1 to 8 flipped bits anywhere."""
    raw = original(sample)

    def case(data: st.DataObject) -> None:
        damaged = bytearray(raw)
        position_and_bit = st.tuples(st.integers(0, len(raw) - 1), st.integers(0, 7))
        for position, bit in data.draw(st.lists(position_and_bit, min_size=1, max_size=8)):
            damaged[position] ^= 1 << bit
        run_case("bit_flips", sample, bytes(damaged), *_no_checksums(sample, data))

    explore(sample, "bit_flips", case)


junk = st.one_of(
    st.binary(min_size=1, max_size=64),
    st.sampled_from(
        [
            b"\x00" * 16,
            b"\xff\xfe\xfd",
            b"\n",
            b"\r\n",
            b"{",
            b"}",
            b"]",
            b",",
            b'"',
            b"NaN",
            b"\x00",
            b"\x80\x81",
            b"\xef\xbb\xbf",
            b":W&B",
            b"PAR1",
        ]
    ),
)


@pytest.mark.parametrize("sample", ALL)
def test_junk_inserted_or_appended(sample: Sample) -> None:
    """Junk bytes in the middle or at the end (an interrupted append, two writers at once)."""
    raw = original(sample)

    def case(data: st.DataObject) -> None:
        where = data.draw(st.one_of(st.just(len(raw)), st.integers(0, len(raw))), "where")
        chunk = data.draw(junk, "junk")
        run_case("junk", sample, raw[:where] + chunk + raw[where:], *_no_checksums(sample, data))

    explore(sample, "junk", case)


@pytest.mark.parametrize("sample", ALL)
def test_random_binary_under_the_known_name(sample: Sample) -> None:
    explore(
        sample,
        "random_binary",
        lambda data: run_case("random_binary", sample, data.draw(st.binary(min_size=1, max_size=4096))),
    )


FOREIGN = {
    "empty": b"",
    "newline": b"\n",
    "blanks": b"   \n\t",
    "zeros": b"\x00" * 4096,
    "png": b"\x89PNG\r\n\x1a\n" + bytes(range(256)),
    "lfs-pointer": b"version https://git-lfs.github.com/spec/v1\noid sha256:00\nsize 12\n",
}


@pytest.mark.parametrize("sample", FIRST_OF_EACH_FORMAT)
@pytest.mark.parametrize("content", list(FOREIGN.values()), ids=list(FOREIGN))
def test_empty_or_foreign_file_under_the_known_name(sample: Sample, content: bytes) -> None:
    run_case("foreign", sample, content)


# --- type damage: JSON --------------------------------------------------------------------------------------


def json_paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Paths to every node of a parsed JSON document."""
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from json_paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from json_paths(item, (*prefix, index))


def get_at(document: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        document = document[key]
    return document


def set_at(document: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    get_at(document, path[:-1])[path[-1]] = value
    return document


def wrong_types(current: Any) -> st.SearchStrategy[Any]:
    """Values of the wrong type or out of range, in place of `current`."""
    options: list[st.SearchStrategy[Any]] = [
        st.none(),
        st.booleans(),
        st.just(math.nan),
        st.just(math.inf),
        st.just(-math.inf),
        st.sampled_from([0, -1, 2**63, -(2**63) - 1, 10**30, 1e308, -1e308, 5e-324]),
        st.text(max_size=6),
        st.just(str(current)),
        st.just([]),
        st.just({}),
        st.floats(allow_nan=True, allow_infinity=True),
        st.integers(-(2**70), 2**70),
    ]
    if isinstance(current, list):
        options.append(st.just({str(i): v for i, v in enumerate(current)}))  # list -> dict
    if isinstance(current, dict):
        options.append(st.just(list(current.values())))  # dict -> list
        options.append(st.just(list(current.items())))
    if isinstance(current, (int, float)) and not isinstance(current, bool):
        options.append(st.just([current]))
    return st.one_of(options)


def damage_json(data: st.DataObject, document: Any, focus: Callable[[tuple[Any, ...]], bool] = lambda p: True) -> Any:
    """1 to 4 nodes of the document replaced by wrong types."""
    for _ in range(data.draw(st.integers(1, 4), "how many")):
        paths = [p for p in json_paths(document) if focus(p)] or [()]
        path = data.draw(st.sampled_from(paths), "path")
        value = data.draw(wrong_types(get_at(document, path)), "value")
        document = set_at(document, path, value)
    return document


def step_damage(data: st.DataObject, entries: list[Any], step_key: str) -> list[Any]:
    """Steps as a broken or restarted run logs them: null, duplicated, decreasing, repeated from a restart."""
    entries = list(entries)
    if not entries:
        return entries
    kinds = ["null", "duplicate", "decrease", "restart", "reverse", "shuffle", "same"]
    kind = data.draw(st.sampled_from(kinds))
    i = data.draw(st.integers(0, len(entries) - 1), "at")
    if kind == "null":
        for j in data.draw(st.lists(st.integers(0, len(entries) - 1), min_size=1, max_size=5)):
            if isinstance(entries[j], dict):
                entries[j] = {**entries[j], step_key: None}
    elif kind == "duplicate":
        entries[i:i] = [entries[i]] * data.draw(st.integers(1, 3))
    elif kind == "decrease":
        for j in range(i, len(entries)):
            if isinstance(entries[j], dict) and isinstance(entries[j].get(step_key), (int, float)):
                entries[j] = {**entries[j], step_key: -entries[j][step_key]}
    elif kind == "restart":  # resumed from an earlier checkpoint: a stretch of steps logged again
        back = data.draw(st.integers(0, i))
        entries[i:i] = entries[back:i]
    elif kind == "reverse":
        entries.reverse()
    elif kind == "shuffle":
        entries = data.draw(st.permutations(entries))
    else:
        entries = [{**e, step_key: 7} if isinstance(e, dict) else e for e in entries]
    return entries


def dump_json(document: Any) -> bytes:
    """As Python's json (the HF Trainer's writer) writes it: NaN and Infinity allowed."""
    return json.dumps(document, indent=2, allow_nan=True, sort_keys=False).encode()


@pytest.mark.parametrize("sample", BY_KIND["json"])
def test_json_wrong_types(sample: Sample) -> None:
    """Numbers as strings, lists as dicts, NaN and infinities, null, huge values, anywhere in the file."""

    def case(data: st.DataObject) -> None:
        document = json.loads(original(sample))
        in_history = data.draw(st.booleans(), "in log_history")
        focus = (lambda p: len(p) >= 1 and p[0] == "log_history") if in_history else (lambda p: True)
        run_case("json_wrong_types", sample, dump_json(damage_json(data, document, focus)), *_strict(data))

    explore(sample, "json_wrong_types", case)


@pytest.mark.parametrize("sample", BY_KIND["json"])
def test_json_values_and_steps(sample: Sample) -> None:
    """The loss values NaN or infinite, and the steps null, duplicated, decreasing or logged again."""

    def case(data: st.DataObject) -> None:
        document = json.loads(original(sample))
        history = document["log_history"]
        bad = data.draw(st.sampled_from([math.nan, math.inf, -math.inf, None, "nan", 1e308]), "bad value")
        share = data.draw(st.sampled_from([0.01, 0.2, 1.0]), "share")
        losses = [e for e in history if "loss" in e]
        for entry in losses[: max(1, int(len(losses) * share))]:
            entry["loss"] = bad
        document["log_history"] = step_damage(data, history, "step")
        run_case("json_values_and_steps", sample, dump_json(document))

    explore(sample, "json_values_and_steps", case)


@pytest.mark.parametrize("sample", BY_KIND["jsonl"])
def test_jsonl_wrong_types_and_lines(sample: Sample) -> None:
    """JSONL logs (trainer_log.jsonl, ms-swift's logging.jsonl, loss tables): wrong types in some lines, steps
    broken, lines cut, doubled or junk."""

    def case(data: st.DataObject) -> None:
        entries = [json.loads(line) for line in original(sample).decode().splitlines() if line.strip()]
        target = data.draw(st.integers(0, len(entries) - 1), "line")
        entries[target] = damage_json(data, entries[target])
        entries = step_damage(data, entries, sample.step_key)
        lines = [json.dumps(e, allow_nan=True) for e in entries]
        op = data.draw(st.sampled_from(["none", "cut-last", "junk-line", "blank-lines", "crlf"]), "line op")
        if op == "cut-last":
            lines[-1] = lines[-1][: data.draw(st.integers(0, len(lines[-1]) - 1))]
        elif op == "junk-line":
            junk_line = data.draw(st.text(max_size=20)).replace("\n", " ")
            lines.insert(data.draw(st.integers(0, len(lines))), junk_line)
        elif op == "blank-lines":
            lines = [x for line in lines for x in (line, "")]
        text = ("\r\n" if op == "crlf" else "\n").join(lines) + "\n"
        run_case("jsonl_wrong_types", sample, text.encode(), *_strict(data))

    explore(sample, "jsonl_wrong_types", case)


# --- line damage: text logs ---------------------------------------------------------------------------------

TOKEN_SEPARATORS = re.compile(r"([\s:,{}'\"|=\r])")


@pytest.mark.parametrize("sample", BY_KIND["text"])
def test_text_lines_damaged(sample: Sample) -> None:
    """Console logs, DiskLogger files, MLflow metric files and YAML: lines dropped, doubled, swapped or cut,
    values replaced by junk, stray ANSI codes and carriage returns."""
    lines = original(sample).decode("utf-8", errors="replace").split("\n")

    def case(data: st.DataObject) -> None:
        out = list(lines)
        for _ in range(data.draw(st.integers(1, 4), "how many")):
            op = data.draw(st.sampled_from(["drop", "double", "cut", "token", "swap", "ansi", "cr", "blank"]))
            i = data.draw(st.integers(0, max(0, len(out) - 1)), "line")
            if not out:
                break
            if op == "drop":
                del out[i]
            elif op == "double":
                out[i:i] = [out[i]] * data.draw(st.integers(1, 3))
            elif op == "cut":
                out[i] = out[i][: data.draw(st.integers(0, len(out[i])))]
            elif op == "token":
                parts = TOKEN_SEPARATORS.split(out[i])
                words = [j for j, part in enumerate(parts) if part and not TOKEN_SEPARATORS.fullmatch(part)]
                if words:
                    parts[data.draw(st.sampled_from(words))] = data.draw(CELLS, "value")
                    out[i] = "".join(parts)
            elif op == "swap":
                j = data.draw(st.integers(0, len(out) - 1))
                out[i], out[j] = out[j], out[i]
            else:
                at = data.draw(st.integers(0, len(out[i])))
                insert = {"ansi": "\x1b[A", "cr": "\r", "blank": "\n"}[op]
                out[i] = out[i][:at] + insert + out[i][at:]
        run_case("text_lines", sample, "\n".join(out).encode("utf-8", errors="replace"), *_strict(data))

    explore(sample, "text_lines", case)


# --- type damage: CSV ---------------------------------------------------------------------------------------

CELLS = st.one_of(
    st.sampled_from(
        [
            "",
            "nan",
            "NaN",
            "inf",
            "-inf",
            "Infinity",
            "abc",
            "1e400",
            "1e30",
            "-1",
            "True",
            "None",
            "-9223372036854775809",
            "9223372036854775808",
            "null",
            "0x10",
            "1,5",
            '"',
            '""',
            " ",
            "1e-400",
        ]
    ),
    st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=8),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)


def csv_rows(raw: bytes) -> list[list[str]]:
    import csv
    import io

    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


def write_csv(rows: list[list[str]]) -> bytes:
    import csv
    import io

    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode()


@pytest.mark.parametrize("sample", BY_KIND["csv"])
def test_csv_wrong_types_and_steps(sample: Sample) -> None:
    """Cells as text, NaN, infinities, huge or empty; rows duplicated, reversed, restarted; ragged rows."""
    rows = csv_rows(original(sample))
    header = rows[0]
    steps = [i for i, name in enumerate(header) if name.lower() in ("step", "_step", "train/global_step")]
    assert steps, f"no step column in {header}"  # else the step damage below would silently hit column 0

    def case(data: st.DataObject) -> None:
        head, body = list(header), [list(row) for row in rows[1:]]
        for _ in range(data.draw(st.integers(1, 6), "cells")):
            r = data.draw(st.integers(0, len(body) - 1), "row")
            c = data.draw(st.one_of(st.sampled_from(steps), st.integers(0, len(head) - 1)), "column")
            if c < len(body[r]):
                body[r][c] = data.draw(CELLS, "cell")
        ops = ["none", "duplicate", "reverse", "restart", "ragged", "drop-column", "only-header"]
        op = data.draw(st.sampled_from(ops))
        if op == "duplicate":
            i = data.draw(st.integers(0, len(body) - 1))
            body[i:i] = [body[i]] * 3
        elif op == "reverse":
            body.reverse()
        elif op == "restart":
            i = data.draw(st.integers(1, len(body) - 1))
            body[i:i] = body[data.draw(st.integers(0, i - 1)) : i]
        elif op == "ragged":
            i = data.draw(st.integers(0, len(body) - 1))
            keep = data.draw(st.integers(0, len(body[i])))
            body[i] = body[i][:keep] + data.draw(st.lists(CELLS, max_size=3))
        elif op == "drop-column":
            c = data.draw(st.integers(0, len(head) - 1))
            head = head[:c] + head[c + 1 :]
            body = [row[:c] + row[c + 1 :] for row in body]
        elif op == "only-header":
            body = []
        run_case("csv_wrong_types", sample, write_csv([head, *body]), *_strict(data))

    explore(sample, "csv_wrong_types", case)


# --- several files of one run -------------------------------------------------------------------------------


@settings(max_examples=15 * SCALE, deadline=None, derandomize=SCALE == 1, database=None)
@given(data=st.data())
def test_damaged_files_of_a_trainer_output_folder(data: st.DataObject) -> None:
    """A Trainer output folder whose own state file and checkpoints are damaged in any combination: one
    record, and every line names a file of the run."""
    top = (SAMPLE_LOGS / "hf-stepped" / "trainer_state.json").read_bytes()
    states = sorted(SAMPLE_LOGS.glob("hf-stepped/checkpoint-*/trainer_state.json"))
    assert states
    checkpoints = {p.parent.name: p.read_bytes() for p in states}

    def maybe_damage(raw: bytes, label: str) -> bytes:
        how = data.draw(st.sampled_from(["intact", "truncated", "empty", "junk"]), label)
        if how == "truncated":
            return raw[: data.draw(st.integers(0, len(raw) - 1), label + " cut")]
        return {"intact": raw, "empty": b"", "junk": b"\x00\xff" * 32}[how]

    sample = sample_named("trainer_state")
    extra = {f"run/{name}/trainer_state.json": maybe_damage(raw, name) for name, raw in checkpoints.items()}
    TRIED["trainer_state", "output_folder"] += 1
    folder, _, target = place(sample, maybe_damage(top, "top"))
    for name, content in extra.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(content)
    try:
        result, printed = invoke(["classify", str(target), "-f", "jsonl", "-j", "1"])
        check(result, printed, sample, (str(target),), strict=False)  # each line names a file of the run
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# --- exact cases: bugs these tests found once, each kept as a test so that it stays fixed -------------------


def run_exact(sample: Sample, data: bytes, *options: str, seconds: int = CASE_SECONDS) -> list[dict]:
    """One case with every check of `check`."""
    TRIED[sample.format, "exact"] += 1
    folder, damaged, target = place(sample, data)
    try:
        result, printed = invoke(["classify", str(target), "-f", "jsonl", "-j", "1", *options], seconds)
        return check(result, printed, sample, names(damaged, target), strict="--strict" in options)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def sample_named(name: str) -> Sample:
    return next(s for s in SAMPLES if s.name == name)


def state_with(index: int, **changes: Any) -> bytes:
    document = json.loads(original(sample_named("trainer_state")))
    document["log_history"][index].update(changes)
    return dump_json(document)


def log_with(index: int, **changes: Any) -> bytes:
    lines = original(sample_named("trainer_log")).decode().splitlines()
    entries = [json.loads(line) for line in lines if line.strip()]
    entries[index].update(changes)
    return ("\n".join(json.dumps(e, allow_nan=True) for e in entries) + "\n").encode()


# A step that is not a finite int64 (NaN, infinite, 1e30) once failed the whole run through an OverflowError in
# the frame; it must cost its entry, with a warning.
@pytest.mark.parametrize("step", [math.inf, math.nan, 1e30], ids=["inf", "nan", "1e30"])
def test_one_bad_step_in_trainer_log_costs_one_line_not_the_run(step: float) -> None:
    [record] = run_exact(sample_named("trainer_log"), log_with(3, current_steps=step))
    assert record["verdict"] != "error", record["error"]
    assert any("skipped" in w for w in record["warnings"])


def test_one_huge_step_in_trainer_state_costs_one_entry_not_the_run() -> None:
    [record] = run_exact(sample_named("trainer_state"), state_with(3, step=10**30))
    assert record["verdict"] == "stepped", record["error"]
    assert any("skipped" in w for w in record["warnings"])


def test_one_huge_step_in_lightning_csv_costs_one_row_not_the_run() -> None:
    rows = csv_rows(original(sample_named("lightning_csv")))
    rows[2][rows[0].index("step")] = "1e30"
    [record] = run_exact(sample_named("lightning_csv"), write_csv(rows))
    assert record["verdict"] != "error", record["error"]
    assert any("skipped" in w for w in record["warnings"])


def test_one_huge_step_in_a_wandb_history_export_costs_one_row() -> None:
    # a step column cast with astype(int64) once wrapped 1e30 to -2**63, which the restart rule took for a
    # resumed run that replaced every point logged before it: half the run was lost
    rows = csv_rows(original(sample_named("wandb_history")))
    rows[50][rows[0].index("train/global_step")] = "1e30"
    [record] = run_exact(sample_named("wandb_history"), write_csv(rows))
    assert record["verdict"] == "stepped" and record["points"] >= 99, record
    assert not any("logged again" in w for w in record["warnings"]), record["warnings"]


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf], ids=["nan", "inf", "-inf"])
def test_non_finite_losses_are_a_warning_that_names_the_file(bad: float) -> None:
    document = json.loads(original(sample_named("trainer_state")))
    for entry in [e for e in document["log_history"] if "loss" in e][:3]:
        entry["loss"] = bad
    [record] = run_exact(sample_named("trainer_state"), dump_json(document))
    assert record["verdict"] == "stepped"
    assert any("3" in w and re.search("NaN|infinite", w) for w in record["warnings"]), record["warnings"]


def test_huge_losses_print_no_python_warnings() -> None:
    # values of 1e308 overflow in the fits; numpy's RuntimeWarnings once reached the user's stderr
    document = json.loads(original(sample_named("trainer_state")))
    for entry in [e for e in document["log_history"] if "loss" in e][:30]:
        entry["loss"] = 1e308
    run_exact(sample_named("trainer_state"), dump_json(document))  # fails on any Python warning


# One stray epoch (2e6) once made one boundary per whole epoch up to it: 16 s for 1e6, 22 GB for 1e9; a stray
# last step of 1e12 failed the run ("Unable to allocate 373 GiB").
def test_one_stray_epoch_value_neither_hangs_nor_changes_the_verdict() -> None:
    records = run_exact(sample_named("trainer_state"), state_with(23, epoch=2e6), seconds=5)
    assert records[0]["verdict"] == "stepped"


def test_one_stray_last_step_in_a_run_without_epochs_is_not_an_error() -> None:
    document = json.loads(original(sample_named("trainer_state")))
    for entry in document["log_history"]:
        entry.pop("epoch", None)
    [e for e in document["log_history"] if "loss" in e][-1]["step"] = 10**12
    [record] = run_exact(sample_named("trainer_state"), dump_json(document), seconds=5)
    assert record["verdict"] != "error", record["error"]


# A bare CR in the first line of any *.csv met during the walk once raised csv.Error out of the walk: every
# other run lost, no file named (see test_tree.py).
@pytest.mark.parametrize("which", ["lightning_csv", "wandb_history", "wandb_csv", "tensorboard_csv"])
def test_a_csv_with_a_bare_cr_in_its_header_is_one_clear_line(which: str) -> None:
    head, _, rest = original(sample_named(which)).partition(b"\n")
    cut = head.index(b",") + 1  # outside any quotes
    folder, damaged, target = place(sample_named(which), head[:cut] + b"\r" + head[cut:] + b"\n" + rest)
    try:
        result, printed = invoke(["classify", str(target), "-f", "jsonl", "-j", "1"])
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    assert not printed
    assert "unexpected failure" not in result.stderr
    assert result.exit_code in (ExitStatus.OK, ExitStatus.RUN_FAILED, ExitStatus.NO_RUNS)
    assert result.exit_code == ExitStatus.OK or str(damaged) in result.stderr


def tfrecords(raw: bytes) -> list[bytes]:
    """The framed records of an intact event file (length, length CRC, data, data CRC), in order."""
    records, pos = [], 0
    while pos < len(raw):
        end = pos + 12 + int.from_bytes(raw[pos : pos + 8], "little") + 4
        records.append(raw[pos:end])
        pos = end
    return records


# The TensorBoard reader's own warnings once named no file, so the lines on stderr could not be traced to a run.
@pytest.mark.parametrize("damage", ["no-scalars", "restart"])
def test_tensorboard_warnings_name_the_file(damage: str) -> None:
    records = tfrecords(original(sample_named("tensorboard")))
    if damage == "no-scalars":
        data = records[0]  # only the file_version event
    else:  # a resumed run: a stretch of intact records written again
        data = b"".join(records + records[40:80])
    [record] = run_exact(sample_named("tensorboard"), data)
    messages = record["warnings"] + ([record["error"]] if record["error"] else [])
    assert messages, record  # run_exact checked that each names the file; there must be one to check


def test_a_restart_is_a_warning_and_the_later_values_win() -> None:
    document = json.loads(original(sample_named("trainer_state")))
    history = document["log_history"]
    # a resumed run logs steps 21-40 again, with other values (another data order, another random state)
    again = [{**e, "loss": e["loss"] + 0.001} if "loss" in e else e for e in history[20:40]]
    document["log_history"] = history[:40] + again + history[40:]
    [record] = run_exact(sample_named("trainer_state"), dump_json(document))
    assert record["verdict"] == "stepped"
    assert any("logged again after a restart" in w for w in record["warnings"])


def test_a_truncated_trainer_log_keeps_every_complete_line() -> None:
    raw = original(sample_named("trainer_log"))
    [record] = run_exact(sample_named("trainer_log"), raw[: len(raw) - 40])
    assert record["verdict"] != "error"
    assert any("skipped" in w for w in record["warnings"])


# --- the harness itself -------------------------------------------------------------------------------------


def test_a_hang_and_a_python_warning_fail_a_case(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    import losscli.api

    sample = sample_named("trainer_state")
    real_read = losscli.api._read
    monkeypatch.setattr(losscli.api, "_read", lambda *a: time.sleep(5) or real_read(*a))
    with pytest.raises(pytest.fail.Exception, match="a hang"):
        run_exact(sample, original(sample), seconds=1)

    def warn(*args: Any) -> Any:
        warnings.warn("overflow encountered in reduce", RuntimeWarning, stacklevel=1)
        return real_read(*args)

    monkeypatch.setattr(losscli.api, "_read", warn)
    with pytest.raises(AssertionError, match="Python warnings printed"):
        run_exact(sample, original(sample))


def test_every_format_got_its_cases() -> None:
    """Runs last (pytest keeps the module's order): every format got at least CASES_PER_FORMAT cases, when every
    mutation test ran (a run of part of the module is skipped here)."""
    planned = {(s.format, test) for s in SAMPLES for test in SHARES[s.kind]}
    if not planned <= set(TRIED):
        pytest.skip(f"part of the module ran: no cases yet for {sorted(planned - set(TRIED))[:3]}...")
    counts = {f: sum(n for (g, _), n in TRIED.items() if g == f) for f in FORMATS}
    short = {f: n for f, n in counts.items() if n < CASES_PER_FORMAT * SCALE}
    assert not short, f"formats with fewer than {CASES_PER_FORMAT * SCALE} mutation cases: {short}"
