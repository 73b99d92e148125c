"""A console capture of a Hugging Face Trainer run read line by line (see `console` for what is read and how).

Kept apart from `console`, which only recognises such files, so that finding runs does not load the dict reader
and the step assignment.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from losscli.errors import ParseError
from losscli.frame import Run
from losscli.parsers.console_dicts import ANSI, Printed, find_dicts
from losscli.parsers.console_steps import EVAL, TRAIN, Entry, Plan, assign_steps
from losscli.parsers.line_logs import LineLog
from losscli.parsers.records import Record, build_run
from losscli.parsers.trainer_dicts import SUMMARY_KEYS, entry_records, name_trainer_records

_OPEN = re.compile(r"\{'(?:loss|eval_\w+|train_runtime|epoch)': ")
_STEPS = re.compile(r"Total optimization steps = ([\d,]+)")
_EPOCHS = re.compile(r"Num Epochs = ([\d,]+(?:\.\d+)?)")
_BAR = re.compile(r"(?:\[\w+\]:)?([^%|]*?)\s*\d{1,3}%\|[^|]*\|\s*\d+/(\d+)\s*\[")  # one `\r` segment
_QUOTED_NUMBER = re.compile(r"':\s*'[-+.\d]")
_KNOWN = frozenset({"loss", "epoch", "learning_rate", "grad_norm"})


class ConsoleLines(LineLog):
    """A console capture fed line by line (module docstring); steps are assigned when the run is asked for."""

    format = "console"
    empty = "no log dicts printed by the Hugging Face Trainer"

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.entries: dict[str, list[Entry]] = {}  # by the rank that printed them ("" without a rank prefix)
        self.summary: dict[str, float | None] | None = None
        self.banner_steps: int | None = None
        self.banner_epochs: float | None = None
        self.bar_totals: Counter[int] = Counter()  # totals of unlabelled progress bars (the training bar's)
        self.duplicates = 0
        self.quoted = False  # values printed as quoted strings (transformers 5)

    def _line(self, line: str, *, cut: bool) -> None:
        if "{" not in line and "%|" not in line and " = " not in line:
            return
        text = ANSI.sub("", line) if "\x1b" in line else line
        if " = " in text:
            self._banner(text)
        if "%|" in text:
            for segment in text.split("\r"):
                bar = _BAR.match(segment) if "%|" in segment else None
                if bar is not None and not bar.group(1).strip():
                    self.bar_totals[int(bar.group(2))] += 1
        if "{" not in text:
            return
        found, left_open = find_dicts(text)
        for printed in found:
            self._dict(printed)
        if left_open and _OPEN.search(text):
            self.unreadable(cut=cut)
        self.quoted = self.quoted or bool(found and _QUOTED_NUMBER.search(text))

    def _banner(self, text: str) -> None:
        steps, epochs = _STEPS.search(text), _EPOCHS.search(text)
        if steps:
            self.banner_steps = int(steps.group(1).replace(",", "")) or None
        if epochs:
            self.banner_epochs = float(epochs.group(1).replace(",", "")) or None

    def _dict(self, printed: Printed) -> None:
        values = printed.values
        keys = values.keys()
        if not any(v is not None for v in values.values()):
            return
        if SUMMARY_KEYS & keys and "loss" not in keys:
            self.summary = values
            return
        is_eval = any(k.startswith("eval_") for k in keys)
        if not is_eval and not _KNOWN & keys:
            return  # another dict the script printed
        entry = Entry(EVAL if is_eval else TRAIN, values)
        stream = self.entries.setdefault(printed.rank, [])
        if any(e == entry for e in stream[-4:]):
            self.duplicates += 1  # the same dict printed again (one stream per node)
            return
        stream.append(entry)

    def _stream(self) -> tuple[list[Entry], list[str]]:
        """The rank whose dicts are read, and notes about the others."""
        if not self.entries:
            return [], []
        ranks = sorted(self.entries, key=lambda r: -sum(e.kind == TRAIN for e in self.entries[r]))
        notes = []
        if len(ranks) > 1:
            others = ", ".join(r or "(no rank prefix)" for r in ranks[1:])
            notes.append(
                f"dicts were printed by several ranks; those of rank {ranks[0] or '(no prefix)'} are read, "
                f"not those of {others}"
            )
        return self.entries[ranks[0]], notes

    def _read(self) -> tuple[list[Record], list[str]]:
        entries, notes = self._stream()
        plan = Plan(self.banner_steps, self.banner_epochs, self.summary, _bar_total(self.bar_totals))
        clock = assign_steps(entries, plan)
        records: list[Record] = []
        for entry, step in zip(entries, clock.steps):
            values = {k: v for k, v in entry.values.items() if k not in ("step", "global_step")}
            entry_records(values, step, records)
        for key, value in (
            ("steps_per_epoch", clock.steps_per_epoch),
            ("logging_steps", clock.logging_steps),
            ("max_steps", clock.max_steps),
            ("num_train_epochs", self.banner_epochs),
        ):
            if value:
                self.meta[key] = value
        if self.summary:
            self.meta["summary"] = {k: v for k, v in self.summary.items() if v is not None}
        self.meta["printed_values"] = "4 significant digits" if self.quoted else "as printed"
        notes.insert(0, clock.note)
        if self.quoted:
            notes.append("values as the Trainer printed them: 4 significant digits")
        if self.duplicates:
            notes.append(f"{self.duplicates} dicts printed again identically (one per node?) were read once")
        return records, notes

    def points(self) -> list[Record]:
        return self._read()[0]

    def named_records(self) -> tuple[list[Record], list[str]]:
        return name_trainer_records(self.points())

    def run(self, *, name: str | None = None, path: Path | None = None) -> Run:
        records, notes = self._read()
        if not records:
            raise ParseError(self.path, self.empty)
        named, naming_notes = name_trainer_records(records)
        return build_run(
            named,
            path=path or self.path,
            name=name or self.path.name,
            format=self.format,
            where=self.path,
            meta=self.meta,
            warnings=self.warnings(),
            notes=[*self.notes, *notes, *naming_notes],
            named=True,
        )


def _bar_total(totals: Counter[int]) -> int | None:
    """The training bar's total: of the unlabelled bars, the one drawn most often (evaluation bars are drawn a
    few times per evaluation, the training bar at every step)."""
    return totals.most_common(1)[0][0] if totals else None
