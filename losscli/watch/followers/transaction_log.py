"""W&B run folders as they are written: the `.wandb` transaction log scanned from where the last look stopped.

Each look scans the chunks appended since the last (`parsers.wandb.transaction_log.scan_log(start=...)`) and folds
their records into what the file has said so far (`parsers.wandb.run_records.Folded`); a record whose chunks are
not all written yet, or a last chunk that does not check yet, is read whole at a later look. The run is made as
`read_wandb_file` makes it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from losscli.errors import ParseError
from losscli.parsers.base import ReadOptions, Source
from losscli.watch.followers.base import Follower
from losscli.watch.growing import AppendedFile, Change

if TYPE_CHECKING:
    from losscli.frame import Run
    from losscli.parsers.wandb.run_records import Folded

_HEADER = 7  # a file shorter than its header is still being created


class TransactionLog(Follower):
    def __init__(self, source: Source, options: ReadOptions) -> None:
        super().__init__(source, options)
        path = next((p for p in source.files if p.name.endswith(".wandb")), source.path)
        self.file = AppendedFile(path)
        self.folded: Folded | None = None
        self.warnings: list[str] = []
        self.error: ParseError | None = None

    def look(self) -> bool:
        from losscli.parsers.wandb import transaction_log as log
        from losscli.parsers.wandb.run_records import Folded

        change = self.file.look()
        if change is Change.REPLACED:
            self.folded, self.warnings, self.error = None, [], None
        if change not in (Change.GROWN, Change.REPLACED):
            return False
        size = self.file.now.size if self.file.now else 0
        start = self.file.offset
        try:
            scan = log.scan_log(
                self.file.path, verify_checksums=self.options.verify_checksums, start=start, growing=True
            )
        except ParseError as exc:
            if start == 0 and size < _HEADER:
                return False  # the header is not written yet
            self.error = exc
            return True
        self.error = None
        if self.folded is None:
            self.folded = Folded()
        for payload in scan.records:
            self.folded.fold(payload)
        if scan.bad_chunks:
            self.folded.damaged = True
            found = log.log_warnings(self.file.path, scan=replace(scan, truncated=False))
            self.warnings.extend(w for w in found if w not in self.warnings)
        self.file.advance(scan.resume)
        return bool(scan.records or scan.bad_chunks)

    @property
    def ready(self) -> bool:
        return self.error is not None or (self.folded is not None and self.folded.records > 0)

    def runs(self) -> list[Run]:
        from losscli.parsers.wandb.run_records import wandb_run

        if self.error is not None:
            raise self.error
        assert self.folded is not None
        return [wandb_run(self.file.path, self.folded, run_path=self.source.path, warnings=self.warnings)]
