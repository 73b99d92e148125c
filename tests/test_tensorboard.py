"""TensorBoard event files: every encoding, every point, folder grouping, restarts, and damage.

Files are written at test time by real writers (tensorboardX's SummaryWriter; TensorBoard's EventFileWriter
with `summary_v2.scalar_pb`, or with TensorProtos built as TF2's C++ writer and PyTorch build them), or are
committed real files (tests/data/tensorboard/SOURCES.md). A folder tree written in a test is drawn in its
docstring.
"""

from __future__ import annotations

import json
import math
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tensorboard.compat.proto import event_pb2, summary_pb2, tensor_pb2, tensor_shape_pb2
from tensorboard.plugins.scalar import summary_v2
from tensorboard.summary.writer.event_file_writer import EventFileWriter
from tensorboard.util import tensor_util
from tensorboardX import SummaryWriter

from losscli.errors import ParseError
from losscli.frame import COLUMNS, EVAL_LOSS, TRAIN_LOSS, Run, make_frame
from losscli.parsers.base import ReadOptions, Source
from losscli.parsers.tensorboard.folders import qualified_tag
from losscli.parsers.tensorboard.reader import TensorBoardFormat

DATA = Path(__file__).resolve().parent / "data" / "tensorboard"
ROOT = Path(__file__).resolve().parent.parent
FORMAT = TensorBoardFormat()


# ---------------------------------------------------------------- helpers


def claim(folder: Path):
    files = sorted(p.name for p in folder.iterdir() if p.is_file())
    dirs = sorted(p.name for p in folder.iterdir() if p.is_dir())
    return FORMAT.claim_folder(folder, files, dirs)


def read(folder: Path, verify: bool = True) -> Run:
    found = claim(folder)
    assert found is not None, f"{folder} not claimed"
    (run,) = FORMAT.read(found.sources[0], ReadOptions(verify_checksums=verify))
    return run


def read_file(path: Path, verify: bool = True) -> Run:
    (run,) = FORMAT.read(Source("tensorboard", path, (path,)), ReadOptions(verify_checksums=verify))
    return run


def points(run: Run, metric: str) -> list[tuple[int, float]]:
    rows = run.metric(metric)
    return list(zip(rows["step"].tolist(), rows["value"].tolist()))


def write_tbx(folder: Path, scalars: list[tuple[str, float, int]], suffix: str = "") -> Path:
    writer = SummaryWriter(str(folder), filename_suffix=suffix)
    for tag, value, step in scalars:
        writer.add_scalar(tag, value, step, walltime=1_700_000_000.0 + step)
    writer.close()
    return newest(folder)


def write_events(folder: Path, events: list[event_pb2.Event], suffix: str = "") -> Path:
    writer = EventFileWriter(str(folder), filename_suffix=suffix)
    for event in events:
        writer.add_event(event)
    writer.close()
    return newest(folder)


def newest(folder: Path) -> Path:
    return max((p for p in folder.iterdir() if "tfevents" in p.name), key=lambda p: p.stat().st_mtime_ns)


def event(step: int, *values: summary_pb2.Summary.Value, wall: float | None = None) -> event_pb2.Event:
    return event_pb2.Event(
        step=step,
        wall_time=1_700_000_000.0 + step if wall is None else wall,
        summary=summary_pb2.Summary(value=list(values)),
    )


def v2(tag: str, value: float, step: int) -> event_pb2.Event:
    """What tf.summary.scalar writes, made by TensorBoard's summary_v2 (a DT_FLOAT rank-0 tensor)."""
    summary = summary_v2.scalar_pb(tag, value)
    return event_pb2.Event(step=step, wall_time=1_700_000_000.0 + step, summary=summary)


def tensor_value(tag: str, plugin: str = "scalars", shape: tuple[int, ...] = (), **fields) -> summary_pb2.Summary.Value:
    tensor = tensor_pb2.TensorProto(
        tensor_shape=tensor_shape_pb2.TensorShapeProto(
            dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=d) for d in shape]
        ),
        **fields,
    )
    metadata = summary_pb2.SummaryMetadata(plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name=plugin))
    return summary_pb2.Summary.Value(tag=tag, tensor=tensor, metadata=metadata)


def records(path: Path) -> list[tuple[int, int]]:
    """(offset of the record, length of its data) of each record, walking the framing."""
    data, out, pos = path.read_bytes(), [], 0
    while pos + 12 <= len(data):
        (length,) = struct.unpack_from("<Q", data, pos)
        out.append((pos, length))
        pos += 16 + length
    return out


def damage(path: Path, offset: int, xor: int = 0xFF) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= xor
    path.write_bytes(bytes(data))


# ---------------------------------------------------------------- encodings


def test_simple_value_from_tensorboardx(tmp_path: Path) -> None:
    write_tbx(
        tmp_path,
        [("loss", 3.0 - step / 10, step) for step in range(0, 300, 3)] + [("eval_loss", 2.5, 150), ("lr", 1e-3, 0)],
    )
    run = read(tmp_path)
    assert run.format == "tensorboard" and run.name == tmp_path.name and run.warnings == []
    expected = [(step, float(np.float32(3.0 - step / 10))) for step in range(0, 300, 3)]
    assert points(run, TRAIN_LOSS) == expected
    assert points(run, EVAL_LOSS) == [(150, 2.5)]
    assert points(run, "train/learning_rate") == [(0, float(np.float32(1e-3)))]
    loss = run.metric(TRAIN_LOSS)
    assert loss["tag"].unique().tolist() == ["loss"]
    assert loss["wall_time"].tolist() == [1_700_000_000.0 + s for s in range(0, 300, 3)]
    assert loss["epoch"].isna().all()
    assert run.meta["file_versions"] == ["brain.Event:2"] and run.meta["records"] == 103


def test_frame_follows_the_contract(tmp_path: Path) -> None:
    write_tbx(tmp_path, [("loss", 1.0, 1), ("epoch", 0.5, 1)])
    frame = read(tmp_path).scalars
    assert list(frame.columns) == list(COLUMNS)
    assert frame.dtypes.to_dict() == make_frame([], [], [], [], [], []).dtypes.to_dict()


def test_tf2_tensor_form_from_summary_v2(tmp_path: Path) -> None:
    write_events(tmp_path, [v2("train/loss", 2.0 / (s + 1), s) for s in range(50)] + [v2("eval/loss", 1.25, 49)])
    run = read(tmp_path)
    assert points(run, TRAIN_LOSS) == [(s, float(np.float32(2.0 / (s + 1)))) for s in range(50)]
    assert points(run, EVAL_LOSS) == [(49, 1.25)]
    assert run.warnings == []


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        pytest.param({"dtype": 1, "float_val": [0.25]}, 0.25, id="float_val (PyTorch new_style)"),
        pytest.param({"dtype": 2, "double_val": [0.1]}, 0.1, id="double_val (PyTorch double_precision)"),
        pytest.param({"dtype": 1, "tensor_content": struct.pack("<f", 1.5)}, 1.5, id="content float32 (TF2)"),
        pytest.param({"dtype": 2, "tensor_content": struct.pack("<d", 0.1)}, 0.1, id="content float64"),
        pytest.param({"dtype": 3, "tensor_content": struct.pack("<i", -7)}, -7.0, id="content int32"),
        pytest.param({"dtype": 9, "tensor_content": struct.pack("<q", 2**40)}, 2.0**40, id="content int64"),
        pytest.param({"dtype": 19, "tensor_content": np.float16(0.5).tobytes()}, 0.5, id="content float16"),
        pytest.param({"dtype": 14, "tensor_content": struct.pack("<H", 0x3FC0)}, 1.5, id="content bfloat16"),
        pytest.param({"dtype": 4, "tensor_content": b"\xc8"}, 200.0, id="content uint8"),
        pytest.param({"dtype": 3, "int_val": [12]}, 12.0, id="int_val"),
        pytest.param({"dtype": 3, "int_val": [-12]}, -12.0, id="int_val negative"),
        pytest.param({"dtype": 9, "int64_val": [300]}, 300.0, id="int64_val"),
        pytest.param({"dtype": 9, "int64_val": [2**60]}, 2.0**60, id="int64_val 9-byte varint"),
        pytest.param({"dtype": 19, "half_val": [int(np.float16(0.75).view(np.uint16))]}, 0.75, id="half_val"),
        pytest.param({"dtype": 14, "half_val": [0x4040]}, 3.0, id="half_val bfloat16"),
        pytest.param({"dtype": 10, "bool_val": [True]}, 1.0, id="bool_val"),
    ],
)
def test_every_tensor_encoding(tmp_path: Path, fields: dict, expected: float) -> None:
    tensors = [tensor_value("train/loss", **fields) for _ in range(3)]
    write_events(tmp_path, [event(step, value) for step, value in enumerate(tensors)])
    run = read(tmp_path)
    assert points(run, TRAIN_LOSS) == [(0, expected), (1, expected), (2, expected)]
    if fields["dtype"] != 14:  # TensorBoard's own conversion agrees (it has no bfloat16)
        assert float(tensor_util.make_ndarray(tensors[0].tensor)) == expected


def test_non_scalar_summaries_are_skipped(tmp_path: Path) -> None:
    writer = SummaryWriter(str(tmp_path))
    for step in range(5):
        writer.add_scalar("loss", 1.0 / (step + 1), step)
        writer.add_histogram("weights", np.arange(10.0) * step, step)
        writer.add_text("note", "text", step)
        writer.add_image("picture", np.zeros((3, 4, 4)), step)
    writer.close()
    write_events(
        tmp_path,
        [
            event(1, tensor_value("vector", dtype=1, shape=(3,), float_val=[1.0, 2.0, 3.0])),
            event(1, tensor_value("words", dtype=7, shape=(1,), string_val=[b"x"])),
            event(1, tensor_value("_hparams_/experiment", plugin="hparams", dtype=1, float_val=[0.0])),
            event(1, tensor_value("custom", plugin="custom_plugin", dtype=1, float_val=[5.0])),
            event(2, tensor_value("one_of_shape_1", dtype=1, shape=(1, 1), float_val=[4.0])),
        ],
        suffix=".2",
    )
    run = read(tmp_path)
    assert run.meta["tags"] == ["loss", "one_of_shape_1"]
    assert points(run, TRAIN_LOSS) == [(s, float(np.float32(1.0 / (s + 1)))) for s in range(5)]
    assert points(run, "one_of_shape_1") == [(2, 4.0)]


def test_several_values_in_one_summary(tmp_path: Path) -> None:
    """TF1 merged summaries: one event, several values; each is a point, in the order logged."""
    values = [
        summary_pb2.Summary.Value(tag="loss", simple_value=0.5),
        tensor_value("lr", dtype=1, float_val=[0.01]),
        summary_pb2.Summary.Value(tag="accuracy", simple_value=0.9),
    ]
    write_events(tmp_path, [event(step, *values) for step in (10, 20)])
    run = read(tmp_path)
    assert run.meta["tags"] == ["loss", "lr", "accuracy"]
    assert points(run, TRAIN_LOSS) == [(10, 0.5), (20, 0.5)]
    lr = float(np.float32(0.01))
    assert points(run, "train/learning_rate") == [(10, lr), (20, lr)]
    assert points(run, "accuracy") == [(10, float(np.float32(0.9))), (20, float(np.float32(0.9)))]


@pytest.mark.parametrize("step", [0, 1, 127, 128, 16_383, 16_384, 2**21, 2**28 - 1, 2**28, 2**40, -5])
def test_steps_of_every_size(tmp_path: Path, step: int) -> None:
    write_events(
        tmp_path,
        [v2("loss", 1.0, step), event(step, summary_pb2.Summary.Value(tag="loss2", simple_value=2.0))],
    )
    run = read(tmp_path)
    assert points(run, TRAIN_LOSS) == [(step, 1.0)]
    assert points(run, "loss2") == [(step, 2.0)]


def test_tags_of_every_length_are_told_apart(tmp_path: Path) -> None:
    tags = ["", "a", "ab" * 4, "x" * 9, "y" * 16, "z" * 17, "w" * 24, "v" * 25, "u" * 200, "é/ü"]
    # tags that differ only in their middle bytes, beyond the first and last eight
    tags += ["a" * 12 + m + "a" * 12 for m in "XYZ"] + ["b" * 30 + m + "b" * 30 for m in "XY"]
    write_events(
        tmp_path,
        [
            event(step, summary_pb2.Summary.Value(tag=tag, simple_value=float(i)))
            for step in range(3)
            for i, tag in enumerate(tags)
        ],
    )
    run = read(tmp_path)
    assert run.meta["tags"] == tags
    for i, tag in enumerate(tags):
        rows = run.scalars[run.scalars["tag"] == tag]
        assert rows["value"].tolist() == [float(i)] * 3, tag


def test_tags_of_equal_length_logged_in_turn(tmp_path: Path) -> None:
    """Equal record lengths make one column of two tags: each record is still checked against its template."""
    write_tbx(
        tmp_path,
        [(tag, float(s), s) for s in range(200) for tag in ("loss_a", "loss_b")]
        + [("loss_a", 1.0, 200), ("loss_a", 2.0, 201)],
    )
    run = read(tmp_path)
    assert run.metrics() == {"loss_a": 202, "loss_b": 200}
    assert points(run, "loss_b") == [(s, float(s)) for s in range(200)]
    assert points(run, "loss_a")[-3:] == [(199, 199.0), (200, 1.0), (201, 2.0)]


def test_metadata_on_simple_values_and_missing_wall_time(tmp_path: Path) -> None:
    writer = SummaryWriter(str(tmp_path))
    writer.add_scalar("loss", 0.5, 3, display_name="Loss", summary_description="the loss")
    writer.close()
    late = event(4, summary_pb2.Summary.Value(tag="loss", simple_value=0.25), wall=0.0)
    write_events(tmp_path, [late], ".2")
    run = read(tmp_path)
    assert points(run, TRAIN_LOSS) == [(3, 0.5), (4, 0.25)]
    assert run.metric(TRAIN_LOSS)["wall_time"].tolist()[1] == 0.0


def test_pytorch_writer_every_form() -> None:
    """Committed: torch.utils.tensorboard's simple_value, new_style float and double, add_scalars, hparams.

    torch-writer/
        events.out.tfevents...        train/loss, train/loss_new_style, train/loss_double, a histogram, a text
        Loss_train/events...          tag Loss        (add_scalars("Loss", {"train": ..., "val": ...}))
        Loss_val/events...            tag Loss
        1795552275.4487402/events...  hparams summaries and hparam/final_loss
    """
    run = read(DATA / "torch-writer")
    assert run.warnings == []
    assert run.meta["tags"] == [
        "train/loss",
        "train/loss_new_style",
        "train/loss_double",
        "hparam/final_loss",
        "Loss/train",
        "Loss/val",
    ]
    assert run.metrics() == {
        "train/loss": 30,
        "train/loss_new_style": 30,
        "train/loss_double": 30,
        "hparam/final_loss": 1,
        "Loss/train": 30,
        EVAL_LOSS: 30,
    }
    as_float32 = [(s, float(np.float32(2.0 / s))) for s in range(1, 31)]
    assert points(run, TRAIN_LOSS) == as_float32
    assert points(run, "train/loss_new_style") == as_float32
    assert points(run, "train/loss_double") == [(s, 2.0 / s) for s in range(1, 31)]
    assert points(run, "Loss/train") == as_float32
    assert points(run, EVAL_LOSS) == [(s, float(np.float32(2.0 / s + 0.5))) for s in range(1, 31)]
    assert run.metric(EVAL_LOSS)["tag"].unique().tolist() == ["Loss/val"]
    assert points(run, "hparam/final_loss") == [(0, float(np.float32(2.0 / 30)))]


def write_irregular(folder: Path, steps: int) -> Path:
    """Logged unevenly, as a hand-written loop does: TF2 tensors mixed with simple values, a tag that starts a third
    of the way in, tags every 3 and 7 steps, an evaluation every 25, a histogram every 40, a text first, a point
    without a wall time; written by TensorBoard's EventFileWriter."""
    from tensorboard.plugins.histogram import summary_v2 as histogram_v2

    events = [event(0, tensor_value("config", plugin="text", dtype=7, string_val=[b"lr=3e-4"]))]
    for s in range(1, steps + 1):
        events += [event(s, summary_pb2.Summary.Value(tag="loss", simple_value=3.0 / s)), v2("lr", s * 1e-5, s)]
        if s > steps // 3:
            events.append(event(s, summary_pb2.Summary.Value(tag="grad_norm", simple_value=1.0 + s % 5)))
        if s % 3 == 0:
            events.append(v2("throughput/tokens_per_second", 5000.0 + s, s))
        if s % 7 == 0:
            events.append(event(s, summary_pb2.Summary.Value(tag="mem", simple_value=s / 7), wall=0.0))
        if s % 25 == 0:
            events += [
                v2("val/loss", 2.0 / s, s),
                event(s, summary_pb2.Summary.Value(tag="val/seconds", simple_value=1.5)),
            ]
        if s % 40 == 0:
            events.append(event_pb2.Event(step=s, summary=histogram_v2.histogram_pb("w", np.arange(64.0), buckets=8)))
    return write_events(folder, events)


def test_numpy_and_protobuf_paths_agree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same frames whichever decoder reads the records: columns, templates, fields, protobuf."""
    from losscli.parsers.tensorboard import columns as tfevents_columns
    from losscli.parsers.tensorboard import decode as tfevents_decode
    from losscli.parsers.tensorboard import fields as tfevents_fields
    from losscli.parsers.tensorboard import templates as tfevents_templates

    values = [
        tensor_value("a", dtype=1, tensor_content=struct.pack("<f", 1.5)),
        tensor_value("b", dtype=9, int64_val=[7]),
        tensor_value("c", dtype=19, half_val=[0x3C00]),
        summary_pb2.Summary.Value(tag="d", simple_value=0.5),
    ]
    write_events(tmp_path / "mixed", [event(s, values[s % 4]) for s in range(400)] + [v2("e", 0.75, 401)])
    write_tbx(tmp_path / "cycles", [(t, s / 3, s) for s in range(300) for t in ("loss", "lr", "train/epoch")])
    write_events(tmp_path / "tf2", [v2(t, s / 3, s) for s in range(300) for t in ("loss", "learning_rate")])
    write_irregular(tmp_path / "irregular", 200)
    folders = [
        tmp_path / "mixed",
        tmp_path / "cycles",
        tmp_path / "tf2",
        tmp_path / "irregular",
        DATA / "torch-writer",
        DATA / "tb-sirui-textgen",
    ]
    general = tfevents_fields.decode_general

    def no_blocks(buf, *, starts, lengths, blocks, collector):
        pass

    def no_templates(buf, *, starts, lengths, pending, collector):
        pass

    def all_slow(v, s, e):
        out = general(v, s, e)
        out["kind"][:] = tfevents_fields.SLOW
        return out

    from losscli.parsers.tensorboard.records import frame_records, open_buffer

    cycles = next((tmp_path / "cycles").iterdir())
    raw, buf = open_buffer(cycles)
    blocks = frame_records(raw, buf=buf, verify=True).blocks
    assert sum(period * count for _, period, count in blocks) >= 800  # the column decoder was used
    monkeypatch.setattr(tfevents_columns, "_MIN_CYCLES", 1)  # columns for every block, however short
    monkeypatch.setattr(tfevents_templates, "_MIN_RECORDS", 1)  # templates for every file and group, however small
    monkeypatch.setattr(tfevents_templates, "_MIN_GROUP", 1)
    monkeypatch.setattr(tfevents_templates, "_CHUNK", 64)  # and groups that end and start again at chunk edges
    frames = [[read(folder).scalars for folder in folders]]
    assert len(frames[0][1]) == 900 and len(frames[0][0]) == 401
    for module, name, replacement in (
        (tfevents_decode, "decode_blocks", no_blocks),
        (tfevents_decode, "decode_templates", no_templates),
        (tfevents_decode, "decode_general", all_slow),
    ):
        monkeypatch.setattr(module, name, replacement)
        frames.append([read(folder).scalars for folder in folders])
    for other in frames[1:]:
        for a, b in zip(frames[0], other):
            assert a.equals(b)


def test_templates_decode_interleaved_tags_and_mixed_forms(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The template decoder takes what the periodic columns cannot: interleaved evaluations, late tags, tensors
    among simple values. Everything it leaves is what only the general decoder reads (text, histograms, a point
    without a wall time)."""
    from losscli.parsers.tensorboard import decode as tfevents_decode
    from losscli.parsers.tensorboard import templates as tfevents_templates

    monkeypatch.setattr(tfevents_templates, "_MIN_RECORDS", 1)
    monkeypatch.setattr(tfevents_templates, "_MIN_GROUP", 1)
    path = write_irregular(tmp_path, 200)
    left_over: list[int] = []
    templates = tfevents_decode.decode_templates

    def spy(buf, *, starts, lengths, pending, collector):
        templates(buf, starts=starts, lengths=lengths, pending=pending, collector=collector)
        left_over.append(len(collector.undecoded()))

    monkeypatch.setattr(tfevents_decode, "decode_templates", spy)
    run = read(tmp_path)
    assert left_over == [1 + 200 // 7 + 200 // 40 + 1]  # file version, no wall time, histograms, the text
    assert run.warnings == [] and run.meta["records"] == len(records(path))
    assert points(run, TRAIN_LOSS) == [(s, float(np.float32(3.0 / s))) for s in range(1, 201)]
    assert points(run, "train/grad_norm")[0] == (67, float(1 + 67 % 5))
    assert points(run, EVAL_LOSS) == [(s, float(np.float32(2.0 / s))) for s in range(25, 201, 25)]
    assert run.metric("mem")["wall_time"].tolist() == [0.0] * (200 // 7)
    assert "w" not in run.metrics()


@pytest.mark.parametrize("verify", [True, False])
def test_framing_finds_what_a_plain_walk_finds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, verify: bool) -> None:
    """Whichever way the records are found (a cycle predicted, candidates scanned window by window, headers read
    one by one where records are large or do not start with a wall time), they are the ones a plain walk finds;
    the periodic blocks reported are runs of adjacent records whose lengths repeat."""
    from losscli.parsers.tensorboard import records as tfevents_records

    write_irregular(tmp_path / "irregular", 300)
    write_tbx(tmp_path / "cycles", [(t, s / 3, s) for s in range(400) for t in ("loss", "lr", "train/epoch")])
    images = SummaryWriter(str(tmp_path / "images"))  # records of a few KB first: headers read one by one
    for step in range(6):
        images.add_image("img", np.random.default_rng(step).random((3, 40, 40)), step)
    for step in range(1, 200):
        images.add_scalar("loss", 1.0 / step, step)
    images.close()
    monkeypatch.setattr(tfevents_records, "_WINDOW", 512)  # windows that end inside records and chains
    for folder in ("irregular", "cycles", "images"):
        path = newest(tmp_path / folder)
        raw, buf = tfevents_records.open_buffer(path)
        framing = tfevents_records.frame_records(raw, buf=buf, verify=verify)
        walked = records(path)
        assert framing.starts.tolist() == [offset + 12 for offset, _ in walked]
        assert framing.lengths.tolist() == [length for _, length in walked]
        for first, period, cycles in framing.blocks:
            span = slice(first, first + period * cycles)
            lengths, starts = framing.lengths[span], framing.starts[span]
            assert (lengths[period:] == lengths[:-period]).all() and (
                starts[1:] == starts[:-1] + lengths[:-1] + 16
            ).all()
    raw, buf = tfevents_records.open_buffer(newest(tmp_path / "cycles"))
    assert sum(p * c for _, p, c in tfevents_records.frame_records(raw, buf=buf, verify=verify).blocks) >= 1190


# ---------------------------------------------------------------- runs and folders


def test_add_scalars_folders_belong_to_their_run(tmp_path: Path) -> None:
    """tensorboardX writes add_scalars("train/Loss", {"train": .., "val": ..}) as nested folders:

    run/
        events...              the main writer's file
        train/Loss/train/      tag "train/Loss"   -> train/Loss/train
        train/Loss/val/        tag "train/Loss"   -> train/Loss/val
        other/run/             tag "loss": not named after its tag, so not part of this run
    """
    writer = SummaryWriter(str(tmp_path / "run"))
    for step in range(10):
        writer.add_scalars("train/Loss", {"train": 1.0 / (step + 1), "val": 2.0}, step)
    writer.close()
    write_tbx(tmp_path / "run" / "other" / "run", [("loss", 1.0, 1)])
    found = claim(tmp_path / "run")
    assert found.used_dirs == {"train"}
    run = read(tmp_path / "run")
    assert run.meta["tags"] == ["train/Loss/train", "train/Loss/val"]
    assert points(run, "train/Loss/val") == [(s, 2.0) for s in range(10)]
    assert len(run.meta["source_files"]) == 3


def test_pytorch_add_scalars_folder_names() -> None:
    """PyTorch writes add_scalars("Loss", ...) as Loss_train/ and Loss_val/ (the committed torch-writer/)."""
    found = claim(DATA / "torch-writer")
    assert found.used_dirs == {"Loss_train", "Loss_val", "1795552275.4487402"}


def test_keras_layout_is_one_run(tmp_path: Path) -> None:
    """
    20240101-120000/       no event files of its own
        train/             epoch_loss        -> train/epoch_loss (train loss)
        validation/        epoch_loss        -> validation/epoch_loss (eval loss)
        train/events...profile-empty is not an event file
    """
    root = tmp_path / "20240101-120000"
    write_tbx(root / "train", [("epoch_loss", 1.0 / (e + 1), e) for e in range(4)])
    write_tbx(root / "validation", [("epoch_loss", 1.5 / (e + 1), e) for e in range(4)])
    (root / "train" / "events.out.tfevents.1.host.profile-empty").write_bytes(b"")
    found = claim(root)
    assert found.used_dirs == {"train", "validation"} and found.used_files == set()
    assert all("profile-empty" not in str(p) for p in found.sources[0].files)
    run = read(root)
    assert run.name == "20240101-120000"
    assert run.metric(TRAIN_LOSS)["tag"].unique().tolist() == ["train/epoch_loss"]
    assert points(run, EVAL_LOSS) == [(e, float(np.float32(1.5 / (e + 1)))) for e in range(4)]


def test_split_folders_next_to_other_runs_are_not_grouped(tmp_path: Path) -> None:
    write_tbx(tmp_path / "train", [("loss", 1.0, 1)])
    write_tbx(tmp_path / "experiment_2", [("loss", 1.0, 1)])
    assert claim(tmp_path) is None


def test_estimator_eval_folder_belongs_to_the_run(tmp_path: Path) -> None:
    write_tbx(tmp_path, [("loss", 1.0, 100), ("loss", 0.5, 200)])
    write_tbx(tmp_path / "eval", [("loss", 0.8, 200)])
    run = read(tmp_path)
    assert points(run, TRAIN_LOSS) == [(100, 1.0), (200, 0.5)]
    assert points(run, EVAL_LOSS) == [(200, float(np.float32(0.8)))]
    assert run.metric(EVAL_LOSS)["tag"].tolist() == ["eval/loss"]


def test_qualified_tags() -> None:
    assert qualified_tag("loss", folder=None) == "loss"
    assert qualified_tag("epoch_loss", folder="validation") == "validation/epoch_loss"
    assert qualified_tag("train/loss", folder="train") == "train/loss"
    assert qualified_tag("a/b", folder="a_b_x_y") == "a/b/x_y"
    assert qualified_tag("loss", folder="1719642696.5168986") == "loss"
    assert qualified_tag("loss", folder="unrelated") == "unrelated/loss"


def test_folders_without_event_files_are_not_claimed(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "train").mkdir()
    assert claim(tmp_path) is None


def test_claim_file() -> None:
    real = DATA / "tb-linebot" / "events.out.tfevents.1665452919.4dac8fc521bd.766.0"
    head = real.read_bytes()[:4096]
    assert FORMAT.claim_file(real, head)
    assert FORMAT.claim_file(Path("renamed.bin"), head)
    assert not FORMAT.claim_file(Path("events.out.tfevents.1.host.profile-empty"), b"")
    assert not FORMAT.claim_file(Path("notes.bin"), b"\x00" * 100)


def test_files_are_read_in_name_order_and_an_event_file_alone_is_a_run(tmp_path: Path) -> None:
    later = write_events(tmp_path, [v2("loss", 2.0, 2)]).rename(tmp_path / "events.out.tfevents.2.host")
    write_events(tmp_path, [v2("loss", 1.0, 1)]).rename(tmp_path / "events.out.tfevents.1.host")
    run = read(tmp_path)  # written last, named first: read first (in time order step 2 would be replaced)
    assert points(run, TRAIN_LOSS) == [(1, 1.0), (2, 2.0)] and run.warnings == []
    alone = read_file(later)
    assert alone.name == tmp_path.name and points(alone, TRAIN_LOSS) == [(2, 2.0)]


def test_discovery_finds_one_run_per_log_folder(tmp_path: Path) -> None:
    from losscli.discover import find_sources

    writer = SummaryWriter(str(tmp_path / "logs" / "run1"))
    writer.add_scalars("loss", {"train": 1.0, "val": 2.0}, 1)
    writer.close()
    write_tbx(tmp_path / "logs" / "run2", [("loss", 1.0, 1)])
    write_tbx(tmp_path / "logs" / "keras" / "train", [("epoch_loss", 1.0, 1)])
    write_tbx(tmp_path / "logs" / "keras" / "validation", [("epoch_loss", 1.0, 1)])
    found = find_sources([tmp_path])
    tensorboard = [(s.path.name, len(s.files)) for s, _ in found.sources if s.format == "tensorboard"]
    assert tensorboard == [("keras", 2), ("run1", 3), ("run2", 1)]


# ---------------------------------------------------------------- points: epochs, restarts, no sampling


def test_epoch_column_from_the_epoch_metric(tmp_path: Path) -> None:
    write_tbx(
        tmp_path,
        [("train/loss", 1.0, s) for s in range(0, 50, 5)] + [("train/epoch", s / 20, s) for s in range(10, 41, 10)],
    )
    loss = read(tmp_path).metric(TRAIN_LOSS)
    epochs = dict(zip(loss["step"], loss["epoch"]))
    assert math.isnan(epochs[0]) and math.isnan(epochs[5]) and math.isnan(epochs[45])
    assert epochs[10] == 0.5 and epochs[40] == 2.0
    assert epochs[15] == pytest.approx(0.75) and epochs[35] == pytest.approx(1.75)


def test_restart_in_a_new_file_replaces_the_overlap(tmp_path: Path) -> None:
    write_events(tmp_path, [v2("loss", 1.0, s) for s in range(100)], suffix=".1")
    write_events(tmp_path, [v2("loss", 2.0, s) for s in range(50, 150)], suffix=".2")
    run = read(tmp_path)
    assert points(run, TRAIN_LOSS) == [(s, 1.0) for s in range(50)] + [(s, 2.0) for s in range(50, 150)]
    assert run.warnings == [
        f"{tmp_path}: 50 points logged again after a restart (the step goes back from 99 to 50); "
        "the later values are kept"
    ]
    assert run.meta["replaced_points"] == 50


def test_restart_in_the_same_file(tmp_path: Path) -> None:
    write_tbx(tmp_path, [("loss", 1.0, s) for s in range(10)] + [("loss", 2.0, s) for s in range(5, 12)])
    run = read(tmp_path)
    assert points(run, TRAIN_LOSS) == [(s, 1.0) for s in range(5)] + [(s, 2.0) for s in range(5, 12)]
    assert run.meta["replaced_points"] == 5


def test_the_same_point_logged_twice_is_not_a_restart(tmp_path: Path) -> None:
    """The HF Trainer logs train/epoch with the training loss and again with each evaluation."""
    write_tbx(tmp_path, [("train/epoch", 0.5, 5), ("train/epoch", 0.5, 5), ("train/epoch", 1.0, 10)])
    run = read(tmp_path)
    assert points(run, "train/epoch") == [(5, 0.5), (10, 1.0)]
    assert run.warnings == [] and "replaced_points" not in run.meta


def _restart_rule_by_hand(logged: list[tuple[int, int, float]]) -> list[tuple[int, int, float]]:
    """The rule of `losscli.restarts`, point by point. A fall (a step below the one before it) is out of order
    when no step after it, up to the next fall, repeats a step logged before it at or below the step it fell
    from; any other fall starts a new stretch. A point is dropped when a point in a later stretch has a step at
    or below its own (a resume that goes back to it or below). The rest are kept in step order, the first value
    at each step."""
    kept: list[tuple[int, int, float]] = []
    for metric in dict.fromkeys(m for m, _, _ in logged):
        points = [(s, v) for m, s, v in logged if m == metric]
        falls = [i for i in range(1, len(points)) if points[i][0] < points[i - 1][0]]
        splits = []
        for k, i in enumerate(falls):
            end = falls[k + 1] if k + 1 < len(falls) else len(points)
            before = {s for s, _ in points[:i]}
            if any(s in before for s, _ in points[i:end] if s <= points[i - 1][0]):
                splits.append(i)
        survivors = []
        for i, (s, v) in enumerate(points):
            if any(r > i and any(points[j][0] <= s for j in range(r, len(points))) for r in splits):
                continue
            survivors.append((s, v))
        survivors.sort(key=lambda p: p[0])  # stable: the first logged at a step stays first
        for s, v in survivors:
            if kept and kept[-1][0] == metric and kept[-1][1] == s:
                continue
            kept.append((metric, s, v))
    return kept


def test_restarts_follow_the_rule_for_every_sequence() -> None:
    """The vectorised rule (which the TensorBoard reader applies to arrays of codes) against a by-hand version."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from losscli.restarts import resolve_codes, resolve_restarts

    @settings(max_examples=300, deadline=None)
    @given(st.lists(st.tuples(st.integers(0, 2), st.integers(0, 8), st.integers(0, 2)), min_size=1, max_size=40))
    def check(logged: list[tuple[int, int, int]]) -> None:
        points = [(m, s, float(v)) for m, s, v in logged]
        expected = _restart_rule_by_hand(points)
        names = [f"m{m}" for m, _, _ in points]
        step = np.asarray([s for _, s, _ in points], dtype=np.int64)
        value = np.asarray([v for _, _, v in points])
        frame = make_frame(names, names, step, np.full(len(step), np.nan), value, value)
        found, _ = resolve_restarts(frame)
        assert list(zip(found["metric"], found["step"], found["value"])) == [(f"m{m}", s, v) for m, s, v in expected]
        code = pd.factorize(np.asarray([m for m, _, _ in points]))[0].astype(np.int16)
        resolved = resolve_codes(code, step=step, value=value)
        kept = value if resolved.order is None else value[resolved.order]
        assert kept.tolist() == [v for _, _, v in expected]
        assert resolved.step.tolist() == [s for _, s, _ in expected]

    check()


def test_a_second_evaluation_at_the_last_step_is_not_a_restart(tmp_path: Path) -> None:
    """`trainer.evaluate()` after `trainer.train()`: eval/loss again at the final step, with another value when the
    best checkpoint was loaded at the end. The first value stays, and it is a note, not a restart warning."""
    scalars = [("train/loss", 2.0 - s / 10, s) for s in range(1, 11)] + [("eval/loss", 1.5, 5), ("eval/loss", 1.6, 10)]
    write_tbx(tmp_path, [*scalars, ("eval/loss", 1.5, 10)])
    run = read(tmp_path)
    assert points(run, EVAL_LOSS) == [(5, 1.5), (10, float(np.float32(1.6)))]
    assert run.warnings == [] and "replaced_points" not in run.meta
    assert any("1 point was logged a second time at the same step" in n for n in run.notes)


def test_two_tags_with_one_canonical_name(tmp_path: Path) -> None:
    write_tbx(tmp_path, [("loss", 5.0, s) for s in range(3)] + [("train/loss", 1.0, s) for s in range(3)])
    run = read(tmp_path)
    assert points(run, TRAIN_LOSS) == [(0, 1.0), (1, 1.0), (2, 1.0)]
    assert points(run, "loss") == [(0, 5.0), (1, 5.0), (2, 5.0)]
    assert run.warnings == []


def test_more_than_ten_thousand_points_per_tag_are_all_kept(tmp_path: Path) -> None:
    steps = range(12_000)
    write_tbx(tmp_path, [item for s in steps for item in (("loss", s / 7, s), ("lr", s / 3, s))])
    run = read(tmp_path)
    assert run.metrics() == {TRAIN_LOSS: 12_000, "train/learning_rate": 12_000}
    loss = run.metric(TRAIN_LOSS)
    assert loss["step"].tolist() == list(steps)
    assert np.array_equal(loss["value"].to_numpy(), np.asarray([s / 7 for s in steps], dtype=np.float32))


# ---------------------------------------------------------------- damage


@pytest.fixture
def hundred(tmp_path: Path) -> Path:
    """One file of 100 `loss` events, steps 0..99, value = step."""
    return write_events(tmp_path, [v2("loss", float(s), s) for s in range(100)])


def test_truncated_last_record_keeps_everything_before(hundred: Path) -> None:
    offset, length = records(hundred)[-1]
    for cut in (offset + 5, offset + 12, offset + 12 + length // 2, offset + 12 + length + 2):
        data = hundred.read_bytes()
        hundred.with_name("cut").write_bytes(data[:cut])
        run = read_file(hundred.with_name("cut"))
        assert points(run, TRAIN_LOSS) == [(s, float(s)) for s in range(99)]
        assert len(run.warnings) == 1 and "last record is incomplete" in run.warnings[0]


@pytest.mark.parametrize("where", ["data", "length", "length crc", "data crc"])
def test_a_damaged_record_in_the_middle_is_skipped(hundred: Path, where: str) -> None:
    offset, length = records(hundred)[41]  # record 41 holds step 40 (record 0 is the file version)
    position = {
        "data": offset + 12 + length - 2,
        "length": offset,
        "length crc": offset + 9,
        "data crc": offset + 12 + length + 1,
    }[where]
    damage(hundred, position)
    run = read_file(hundred)
    assert points(run, TRAIN_LOSS) == [(s, float(s)) for s in range(100) if s != 40]
    (warning,) = run.warnings
    assert "about 1 damaged records skipped" in warning and f"({length + 16} bytes)" in warning


def test_garbage_inserted_in_the_middle_is_skipped(hundred: Path) -> None:
    data = hundred.read_bytes()
    offset, _ = records(hundred)[50]
    hundred.write_bytes(data[:offset] + bytes(range(256)) * 3 + data[offset:])
    run = read_file(hundred)
    assert points(run, TRAIN_LOSS) == [(s, float(s)) for s in range(100)]
    assert "768 bytes" in run.warnings[0]


def test_without_checks_damage_in_values_goes_unnoticed(hundred: Path) -> None:
    intact = read_file(hundred, verify=False)
    assert intact.scalars.equals(read_file(hundred).scalars)
    damage(hundred, hundred.read_bytes().index(struct.pack("<f", 40.0)) + 3, xor=0x01)  # the float's exponent
    run = read_file(hundred, verify=False)
    assert run.warnings == [] and len(run.scalars) == 100
    assert dict(points(run, TRAIN_LOSS))[40] == 160.0


def test_without_checks_a_damaged_length_still_resynchronises(hundred: Path) -> None:
    offset, _ = records(hundred)[41]
    damage(hundred, offset + 5, xor=0x40)  # the length becomes absurd
    run = read_file(hundred, verify=False)
    assert points(run, TRAIN_LOSS) == [(s, float(s)) for s in range(100) if s != 40]


def test_empty_and_junk_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty" / "events.out.tfevents.1.host"
    empty.parent.mkdir()
    empty.write_bytes(b"")
    with pytest.raises(ParseError, match="empty file"):
        read(empty.parent)
    write_tbx(empty.parent, [("loss", 1.0, 1)], suffix=".z")
    run = read(empty.parent)
    assert points(run, TRAIN_LOSS) == [(1, 1.0)] and run.warnings == [f"{empty}: empty file"]
    junk = tmp_path / "junk" / "events.out.tfevents.2.host"
    junk.parent.mkdir()
    junk.write_bytes(bytes(range(256)) * 40)
    with pytest.raises(ParseError, match="no record could be read"):
        read(junk.parent)


def test_no_scalars_is_an_empty_frame_with_a_warning(tmp_path: Path) -> None:
    writer = SummaryWriter(str(tmp_path))
    writer.add_text("note", "only text", 0)
    writer.close()
    run = read(tmp_path)
    assert run.scalars.empty and list(run.scalars.columns) == list(COLUMNS)
    assert run.warnings == [f"{tmp_path}: no scalar summaries in the event files"]


def test_damage_anywhere_never_crashes_nor_invents_points(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from losscli.parsers.tensorboard import columns as tfevents_columns
    from losscli.parsers.tensorboard import templates as tfevents_templates

    monkeypatch.setattr(tfevents_columns, "_MIN_CYCLES", 1)  # let the column decoder meet the damage too
    monkeypatch.setattr(tfevents_templates, "_MIN_RECORDS", 1)  # and the templates
    monkeypatch.setattr(tfevents_templates, "_MIN_GROUP", 1)

    original = write_events(
        tmp_path,
        [v2("loss", float(s), s) for s in range(30)]
        + [event(s, summary_pb2.Summary.Value(tag="acc", simple_value=s / 2)) for s in range(30)],
    )
    data = original.read_bytes()
    intact = read_file(original).scalars
    truth = set(zip(*[intact[c].tolist() for c in ("tag", "step", "value")]))
    target = tmp_path / "damaged" / original.name
    target.parent.mkdir()

    @settings(max_examples=120, deadline=None)
    @given(
        st.lists(
            st.tuples(st.integers(0, len(data) - 1), st.integers(1, 255), st.sampled_from("xid")),
            min_size=1,
            max_size=4,
        ),
        st.booleans(),
    )
    def check(edits: list[tuple[int, int, str]], verify: bool) -> None:
        damaged = bytearray(data)
        for position, byte, kind in edits:
            position %= len(damaged) or 1
            if kind == "x":
                damaged[position] ^= byte
            elif kind == "i":
                damaged[position:position] = bytes([byte]) * (byte % 17 + 1)
            else:
                del damaged[position : position + byte % 23 + 1]
        target.write_bytes(bytes(damaged))
        try:
            run = read_file(target, verify=verify)
        except ParseError:
            return
        if verify:
            found = zip(*[run.scalars[c].tolist() for c in ("tag", "step", "value")])
            assert set(found) <= truth

    check()


def test_records_with_valid_checksums_but_junk_inside_never_crash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the decoders meet when the framing is intact: events with bytes changed, CRCs made right."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from losscli.parsers.tensorboard import templates as tfevents_templates
    from losscli.parsers.tensorboard.records import masked_crc

    monkeypatch.setattr(tfevents_templates, "_MIN_RECORDS", 1)  # every record offered to the templates first
    monkeypatch.setattr(tfevents_templates, "_MIN_GROUP", 1)

    good = [
        v2("loss", 1.5, 300).SerializeToString(),
        event(3, tensor_value("t", dtype=9, int64_val=[5])).SerializeToString(),
        event(7, summary_pb2.Summary.Value(tag="x", simple_value=2.0)).SerializeToString(),
    ]
    target = tmp_path / "events.out.tfevents.1.host"

    def framed(data: bytes) -> bytes:
        length = struct.pack("<Q", len(data))
        return length + struct.pack("<I", masked_crc(length)) + data + struct.pack("<I", masked_crc(data))

    @settings(max_examples=200, deadline=None)
    @given(
        st.lists(
            st.tuples(
                st.sampled_from(range(len(good))),
                st.lists(st.tuples(st.integers(0, 200), st.integers(0, 255))),
            ),
            min_size=1,
            max_size=6,
        ),
        st.binary(max_size=40),
    )
    def check(changes: list[tuple[int, list[tuple[int, int]]]], junk: bytes) -> None:
        out = b""
        for which, edits in changes:
            data = bytearray(good[which])
            for position, byte in edits:
                data[position % len(data)] = byte
            out += framed(bytes(data))
        target.write_bytes(out + framed(junk))
        try:
            run = read_file(target)
        except ParseError:
            return
        assert list(run.scalars.columns) == list(COLUMNS)

    check()


# ---------------------------------------------------------------- real files and samples


def test_real_file_hf_trainer_textgen() -> None:
    run = read(DATA / "tb-sirui-textgen")
    assert run.warnings == []
    assert run.metrics()[TRAIN_LOSS] == 31 and run.metrics()["train/epoch"] == 32
    loss = run.metric(TRAIN_LOSS)
    assert loss["step"].tolist()[:3] == [100, 200, 300]
    assert loss["value"].tolist()[:2] == [float(np.float32(6.2542)), float(np.float32(4.1532))]
    assert loss["epoch"].tolist()[0] == float(np.float32(0.0940733775))
    assert run.meta["num_train_epochs"] == 3 and run.meta["logging_steps"] == 100
    assert run.meta["global_step"] == 3189 and run.meta["steps_per_epoch"] == pytest.approx(1063.0)


def test_real_file_with_only_the_end_of_training_summary() -> None:
    run = read(DATA / "tb-linebot")
    assert TRAIN_LOSS not in run.metrics()
    assert points(run, "train/train_loss") == [(300, float(np.float32(0.779369)))]
    assert points(run, "train/epoch") == [(300, 100.0)]


@pytest.mark.parametrize("name", ["hf-stepped", "hf-smooth"])
def test_hf_trainer_tensorboard_matches_its_trainer_state(name: str) -> None:
    from losscli.parsers.trainer_logs import read_trainer_output
    from losscli.parsers.trainer_output import TrainerOutput

    root = ROOT / "sample_logs" / name
    runs = [p for p in (root / "runs").iterdir() if p.is_dir()]
    tb = read(runs[0])
    files = sorted(p.name for p in root.iterdir() if p.is_file())
    dirs = sorted(p.name for p in root.iterdir() if p.is_dir())
    state = read_trainer_output(TrainerOutput().claim_folder(root, files, dirs).sources[0])
    assert tb.warnings == []
    for metric in (TRAIN_LOSS, EVAL_LOSS, "train/learning_rate"):
        a, b = tb.metric(metric), state.metric(metric)
        assert a["step"].tolist() == b["step"].tolist()
        assert np.array_equal(a["value"].to_numpy(), b["value"].to_numpy().astype(np.float32))
        assert np.allclose(a["epoch"], b["epoch"], rtol=1e-6)
    assert tb.meta["steps_per_epoch"] == state.meta["steps_per_epoch"]
    assert tb.meta["num_train_epochs"] == state.meta["num_train_epochs"]


def test_tf2_tensor_sample_holds_the_stepped_run() -> None:
    import json

    run = read(ROOT / "sample_logs" / "tf2-tensor")
    state = json.loads((ROOT / "sample_logs" / "hf-stepped" / "trainer_state.json").read_text())
    logged = [(e["step"], float(np.float32(e["loss"]))) for e in state["log_history"] if "loss" in e]
    assert points(run, TRAIN_LOSS) == logged
    assert run.meta["steps_per_epoch"] == 20.0 and run.warnings == []


def test_module_imports_only_the_standard_library() -> None:
    code = (
        "import sys, losscli.parsers.tensorboard.reader as t; "
        "heavy = ('numpy', 'pandas', 'google_crc32c', 'google.protobuf'); "
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_reading_needs_neither_pandas_nor_protobuf() -> None:
    """Runs come as numpy columns; protobuf is loaded only for records the array decoders leave over."""
    code = (
        "import sys; from pathlib import Path; from losscli.parsers.base import ReadOptions, Source; "
        "from losscli.parsers.tensorboard.reader import TensorBoardFormat; "
        f"p = Path({str(ROOT / 'sample_logs' / 'tf2-tensor')!r}); "
        "source = Source('tensorboard', p, tuple(sorted(p.iterdir()))); "
        "(run,) = TensorBoardFormat().read(source, ReadOptions()); "
        "print(len(run.columns()), sorted(m for m in ('pandas', 'google.protobuf') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "300 []"


def test_the_trainers_arguments_are_read_without_protobuf() -> None:
    """The HF Trainer's `args` text summary is read by the wire reader: no protobuf import for a Trainer's run."""
    code = (
        "import sys; from pathlib import Path; from losscli.parsers.base import ReadOptions, Source; "
        "from losscli.parsers.tensorboard.reader import TensorBoardFormat; "
        f"p = Path({str(ROOT / 'sample_logs' / 'hf-stepped' / 'runs' / 'hf-stepped')!r}); "
        "source = Source('tensorboard', p, tuple(sorted(p.iterdir()))); "
        "(run,) = TensorBoardFormat().read(source, ReadOptions()); "
        "print(run.meta['num_train_epochs'], run.meta['logging_steps'], 'google.protobuf' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    state = json.loads((ROOT / "sample_logs" / "hf-stepped" / "trainer_state.json").read_text())
    assert out.split() == [str(state["num_train_epochs"]), str(state["logging_steps"]), "False"]
