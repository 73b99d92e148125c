"""Property-based and mutation tests: damaged copies of the real sample files of every format, via the CLI.

Every case copies one real file into a fresh folder, damages it (truncation at any byte, bit flips, junk bytes
inserted or appended, an empty file, binary junk under the known name, JSON and CSV values of the wrong type,
NaN and infinities, null, duplicated and decreasing steps) and runs
`losscli classify <path> -f jsonl -j 1` in-process. Whatever the damage:

- no traceback reaches the user, and the exit code is a documented one: 0 or 1 (3 only for an export file
  named on the command line whose damage made it unrecognisable, with a line saying so);
- stdout is valid JSON Lines with the contract keys, one record per run found;
- a run that failed has `verdict: error` and its message, and the exit code is 1 exactly when one failed
  (with `--strict`, also when anything warned);
- every problem is one line on stderr that names the damaged file (or the run folder holding it), and no
  Python warning is printed.

How many cases each test tried is printed at the end of the pytest run ("losscli mutation cases"). Set
`LOSSCLI_FUZZ_SCALE=10` for a ten times deeper run.

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
SUMMARY = re.compile(r"^\d+ runs?: ")
PROBLEM = re.compile(r"^(warning|error|Error): ")
TRIED: Counter[str] = Counter()
KNOWN_HITS: Counter[str] = Counter()

# Bugs found by these tests and not fixed yet. A case that shows one of them is counted (see the terminal
# summary) instead of failing, so that the suite stays green; each has an exact, strictly-xfailed test at the
# end of this module. When the fix lands, the xfail turns into a failure: remove the marker and the entry
# here.
KNOWN_BUGS: dict[str, re.Pattern[str]] = {}
NUMPY_WARNINGS = "numpy-runtime-warnings"  # RuntimeWarnings from the analysis printed on the user's stderr
# Also "unbounded-boundaries": a stray epoch of 1e6 takes 16 s, 1e7 over a minute, 1e9 fills 22 GB of memory.
# The generators below keep step and epoch values within +-STRAY_LIMIT (counting each clamp) so that the suite
# cannot hang, and every case runs under an alarm of CASE_SECONDS; a case that still hangs is counted as this
# bug. Once it is fixed, set STRAY_LIMIT to math.inf and let a hang fail the test.
STRAY_LIMIT = math.inf
CASE_SECONDS = 5


def fuzz(examples: int) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Hypothesis settings for the tests below: fast by default, deeper with LOSSCLI_FUZZ_SCALE."""
    return settings(
        max_examples=examples * SCALE,
        deadline=None,
        derandomize=SCALE == 1,  # the same cases on every CI run; a scaled run explores new ones
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
        ],
        database=None,
    )


# --- the real files, laid out as their writers lay them out -------------------------------------------------


@dataclass(frozen=True)
class Sample:
    """One real file: where it comes from, where it goes in a case folder, what the command line names."""

    name: str
    source: Path
    layout: str  # the file's path inside the case folder
    target: str  # what is passed to `losscli classify`, relative to the case folder
    format: str  # the registry format that must read it
    kind: str  # "json", "jsonl", "csv" or "binary": which type mutations apply
    runs: int | None = 1  # records expected when the file is read; None: at least one

    @property
    def known_name(self) -> bool:
        """Found by its name or its folder, not by content: damage can never make it unrecognisable."""
        return self.kind in ("json", "jsonl", "binary")


def _one(pattern: str) -> Path:
    found = sorted(SAMPLE_LOGS.glob(pattern))
    assert found, f"no sample file matches {pattern}"
    return found[0]


def _wandb_samples() -> list[Sample]:
    files = [
        *sorted(SAMPLE_LOGS.glob("*/wandb/*run-*/run-*.wandb")),
        *sorted(DATA.glob("wandb/typed/wandb/*/run-*.wandb")),
    ]
    return [
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
        "trainer_state",
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
        _one("hf-stepped/runs/*/events.out.tfevents.*"),
        "runs/hf-stepped/" + _one("hf-stepped/runs/*/events.out.tfevents.*").name,
        "runs/hf-stepped",
        "tensorboard",
        "binary",
    ),
]
FORMATS = {f.name for f in all_formats()}


def _param(sample: Sample) -> Any:
    marks = []
    if sample.format not in FORMATS:
        marks.append(pytest.mark.skip(reason=f"no `{sample.format}` reader in losscli.parsers yet"))
    return pytest.param(sample, id=sample.name, marks=marks)


ALL = [_param(s) for s in SAMPLES]
ONE_PER_FORMAT = [
    _param(s)
    for s in SAMPLES
    if s.name
    in (
        "trainer_state",
        "trainer_log",
        "lightning_csv",
        "wandb:hf-stepped",
        "wandb_history",
        "wandb_csv",
        "tensorboard",
    )
]
BY_KIND = {kind: [_param(s) for s in SAMPLES if s.kind == kind] for kind in ("json", "jsonl", "csv")}
ORIGINAL = {s.name: s.source.read_bytes() for s in SAMPLES}


# --- running one case ---------------------------------------------------------------------------------------

_CASES: list[Path] = []  # the folder the case folders go in, made by the fixture below
_numbers = itertools.count()


@pytest.fixture(scope="module", autouse=True)
def _cases_and_counts(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> None:
    """A folder for the cases, and how many each test tried printed in pytest's terminal summary."""
    _CASES[:] = [tmp_path_factory.mktemp("cases")]
    config = request.config
    if not config.pluginmanager.has_plugin("losscli-mutation-counts"):
        config.pluginmanager.register(_CountReporter(), "losscli-mutation-counts")


class _CountReporter:
    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not TRIED:
            return
        terminalreporter.write_sep("=", "losscli mutation cases")
        for test, count in sorted(TRIED.items()):
            terminalreporter.write_line(f"{count:6d}  {test}")
        terminalreporter.write_line(f"{sum(TRIED.values()):6d}  mutation cases tried in all")
        for bug, count in sorted(KNOWN_HITS.items()):
            terminalreporter.write_line(f"{count:6d}  cases showed the known bug {bug!r} (see its xfail)")


def place(sample: Sample, data: bytes) -> tuple[Path, Path, Path]:
    """A fresh case folder holding `data` under the sample's name: (folder, damaged file, path to name)."""
    folder = _CASES[0] / f"case-{next(_numbers)}"
    path = folder / sample.layout
    path.parent.mkdir(parents=True)
    path.write_bytes(data)
    return folder, path, folder / sample.target


def run_case(
    test: str,
    sample: Sample,
    data: bytes,
    strict: bool = False,
    no_checksums: bool = False,
    extra_files: dict[str, bytes] | None = None,
) -> list[dict[str, Any]]:
    """Run classify on a damaged copy and check every promise of the module docstring; return the records."""
    TRIED[test] += 1
    folder, damaged, target = place(sample, data)
    for name, content in (extra_files or {}).items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(content)
    args = ["classify", str(target), "-f", "jsonl", "-j", "1"]
    args += ["--strict"] if strict else []
    args += ["--no-checksums"] if no_checksums else []
    try:
        result, printed = invoke(args)
        return [] if result is None else check(result, printed, sample, names(damaged, target), strict)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


class Hang(BaseException):
    """Raised by the alarm; a BaseException, so that no `except Exception` in losscli swallows it."""


def _alarm(signum: int, frame: Any) -> None:
    raise Hang


def invoke(args: list[str], seconds: int = CASE_SECONDS, known: bool = True) -> tuple[Any | None, list[str]]:
    """The CLI in-process, with the Python warnings it would print on a real stderr (pytest hides them).

    None instead of a result when it ran longer than `seconds`."""
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(seconds)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = runner.invoke(app, args)
    except Hang:
        # So far every hang is "unbounded-boundaries" (a stray epoch or step reached past the clamps below,
        # e.g. through a flipped exponent bit); counted, not failed, until that is fixed.
        if known:
            KNOWN_HITS["unbounded-boundaries (hang)"] += 1
        return None, []
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    printed = []
    for w in caught:
        if known and issubclass(w.category, RuntimeWarning) and "losscli" in str(w.filename):
            continue
        printed.append(warnings.formatwarning(w.message, w.category, w.filename, w.lineno, w.line))
    if len(printed) < len(caught):
        KNOWN_HITS[NUMPY_WARNINGS] += 1
    return result, printed


def names(damaged: Path, target: Path) -> tuple[str, ...]:
    """What a problem line may name: the damaged file, or the folder that is the run (TensorBoard...)."""
    return (f"{damaged}", f"{target}:") if target.is_dir() else (f"{damaged}",)


def check(
    result: Any,
    printed: list[str],
    sample: Sample,
    named: tuple[str, ...],
    strict: bool,
    tolerate_known: bool = True,
) -> list[dict[str, Any]]:
    out, err = result.stdout, result.stderr
    context = f"\nexit {result.exit_code}\nstdout: {out[:2000]}\nstderr: {err[:2000]}"
    assert "Traceback" not in out and "Traceback" not in err, context
    crashed = result.exception is not None and not isinstance(result.exception, SystemExit)
    assert not crashed, f"{result.exception!r}{context}"
    assert not printed, f"Python warnings printed on stderr: {printed}{context}"

    lines = err.splitlines()
    problems = [line for line in lines if PROBLEM.match(line)]
    known = {name for line in problems for name, pattern in KNOWN_BUGS.items() if pattern.search(line)}
    if known and tolerate_known:
        KNOWN_HITS.update(known)
        assert result.exit_code in (ExitStatus.OK, ExitStatus.RUN_FAILED), context
        [json.loads(line) for line in out.splitlines()]
        return []
    others = [line for line in lines if not PROBLEM.match(line)]
    assert all(SUMMARY.match(line) for line in others), f"a stray line (no problem, no summary){context}"
    for line in problems:
        assert any(name in line for name in named), f"a line that names none of {named}: {line!r}{context}"

    if result.exit_code == ExitStatus.NO_RUNS:
        assert not sample.known_name, f"{sample.name} under its own name must always be found{context}"
        assert out == "", context
        assert any("not a training log" in line for line in problems), context
        return []
    assert result.exit_code in (ExitStatus.OK, ExitStatus.RUN_FAILED), context

    records = [json.loads(line) for line in out.splitlines()]  # valid JSON Lines, or the test fails here
    assert all(isinstance(r, dict) and REQUIRED_KEYS <= r.keys() for r in records), context
    if sample.runs is None:
        assert records, context
    else:
        assert len(records) == sample.runs, f"expected {sample.runs} record(s){context}"
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
    failed = bool(errors) or (strict and warned)
    assert result.exit_code == (ExitStatus.RUN_FAILED if failed else ExitStatus.OK), context
    return records


# --- byte-level damage: every format ------------------------------------------------------------------------


def original(sample: Sample) -> bytes:
    return ORIGINAL[sample.name]


@pytest.mark.parametrize("sample", ALL)
@fuzz(6)
@given(data=st.data())
def test_truncated_at_any_byte(sample: Sample, data: st.DataObject) -> None:
    """A run that crashed while writing: the file ends at any byte (0 is the empty file)."""
    raw = original(sample)
    cut = data.draw(st.one_of(st.integers(0, len(raw)), st.integers(max(0, len(raw) - 64), len(raw))), "cut")
    run_case("truncated", sample, raw[:cut], strict=data.draw(st.booleans(), "strict"))


@pytest.mark.parametrize("sample", ALL)
@fuzz(6)
@given(data=st.data())
def test_bit_flips(sample: Sample, data: st.DataObject) -> None:
    """Bit rot: 1 to 8 flipped bits anywhere. Binary formats also without their checksums, so the decoders see
    the damage instead of the checks skipping it."""
    raw = bytearray(original(sample))
    position_and_bit = st.tuples(st.integers(0, len(raw) - 1), st.integers(0, 7))
    flips = data.draw(st.lists(position_and_bit, min_size=1, max_size=8))
    for position, bit in flips:
        raw[position] ^= 1 << bit
    no_checksums = sample.kind == "binary" and data.draw(st.booleans(), "no_checksums")
    run_case("bit_flips", sample, bytes(raw), no_checksums=no_checksums)


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
@fuzz(5)
@given(data=st.data())
def test_junk_inserted_or_appended(sample: Sample, data: st.DataObject) -> None:
    """Junk bytes in the middle or at the end (an interrupted append, two writers at once)."""
    raw = original(sample)
    where = data.draw(st.one_of(st.just(len(raw)), st.integers(0, len(raw))), "where")
    chunk = data.draw(junk, "junk")
    no_checksums = sample.kind == "binary" and data.draw(st.booleans(), "no_checksums")
    run_case("junk", sample, raw[:where] + chunk + raw[where:], no_checksums=no_checksums)


FOREIGN = {
    "empty": b"",
    "newline": b"\n",
    "blanks": b"   \n\t",
    "zeros": b"\x00" * 4096,
    "png": b"\x89PNG\r\n\x1a\n" + bytes(range(256)),
    "lfs-pointer": b"version https://git-lfs.github.com/spec/v1\noid sha256:00\nsize 12\n",
}


@pytest.mark.parametrize("sample", ONE_PER_FORMAT)
@pytest.mark.parametrize("content", list(FOREIGN.values()), ids=list(FOREIGN))
def test_empty_or_foreign_file_under_the_known_name(sample: Sample, content: bytes) -> None:
    run_case("empty_or_foreign", sample, content)


@pytest.mark.parametrize("sample", ALL)
@fuzz(3)
@given(blob=st.binary(min_size=1, max_size=4096))
def test_random_binary_under_the_known_name(sample: Sample, blob: bytes) -> None:
    run_case("random_binary", sample, blob)


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


def stray(key: Any, value: Any) -> Any:
    """Keep a step or epoch value out of the range where the known bug "unbounded-boundaries" hangs."""
    if not isinstance(key, str) or not re.search("step|epoch", key, re.IGNORECASE):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return value
    if STRAY_LIMIT < abs(value) < 9e18:  # from 2**63 on, the values fail fast (known bug "step-overflow")
        KNOWN_HITS["unbounded-boundaries (clamped)"] += 1
        return math.copysign(STRAY_LIMIT, value)
    return value


def clamp_tree(value: Any, key: Any = None) -> Any:
    if isinstance(value, dict):
        return {k: clamp_tree(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [clamp_tree(v, key) for v in value]
    return stray(key, value)


def damage_json(data: st.DataObject, document: Any, focus: Callable[[tuple[Any, ...]], bool] = lambda p: True) -> Any:
    """1 to 4 nodes of the document replaced by wrong types."""
    for _ in range(data.draw(st.integers(1, 4), "how many")):
        paths = [p for p in json_paths(document) if focus(p)] or [()]
        path = data.draw(st.sampled_from(paths), "path")
        value = data.draw(wrong_types(get_at(document, path)), "value")
        value = clamp_tree(value, path[-1] if path else None)
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
@fuzz(20)
@given(data=st.data())
def test_json_wrong_types(sample: Sample, data: st.DataObject) -> None:
    """Numbers as strings, lists as dicts, NaN and infinities, null, huge values, anywhere in the file."""
    document = json.loads(original(sample))
    in_history = data.draw(st.booleans(), "in log_history")
    focus = (lambda p: len(p) >= 1 and p[0] == "log_history") if in_history else (lambda p: True)
    run_case(
        "json_wrong_types",
        sample,
        dump_json(damage_json(data, document, focus)),
        strict=data.draw(st.booleans(), "strict"),
    )


@pytest.mark.parametrize("sample", BY_KIND["json"])
@fuzz(12)
@given(data=st.data())
def test_json_values_and_steps(sample: Sample, data: st.DataObject) -> None:
    """The loss values NaN or infinite, and the steps null, duplicated, decreasing or logged again."""
    document = json.loads(original(sample))
    history = document["log_history"]
    bad = data.draw(st.sampled_from([math.nan, math.inf, -math.inf, None, "nan", 1e308]), "bad value")
    share = data.draw(st.sampled_from([0.01, 0.2, 1.0]), "share")
    losses = [e for e in history if "loss" in e]
    for entry in losses[: max(1, int(len(losses) * share))]:
        entry["loss"] = bad
    document["log_history"] = step_damage(data, history, "step")
    run_case("json_values_and_steps", sample, dump_json(document))


@pytest.mark.parametrize("sample", BY_KIND["jsonl"])
@fuzz(25)
@given(data=st.data())
def test_jsonl_wrong_types_and_lines(sample: Sample, data: st.DataObject) -> None:
    """trainer_log.jsonl: wrong types in some lines, steps broken, lines cut, doubled or junk."""
    entries = [json.loads(line) for line in original(sample).decode().splitlines() if line.strip()]
    target = data.draw(st.integers(0, len(entries) - 1), "line")
    entries[target] = damage_json(data, entries[target])
    entries = step_damage(data, entries, "current_steps")
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
    run_case("jsonl_wrong_types", sample, text.encode(), strict=data.draw(st.booleans(), "strict"))


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


def stray_cell(column: str, cell: str) -> str:
    try:
        value = float(cell)
    except ValueError:
        return cell
    clamped = stray(column, value)
    return cell if clamped == value else repr(clamped)


@pytest.mark.parametrize("sample", BY_KIND["csv"])
@fuzz(12)
@given(data=st.data())
def test_csv_wrong_types_and_steps(sample: Sample, data: st.DataObject) -> None:
    """Cells as text, NaN, infinities, huge or empty; rows duplicated, reversed, restarted; ragged rows."""
    rows = csv_rows(original(sample))
    header, body = rows[0], rows[1:]
    step_column = next((i for i, name in enumerate(header) if name in ("step", "_step", "Step")), 0)
    for _ in range(data.draw(st.integers(1, 6), "cells")):
        r = data.draw(st.integers(0, len(body) - 1), "row")
        c = data.draw(st.one_of(st.just(step_column), st.integers(0, len(header) - 1)), "column")
        body[r] = list(body[r])
        if c < len(body[r]):
            body[r][c] = stray_cell(header[c], data.draw(CELLS, "cell"))
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
        extra = data.draw(st.lists(CELLS, max_size=3))
        columns = [*header[keep:], *[""] * len(extra)]
        body[i] = body[i][:keep] + [stray_cell(column, cell) for column, cell in zip(columns, extra)]
    elif op == "drop-column":
        c = data.draw(st.integers(0, len(header) - 1))
        header = header[:c] + header[c + 1 :]
        body = [row[:c] + row[c + 1 :] for row in body]
    elif op == "only-header":
        body = []
    run_case("csv_wrong_types", sample, write_csv([header, *body]), strict=data.draw(st.booleans(), "strict"))


# --- several files of one run -------------------------------------------------------------------------------


@fuzz(15)
@given(data=st.data())
def test_damaged_files_of_a_trainer_output_folder(data: st.DataObject) -> None:
    """A Trainer output folder whose own state file and checkpoints are damaged in any combination: one
    record, and every line names a file of the run."""
    top = (SAMPLE_LOGS / "hf-stepped" / "trainer_state.json").read_bytes()
    states = sorted(SAMPLE_LOGS.glob("hf-stepped/checkpoint-*/trainer_state.json"))
    checkpoints = {p.parent.name: p.read_bytes() for p in states}

    def maybe_damage(raw: bytes, label: str) -> bytes:
        how = data.draw(st.sampled_from(["intact", "truncated", "empty", "junk"]), label)
        if how == "truncated":
            return raw[: data.draw(st.integers(0, len(raw) - 1), label + " cut")]
        return {"intact": raw, "empty": b"", "junk": b"\x00\xff" * 32}[how]

    sample = Sample(
        "trainer_output",
        SAMPLE_LOGS / "hf-stepped" / "trainer_state.json",
        "run/trainer_state.json",
        "run",
        "trainer_state",
        "json",
    )
    extra = {f"run/{name}/trainer_state.json": maybe_damage(raw, name) for name, raw in checkpoints.items()}
    TRIED["trainer_output_folder"] += 1
    folder, _, target = place(sample, maybe_damage(top, "top"))
    for name, content in extra.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(content)
    try:
        result, printed = invoke(["classify", str(target), "-f", "jsonl", "-j", "1"])
        if result is not None:
            check(result, printed, sample, (str(target),), strict=False)  # each line names a file of the run
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# --- the bugs found by the tests above, one exact case each -------------------------------------------------
# Each is strictly xfailed: it fails today, and the suite turns red once the fix lands, so that the marker
# (and the matching KNOWN_BUGS entry) is removed. The diagnosis and the proposed patch are in the test's
# reason.


def run_exact(sample: Sample, data: bytes, *options: str, seconds: int = CASE_SECONDS) -> list[dict]:
    """One case with every check and no tolerance of known bugs."""
    TRIED["exact"] += 1
    folder, damaged, target = place(sample, data)
    try:
        args = ["classify", str(target), "-f", "jsonl", "-j", "1", *options]
        result, printed = invoke(args, seconds, known=False)
        assert result is not None, f"took more than {seconds} s"
        return check(
            result,
            printed,
            sample,
            names(damaged, target),
            strict="--strict" in options,
            tolerate_known=False,
        )
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


# parse_trainer_log does int(entry["current_steps"]) on NaN and inf, and a step beyond int64 (trainer_state
# `step`, trainer_log `current_steps`, Lightning `step`) overflows in frame.make_frame; the exception reaches
# judge_source's catch-all, which fails the whole run ("<folder>: could not be read (OverflowError: ...)"),
# naming the folder. Fix: skip such entries with the other unusable ones (trainer_output._step,
# lightning_csv._float).
STEP_OVERFLOW = "bug step-overflow: one bad step fails (or halves) the whole run"


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
    # wandb_history.history_frame casts the step column with astype(int64): 1e30 wraps to -2**63, which the
    # restart rule takes for a resumed run that replaces every point logged before it: half the run is lost.
    rows = csv_rows(original(sample_named("wandb_history")))
    rows[50][rows[0].index("train/global_step")] = "1e30"
    [record] = run_exact(sample_named("wandb_history"), write_csv(rows))
    assert record["verdict"] == "stepped" and record["points"] >= 99, record
    assert not any("logged again" in w for w in record["warnings"]), record["warnings"]


# analyze() leaves NaN and infinite train-loss values out with a note that names no file and never reaches
# stderr; issue 7 wants a one-line warning that names the file. Fix: judge_source counts them and warns.
@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf], ids=["nan", "inf", "-inf"])
def test_non_finite_losses_are_a_warning_that_names_the_file(bad: float) -> None:
    document = json.loads(original(sample_named("trainer_state")))
    for entry in [e for e in document["log_history"] if "loss" in e][:3]:
        entry["loss"] = bad
    [record] = run_exact(sample_named("trainer_state"), dump_json(document))
    assert record["verdict"] == "stepped"
    assert any("3" in w and re.search("NaN|infinite", w) for w in record["warnings"]), record["warnings"]


# Huge finite losses (1e308) overflow in analysis/fits.py; numpy's RuntimeWarnings reach the user's stderr as
# two-line messages that name losscli's source file, not the log. Fix: analyze under
# np.errstate(all="ignore").
def test_huge_losses_print_no_python_warnings() -> None:
    document = json.loads(original(sample_named("trainer_state")))
    for entry in [e for e in document["log_history"] if "loss" in e][:30]:
        entry["loss"] = 1e308
    run_exact(sample_named("trainer_state"), dump_json(document))  # fails on any printed Python warning


# boundaries.from_epoch_values makes one boundary per whole epoch up to the largest epoch value (np.arange and
# a Python loop), from_steps_per_epoch one per epoch up to the last step: one stray epoch of 1e6 takes 16 s,
# 1e7 over a minute, 1e9 fills 22 GB; a stray last step of 1e12 fails the run ("Unable to allocate 373 GiB");
# a stray epoch of 3000 silently turns "stepped" into "inconclusive". Fix: ignore lone epoch spikes, cap
# boundaries.
UNBOUNDED = "bug unbounded-boundaries: one stray epoch or step hangs or changes the verdict"


def test_one_stray_epoch_value_neither_hangs_nor_changes_the_verdict() -> None:
    records = run_exact(sample_named("trainer_state"), state_with(23, epoch=2e6), seconds=1)
    assert records[0]["verdict"] == "stepped"


def test_one_stray_last_step_in_a_run_without_epochs_is_not_an_error() -> None:
    document = json.loads(original(sample_named("trainer_state")))
    for entry in document["log_history"]:
        entry.pop("epoch", None)
    [e for e in document["log_history"] if "loss" in e][-1]["step"] = 10**12
    [record] = run_exact(sample_named("trainer_state"), dump_json(document), seconds=1)
    assert record["verdict"] != "error", record["error"]


# lightning_csv._header() calls csv.reader without catching csv.Error, so a bare CR in the first line of ANY
# *.csv met during the walk raises out of find_sources: "Error: unexpected failure (Error: new-line character
# seen in unquoted field ...)", no file named, every other run lost (see test_tree.py). Fix: catch csv.Error.
@pytest.mark.parametrize("which", ["lightning_csv", "wandb_history", "wandb_csv"])
def test_a_csv_with_a_bare_cr_in_its_header_is_one_clear_line(which: str) -> None:
    head, _, rest = original(sample_named(which)).partition(b"\n")
    cut = head.index(b",") + 1  # outside any quotes
    folder, damaged, target = place(sample_named(which), head[:cut] + b"\r" + head[cut:] + b"\n" + rest)
    try:
        result, _ = invoke(["classify", str(target), "-f", "jsonl", "-j", "1"], known=False)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    assert result is not None
    assert "unexpected failure" not in result.stderr
    assert result.exit_code in (ExitStatus.RUN_FAILED, ExitStatus.NO_RUNS)
    assert str(damaged) in result.stderr


def tfrecords(raw: bytes) -> list[bytes]:
    """The framed records of an intact event file (length, length CRC, data, data CRC), in order."""
    records, pos = [], 0
    while pos < len(raw):
        end = pos + 12 + int.from_bytes(raw[pos : pos + 8], "little") + 4
        records.append(raw[pos:end])
        pos = end
    return records


# parsers/tensorboard.py read_tensorboard appends "no scalar summaries in the event files" and "N points
# logged again after a restart; ..." without a path, so the lines on stderr cannot be traced to a run (every
# other reader starts its messages with the file). Fix: prefix both with f"{source.path}: ".
@pytest.mark.skipif("tensorboard" not in FORMATS, reason="no `tensorboard` reader registered yet")
@pytest.mark.parametrize("damage", ["no-scalars", "restart"])
def test_tensorboard_warnings_name_the_file(damage: str) -> None:
    records = tfrecords(original(sample_named("tensorboard")))
    if damage == "no-scalars":
        data = records[0]  # only the file_version event
    else:  # a resumed run: a stretch of intact records written again
        data = b"".join(records + records[40:80])
    run_exact(sample_named("tensorboard"), data)


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
