"""`eval_rise`: the eval loss rose from its lowest point (the onset of overfitting), as `eval_findings` measures
it for every run with eval loss; the finding names the lowest point and the checkpoint nearest it."""

from __future__ import annotations

from losscli.analysis.findings.context import Context
from losscli.analysis.result import EvalRiseFinding


def eval_rise_finding(context: Context) -> EvalRiseFinding | None:
    e, points = context.eval, context.eval_points
    if e is None or not e.rises or points is None or not len(points.steps):
        return None
    return EvalRiseFinding(
        step=float(e.best_step),
        epoch=e.best_epoch,
        value=e.best_value,
        checkpoint=e.best_checkpoint,
        last=e.last_value,
        last_step=float(points.steps[-1]),
        rise=e.last_value - e.best_value,
    )
