"""Follow training logs while they are written, and tell what changes: `losscli watch` as a library.

The pipeline: `growing` says what changed in one file since the last look; a follower per source
(`followers`) reads only what its files gained and keeps the run's points; `schedule.Watcher` finds the runs
(again when a folder changes), gives every follower a look and judges the sources that gained points; `events`
turns successive judgements into events, and `conditions` says which `--exit-on` conditions a run meets.

>>> from losscli.watch import Watcher
>>> watcher = Watcher(["runs/"])
>>> for look in watcher.follow(interval=5):   # doctest: +SKIP
...     for event in look.events:
...         print(event.run, event.event, event.verdict)
"""

from __future__ import annotations

from losscli.watch.conditions import CONDITIONS, met
from losscli.watch.events import Event
from losscli.watch.schedule import Look, Watcher

__all__ = ["CONDITIONS", "Event", "Look", "Watcher", "met"]
