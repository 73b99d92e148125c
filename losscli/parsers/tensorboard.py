"""TensorBoard event files: every scalar, every point, checked, and read at close to the speed of the disk.

Which files make a run:
- A folder that directly holds event files (a name containing `tfevents`, except `*.profile-empty`) is one
  run. Its files are read in name order as one log (a resumed run adds a file; see restarts below).
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

What is read: every scalar, every point (see `tfevents_decode`). Tags map to the frame's canonical metric
names; the logged tag (with the sub-folder rule above applied) is kept in `tag`. When several tags of a run
have the same canonical name (`loss` and `train/loss`), one of them takes it (the one logged under that very
name, else the one with most points) and the others keep their logged names as metric, so that no metric mixes
two curves. The `epoch` column comes from the points of the run's `train/epoch` metric (the HF Trainer's
`train/epoch`, Lightning's `epoch`): a point logged at the same step takes that value; a point between two
epoch points takes the linear interpolation by step (epochs grow linearly with steps within a run); before the
first or after the last epoch point it is NaN.

Restarts: a resumed run logs steps again, in the same file or a later one. Within each metric, in logged
order, a point is kept only if every later point has a larger step (`losscli.restarts`); the count replaced is
a warning.

Integrity (`tfevents_records`): CRCs of lengths and data are checked unless `ReadOptions.verify_checksums` is
off. A truncated last record, damaged records in the middle, and records that are not events are skipped with
a warning saying how much was lost; only a run from which nothing at all can be read is an error.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from losscli.errors import ParseError
from losscli.frame import EPOCH, Columns, Run
from losscli.metric_names import canonical_metric
from losscli.parsers.base import HEAD_BYTES, FolderClaim, Format, ReadOptions, Source

if TYPE_CHECKING:
    import numpy as np

    from losscli.parsers.tfevents_collect import FileScalars
    from losscli.parsers.tfevents_records import Framing

SPLITS = frozenset({"train", "training", "validation", "valid", "val", "eval", "evaluation", "test"})
_TIMESTAMP = re.compile(r"^\d{9,}\.\d+$")
_ARGS_TAGS = ("args/text_summary",)  # the HF Trainer logs its TrainingArguments as JSON text
_ARGS_META = (
    "num_train_epochs",
    "max_steps",
    "logging_steps",
    "eval_steps",
    "save_steps",
    "per_device_train_batch_size",
    "gradient_accumulation_steps",
)


def is_event_file(name: str) -> bool:
    return "tfevents" in name and not name.endswith(".profile-empty")


class TensorBoardFormat(Format):
    name = "tensorboard"
    label = "TensorBoard"

    def claim_folder(self, folder: Path, files: list[str], dirs: list[str]) -> FolderClaim | None:
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
        source = Source(self.name, folder, tuple(paths))
        return FolderClaim([source], used_files=set(own), used_dirs=set(used))

    def claim_file(self, path: Path, head: bytes) -> bool:
        if is_event_file(path.name):
            return True
        # a renamed event file: a record header, then the file_version event every writer starts with
        header = len(head) > 32 and head[4:8] == b"\0\0\0\0" and head[12] == 0x09
        return header and b"brain.Event:" in head[:64]

    def read(self, source: Source, options: ReadOptions) -> list[Run]:
        return [read_tensorboard(source, options)]


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
    from losscli.parsers.tfevents_decode import _tag_of

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
        tag = _tag_of(record)
        if tag:
            return tag
        pos += 16 + length
    return None


def qualified_tag(tag: str, folder: str | None) -> str:
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


def read_event_file(path: Path, verify: bool) -> tuple[FileScalars, Framing]:
    """Frame, check and decode one event file."""
    from losscli.parsers.tfevents_decode import decode_records
    from losscli.parsers.tfevents_records import frame_records, open_buffer

    raw, buf = open_buffer(path)
    framing = frame_records(raw, buf, verify)
    return decode_records(buf, framing.starts, framing.lengths, _ARGS_TAGS, framing.blocks), framing


def read_tensorboard(source: Source, options: ReadOptions) -> Run:
    """Read one run's event files into a `Run` (module docstring)."""
    base = source.path if source.path.is_dir() else source.path.parent
    warnings: list[str] = []
    failures: list[str] = []
    files: list[tuple[FileScalars, list[str]]] = []
    meta: dict[str, Any] = {"source_files": [], "records": 0, "verified_checksums": options.verify_checksums}
    versions: set[str] = set()
    texts: dict[str, str] = {}
    for path in source.files:
        try:
            scalars, framing = read_event_file(path, options.verify_checksums)
        except OSError as exc:
            failures.append(f"{path}: cannot read: {exc.strerror or exc}")
            continue
        problems = _file_warnings(path, scalars, framing)
        if not scalars.records:
            failures.append(problems[0] if problems else f"{path}: no records")
            continue
        warnings.extend(problems)
        meta["source_files"].append(str(path))
        meta["records"] += scalars.records
        versions.update([scalars.file_version] if scalars.file_version else [])
        for tag, text in scalars.texts.items():
            texts.setdefault(tag, text)
        folder = None if path.parent == base else path.parent.relative_to(base).as_posix()
        files.append((scalars, [qualified_tag(t, folder) for t in scalars.tags]))
    if not files:
        raise ParseError(source.path, "; ".join(failures) if failures else "no event files")
    warnings.extend(failures)
    if versions:
        meta["file_versions"] = sorted(versions)
    frame, replaced, tags, summary = _assemble(files)
    if replaced:
        warnings.append(f"{source.path}: {replaced} points logged again after a restart; the later values are kept")
        meta["replaced_points"] = replaced
    if not len(frame):
        warnings.append(f"{source.path}: no scalar summaries in the event files")
    meta["tags"] = tags
    meta.update(_training_meta(summary, texts))
    name = base.name or str(base)
    return Run(name=name, path=source.path, format="tensorboard", scalars=frame, meta=meta, warnings=warnings)


def _file_warnings(path: Path, scalars: FileScalars, framing: Framing) -> list[str]:
    out = []
    if framing.size == 0:
        return [f"{path}: empty file"]
    if not scalars.records:
        what = "incomplete" if framing.truncated_bytes == framing.size else "damaged or not an event file"
        out.append(f"{path}: no record could be read ({what})")
        return out
    if framing.damaged_records or framing.lost_stretches:
        average = max(1, int((framing.lengths.sum() + 16 * len(framing.lengths)) // len(framing.lengths)))
        skipped = framing.lost_bytes - framing.damaged_records * average
        lost = framing.damaged_records + max(framing.lost_stretches, round(max(skipped, 0) / average))
        out.append(
            f"{path}: about {lost} damaged records skipped ({framing.lost_bytes} bytes); "
            "reading went on with the next intact record"
        )
    if framing.truncated_bytes:
        out.append(
            f"{path}: the last record is incomplete ({framing.truncated_bytes} bytes: a run still "
            f"writing, or one that stopped); the {scalars.records} records before it were read"
        )
    if scalars.undecodable:
        out.append(f"{path}: {scalars.undecodable} records are not TensorBoard events; skipped")
    return out


def _assemble(files: list[tuple[FileScalars, list[str]]]) -> tuple[Columns, int, list[str], dict[str, Any]]:
    """One frame from every file's points: tags and metrics numbered, restarts resolved, epochs filled."""
    import numpy as np

    from losscli.frame import make_columns

    tag_numbers: dict[str, int] = {}
    numbered = []
    for scalars, tags in files:
        lookup = np.asarray([tag_numbers.setdefault(t, len(tag_numbers)) for t in tags], dtype=np.int32)
        numbered.append(lookup[scalars.tag_code] if len(tags) else scalars.tag_code)
    tags = list(tag_numbers)
    if len(files) == 1:
        scalars = files[0][0]
        tag_code, step, wall, value = numbered[0], scalars.step, scalars.wall_time, scalars.value
    else:
        tag_code = np.concatenate(numbered)
        step, wall, value = (np.concatenate([getattr(f, c) for f, _ in files]) for c in ("step", "wall_time", "value"))
    if not len(step):
        return make_columns([], [], [], [], [], []), 0, tags, {}
    metrics = _metric_names(tags, np.bincount(tag_code, minlength=len(tags)))
    names = list(dict.fromkeys(metrics))  # in first-seen order, as tags are numbered in first-seen order
    small = np.int16 if len(names) < 2**15 else np.int64
    tag_metric = np.asarray([names.index(m) for m in metrics], dtype=small)
    code = tag_metric[tag_code]
    order, step, replaced, counts = _resolve_restarts(code, step, value)
    if order is not None:
        wall, value = wall[order], value[order]
    ends = np.cumsum(counts)
    summary: dict[str, Any] = {"global_step": int(step.max())}
    if EPOCH in names:
        at = names.index(EPOCH)
        first, last = int(ends[at] - counts[at]), int(ends[at])
        epoch = np.interp(step, step[first:last], value[first:last], left=np.nan, right=np.nan)
        summary["epoch"], summary["last_epoch_step"] = float(value[last - 1]), int(step[last - 1])
    else:
        epoch = np.full(len(step), np.nan)
    metric_column = np.repeat(np.asarray(names, dtype=object), counts)
    owners = [[t for t, m in zip(tags, metrics) if m == name] for name in names]
    if all(len(o) == 1 for o in owners):  # the rule in _metric_names makes it so
        tag_column = np.repeat(np.asarray([o[0] for o in owners], dtype=object), counts)
    else:
        tag_column = np.asarray(tags, dtype=object)[tag_code if order is None else tag_code[order]]
    return Columns(metric_column, tag_column, step, epoch, value, wall), replaced, tags, summary


def _metric_names(tags: list[str], points: np.ndarray) -> list[str]:
    """Each tag's metric: its canonical name, given to one tag only (the one logged under that very name,
    else the one with most points, else the first); other tags with that canonical name keep their own."""
    metrics = [canonical_metric(t) for t in tags]
    claimants: dict[str, list[int]] = {}
    for i, metric in enumerate(metrics):
        claimants.setdefault(metric, []).append(i)
    for metric, found in claimants.items():
        if len(found) > 1:
            winner = min(found, key=lambda i: (tags[i] != metric, -int(points[i]), i))
            for i in found:
                if i != winner:
                    metrics[i] = tags[i]
    return metrics


def _resolve_restarts(
    code: np.ndarray, step: np.ndarray, value: np.ndarray
) -> tuple[np.ndarray | None, np.ndarray, int, np.ndarray]:
    """`losscli.restarts.resolve_restarts` on arrays whose metric `code`s are numbered in first-seen order.

    Returns the rows kept in output order (None: all, as they are), their steps, how many were replaced, and
    the number of rows kept per code. The rows come grouped by code, each group in logged order, which after
    the rule is also step order. A point followed in its metric by the same step and value is dropped too but
    not counted as replaced: it was logged twice, not restarted (the HF Trainer logs `train/epoch` with the
    training loss and again with each evaluation at the same step).
    """
    import numpy as np

    codes = int(code.max()) + 1
    order = np.argsort(code, kind="stable") if codes > 1 else None
    steps = step if order is None else step[order]
    counts = np.bincount(code, minlength=codes)
    starts = np.cumsum(counts) - counts
    rising = steps[1:] > steps[:-1]
    rising[starts[1:] - 1] = True  # a new metric may start lower
    if rising.all():
        return order, steps, 0, counts
    rows = np.arange(len(step)) if order is None else order
    grouped = code[rows]
    keep = np.ones(len(rows), dtype=bool)
    for start, end in zip(starts.tolist(), (starts + counts).tolist()):
        if end - start < 2 or rising[start : end - 1].all():
            continue
        block = steps[start:end]
        later = np.minimum.accumulate(block[::-1])[::-1]
        keep[start:end] = block < np.r_[later[1:], np.iinfo(np.int64).max]
    same = (steps[1:] == steps[:-1]) & (grouped[1:] == grouped[:-1])
    repeated = same & (value[rows[1:]] == value[rows[:-1]])
    replaced = int(len(rows) - keep.sum()) - int((repeated & ~keep[:-1]).sum())
    return rows[keep], steps[keep], replaced, np.bincount(grouped[keep], minlength=codes)


def _training_meta(summary: dict[str, Any], texts: dict[str, str]) -> dict[str, Any]:
    """What the log says about the training: the HF Trainer's arguments, the last step and epoch."""
    meta: dict[str, Any] = {}
    for tag in _ARGS_TAGS:
        try:
            args = json.loads(texts.get(tag, ""))
        except ValueError:
            continue
        if isinstance(args, dict):
            for key in _ARGS_META:
                value = args.get(key)
                if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
                    meta[key] = value
    if "global_step" in summary:
        meta["global_step"] = summary["global_step"]
    epoch, step = summary.get("epoch"), summary.get("last_epoch_step")
    if epoch is not None and step is not None:
        meta["epoch"] = epoch
        if epoch > 0 and step > 0:
            meta["steps_per_epoch"] = step / epoch
    return meta


FORMATS = [TensorBoardFormat()]
