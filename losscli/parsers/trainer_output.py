"""Hugging Face Trainer output: `trainer_state.json`, its checkpoints, and LLaMA-Factory's `trainer_log.jsonl`.

A Trainer output folder with `checkpoint-*/` sub-folders is one run, not one per checkpoint: each checkpoint's
`trainer_state.json` repeats the history up to that step, so the most complete file is read (the latest checkpoint,
or the folder's own file when it goes further) and the others are only listed. A lone `checkpoint-N/` folder, as
archived checkpoints often are, is a run too. When no `trainer_state.json` can be read, or LLaMA-Factory's
`trainer_log.jsonl` beside it goes further (a run still training), that log is read instead.

A `trainer_state.json` cut off mid-write (a copy in progress, a job killed while saving) keeps every complete
`log_history` entry (`partial_json`), with a warning that says up to which step it goes and which keys of the
state were lost with the rest of the file; a `trainer_log.jsonl` keeps every complete line.

This module finds the files; `trainer_logs` reads them (loaded only when a run of this format is read). The same
history can come from elsewhere: `trainer_logs.state_run` reads a live Trainer's state (the callback of
`losscli.integrations.transformers`), `TrainerLogLines` a log fed line by line as it grows (`losscli watch`), and
`trainer_run` makes the run of either, so that every path gives the same frame.

A long run's `trainer_state.json` (a million log entries) is read in pieces (`json_pieces`) and its entries
converted many at a time into columns (`trainer_history.History`): about the time `json.load` takes, and far less
memory than the whole document parsed at once.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from losscli.parsers.base import FolderClaim, Format, ReadOptions, Source
from losscli.parsers.checkpoints import checkpoint_step

if TYPE_CHECKING:
    from losscli.frame import Run

STATE_FILE = "trainer_state.json"
LOG_FILE = "trainer_log.jsonl"


class TrainerOutput(Format):
    name = "trainer_state"
    label = "HF Trainer"

    def claim_folder(self, folder: Path, files: list[str], dirs: list[str]) -> FolderClaim | None:
        checkpoints = sorted(
            (d for d in dirs if checkpoint_step(d) is not None and (folder / d / STATE_FILE).is_file()),
            key=lambda d: checkpoint_step(d) or 0,
        )
        own = [f for f in (STATE_FILE, LOG_FILE) if f in files]
        if not checkpoints and not own:
            return None
        paths = [folder / f for f in own] + [folder / d / STATE_FILE for d in checkpoints]
        source = Source(self.name, folder, tuple(paths))
        return FolderClaim([source], used_files=set(own), used_dirs=set(checkpoints))

    def claim_file(self, path: Path, head: bytes) -> bool:
        name = path.name
        if name.endswith(".json"):
            return name.endswith(STATE_FILE) or b'"log_history"' in head
        if name.endswith(".jsonl"):
            return name.endswith(LOG_FILE) or b'"current_steps"' in head
        return False

    def read(self, source: Source, options: ReadOptions) -> list[Run]:
        from losscli.parsers.trainer_logs import read_trainer_output

        return [read_trainer_output(source)]


FORMATS = [TrainerOutput()]
