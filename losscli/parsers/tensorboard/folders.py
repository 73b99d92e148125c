"""Which event files make one TensorBoard run, and the tag each point gets from the folder its file is in.

Which files make a run:
- A folder that directly holds event files (a name containing `tfevents`, except `*.profile-empty`) is one
  run. Its files are read in name order as one log (a resumed run adds a file: `reader` says how restarts are read).
- Its sub-folders that hold event files belong to it, rather than being runs of their own, when they are
  - `add_scalars` folders: PyTorch writes `add_scalars("loss", {"train": a, "val": b})` as sub-folders
    `loss_train/` and `loss_val/`, each logging the tag `loss`; a sub-folder is one when its first tag, with
    `/` written `_`, followed by `_`, begins its name. tensorboardX writes `loss/train/` and `loss/val/`
    instead; a sub-folder without event files of its own is one when every folder below it with event files is
    `<its first tag>/<key>` (`/` in the tag kept as folders). Either way the points get the tag `<tag>/<key>`
    (`loss/train`, `loss/val`);
  - split folders, named `train`, `training`, `validation`, `valid`, `val`, `eval`, `evaluation` or `test`
    (TF Estimator's `eval/` beside the training events): tags become `<folder>/<tag>` (`eval/loss`);
  - `add_hparams` folders, named by a time stamp (`1719642696.5168986`): tags as logged.
- A folder with no event files of its own, whose sub-folders with event files are all split folders, is one
  run made of them: the Keras layout (`logs/train/`, `logs/validation/`), giving `train/epoch_loss` and
  `validation/epoch_loss`.
- An event file given on its own is a run, named after its folder.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from losscli.parsers.base import HEAD_BYTES
from losscli.parsers.tensorboard.fields import record_tag

SPLITS = frozenset({"train", "training", "validation", "valid", "val", "eval", "evaluation", "test"})
_TIMESTAMP = re.compile(r"^\d{9,}\.\d+$")


def is_event_file(name: str) -> bool:
    return "tfevents" in name and not name.endswith(".profile-empty")


def is_renamed_event_file(head: bytes) -> bool:
    """A record header, then the file_version event every writer starts with (an event file renamed)."""
    header = len(head) > 32 and head[4:8] == b"\0\0\0\0" and head[12] == 0x09
    return header and b"brain.Event:" in head[:64]


def run_files(folder: Path, *, files: list[str], dirs: list[str]) -> tuple[list[Path], set[str], set[str]] | None:
    """The event files of the run in `folder` (rules above), and the files and sub-folders they use up; None when
    `folder` holds no run."""
    own = [f for f in files if is_event_file(f)]
    paths = [folder / f for f in own]
    used: list[str] = []
    if own:
        for d in dirs:
            found = _belonging_files(folder, d)
            if found:
                used.append(d)
                paths.extend(found)
    else:
        splits = {d: _event_files(folder / d) for d in dirs if d.lower() in SPLITS}
        if not any(splits.values()):
            return None
        if any(_event_files(folder / d) for d in dirs if d.lower() not in SPLITS):
            return None
        used = [d for d, names in splits.items() if names]
        paths.extend(folder / d / name for d in used for name in splits[d])
    return paths, set(own), set(used)


def _event_files(folder: Path) -> list[str]:
    try:
        return sorted(n for n in os.listdir(folder) if is_event_file(n) and (folder / n).is_file())
    except OSError:
        return []


def _belonging_files(folder: Path, name: str) -> list[Path]:
    """The event files of sub-folder `name` if it is part of the run in `folder` (module docstring)."""
    sub = folder / name
    names = _event_files(sub)
    if names:
        if name.lower() in SPLITS or _TIMESTAMP.match(name):
            return [sub / n for n in names]
        tag = _first_tag(sub / names[0])
        return [sub / n for n in names] if tag is not None and _scalars_key(name, tag) is not None else []
    # tensorboardX's add_scalars: <main_tag>/<key>/ below the run, main_tag's own `/` kept as folders
    found: list[Path] = []
    for holder, held in _event_folders(sub):
        tag = _first_tag(holder / held[0])
        if tag is None or holder.parent.relative_to(folder).as_posix() != tag:
            return []
        found.extend(holder / n for n in held)
    return found


def _event_folders(root: Path, depth: int = 4, limit: int = 256) -> list[tuple[Path, list[str]]]:
    """Folders below `root` (`depth` levels, `limit` folders at most) with event files, and their names."""
    out: list[tuple[Path, list[str]]] = []
    stack = [(root, 0)]
    visited = 0
    while stack and visited < limit:
        current, level = stack.pop()
        visited += 1
        names = _event_files(current)
        if names:
            out.append((current, names))
        if level < depth:
            try:
                children = sorted(e.name for e in os.scandir(current) if e.is_dir() and not e.name.startswith("."))
            except OSError:
                continue
            stack.extend((current / c, level + 1) for c in reversed(children))
    return sorted(out)


def _scalars_key(folder: str, tag: str) -> str | None:
    """The key of an `add_scalars` folder logging `tag`, or None when the folder is not named after it."""
    prefix = tag.replace("/", "_") + "_"
    return folder[len(prefix) :] if folder.startswith(prefix) and len(folder) > len(prefix) else None


def _first_tag(path: Path) -> str | None:
    """The first summary tag in the first HEAD_BYTES of an event file (unchecked: it only names a folder)."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(HEAD_BYTES)
    except OSError:
        return None
    pos = 0
    while pos + 12 <= len(head):
        length = int.from_bytes(head[pos : pos + 8], "little")
        record = head[pos + 12 : pos + 12 + length]
        if len(record) < length:
            return None
        tag = record_tag(record)
        if tag:
            return tag
        pos += 16 + length
    return None


def qualified_tag(tag: str, *, folder: str | None) -> str:
    """The tag a point gets, given its file's folder relative to the run's (None: the run's own folder)."""
    if folder is None or _TIMESTAMP.match(folder):
        return tag
    if "/" in folder:  # tensorboardX add_scalars: <main_tag>/<key>
        parent, key = folder.rsplit("/", 1)
        return f"{tag}/{key}" if parent == tag else f"{folder}/{tag}"
    if folder.lower() in SPLITS:
        return tag if tag.startswith(folder + "/") else f"{folder}/{tag}"
    scalars_key = _scalars_key(folder, tag)
    return f"{tag}/{scalars_key}" if scalars_key is not None else f"{folder}/{tag}"
