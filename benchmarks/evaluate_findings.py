"""Justify the findings' thresholds: each rule on curves where it must fire and where it must not, at its default
and with its main thresholds varied one at a time.

    python benchmarks/evaluate_findings.py            # about a minute
    python benchmarks/evaluate_findings.py --quick    # fewer seeds

Curves come from tests/synthetic.py (noise width 0.03 unless said):
- must not fire: staircases (sharp drops, drops spread over the first fifth of the epoch with a slide, drops of
  fifty noise widths), a staircase whose loss climbs back late in each epoch, learning-rate restarts, a decay
  still under way (time constant 3 epochs of 5), a steady slope, wandering noise (correlation 0.9);
- spikes must fire: a smooth decay with one jump up of 8 to 40 noise widths, one point or three points wide;
- plateaus must fire: a loss that collapses early or decays fast, then stays flat for epochs (and a decay that
  converged by epoch 3 of 5: two epochs of training with nothing left to gain); divergence must
  fire: a loss that climbs from its lowest level and stays up.
Each row counts curves with the finding (false ones for the "must not" shapes) out of all curves.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the synthetic curves
sys.path.append(str(ROOT))

from synthetic import Curve, make_run, sample  # noqa: E402

from losscli.analysis import Settings, analyze  # noqa: E402
from losscli.frame import EPOCH, TRAIN_LOSS, Run, make_frame  # noqa: E402

PER_EPOCH = (10, 20, 50, 300)


def negatives(seeds: range) -> list[tuple[str, Run]]:
    out = []
    for per_epoch in PER_EPOCH:
        for seed in seeds:
            shapes = {
                "staircase": Curve(per_epoch=per_epoch, epochs=5, drop=0.3, noise=0.03, seed=seed),
                "spread staircase": Curve(
                    per_epoch=per_epoch, epochs=5, drop=0.3, lag=0.2, slide=0.3, noise=0.02, seed=seed
                ),
                "50-width staircase": Curve(per_epoch=per_epoch, epochs=5, drop=0.5, noise=0.01, seed=seed),
                "restarts": Curve(per_epoch=per_epoch, epochs=5, restart=0.3, noise=0.03, seed=seed),
                "slow decay": Curve(per_epoch=per_epoch, epochs=5, decay=1.0, tau=3.0, noise=0.03, seed=seed),
                "steady slope": Curve(per_epoch=per_epoch, epochs=5, slope=0.2, noise=0.03, seed=seed),
                "wandering noise": Curve(
                    per_epoch=per_epoch, epochs=5, decay=0.5, tau=3.0, noise=0.03, noise_kind="wander", seed=seed
                ),
            }
            out.extend((name, make_run(curve)) for name, curve in shapes.items())
            out.append(("climb back late", _climb_back(per_epoch, seed)))
    return out


def _climb_back(per_epoch: int, seed: int) -> Run:
    """Flat, then the loss creeps up over the last third of each epoch, then drops at the boundary."""
    steps = np.arange(1, 5 * per_epoch + 1)
    position = (steps - 1) % per_epoch / per_epoch
    epoch = (steps - 1) // per_epoch
    loss = 2.0 - 0.3 * epoch + np.where(position > 2 / 3, 0.15 * (position - 2 / 3) * 3, 0.0)
    return _run(steps, loss + np.random.default_rng(seed).normal(0, 0.02, len(steps)), per_epoch)


def _run(steps: np.ndarray, loss: np.ndarray, per_epoch: float) -> Run:
    metric = np.array([TRAIN_LOSS] * len(steps) + [EPOCH] * len(steps))
    step = np.r_[steps, steps].astype(np.int64)
    value = np.r_[loss, steps / per_epoch].astype(np.float64)
    frame = make_frame(metric, metric, step, step / per_epoch, value, np.full(len(step), np.nan))
    return Run(name="shape", path=Path("shape"), format="synthetic", scalars=frame)


def spiked(seeds: range) -> list[tuple[str, Run, float]]:
    """Smooth decays with one jump up at mid-run: (label, run, step of the jump)."""
    out = []
    for per_epoch in PER_EPOCH:
        for seed in seeds:
            steps, _, loss = sample(Curve(per_epoch=per_epoch, epochs=5, decay=1.0, noise=0.03, seed=seed))
            at = int(len(steps) * 0.55)
            for height in (8, 15, 40):
                for width in (1, 3):
                    jumped = loss.copy()
                    jumped[at : at + width] += height * 0.03
                    out.append((f"{height} widths x{width}", _run(steps, jumped, per_epoch), float(steps[at])))
    return out


def flat_after_fall(seeds: range) -> list[tuple[str, Run]]:
    out = []
    for per_epoch in PER_EPOCH:
        for seed in seeds:
            out.append(("collapse, flat", make_run(Curve(per_epoch=per_epoch, collapse=True, noise=0.01, seed=seed))))
            out.append(
                ("fast decay, flat", make_run(Curve(per_epoch=per_epoch, epochs=5, decay=1.0, tau=0.3, seed=seed)))
            )
            converged = Curve(per_epoch=per_epoch, epochs=5, decay=1.0, tau=0.8, noise=0.03, seed=seed)
            out.append(("converged by epoch 3", make_run(converged)))
    return out


def diverging(seeds: range) -> list[tuple[str, Run]]:
    out = []
    for per_epoch in PER_EPOCH:
        for seed in seeds:
            steps = np.arange(1, 4 * per_epoch + 1)
            x = steps / steps[-1]
            loss = 3.0 - (1 - np.exp(-x / 0.15)) + np.where(x > 0.75, np.expm1((x - 0.75) / 0.04), 0.0)
            out.append(
                ("climbs and stays", _run(steps, loss + np.random.default_rng(seed).normal(0, 0.03, len(x)), per_epoch))
            )
    return out


def count(runs: list[tuple[str, Run]], kind: str, settings: Settings) -> dict[str, tuple[int, int]]:
    found: dict[str, tuple[int, int]] = {}
    for label, run in runs:
        hit = any(f.kind == kind for f in analyze(run, settings=settings).findings)
        n, total = found.get(label, (0, 0))
        found[label] = (n + hit, total + 1)
    return found


def spikes_found(runs: list[tuple[str, Run, float]], settings: Settings) -> dict[str, tuple[int, int]]:
    found: dict[str, tuple[int, int]] = {}
    for label, run, at in runs:
        steps = [f.step for f in analyze(run, settings=settings).findings if f.kind == "spike" and f.step is not None]
        hit = any(abs(s - at) <= 2 for s in steps)
        n, total = found.get(label, (0, 0))
        found[label] = (n + hit, total + 1)
    return found


def table(title: str, rows: list[tuple[str, dict[str, tuple[int, int]]]]) -> None:
    labels = list(dict.fromkeys(label for _, counts in rows for label in counts))
    print(f"\n{title}")
    print("| setting | " + " | ".join(labels) + " |")
    print("| --- | " + " | ".join("---:" for _ in labels) + " |")
    for name, counts in rows:
        cells = [f"{counts[label][0]}/{counts[label][1]}" if label in counts else "" for label in labels]
        print(f"| {name} | " + " | ".join(cells) + " |")


def sweep(
    field: str, values: tuple[float, ...], measure: Callable[[Settings], dict[str, tuple[int, int]]]
) -> list[tuple[str, dict[str, tuple[int, int]]]]:
    default = getattr(Settings(), field)
    rows = []
    for value in values:
        mark = " (default)" if value == default else ""
        rows.append((f"`{field}` {value:g}{mark}", measure(dataclasses.replace(Settings(), **{field: value}))))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="two seeds instead of five")
    seeds = range(2) if parser.parse_args().quick else range(5)
    calm, spikes, flats, climbs = negatives(seeds), spiked(seeds), flat_after_fall(seeds), diverging(seeds)

    def false_spikes(s: Settings) -> dict[str, tuple[int, int]]:
        return count(calm, "spike", s)

    def true_spikes(s: Settings) -> dict[str, tuple[int, int]]:
        return spikes_found(spikes, s)

    table("Spikes where there are none (curves with any spike)", sweep("spike_z", (4, 5, 6, 8), false_spikes))
    table("Spikes found (the injected jump, within 2 steps)", sweep("spike_z", (4, 5, 6, 8), true_spikes))
    table("Single points: false spikes", sweep("spike_single_factor", (1, 1.5, 2, 3), false_spikes))
    table("Single points: found", sweep("spike_single_factor", (1, 1.5, 2, 3), true_spikes))
    for field, values in (("plateau_progress", (0.01, 0.02, 0.05)), ("plateau_min_epochs", (1.0, 1.5, 2.0))):
        table(f"Plateaus where there are none, by `{field}`", sweep(field, values, lambda s: count(calm, "plateau", s)))
        table(f"Plateaus found, by `{field}`", sweep(field, values, lambda s: count(flats, "plateau", s)))
    for field, values in (("divergence_rise", (0.25, 0.5, 1.0)), ("divergence_z", (3, 5, 8))):
        table(
            f"Divergence where there is none, by `{field}`",
            sweep(field, values, lambda s: count(calm + [(n, r) for n, r, _ in spikes], "divergence", s)),
        )
        table(f"Divergence found, by `{field}`", sweep(field, values, lambda s: count(climbs, "divergence", s)))


if __name__ == "__main__":
    main()
