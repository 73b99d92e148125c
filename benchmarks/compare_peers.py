"""losscli beside the two loss-log linters on PyPI, run by run: what losslint and trainspotter report, and what
losscli reports on the same file.

    pip install -e '.[compare]'
    python benchmarks/compare_peers.py                      # sample_logs and the shared corpus
    python benchmarks/compare_peers.py PATH ...             # trainer_state.json files or folders of them

Each peer finding is checked against losscli's record of the same file:

- `also`: losscli reports a finding of the same kind (a spike within two logging intervals of the peer's);
- `boundary drop`: a "spike" that is an epoch-boundary drop (the peer's step is within the boundary tolerance of an
  epoch boundary where losscli measured a drop, or the peer's own score says the loss went down): not a spike;
- `staircase treads`: a "plateau" that holds stepped epoch boundaries: the flat treads of a staircase, which the
  verdict explains (and a plateau must not be);
- `schedule ended`: a "plateau" at the end of a run whose logged learning rate had decayed to a tenth of its peak
  or less: the schedule ending, not a plateau while training goes on;
- `not a finding`: a peer remark that is not a finding of the log (trainspotter's "no warm-up" advice, losscli
  reports the schedule and its warm-up as `lr_schedule` instead; its note on eval-loss jitter);
- `MISSED`: losscli reports nothing like it. Every one is listed with the peer's message, to be read.

The last table counts them per peer, and checks that losscli never calls an epoch-boundary drop a spike.
Peers run as their console scripts from this interpreter's environment (the `compare` extra installs them).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import losscli
from losscli.analysis.result import RunResult

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus" / "public"
# what each peer calls its findings, in losscli's kinds (None: advice about the configuration, not a finding)
LOSSLINT_KINDS = {
    "nan_inf": "nan",
    "loss_spike": "spike",
    "divergence": "divergence",
    "overfitting": "eval_rise",
    "overfit_onset": "eval_rise",
    "plateau": "plateau",
    "stagnation": "plateau",
    "step_regression": "steps_backwards",
    "duplicate_steps": "steps_backwards",
    "non_monotonic_steps": "steps_backwards",
}
TRAINSPOTTER_KINDS = {
    "nan": "nan",
    "spikes": "spike",
    "divergence": "divergence",
    "overfitting": "eval_rise",
    "plateau": "plateau",
    "lr_schedule": None,
    "eval_noise": None,
    "grad_norm": "grad_norm spike",
    "step_order": "steps_backwards",
}


MARKS = ("also", "boundary drop", "staircase treads", "schedule ended", "not a finding", "MISSED")


@dataclass(frozen=True)
class PeerFinding:
    peer: str
    kind: str  # in losscli's words when it has one, else the peer's own name
    step: float | None
    downward: bool  # the peer's own score says the loss went down (a "spike" that is a drop)
    message: str


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="*", type=Path)
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="the shared corpus of public logs (if present)")
    args = parser.parse_args()
    peers = {name: _script(name) for name in ("losslint", "trainspotter")}
    files = _files(args.paths) if args.paths else _files([ROOT / "sample_logs", args.corpus])
    rows, verdicts = [], []
    counts = {peer: dict.fromkeys(("findings", *MARKS), 0) for peer in peers}
    missed: list[tuple[str, PeerFinding]] = []
    ours_at_boundaries = 0
    for file in files:
        [result, *_] = list(losscli.iter_results([file], jobs=1))
        found = _losslint(peers["losslint"], file) + _trainspotter(peers["trainspotter"], file)
        marks = []
        for f in found:
            mark = _judge(f, result)
            counts[f.peer]["findings"] += 1
            counts[f.peer][mark] += 1
            marks.append((f, mark))
            if mark == "MISSED":
                missed.append((_name(file), f))
        ours_at_boundaries += _spikes_at_boundaries(result)
        rows.append((_name(file), result, marks))
        verdicts.append(result.verdict)
    _print_runs(rows)
    _print_counts(counts, ours_at_boundaries, len(files))
    if missed:
        print("\nPeer findings losscli does not report (read each):")
        for name, f in missed:
            print(f"  {name}  {f.peer} {f.kind} @ {_step(f.step)}: {f.message}")


def _script(name: str) -> Path:
    beside = Path(sys.executable).parent / name
    found = beside if beside.exists() else shutil.which(name)
    if not found:
        sys.exit(f"compare_peers: {name} is not installed: pip install -e '.[compare]'")
    return Path(found)


def _files(paths: list[Path]) -> list[Path]:
    """The trainer_state.json files under `paths` (the one format all three tools read), checkpoints left out."""
    out: list[Path] = []
    for path in paths:
        if path.is_file():
            out.append(path)
        elif path.is_dir():
            out.extend(p for p in sorted(path.rglob("trainer_state.json")) if "checkpoint-" not in str(p.parent.name))
    return out


def _name(file: Path) -> str:
    for base in (ROOT / "sample_logs", CORPUS, CORPUS.resolve()):
        if file.is_relative_to(base):
            return str(file.parent.relative_to(base)) or file.name
    return str(file)


def _run(command: list[str]) -> dict[str, Any]:
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    try:
        return json.loads(done.stdout)
    except json.JSONDecodeError:
        return {}


def _losslint(script: Path, file: Path) -> list[PeerFinding]:
    report = _run([str(script), "check", str(file), "--format", "json"])
    out = []
    for f in report.get("findings", []):
        details = f.get("details") or {}
        steps = details.get("steps") or []
        series = str(details.get("series", ""))
        if f.get("check") == "nan_inf" and series not in ("loss", "eval_loss", "train_loss"):
            continue  # NaN in another series (grad_norm): losscli's `nan` is about the losses
        kind = LOSSLINT_KINDS.get(str(f.get("check")), str(f.get("check")))
        if kind == "spike":  # one finding listing every spiking step: one per step, as the others report them
            out.extend(PeerFinding("losslint", kind, float(s), False, str(f.get("message"))) for s in steps)
        else:
            out.append(PeerFinding("losslint", kind, float(steps[0]) if steps else None, False, str(f.get("message"))))
    return out


def _trainspotter(script: Path, file: Path) -> list[PeerFinding]:
    report = _run([str(script), "analyze", str(file), "--output", "json"])
    out = []
    for f in report.get("findings", []):
        detector = str(f.get("detector"))
        evidence = f.get("evidence") or {}
        kind = TRAINSPOTTER_KINDS.get(detector, detector)
        if kind == "divergence" and str(f.get("metric")) == "eval/loss":  # the eval loss: NaN, or rising
            kind = "nan" if "nan" in str(f.get("message")).lower() else "eval_rise"
        step = evidence.get("peak_step", f.get("step_start"))
        z = evidence.get("robust_z")
        downward = isinstance(z, (int, float)) and z < 0
        out.append(
            PeerFinding(
                "trainspotter",
                kind if kind is not None else f"({detector})",
                float(step) if isinstance(step, (int, float)) else None,
                downward,
                str(f.get("message")),
            )
        )
    return out


def _judge(f: PeerFinding, result: RunResult) -> str:
    a = result.analysis
    if f.kind.startswith("("):
        return "not a finding"
    if a is None:
        return "MISSED"
    if f.kind == "spike" and f.step is not None:
        interval = _interval(result)
        if f.downward or any(abs(b.step - f.step) <= max(2 * interval, 0.1 * _epoch_len(result)) for b in a.boundaries):
            return "boundary drop"
        near = [g for g in a.findings if g.kind == "spike" and g.step is not None]
        if any(abs(g.step - f.step) <= 2 * interval for g in near):
            return "also"
        # a run of spiking steps losslint lists one by one while the loss climbs for good: a divergence
        if any(
            g.kind in ("divergence", "nan") and g.step is not None and f.step >= g.step - 2 * interval
            for g in a.findings
        ):
            return "also"
        return "MISSED"
    kinds = {g.kind for g in a.findings}
    if f.kind == "eval_rise" and (a.eval is not None and a.eval.rises):
        return "also"
    if f.kind == "grad_norm spike" and f.step is not None:  # losscli's spike of the norm, or the loss's it caused
        near = [g for g in a.findings if g.kind in ("spike", "divergence", "nan") and g.step is not None]
        return "also" if any(abs(g.step - f.step) <= 3 * _interval(result) for g in near) else "MISSED"
    if f.kind == "plateau" and "plateau" not in kinds:
        if "divergence" in kinds:
            return "also"  # "no improvement" over a stretch where the loss climbs: the divergence
        if any(b.stepped and (f.step is None or b.step > f.step) for b in a.boundaries):
            return "staircase treads"
        if a.lr_schedule is not None and a.lr_schedule.last <= 0.1 * a.lr_schedule.peak:
            return "schedule ended"
    return "also" if f.kind in kinds else "MISSED"


def _interval(result: RunResult) -> float:
    steps = (result.curves.get("train/loss") or {}).get("step") or []
    if len(steps) > 1:
        return float(max(1.0, (steps[-1] - steps[0]) / (len(steps) - 1)))
    return 1.0


def _epoch_len(result: RunResult) -> float:
    a = result.analysis
    if a is None or len(a.boundaries) < 2:
        return 0.0
    return float(a.boundaries[1].step - a.boundaries[0].step)


def _spikes_at_boundaries(result: RunResult) -> int:
    a = result.analysis
    if a is None:
        return 0
    stepped = [b.step for b in a.boundaries if b.stepped]
    return sum(
        1
        for f in a.findings
        if f.kind == "spike" and f.step is not None and any(abs(f.step - s) <= _interval(result) for s in stepped)
    )


def _step(step: float | None) -> str:
    return "-" if step is None else f"{step:g}"


def _print_runs(rows: list[tuple[str, RunResult, list[tuple[PeerFinding, str]]]]) -> None:
    print("| run | losscli | losslint | trainspotter |")
    print("| --- | --- | --- | --- |")
    for name, result, marks in rows:
        a = result.analysis
        ours = [f"{f.kind}@{_step(f.step)}" for f in (a.findings if a else ())]
        causes = [c.kind for c in (a.causes if a else ())]
        schedule = a.lr_schedule.kind if a and a.lr_schedule else "-"
        cell = f"**{result.verdict}**" + (f" ({', '.join(causes)})" if causes else "")
        cell += f"; {', '.join(ours) or 'no findings'}; lr {schedule}"
        by_peer = {
            peer: ", ".join(f"{f.kind}@{_step(f.step)} [{mark}]" for f, mark in marks if f.peer == peer) or "-"
            for peer in ("losslint", "trainspotter")
        }
        print(f"| {name} | {cell} | {by_peer['losslint']} | {by_peer['trainspotter']} |")


def _print_counts(counts: dict[str, dict[str, int]], ours_at_boundaries: int, files: int) -> None:
    print(f"\n{files} files. Peer findings, by what losscli reports on the same file:\n")
    keys = ("findings", *MARKS)
    print("| peer | " + " | ".join(keys) + " |")
    print("| --- | " + " | ".join("---:" for _ in keys) + " |")
    for peer, c in counts.items():
        print(f"| {peer} | " + " | ".join(str(c[k]) for k in keys) + " |")
    print(f"\nlosscli spikes at a stepped epoch boundary: {ours_at_boundaries} (must be 0)")


if __name__ == "__main__":
    main()
