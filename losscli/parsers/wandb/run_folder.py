"""W&B local run folders (`wandb/run-*/`, `wandb/offline-run-*/`), read from their `run-<id>.wandb` file.

The `.wandb` transaction log holds everything the run logged, whether it was synced or not; it is read
natively (`transaction_log`), without the wandb package and without network. From its records come the history rows
(the curve, mapped by `history`), the run's display name, its config (epochs, batch size, ...) and its
summary. The config and the run's start time are handed over as stated (`Run.configs`, `wandb_config` and
`wandb_run`); `run_records.head_config` reads them from the start of the file alone, for another format of the
same training (the Trainer writes its config when training begins). This module finds the files; `run_records`
reads them (loaded only when a run of this format is read).

Folder claims: a `wandb/` folder's run sub-folders, each with its `files/`, `logs/` and `tmp/` inside; the
`latest-run` link (and the `debug*.log` links) point into one of those and are used up without being read
again. A run folder given directly is claimed by itself.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from losscli.parsers.base import FolderClaim, Format, ReadOptions, Source

if TYPE_CHECKING:
    from losscli.frame import Run

_RUN_DIR = re.compile(r"^(offline-)?run-[\w.-]+$")
_LOG_FILE = re.compile(r"^run-[\w.-]*\.wandb$")
_RUN_PARTS = ("files", "logs", "tmp")


def _log_files(folder: Path) -> list[Path]:
    try:
        return sorted(p for p in folder.iterdir() if _LOG_FILE.match(p.name) and p.is_file())
    except OSError:
        return []


class WandbRunFormat(Format):
    name = "wandb_run"
    label = "W&B run"

    def claim_folder(self, folder: Path, files: list[str], dirs: list[str]) -> FolderClaim | None:
        own = sorted(f for f in files if _LOG_FILE.match(f))
        if own:  # the run folder itself
            source = Source(self.name, folder, tuple(folder / f for f in own))
            return FolderClaim([source], used_files=set(own), used_dirs={d for d in dirs if d in _RUN_PARTS})
        sources: list[Source] = []
        used: set[str] = set()
        claimed: set[str] = set()
        # real folders first, so that a link to one of them (`latest-run`) is not a second run
        runs = [d for d in dirs if _RUN_DIR.match(d)]  # the name first: no file system call for other folders
        for name in sorted(runs, key=lambda d: ((folder / d).is_symlink(), d)):
            path = folder / name
            target = os.path.realpath(path)
            if target in claimed:
                continue
            logs = _log_files(path)
            if logs:
                sources.append(Source(self.name, path, tuple(logs)))
                used.add(name)
                claimed.add(target)
        if not sources:
            return None

        def into_claimed(name: str) -> bool:  # `latest-run`, `debug.log`: links to or into a claimed run
            path = folder / name
            if not path.is_symlink():
                return False
            target = os.path.realpath(path)
            return any(target == c or target.startswith(c + os.sep) for c in claimed)

        used |= {d for d in dirs if into_claimed(d)}
        used_files = {f for f in files if into_claimed(f)}
        return FolderClaim(sources, used_files=used_files, used_dirs=used)

    def claim_file(self, path: Path, head: bytes) -> bool:
        if not path.name.endswith(".wandb"):
            return False
        from losscli.parsers.wandb.transaction_log import check_header

        return check_header(head)

    def read(self, source: Source, options: ReadOptions) -> list[Run]:
        from losscli.parsers.wandb.run_records import read_wandb_file

        files = [p for p in source.files if p.name.endswith(".wandb")] or [source.path]
        return [read_wandb_file(files[0], run_path=source.path, options=options)]


FORMATS = [WandbRunFormat()]
