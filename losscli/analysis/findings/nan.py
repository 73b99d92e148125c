"""`nan`: train or eval losses that are NaN or infinite, and train losses the Trainer's NaN filter logged as 0.0
in their place (values.py finds those stand-ins). Any one of them is a finding: every checkpoint saved after a
non-finite loss is suspect. The finding starts at the first of them."""

from __future__ import annotations

from losscli.analysis.findings.context import Context
from losscli.analysis.result import NanFinding


def nan_finding(context: Context) -> NanFinding | None:
    train, evals = context.train, context.eval_points
    eval_bad = evals.non_finite if evals is not None else 0
    count = train.non_finite + train.stand_ins + eval_bad
    if not count:
        return None
    firsts = [s for s in (train.first_non_finite, evals.first_non_finite if evals else None) if s is not None]
    first = min(firsts) if firsts else None
    return NanFinding(
        step=first,
        epoch=context.epoch_at(first),
        value=None,
        count=count,
        train=train.non_finite,
        eval=eval_bad,
        filtered=train.stand_ins,
    )
