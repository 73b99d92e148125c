"""Evaluate the classifier: confusion matrices on real tiny-model runs, a synthetic grid, and public logs.

    python benchmarks/evaluate.py            # everything (about a minute)
    python benchmarks/evaluate.py --quick    # a smaller grid

1. `benchmarks/eval_runs/`: Trainer runs made by `scripts/make_eval_runs.py` (truth in its LABELS.tsv).
2. A synthetic grid with known truth (tests/synthetic.py): drop size in noise widths, slope inside epochs, noise
   kind, points per epoch, epochs, drop lag, logging smoothing; plus shapes that are not a staircase. Aims: no
   `stepped` for a smooth curve anywhere; `stepped` wherever the drop is >= 5 noise widths with >= 10 points per
   epoch and drift inside the epoch at most half the drop. Other cells (3 noise widths, or a drift that
   dwarfs the drop) are "either": any verdict is accepted and reported.
3. The public logs in ../shared/corpus/public (LABELS.tsv): every `stepped` and `smooth` label, and what the
   `unclear` ones are called.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]  # the source tree, and the synthetic curves

from synthetic import Curve, make_run  # noqa: E402

import losscli  # noqa: E402
from losscli.analysis import analyze  # noqa: E402

VERDICTS = ("stepped", "smooth", "inconclusive", "error")


def confusion(pairs: list[tuple[str, str]], title: str) -> None:
    truths = sorted({t for t, _ in pairs})
    counts = Counter(pairs)
    print(f"\n{title}")
    corner = "truth / verdict"
    print(f"{corner:<22}" + "".join(f"{v:>14}" for v in VERDICTS))
    for t in truths:
        print(f"{t:<22}" + "".join(f"{counts[(t, v)]:>14}" for v in VERDICTS))
    judged = [(t, v) for t, v in pairs if t in ("stepped", "smooth", "inconclusive")]
    right = sum(t == v for t, v in judged)
    if judged:
        print(f"accuracy on stepped/smooth/inconclusive truths: {right}/{len(judged)} = {right / len(judged):.1%}")


def eval_runs() -> None:
    folder = ROOT / "benchmarks" / "eval_runs"
    labels = folder / "LABELS.tsv"
    if not labels.exists():
        print("\n(no benchmarks/eval_runs: run scripts/make_eval_runs.py)")
        return
    rows = list(csv.DictReader(labels.open(), delimiter="\t"))
    pairs = []
    print("\n1. Real tiny-model Trainer runs (benchmarks/eval_runs)")
    for row in rows:
        runs = losscli.load(folder / row["run"])
        verdict = analyze(runs[0]).verdict if runs else "error"
        pairs.append((row["truth"], verdict))
        mark = "" if verdict == row["truth"] else "   <-- wrong"
        print(f"  {row['run']:<34} truth {row['truth']:<13} verdict {verdict}{mark}")
    confusion(pairs, "confusion (real runs)")


def grid(quick: bool) -> None:
    per_epochs = (3, 10, 30, 300) if not quick else (10, 30)
    epochs_list = (2, 5, 10) if not quick else (2, 5)
    drops = (0, 3, 5, 10)
    slopes = (0, 5, 20)  # fall inside an epoch, in noise widths per epoch
    kinds = ("gauss", "spiky")
    lags = (0.0, 0.1)
    smoothings = (1, 10) if not quick else (1,)
    sigma = 0.05
    cells: dict[tuple[int, int], list[tuple[str, str]]] = defaultdict(list)
    false_stepped = []
    missed = []
    start = time.perf_counter()
    count = 0
    for pe, ep, drop, slope, kind, lag, sm in itertools.product(
        per_epochs, epochs_list, drops, slopes, kinds, lags, smoothings
    ):
        if drop == 0 and lag:
            continue
        curve = Curve(
            per_epoch=pe,
            epochs=ep,
            drop=drop * sigma,
            slope=slope * sigma,
            noise=sigma,
            noise_kind=kind,
            lag=lag,
            smoothing=sm,
            seed=count,
            start=3.0,
        )
        verdict = analyze(make_run(curve)).verdict
        count += 1
        # A drop counts as a staircase step when it is >= 5 noise widths and dominates the drift inside the
        # epoch (the corpus's definition: "much larger than the drift inside the neighbouring epochs").
        truth = "smooth" if drop == 0 else ("stepped" if drop >= 5 and drop >= 2 * slope else "either")
        cells[(pe, drop)].append((truth, verdict))
        if truth == "smooth" and verdict == "stepped":
            false_stepped.append(curve)
        if truth == "stepped" and pe >= 10 and verdict != "stepped":
            missed.append((curve, verdict))
    # shapes that are not a staircase
    hard = {
        "sawtooth (period 0.37 epoch)": lambda s, pe: Curve(per_epoch=pe, sawtooth=0.4, slope=0.1, noise=0.02, seed=s),
        "learning-rate restarts": lambda s, pe: Curve(per_epoch=pe, restart=0.5, noise=0.03, seed=s),
        "one-point spike at boundaries": lambda s, pe: Curve(
            per_epoch=pe, slope=0.2, boundary_spike=0.5, noise=0.03, seed=s
        ),
        "early collapse, then flat": lambda s, pe: Curve(per_epoch=pe, collapse=True, noise=0.01, seed=s),
        "smooth exponential decay": lambda s, pe: Curve(per_epoch=pe, decay=1.5, noise=0.02, seed=s),
        "decay with wandering noise (AR 0.9)": lambda s, pe: Curve(
            per_epoch=pe, decay=1.5, noise=0.05, noise_kind="wander", seed=s
        ),
    }
    hard_rows = []
    unlabelled = []
    for name, make in {
        **hard,
        "staircase (drop 6 noise widths)": lambda s, pe: Curve(per_epoch=pe, drop=0.3, noise=0.05, seed=s),
    }.items():
        verdicts = Counter(
            analyze(make_run(make(s, pe), with_epochs=False)).verdict for s in range(6) for pe in (20, 50, 300)
        )
        count += 18
        unlabelled.append((name, verdicts))
    for name, make in hard.items():
        verdicts = Counter(analyze(make_run(make(s, pe))).verdict for s in range(10) for pe in (3, 5, 10, 50, 300))
        count += 50
        hard_rows.append((name, verdicts))
    elapsed = time.perf_counter() - start

    print(f"\n2. Synthetic grid: {count} curves in {elapsed:.1f} s (noise width {sigma})")
    header = "points/epoch / drop (noise widths)"
    print(f"{header:<36}" + "".join(f"{d:>14}" for d in drops))
    for pe in per_epochs:
        row = []
        for d in drops:
            pairs = cells[(pe, d)]
            if d == 0:
                ok = sum(v != "stepped" for _, v in pairs)
                row.append(f"{ok}/{len(pairs)} not st.")
            elif d >= 5:
                scored = [v for t, v in pairs if t == "stepped"]
                ok = sum(v == "stepped" for v in scored)
                row.append(f"{ok}/{len(scored)} st.")
            else:
                ok = sum(v == "stepped" for _, v in pairs)
                row.append(f"{ok}/{len(pairs)} st.")
        print(f"{pe:<36}" + "".join(f"{c:>14}" for c in row))
    smooth_pairs = [p for k, v in cells.items() if k[1] == 0 for p in v]
    print(f"smooth curves called stepped: {len(false_stepped)} of {len(smooth_pairs)} (aim: 0)")
    aim = [p for k, v in cells.items() if k[1] >= 5 and k[0] >= 10 for p in v if p[0] == "stepped"]
    print(
        f"drops >= 5 noise widths with >= 10 points/epoch called stepped: "
        f"{len(aim) - len(missed)} of {len(aim)} (aim: all)"
    )
    by_epochs = Counter((c.epochs, c.per_epoch) for c, _ in missed)
    if missed:
        print("  missed by (epochs, points/epoch):", dict(sorted(by_epochs.items())))
    print("\nshapes that are not a staircase (10 seeds x 3, 5, 10, 50, 300 points/epoch):")
    for name, verdicts in hard_rows:
        print(f"  {name:<38}" + ", ".join(f"{v} {n}" for v, n in verdicts.most_common()))
    print("\nthe same with no epoch information (boundaries must be inferred; 6 seeds x 20, 50, 300 points/epoch):")
    for name, verdicts in unlabelled:
        print(f"  {name:<38}" + ", ".join(f"{v} {n}" for v, n in verdicts.most_common()))


def corpus() -> None:
    folder = ROOT.parent / "shared" / "corpus" / "public"
    labels = folder / "LABELS.tsv"
    if not labels.exists():
        print("\n(no ../shared/corpus/public)")
        return
    print("\n3. Public logs (../shared/corpus/public, labels by eye)")
    pairs = []
    for row in csv.DictReader(labels.open(), delimiter="\t"):
        outcome = losscli.classify([folder / row["id"]], jobs=1)
        verdicts = [r.verdict for r in outcome.results] or ["error"]
        for verdict in verdicts:
            truth = row["label"]
            pairs.append((truth, verdict))
            mark = "" if truth == "unclear" or verdict == truth else "   <-- wrong"
            print(f"  {row['id']:<26} label {truth:<9} verdict {verdict}{mark}")
    confusion(pairs, "confusion (public logs; `unclear` rows are reported, not scored)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    eval_runs()
    grid(args.quick)
    corpus()


if __name__ == "__main__":
    main()
