"""Classify a run's train-loss curve as smooth or stepped at epoch boundaries (the method: docs/method.md)."""

from losscli.analysis.classify import analyze
from losscli.analysis.result import Analysis, Boundary, EvalFinding, RunResult
from losscli.analysis.settings import Settings

__all__ = ["Analysis", "Boundary", "EvalFinding", "RunResult", "Settings", "analyze"]
