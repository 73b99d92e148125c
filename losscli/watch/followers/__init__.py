"""Followers: one per source, each reading only what its files gained since the last look (`base`).

Formats with their own follower: TensorBoard (`event_files`), W&B run folders (`transaction_log`), Trainer output
folders (`trainer_output`). Every format whose `Format.line_parser` gives a parser is followed by appended lines
(`lines`): that is how a new text format plugs in, with no change here. Any other format is read whole again when
its files change (`base.WholeSource`).
"""

from __future__ import annotations

from losscli.parsers import get_format
from losscli.parsers.base import ReadOptions, Source
from losscli.watch.followers.base import Follower, WholeSource
from losscli.watch.followers.event_files import EventFiles
from losscli.watch.followers.lines import Lines
from losscli.watch.followers.trainer_output import TrainerOutput
from losscli.watch.followers.transaction_log import TransactionLog

__all__ = ["Follower", "follower_for"]

_OWN: dict[str, type[Follower]] = {
    "tensorboard": EventFiles,
    "wandb_run": TransactionLog,
    "trainer_state": TrainerOutput,
}


def follower_for(source: Source, options: ReadOptions) -> Follower:
    """The follower of one source (module docstring)."""
    own = _OWN.get(source.format)
    if own is not None:
        return own(source, options)
    if get_format(source.format).line_parser(source, options) is not None:
        return Lines(source, options)
    return WholeSource(source, options)
