"""Console captures of Hugging Face Trainer runs: a SLURM `.out`, `nohup.out`, a `tee`'d `train.log`.

Many runs leave nothing but what they printed. The Trainer prints one Python dict per log call (train, eval and the
closing summary), mixed with progress bars, warnings and whatever else the script printed; `console_dicts` finds
and reads those dicts, `console_steps` gives them steps, and `trainer_dicts` turns them into points the same way as
a `trainer_state.json`. The file is one run.

- **Values as printed.** transformers 5 prints 4 significant digits, so the points have that precision (a note
  says so). A NaN is a NaN point, not a dropped line. With the Trainer's default `logging_nan_inf_filter`, a
  step whose loss was NaN or infinite is printed with the loss of the steps before it, often `0`: it is kept as
  printed (a diverged run can look like loss 0; the analysis judges that, not the reader).
- **Ranks.** Under DDP only the main process prints dicts. Lines prefixed by `torchrun --tee` (`[default0]:`)
  are told apart by rank; a dict printed again identically (one stream per node in a multi-node job) is read
  once. When dicts come from several ranks, the rank that printed the most train dicts is read, with a note.
- **Steps.** The dicts carry none; `console_steps` says how they are found, and each run says which way was used.

Found by its name (`.log`, `.out`, `.err`, `.txt`, `.stdout`, `.stderr`, or no suffix) and a Trainer dict within
its first MiB (a log whose first dict comes later is not recognised). The file is read by `ConsoleLines`, a
`line_logs.LineLog` that can be fed more lines later.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from losscli.parsers.base import HEAD_BYTES, RECOGNITION_BYTES, Format, ReadOptions, Source

if TYPE_CHECKING:
    from losscli.frame import Run
    from losscli.parsers.console_lines import ConsoleLines

SUFFIXES = frozenset({"", ".log", ".out", ".err", ".txt", ".stdout", ".stderr"})
SCAN_BYTES = RECOGNITION_BYTES  # how far into a text file a claim looks for a first dict
_CLAIM = re.compile(rb"\{'(?:loss|eval_\w+|train_runtime|epoch)': ")


class Console(Format):
    name = "console"
    label = "console log"

    def claim_file(self, path: Path, head: bytes) -> bool:
        if path.suffix.lower() not in SUFFIXES or b"\x00" in head:
            return False
        if _CLAIM.search(head):
            return True
        return len(head) >= HEAD_BYTES and _scan(path)

    def read(self, source: Source, options: ReadOptions) -> list[Run]:
        from losscli.parsers.console_lines import ConsoleLines
        from losscli.parsers.line_logs import feed_file

        return [feed_file(ConsoleLines(source.path)).run()]

    def line_parser(self, source: Source, options: ReadOptions) -> ConsoleLines:
        from losscli.parsers.console_lines import ConsoleLines

        return ConsoleLines(source.path)


def _scan(path: Path) -> bool:
    """Whether a Trainer dict starts within the first `SCAN_BYTES` of a text file (read in blocks)."""
    try:
        with path.open("rb") as handle:
            carry = b""
            read = 0
            while read < SCAN_BYTES:
                block = handle.read(1 << 16)
                if not block or b"\x00" in block:
                    return False
                read += len(block)
                if _CLAIM.search(carry + block):
                    return True
                carry = block[-64:]
    except OSError:
        return False
    return False


FORMATS = [Console()]
