"""The configuration an event file states, as the writers put it there, handed over with the run (`Run.configs`).

The Hugging Face Trainer writes, when training begins, two text summaries at step 0: `args` (the JSON of its
`TrainingArguments`) and `model_config` (the JSON of the model's config); Lightning's TensorBoard logger and
Keras' hparams callback write the hparams plugin's session start (`plugin_data`). They come near the start of
the file, so the configuration of a sibling run (another format of the same training) is read from the first
`HEAD_RECORDS` records (in the first `HEAD_BYTES`) of its event files only, with the same framing and decoding as
the full read.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

from losscli.frame import ConfigSource
from losscli.parsers.tensorboard.plugin_data import HPARAMS_TAG

TEXT_KINDS = {  # tag -> ConfigSource.kind
    "args/text_summary": "hf_training_args",
    "model_config/text_summary": "hf_model_config",
    HPARAMS_TAG: "hparams",
}
TEXT_TAGS = tuple(TEXT_KINDS)
HEAD_BYTES = 1 << 18
HEAD_RECORDS = 64  # the file version, then the texts at step 0, before the first scalars
_WALL_TIME_FIELD = 0x09


def text_configs(texts: dict[str, tuple[str, Path]]) -> tuple[list[ConfigSource], list[str]]:
    """The configuration in the texts collected by tag (text, and the file it came from), and a warning for a
    text that should be JSON and is not."""
    configs: list[ConfigSource] = []
    warnings: list[str] = []
    for tag, kind in TEXT_KINDS.items():
        if tag not in texts:
            continue
        text, path = texts[tag]
        try:
            values = json.loads(text)
        except ValueError:
            values = None
        if not isinstance(values, dict):
            warnings.append(f"{path}: the {tag} summary is not a JSON object; the configuration it states was not read")
            continue
        configs.append(ConfigSource(kind, f"{path} ({tag})", values))
    return configs, warnings


def _records_end(raw: bytes, records: int) -> int:
    """Where the first `records` records end, by their length fields (their checks are `frame_records`' job)."""
    end = 0
    for _ in range(records):
        if end + 12 > len(raw):
            break
        end += 16 + struct.unpack_from("<Q", raw, end)[0]
    return min(end, len(raw))


def first_wall_time(path: Path) -> float | None:
    """The wall time of an event file's first record (its writer opened the file then), when it has one."""
    with open(path, "rb") as handle:
        head = handle.read(21)
    if len(head) < 21 or head[12] != _WALL_TIME_FIELD or struct.unpack_from("<Q", head)[0] < 9:
        return None
    return struct.unpack_from("<d", head, 13)[0]


def head_config(path: Path) -> tuple[list[ConfigSource], float | None, list[str]]:
    """The configuration stated in the first records of an event file, the wall time of its first record (when its
    writer opened it), and warnings. Damage is skipped silently: the file's own run reports it."""
    import numpy as np

    from losscli.parsers.tensorboard.decode import decode_records
    from losscli.parsers.tensorboard.records import frame_records

    with open(path, "rb") as handle:
        raw = handle.read(HEAD_BYTES)
    raw = raw[: _records_end(raw, HEAD_RECORDS)]  # frame (and check) only the records that are decoded
    buf = np.frombuffer(raw, dtype=np.uint8)
    framing = frame_records(raw, buf=buf, verify=True)
    first = None
    if len(framing.starts):
        start = int(framing.starts[0])
        if int(framing.lengths[0]) >= 9 and raw[start] == _WALL_TIME_FIELD:
            first = struct.unpack_from("<d", raw, start + 1)[0]
    starts, lengths = framing.starts[:HEAD_RECORDS], framing.lengths[:HEAD_RECORDS]
    scalars = decode_records(buf, starts=starts, lengths=lengths, text_tags=TEXT_TAGS)
    configs, warnings = text_configs({tag: (text, path) for tag, text in scalars.texts.items()})
    return configs, first, warnings
