"""A Trainer's log entries as columns: many entries converted at once, each by the same rule.

The HF Trainer logs a dict at each logging step (`{epoch, grad_norm, learning_rate, loss, step}`), one after each
evaluation (`eval_*` keys) and a closing summary; LLaMA-Factory's log lines are the same dicts under other keys.
The rule for one entry is `trainer_dicts.entry_records` (its `step` must be a usable number, or it is skipped);
this module applies the same rule to many entries at once.

Converting a million entries one at a time into point tuples costs more than parsing the JSON, and ten times the
file's size in memory. `History.add` takes consecutive entries with the same keys (nearly all of them: the train
entries between two evaluations) together, key by key, into numpy columns; only groups with a value that is not a
plain number go through `entry_records` one entry at a time. `History.frame` names the tags (`name_metrics`) and
applies the restart rule on arrays that are already grouped by tag, so the common case moves no data.
"""

from __future__ import annotations

from itertools import compress
from operator import itemgetter, ne
from typing import TYPE_CHECKING, Any

from losscli.frame import EPOCH, Columns
from losscli.metric_names import name_metrics
from losscli.parsers.records import Record, number, usable_step
from losscli.parsers.trainer_dicts import entry_records, eval_loss_named, is_summary, trainer_name
from losscli.restarts import Restarts, resolve_codes

if TYPE_CHECKING:
    import numpy as np

_NUMBERS = frozenset({int, float})
_GROUP = 8  # entries with the same keys worth converting as columns; fewer cost less one at a time
_INT64 = 2.0**63


class History:
    """The points of a log's entries, added in logged order (`add`), kept as numpy columns per tag."""

    def __init__(self) -> None:
        self.tags: dict[str, int] = {}  # tag -> number, in first-seen order
        # per tag, pieces in logged order: (key, entry numbers, steps, epochs, values); key None: keys per point
        self.pieces: list[list[tuple[Any, np.ndarray, np.ndarray, np.ndarray, np.ndarray]]] = []
        self.entries = 0  # entries added so far
        self.skipped = 0  # entries without a usable step, or with a value of the wrong type
        self.summary: dict[str, Any] | None = None
        self.last_step = -1  # the last step of a point
        self.points = 0

    def __len__(self) -> int:
        return self.points

    def copy(self) -> History:
        """Another history with the same points (the arrays shared), for a `frame` that leaves this one whole."""
        other = History()
        other.tags = dict(self.tags)
        other.pieces = [list(pieces) for pieces in self.pieces]
        other.entries, other.skipped, other.points = self.entries, self.skipped, self.points
        other.summary, other.last_step = self.summary, self.last_step
        return other

    def add(self, entries: list[Any]) -> None:
        """Entries in logged order (a piece of a `log_history` list, say), after those added before."""
        first, count = self.entries, len(entries)
        if not count:
            return
        self.entries += count
        keys: list[tuple[str, ...] | None]
        if set(map(type, entries)) == {dict}:
            keys = list(map(tuple, entries))  # each entry's keys, in C loops
        else:
            keys = [tuple(e) if type(e) is dict else None for e in entries]
        bounds = [0, *compress(range(1, count), map(ne, keys[1:], keys[:-1])), count]
        for start, end in zip(bounds[:-1], bounds[1:]):  # runs of entries with the same keys
            chunk = entries[start:end]
            if keys[start] is None:  # not a dict
                self.skipped += end - start
            elif end - start < _GROUP or not self._add_same_keys(keys[start] or (), chunk, first + start):
                self._add_one_by_one(chunk, first + start)

    def _add_same_keys(self, keys: tuple[str, ...], chunk: list[dict[str, Any]], first: int) -> bool:
        """Entries with the same keys, column by column; False (nothing added) when a value needs the rule for
        one entry at a time."""
        import numpy as np

        count = len(chunk)
        if "step" not in keys:
            self.skipped += count
            return True
        rows = map(itemgetter(*keys), chunk) if len(keys) > 1 else ((e[keys[0]],) for e in chunk)
        columns = dict(zip(keys, zip(*rows)))
        steps = _steps(columns["step"])
        if steps is None:
            return False
        if is_summary(chunk[-1]):
            self.summary = {k: v for k, v in chunk[-1].items() if number(v) is not None}
            return True
        values: list[tuple[str, str, np.ndarray]] = []
        evaluation = any(k.startswith("eval_") for k in keys)
        for key in keys:
            tag = None if key in ("step", "epoch") else trainer_name(key)
            if tag is not None:
                column = _numbers(columns[key])
                if column is None:
                    return False
                values.append((tag, key, column))
        tags = [tag for tag, _, _ in values] + ([EPOCH] if "epoch" in keys and not evaluation else [])
        if len(set(tags)) < len(tags):  # two keys with one tag (`loss`, `train/loss`): points entry by entry
            return False
        epochs = _numbers(columns["epoch"]) if "epoch" in keys else np.full(count, np.nan)
        if epochs is None:
            return False
        numbers = np.arange(first, first + count)
        for tag, key, column in values:
            self._piece(tag, key, numbers, steps, epochs, column)
        if "epoch" in keys and not evaluation:
            self._piece(EPOCH, "epoch", numbers, steps, epochs, epochs)
        return True

    def _add_one_by_one(self, chunk: list[dict[str, Any]], first: int) -> None:
        """Entries by the rule for one entry (`entry_records`), gathered per tag."""
        import numpy as np

        found: dict[str, tuple[list[Any], ...]] = {}
        for entry_number, entry in enumerate(chunk, first):
            step = usable_step(entry.get("step"))
            if step is None:
                self.skipped += 1
                continue
            if is_summary(entry):
                self.summary = {k: v for k, v in entry.items() if number(v) is not None}
                continue
            records: list[Record] = []
            self.skipped += entry_records(entry, step, records)
            for tag, key, at, epoch, value, _ in records:
                lists = found.setdefault(tag, ([], [], [], [], []))
                for column, item in zip(lists, (key, entry_number, at, epoch, value)):
                    column.append(item)
        for tag, (keys, numbers, steps, epochs, values) in found.items():
            logged: Any = keys[0] if len(set(keys)) == 1 else np.asarray(keys, dtype=object)
            arrays = (np.asarray(numbers), np.asarray(steps, np.int64), np.asarray(epochs), np.asarray(values))
            self._piece(tag, logged, *arrays)

    def _piece(self, tag: str, key: Any, entries: Any, steps: Any, epochs: Any, values: Any) -> None:
        """Points of one tag: `key` the key they were logged under (an array of keys if they differ)."""
        number_of_tag = self.tags.setdefault(tag, len(self.tags))
        if number_of_tag == len(self.pieces):
            self.pieces.append([])
        self.pieces[number_of_tag].append((key, entries, steps, epochs, values))
        self.points += len(entries)
        self.last_step = max(self.last_step, int(steps.max()))

    def frame(self) -> tuple[Columns, Restarts, list[str]]:
        """The points as the frame's columns: tags named by the one naming rule, grouped by metric in first-seen
        order, the restart rule applied (`losscli.restarts`); what it found; the naming notes. This uses the
        history up (its pieces are let go as they are copied): `copy` it first to keep it."""
        import numpy as np

        tags = list(self.tags)
        counts = [sum(len(p[1]) for p in pieces) for pieces in self.pieces]
        naming = name_metrics(tags, points=counts)
        metrics = eval_loss_named(list(naming.metrics))
        names = list(dict.fromkeys(metrics))
        if not self.points:
            nothing = np.zeros(0)
            empty = Columns(nothing.astype(object), nothing.astype(object), nothing.astype(np.int64), *[nothing] * 3)
            return empty, Restarts(), naming.notes
        groups = [[t for t, m in enumerate(metrics) if m == name] for name in names]
        # the columns grouped by metric, filled piece by piece (each piece let go once copied)
        step = np.empty(self.points, dtype=np.int64)
        epoch, value = np.empty(self.points), np.empty(self.points)
        key = np.empty(self.points, dtype=object)
        sizes, at = [], 0
        for group in groups:
            pieces = [piece for t in group for piece in self.pieces[t]]
            for t in group:
                self.pieces[t] = []
            start = at
            for piece in pieces:
                end = at + len(piece[1])
                key[at:end], step[at:end], epoch[at:end], value[at:end] = piece[0], piece[2], piece[3], piece[4]
                at = end
            if len(group) > 1:  # two tags with one metric name: their points in logged order
                order = start + np.argsort(np.concatenate([p[1] for p in pieces]), kind="stable")
                for column in (key, step, epoch, value):
                    column[start:at] = column[order]
            sizes.append(at - start)
            del pieces
        self.points = 0
        code = np.repeat(np.arange(len(names)), sizes)
        resolved = resolve_codes(code, step=step, value=value, epoch=epoch, names=names)
        metric = np.repeat(np.asarray(names, dtype=object), resolved.counts)
        if resolved.order is not None:
            key, epoch, value = key[resolved.order], epoch[resolved.order], value[resolved.order]
        wall = np.full(len(resolved.step), np.nan)
        return Columns(metric, key, resolved.step, epoch, value, wall), resolved.restarts, naming.notes


def _steps(column: tuple[Any, ...]) -> np.ndarray | None:
    """The steps of a column, when every one is usable."""
    import numpy as np

    kinds = set(map(type, column))
    if kinds == {int}:
        try:
            return np.fromiter(column, np.int64, len(column))
        except OverflowError:
            return None
    if not kinds <= _NUMBERS:
        return None
    found = np.fromiter(column, np.float64, len(column))
    if not ((found > -_INT64) & (found < _INT64)).all():
        return None
    return np.trunc(found).astype(np.int64)


def _numbers(column: tuple[Any, ...]) -> np.ndarray | None:
    """A column of plain numbers as float64, or None."""
    import numpy as np

    if not set(map(type, column)) <= _NUMBERS:
        return None
    try:
        return np.fromiter(column, np.float64, len(column))
    except OverflowError:  # an integer too large for a float
        return None
