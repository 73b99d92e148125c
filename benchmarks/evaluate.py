"""Evaluate the classifier, and justify its thresholds: confusion tables on real tiny-model runs, a synthetic grid
and public logs, then a sweep of the main thresholds over all three.

    python benchmarks/evaluate.py            # everything (a few minutes)
    python benchmarks/evaluate.py --quick    # a smaller grid and sweep (about a minute)
    python benchmarks/evaluate.py --corpus PATH   # the public logs elsewhere (default: shared/corpus/public above)

1. `benchmarks/eval_runs/`: Trainer runs made by `scripts/make_eval_runs.py` (truth in its LABELS.tsv).
2. A synthetic grid with known truth (tests/synthetic.py): drop size in noise widths, slope inside epochs, noise
   kind, points per epoch, epochs, drop lag, logging smoothing. Aims: no `stepped` for a smooth curve anywhere;
   `stepped` wherever the drop is >= 5 noise widths with >= 10 points per epoch and drift inside the epoch at
   most half the drop. Other cells (3 noise widths, or a drift that dwarfs the drop) are "either": any verdict is
   accepted and reported. Then shapes that are not a staircase (restarts, spikes, sawtooth, wandering noise at
   correlations up to 0.995) and staircases a person marks at a glance that a shared-slope fit missed.
3. The public logs (LABELS.tsv): every `stepped` and `smooth` label, and what the `unclear` ones are called.
4. The sweep: each main threshold varied alone, the others at their defaults; for each value, smooth or
   non-staircase curves called stepped, staircases missed, real runs and labelled public logs judged right.

Runs with the `losscli` on the path first (PYTHONPATH=other/tree compares another version on the same grid).
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import itertools
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the synthetic curves
sys.path.append(str(ROOT))  # the source tree, unless another losscli comes first

from synthetic import Curve, make_run  # noqa: E402

import losscli  # noqa: E402
from losscli.analysis import Settings, analyze  # noqa: E402
from losscli.analysis.boundaries import FROM_CURVE  # noqa: E402
from losscli.frame import Run  # noqa: E402

VERDICTS = ("stepped", "smooth", "inconclusive", "error")
SIGMA = 0.05  # the grid's noise width


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


# --- the inputs, loaded once --------------------------------------------------------------------------------


def real_runs() -> list[tuple[str, str, Run | None]]:
    folder = ROOT / "benchmarks" / "eval_runs"
    labels = folder / "LABELS.tsv"
    if not labels.exists():
        return []
    out = []
    for row in csv.DictReader(labels.open(), delimiter="\t"):
        runs = losscli.load(folder / row["run"])
        out.append((row["run"], row["truth"], runs[0] if runs else None))
    return out


def corpus_runs(folder: Path | None) -> list[tuple[str, str, Run | None]]:
    if folder is None or not (folder / "LABELS.tsv").exists():
        return []
    out: list[tuple[str, str, Run | None]] = []
    for row in csv.DictReader((folder / "LABELS.tsv").open(), delimiter="\t"):
        try:
            runs = losscli.load(folder / row["id"])
        except Exception:  # unreadable on purpose (an LFS pointer): an error, as the command line says
            runs = []
        out.extend((row["id"], row["label"], run) for run in runs or [None])
    return out


def find_corpus(given: Path | None) -> Path | None:
    if given is not None:
        return given
    for base in (ROOT.parent, *ROOT.parents):
        candidate = base / "shared" / "corpus" / "public"
        if candidate.exists():
            return candidate
    return None


@dataclasses.dataclass(frozen=True)
class Case:
    group: str  # the table row it counts in
    truth: str  # "stepped", "smooth" or "either"
    curve: Curve
    with_epochs: bool = True


def grid_cases(quick: bool) -> list[Case]:
    per_epochs = (3, 10, 30, 300) if not quick else (10, 30)
    epochs_list = (2, 5, 10) if not quick else (2, 5)
    smoothings = (1, 10) if not quick else (1,)
    cases = []
    seed = 0
    for pe, ep, drop, slope, kind, lag, sm in itertools.product(
        per_epochs, epochs_list, (0, 3, 5, 10), (0, 5, 20), ("gauss", "spiky"), (0.0, 0.1), smoothings
    ):
        if drop == 0 and lag:
            continue
        curve = Curve(
            per_epoch=pe,
            epochs=ep,
            drop=drop * SIGMA,
            slope=slope * SIGMA,
            noise=SIGMA,
            noise_kind=kind,
            lag=lag,
            smoothing=sm,
            seed=seed,
            start=3.0,
        )
        seed += 1
        # A drop counts as a staircase step when it is >= 5 noise widths and dominates the drift inside the
        # epoch (the corpus's definition: "much larger than the drift inside the neighbouring epochs").
        # (With 3 points an epoch the aim is not set: those cells are reported, not scored.)
        truth = "smooth" if drop == 0 else ("stepped" if drop >= 5 and drop >= 2 * slope else "either")
        cases.append(Case(f"grid {pe}/{drop}", truth, curve))
    return cases


HARD: dict[str, Callable[[int, int], Curve]] = {
    "sawtooth (period 0.37 epoch)": lambda s, pe: Curve(per_epoch=pe, sawtooth=0.4, slope=0.1, noise=0.02, seed=s),
    "sawtooth (period 0.5 epoch)": lambda s, pe: Curve(
        per_epoch=pe, epochs=5, sawtooth=0.2, sawtooth_period=0.5, noise=0.02, seed=s
    ),
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
PHIS = (0.97, 0.98, 0.99, 0.995)
MARKED: dict[str, Callable[[int, int], Curve]] = {
    # a drop that falls over the first fifth of the epoch (70 %), then slides until 0.6 of it
    "drop over a fifth, then a slide": lambda s, pe: Curve(
        per_epoch=pe, epochs=5, drop=0.3, lag=0.2, slide=0.3, noise=0.02, seed=s
    ),
    # one boundary, a third of an epoch before the end, after an epoch that climbed and flattened
    "one boundary, 1/3 epoch after it": lambda s, pe: Curve(
        per_epoch=pe, epochs=4 / 3, drop=0.3, noise=0.05, climb=1.0, climb_until=0.5, seed=s
    ),
}


def shape_cases(quick: bool) -> list[Case]:
    seeds = range(4 if quick else 10)
    cases = [
        Case(name, "smooth", make(s, pe)) for name, make in HARD.items() for s in seeds for pe in (3, 5, 10, 50, 300)
    ]
    cases += [
        Case(
            f"AR({phi}) noise on a decay, 10 epochs",
            "smooth",
            Curve(per_epoch=pe, epochs=10, decay=1.5, noise=0.05, noise_kind="wander", phi=phi, seed=s),
        )
        for phi in PHIS
        for s in range(10 if quick else 40)
        for pe in ((100,) if quick else (50, 100, 300))
    ]
    cases += [Case(name, "stepped", make(s, pe)) for name, make in MARKED.items() for s in seeds for pe in (60, 120)]
    return cases


def unlabelled_cases(quick: bool) -> list[Case]:
    seeds = range(3 if quick else 6)
    makers = {
        **HARD,
        "staircase (drop 6 noise widths)": lambda s, pe: Curve(per_epoch=pe, drop=0.3, noise=0.05, seed=s),
    }
    return [
        Case(name, "stepped" if name.startswith("staircase") else "smooth", make(s, pe), with_epochs=False)
        for name, make in makers.items()
        for s in seeds
        for pe in (20, 50, 300)
    ]


# --- judging -----------------------------------------------------------------------------------------------


def judge(cases: list[Case], settings: Settings) -> list[str]:
    return [analyze(make_run(c.curve, with_epochs=c.with_epochs), settings=settings).verdict for c in cases]


def verdicts_of(runs: list[tuple[str, str, Run | None]], settings: Settings) -> list[str]:
    return [analyze(run, settings=settings).verdict if run is not None else "error" for _, _, run in runs]


def print_real(runs: list[tuple[str, str, Run | None]], settings: Settings) -> None:
    if not runs:
        print("\n(no benchmarks/eval_runs: run scripts/make_eval_runs.py)")
        return
    print("\n1. Real tiny-model Trainer runs (benchmarks/eval_runs)")
    verdicts = verdicts_of(runs, settings)
    for (name, truth, _), verdict in zip(runs, verdicts):
        mark = "" if verdict == truth else "   <-- wrong"
        print(f"  {name:<34} truth {truth:<13} verdict {verdict}{mark}")
    confusion([(t, v) for (_, t, _), v in zip(runs, verdicts)], "confusion (real runs)")


def print_grid(cases: list[Case], verdicts: list[str], elapsed: float) -> None:
    print(f"\n2. Synthetic grid: {len(cases)} curves in {elapsed:.1f} s (noise width {SIGMA})")
    cells: dict[tuple[int, int], list[tuple[str, str]]] = defaultdict(list)
    for c, v in zip(cases, verdicts):
        cells[(c.curve.per_epoch, round(c.curve.drop / SIGMA))].append((c.truth, v))
    drops = (0, 3, 5, 10)
    header = "points/epoch / drop (noise widths)"
    print(f"{header:<36}" + "".join(f"{d:>14}" for d in drops))
    for pe in sorted({k[0] for k in cells}):
        row = []
        for d in drops:
            pairs = cells[(pe, d)]
            if d == 0:
                row.append(f"{sum(v != 'stepped' for _, v in pairs)}/{len(pairs)} not st.")
            elif d >= 5:
                scored = [v for t, v in pairs if t == "stepped"]
                row.append(f"{sum(v == 'stepped' for v in scored)}/{len(scored)} st.")
            else:
                row.append(f"{sum(v == 'stepped' for _, v in pairs)}/{len(pairs)} st.")
        print(f"{pe:<36}" + "".join(f"{c:>14}" for c in row))
    smooth = [(c, v) for c, v in zip(cases, verdicts) if c.truth == "smooth"]
    aim = [(c, v) for c, v in zip(cases, verdicts) if c.truth == "stepped" and c.curve.per_epoch >= 10]
    print(f"smooth curves called stepped: {sum(v == 'stepped' for _, v in smooth)} of {len(smooth)} (aim: 0)")
    missed = [c for c, v in aim if v != "stepped"]
    print(
        f"drops >= 5 noise widths with >= 10 points/epoch called stepped: {len(aim) - len(missed)} of {len(aim)} "
        "(aim: all)"
    )
    if missed:
        by = Counter((c.curve.epochs, c.curve.per_epoch) for c in missed)
        print("  missed by (epochs, points/epoch):", dict(sorted(by.items())))


def print_groups(title: str, cases: list[Case], verdicts: list[str]) -> None:
    print(f"\n{title}")
    groups: dict[str, Counter[str]] = defaultdict(Counter)
    truth = {}
    for c, v in zip(cases, verdicts):
        groups[c.group][v] += 1
        truth[c.group] = c.truth
    for name, counts in groups.items():
        aim = f"(truth {truth[name]})"
        print(f"  {name:<38}{aim:<17}" + ", ".join(f"{v} {n}" for v, n in counts.most_common()))


def print_corpus(runs: list[tuple[str, str, Run | None]], folder: Path | None, settings: Settings) -> None:
    if not runs:
        print(f"\n(no public logs at {folder}: give --corpus)")
        return
    print(f"\n3. Public logs ({folder}, labels by eye)")
    verdicts = verdicts_of(runs, settings)
    for (name, truth, _), verdict in zip(runs, verdicts):
        mark = "" if truth == "unclear" or verdict == truth else "   <-- wrong"
        print(f"  {name:<26} label {truth:<9} verdict {verdict}{mark}")
    confusion(
        [(t, v) for (_, t, _), v in zip(runs, verdicts)],
        "confusion (public logs; `unclear` rows are reported, not scored)",
    )


SWEEP = {
    "min_t": (3.0, 4.0, 5.0, 6.0),
    "min_z": (0.5, 1.0, 2.0),
    "min_share": (0.3, 0.4, 0.5, 0.6, 0.7),
    "placebo_factor": (1.0, 1.5, 2.0, 3.0),
    "min_combined_t": (4.0, 5.0, 6.0),
    "min_advantage": (6.0, 10.0, 20.0),
    "max_lag": (0.1, 0.2, 0.3),
    "near_width": (0.3, 0.4, 0.5),
}
# Thresholds that only the deciding step reads: the sweep measures each run once and decides again.
DECISIONS = {"min_t", "min_z", "min_share", "placebo_factor", "min_combined_t", "min_advantage"}


class Judge:
    """Verdicts under many settings, measuring each run once where only the decision changes."""

    def __init__(self, runs: list[Run | None]) -> None:
        self.runs = runs
        try:
            from losscli.analysis.measure import measure_run
        except ImportError:  # a version of losscli without the separate steps: judged whole every time
            self.measured: list = [None] * len(runs)
            return
        self.measured = [measure_run(r, settings=Settings()) if r is not None else None for r in runs]

    def boundaries(self, name: str, settings: Settings) -> list[tuple[str, list[bool]]]:
        out = []
        for run, measured in zip(self.runs, self.measured):
            if run is None:
                out.append(("error", []))
                continue
            inferred = measured is None or measured.found is None or measured.found.source == FROM_CURVE
            if name in DECISIONS and not inferred:  # the search for an epoch length uses the thresholds too
                from losscli.analysis.decide import decide

                d = decide(measured, settings=settings)
                out.append((d.verdict, [b.stepped for b in d.boundaries]))
            else:
                a = analyze(run, settings=settings)
                out.append((a.verdict, [b.stepped for b in a.boundaries]))
        return out


def sweep(real: list[tuple[str, str, Run | None]], public: list[tuple[str, str, Run | None]]) -> None:
    """Each threshold alone; the others at their defaults, over the quick grid and shapes."""
    cases = [c for c in grid_cases(quick=True) + shape_cases(quick=True) if c.truth != "either"]
    labelled = [r for r in public if r[1] in ("stepped", "smooth")]
    known = {f.name for f in dataclasses.fields(Settings)}
    synthetic = Judge([make_run(c.curve, with_epochs=c.with_epochs) for c in cases])
    reals, publics = Judge([r for _, _, r in real]), Judge([r for _, _, r in labelled])
    smooth_total = sum(c.truth == "smooth" for c in cases)
    stepped_total = sum(c.truth == "stepped" for c in cases)
    print(
        f"\n4. Sweep: each threshold alone, the others at their defaults. {len(cases)} synthetic curves "
        f"({smooth_total} smooth shapes and hard negatives, {stepped_total} staircases, of which "
        f"{sum(c.group in MARKED for c in cases)} shapes a person marks, counted boundary by boundary); "
        f"{len(real)} real runs; {len(labelled)} labelled public logs"
    )
    print(
        f"  {'setting':<22}{'false stepped':>15}{'missed runs':>13}{'marked bounds':>15}{'real right':>12}"
        f"{'public right':>14}"
    )
    defaults = Settings()
    for name, values in SWEEP.items():
        if name not in known:
            print(f"  {name:<22}(not a setting of this version)")
            continue
        for value in values:
            settings = dataclasses.replace(defaults, **{name: value})
            judged = synthetic.boundaries(name, settings)
            false = sum(v == "stepped" for c, (v, _) in zip(cases, judged) if c.truth == "smooth")
            missed = sum(v != "stepped" for c, (v, _) in zip(cases, judged) if c.truth == "stepped")
            marked = [f for c, (_, flags) in zip(cases, judged) if c.group in MARKED for f in flags]
            real_right = sum(v == t for (_, t, _), (v, _) in zip(real, reals.boundaries(name, settings)))
            public_right = sum(v == t for (_, t, _), (v, _) in zip(labelled, publics.boundaries(name, settings)))
            mark = "  <- default" if value == getattr(defaults, name) else ""
            print(
                f"  {name + ' = ' + f'{value:g}':<22}{f'{false}/{smooth_total}':>15}{f'{missed}/{stepped_total}':>13}"
                f"{f'{sum(marked)}/{len(marked)}':>15}{f'{real_right}/{len(real)}':>12}"
                f"{f'{public_right}/{len(labelled)}':>14}{mark}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a smaller grid and sweep")
    parser.add_argument("--corpus", type=Path, help="the public logs with their LABELS.tsv")
    parser.add_argument("--no-sweep", action="store_true", help="only the tables at the default thresholds")
    args = parser.parse_args()
    settings = Settings()
    started = time.perf_counter()
    real = real_runs()
    print_real(real, settings)
    grid = grid_cases(args.quick)
    t0 = time.perf_counter()
    grid_verdicts = judge(grid, settings)
    shapes = shape_cases(args.quick)
    shape_verdicts = judge(shapes, settings)
    print_grid(grid, grid_verdicts, time.perf_counter() - t0)
    print_groups(
        "shapes that are not a staircase, and staircases a person marks (points/epoch 3-300):", shapes, shape_verdicts
    )
    print(
        f"  all of them: {sum(v == 'stepped' for c, v in zip(shapes, shape_verdicts) if c.truth == 'smooth')} "
        f"of {sum(c.truth == 'smooth' for c in shapes)} non-staircases called stepped (aim: 0); "
        f"{sum(v == 'stepped' for c, v in zip(shapes, shape_verdicts) if c.truth == 'stepped')} of "
        f"{sum(c.truth == 'stepped' for c in shapes)} marked staircases found (aim: all)"
    )
    unlabelled = unlabelled_cases(args.quick)
    print_groups(
        "the same with no epoch information (boundaries must be inferred; 20, 50, 300 points/epoch):",
        unlabelled,
        judge(unlabelled, settings),
    )
    folder = find_corpus(args.corpus)
    public = corpus_runs(folder)
    print_corpus(public, folder, settings)
    if not args.no_sweep:
        sweep(real, public)
    print(f"\n(all in {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
