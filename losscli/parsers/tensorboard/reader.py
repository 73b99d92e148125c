"""Read a TensorBoard run: every scalar, every point, checked, at close to the speed of the disk.

Which files make a run is `folders`' job; each file is framed and checked by `records` and decoded by `decode`.

What is read: every scalar, every point. Tags map to the frame's canonical metric names; the logged tag (with
`folders`' sub-folder rule applied) is kept in `tag`. When several tags of a run have the same canonical name
(`loss` and `train/loss`), `metric_names.name_metrics` gives it to one of them and the others keep their logged
names as metric, so that no metric mixes two curves. The `epoch` column comes from the points of the run's
`train/epoch` metric (the HF Trainer's `train/epoch`, Lightning's `epoch`): a point logged at the same step takes
that value; a point between two epoch points takes the linear interpolation by step (epochs grow linearly with
steps within a run); before the first or after the last epoch point it is NaN.

Restarts: a resumed run logs steps again, in the same file or a later one; the files are read in name order as
one log, and `losscli.restarts` applies the one rule every format shares (a resumed run replaces what it logs
again, a point repeated at the same step is not a restart).

Integrity (`records`): CRCs of lengths and data are checked unless `ReadOptions.verify_checksums` is
off. A truncated last record, damaged records in the middle, and records that are not events are skipped with
a warning saying how much was lost; only a run from which nothing at all can be read is an error.

A file that is still being written can be read piece by piece (`read_event_file_from`, for `losscli watch`):
each look reads the records completed since the last; `tensorboard_run` makes the same run of the pieces as of
the whole file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from losscli.errors import ParseError
from losscli.frame import EPOCH, Columns, Run, make_columns
from losscli.metric_names import name_metrics
from losscli.parsers.base import FolderClaim, Format, ReadOptions, Source
from losscli.parsers.tensorboard.config import TEXT_TAGS, text_configs
from losscli.parsers.tensorboard.folders import is_event_file, is_renamed_event_file, qualified_tag, run_files
from losscli.restarts import Restarts, resolve_codes, restart_messages

if TYPE_CHECKING:
    from losscli.parsers.tensorboard.collect import FileScalars
    from losscli.parsers.tensorboard.records import Framing

_ARGS_TAG = "args/text_summary"  # the HF Trainer logs its TrainingArguments as JSON text
_ARGS_META = (
    "num_train_epochs",
    "max_steps",
    "logging_steps",
    "eval_steps",
    "save_steps",
    "per_device_train_batch_size",
    "gradient_accumulation_steps",
)


class TensorBoardFormat(Format):
    name = "tensorboard"
    label = "TensorBoard"

    def claim_folder(self, folder: Path, files: list[str], dirs: list[str]) -> FolderClaim | None:
        found = run_files(folder, files=files, dirs=dirs)
        if found is None:
            return None
        paths, own, used = found
        return FolderClaim([Source(self.name, folder, tuple(paths))], used_files=own, used_dirs=used)

    def claim_file(self, path: Path, head: bytes) -> bool:
        return is_event_file(path.name) or is_renamed_event_file(head)

    def read(self, source: Source, options: ReadOptions) -> list[Run]:
        return [read_tensorboard(source, options=options)]


def read_event_file(path: Path, *, verify: bool) -> tuple[FileScalars, Framing]:
    """Frame, check and decode one event file."""
    from losscli.parsers.tensorboard.decode import decode_records
    from losscli.parsers.tensorboard.records import frame_records, open_buffer

    raw, buf = open_buffer(path)
    framing = frame_records(raw, buf=buf, verify=verify)
    texts = TEXT_TAGS  # the configuration the file states (`config`)
    scalars = decode_records(
        buf, starts=framing.starts, lengths=framing.lengths, text_tags=texts, blocks=framing.blocks
    )
    return scalars, framing


@dataclass
class EventTail:
    """The records of a growing event file that were completed since the last look (`read_event_file_from`)."""

    scalars: FileScalars
    end: int  # the offset just past the last complete record: where the next look starts
    lost_bytes: int = 0  # bytes before `end` that are not intact records (damage, not a record being written)


def read_event_file_from(
    path: Path, *, offset: int, verify: bool, known_plugins: dict[str, str] | None = None
) -> EventTail:
    """The complete records of an event file from `offset` (a record boundary: 0, or an earlier `EventTail.end`)
    to where the file ends now, checked and decoded as `read_event_file` does.

    Whatever follows the last complete record (a record still being written, or bytes that do not frame yet) is
    left for the next look, never counted as damage; bytes between complete records that are not intact records
    are (`lost_bytes`). `known_plugins` are the `FileScalars.plugins` of the earlier pieces."""
    from losscli.parsers.tensorboard.decode import decode_records
    from losscli.parsers.tensorboard.records import HEADER, OVERHEAD, frame_records, open_tail

    raw, buf = open_tail(path, offset)
    framing = frame_records(raw, buf=buf, verify=verify)
    starts, lengths = framing.starts, framing.lengths
    end = int(starts[-1] + lengths[-1]) + OVERHEAD - HEADER if len(starts) else 0  # past its data CRC
    lost = end - int((lengths + OVERHEAD).sum())
    scalars = decode_records(
        buf, starts=starts, lengths=lengths, text_tags=TEXT_TAGS, blocks=framing.blocks, known_plugins=known_plugins
    )
    return EventTail(scalars, offset + end, lost)


@dataclass
class EventFile:
    """One event file's part in a run: its points (None when it could not be read), and what was wrong with it."""

    path: Path
    scalars: FileScalars | None
    problems: list[str]


def read_tensorboard(source: Source, *, options: ReadOptions | None = None) -> Run:
    """Read one run's event files into a `Run` (module docstring)."""
    options = options or ReadOptions()
    files: list[EventFile] = []
    for path in source.files:
        try:
            scalars, framing = read_event_file(path, verify=options.verify_checksums)
        except OSError as exc:
            files.append(EventFile(path, None, [f"{path}: cannot read: {exc.strerror or exc}"]))
            continue
        files.append(EventFile(path, scalars, _file_warnings(path, scalars, framing)))
    return tensorboard_run(source, files, verified=options.verify_checksums)


def tensorboard_run(source: Source, files: list[EventFile], *, verified: bool) -> Run:
    """The run made of its event files' points, in the order given (a file read whole, or piece by piece as it
    grows: both give the same run)."""
    base = source.path if source.path.is_dir() else source.path.parent
    warnings: list[str] = []
    notes: list[str] = []
    failures: list[str] = []
    parts: list[tuple[FileScalars, list[str]]] = []
    meta: dict[str, Any] = {"source_files": [], "records": 0, "verified_checksums": verified}
    versions: set[str] = set()
    texts: dict[str, tuple[str, Path]] = {}  # tag -> the first text of it, and its file
    for file in files:
        path, scalars = file.path, file.scalars
        if scalars is None or not scalars.records:
            failures.append(file.problems[0] if file.problems else f"{path}: no records")
            continue
        warnings.extend(file.problems)
        meta["source_files"].append(str(path))
        meta["records"] += scalars.records
        versions.update([scalars.file_version] if scalars.file_version else [])
        for tag, text in scalars.texts.items():
            texts.setdefault(tag, (text, path))
        folder = None if path.parent == base else path.parent.relative_to(base).as_posix()
        parts.append((scalars, [qualified_tag(t, folder=folder) for t in scalars.tags]))
    if not parts:
        raise ParseError(source.path, "; ".join(failures) if failures else "no event files")
    warnings.extend(failures)
    if versions:
        meta["file_versions"] = sorted(versions)
    frame, restarts, tags, summary, notes = _assemble(parts)
    more_warnings, more_notes = restart_messages(source.path, found=restarts)
    warnings.extend(more_warnings)
    notes.extend(more_notes)
    if restarts.replaced:
        meta["replaced_points"] = restarts.replaced
    if not len(frame):
        warnings.append(f"{source.path}: no scalar summaries in the event files")
    meta["tags"] = tags
    meta.update(_training_meta(summary, texts.get(_ARGS_TAG, ("", base))[0]))
    configs, config_warnings = text_configs(texts)
    warnings.extend(config_warnings)
    name = base.name or str(base)
    return Run(
        name=name,
        path=source.path,
        format="tensorboard",
        scalars=frame,
        meta=meta,
        warnings=warnings,
        notes=notes,
        configs=configs,
    )


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


def _assemble(
    files: list[tuple[FileScalars, list[str]]],
) -> tuple[Columns, Restarts, list[str], dict[str, Any], list[str]]:
    """One frame from every file's points: tags and metrics numbered, restarts resolved, epochs filled; also the
    tags, what the log says about the training, and the notes on naming."""
    import numpy as np

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
        return make_columns([], [], [], [], [], []), Restarts(), tags, {}, []
    naming = name_metrics(tags, points=np.bincount(tag_code, minlength=len(tags)).tolist())
    metrics = naming.metrics
    names = list(dict.fromkeys(metrics))  # in first-seen order, as tags are numbered in first-seen order
    small = np.int16 if len(names) < 2**15 else np.int64
    tag_metric = np.asarray([names.index(m) for m in metrics], dtype=small)
    code = tag_metric[tag_code]
    resolved = resolve_codes(code, step=step, value=value)
    order, step, counts = resolved.order, resolved.step, resolved.counts
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
    if all(len(o) == 1 for o in owners):  # name_metrics gives each metric one tag
        tag_column = np.repeat(np.asarray([o[0] for o in owners], dtype=object), counts)
    else:
        tag_column = np.asarray(tags, dtype=object)[tag_code if order is None else tag_code[order]]
    return Columns(metric_column, tag_column, step, epoch, value, wall), resolved.restarts, tags, summary, naming.notes


def _training_meta(summary: dict[str, Any], args_text: str) -> dict[str, Any]:
    """What the log says about the training: the HF Trainer's arguments, the last step and epoch."""
    meta: dict[str, Any] = {}
    try:
        args = json.loads(args_text) if args_text else None
    except ValueError:
        args = None
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
