"""W&B run folders read natively from `run-<id>.wandb`: real offline runs (tests/data/wandb/SOURCES.md).

tests/data/wandb/direct/wandb/            plain wandb.log calls (step = _step), a record over three blocks
    latest-run -> offline-run-...-cg60k7gh
    offline-run-...-cg60k7gh/run-cg60k7gh.wandb, files/
tests/data/wandb/typed/wandb/             x_history_value_encoding="json,typed", logs train/global_step
"""

from __future__ import annotations

import math
import os
import shutil
import struct
import sys
from pathlib import Path

import pandas as pd
import pytest

from losscli.errors import ParseError
from losscli.frame import EPOCH, EVAL_LOSS, GRAD_NORM, LEARNING_RATE, TRAIN_LOSS
from losscli.parsers import protobuf_wire
from losscli.parsers.base import ReadOptions, Source
from losscli.parsers.trainer_logs import read_trainer_output
from losscli.parsers.wandb import transaction_log as log
from losscli.parsers.wandb.run_folder import WandbRunFormat
from losscli.parsers.wandb.run_records import read_wandb_file

DATA = Path(__file__).parent / "data" / "wandb"
SAMPLES = Path(__file__).parent.parent / "sample_logs"
FMT = WandbRunFormat()


def listing(folder: Path) -> tuple[list[str], list[str]]:
    entries = sorted(os.listdir(folder))
    dirs = [e for e in entries if (folder / e).is_dir()]
    return [e for e in entries if e not in dirs], dirs


def claim(folder: Path):
    return FMT.claim_folder(folder, *listing(folder))


def wandb_file(name: str) -> Path:
    return next((DATA / name / "wandb").glob("offline-run-*/run-*.wandb"))


def chunks(data: bytes) -> list[tuple[int, int, int]]:
    """(offset, length, type) of every chunk, walking the block layout."""
    found, pos = [], log.CHUNK_HEADER
    while pos < len(data):
        block_end = min((pos // log.BLOCK + 1) * log.BLOCK, len(data))
        if block_end - pos < log.CHUNK_HEADER:
            pos = block_end
            continue
        _, length, kind = struct.unpack_from("<IHB", data, pos)
        found.append((pos, length, kind))
        pos += log.CHUNK_HEADER + length
    return found


def read_copy(tmp_path: Path, name: str, data: bytes, **options):
    path = tmp_path / name
    path.write_bytes(data)
    return read_wandb_file(path, run_path=tmp_path, options=ReadOptions(**options))


# --- finding runs -------------------------------------------------------------------------------------------


def test_wandb_folder_claims_each_run_once_with_latest_run_link():
    folder = DATA / "direct" / "wandb"
    found = claim(folder)
    assert found is not None
    assert [s.path.name for s in found.sources] == ["offline-run-20261124_195815-cg60k7gh"]
    assert found.sources[0].files == (wandb_file("direct"),)
    assert found.used_dirs == {"offline-run-20261124_195815-cg60k7gh", "latest-run"}


def test_links_to_a_claimed_run_are_used_up_not_read_again(tmp_path):
    shutil.copytree(DATA / "direct" / "wandb", tmp_path / "wandb", symlinks=True)
    run = next((tmp_path / "wandb").glob("offline-run-*"))
    shutil.copytree(
        DATA / "typed" / "wandb" / next((DATA / "typed" / "wandb").glob("offline-run-*")).name,
        tmp_path / "wandb" / "run-20261124_200000-9gpt60oj",
    )
    (tmp_path / "wandb" / "debug.log").symlink_to(f"{run.name}/files/requirements.txt")
    found = claim(tmp_path / "wandb")
    assert sorted(s.path.name for s in found.sources) == [run.name, "run-20261124_200000-9gpt60oj"]
    assert "latest-run" in found.used_dirs
    assert found.used_files == {"debug.log"}


def test_a_linked_run_folder_elsewhere_is_a_run(tmp_path):
    (tmp_path / "wandb").mkdir()
    target = wandb_file("typed").parent
    (tmp_path / "wandb" / "run-20261124_200000-9gpt60oj").symlink_to(target)
    (tmp_path / "wandb" / "run-again").symlink_to(target)
    found = claim(tmp_path / "wandb")
    assert [s.path.name for s in found.sources] == ["run-20261124_200000-9gpt60oj"]
    assert found.used_dirs == {"run-20261124_200000-9gpt60oj", "run-again"}


def test_a_run_folder_given_directly_claims_itself_and_its_files_folder():
    folder = wandb_file("direct").parent
    found = claim(folder)
    assert [s.path for s in found.sources] == [folder]
    assert found.used_files == {"run-cg60k7gh.wandb"}
    assert found.used_dirs == {"files"}


def test_folders_without_a_wandb_file_are_not_claimed(tmp_path):
    (tmp_path / "run-20260101_000000-abc" / "files").mkdir(parents=True)
    assert claim(tmp_path) is None
    assert claim(DATA) is None


def test_claim_file_checks_the_header():
    path = wandb_file("typed")
    assert FMT.claim_file(path, path.read_bytes()[:4096])
    assert not FMT.claim_file(path, b"not a wandb file")
    assert not FMT.claim_file(Path("x.csv"), path.read_bytes()[:4096])


# --- reading real runs --------------------------------------------------------------------------------------


def test_direct_run_history_config_and_summary():
    source = claim(DATA / "direct" / "wandb").sources[0]
    (run,) = FMT.read(source, ReadOptions())
    assert run.name == "direct - stepped demo"
    assert run.format == "wandb_run"
    assert run.warnings == [] and run.notes == []
    assert run.meta["run_id"] == "cg60k7gh"
    assert run.meta["num_train_epochs"] == 4 and run.meta["train_batch_size"] == 16
    assert run.meta["step_key"] == "_step"
    assert run.metrics() == {
        "train/loss": 48,
        "train/epoch": 52,
        "system/tokens": 48,
        "train/learning_rate": 48,
        "eval/loss": 4,
    }
    loss = run.metric("train/loss")
    assert loss["step"].tolist()[:13] == list(range(12)) + [13]  # _step 12 is the eval row
    assert loss["value"].iloc[0] == pytest.approx(2.5477800371885997, abs=0)
    assert loss["epoch"].iloc[12] == pytest.approx(13 / 12)
    assert loss["value"].iloc[11] - loss["value"].iloc[12] > 0.9  # the drop at the first epoch boundary
    assert loss["value"].iloc[-1] == run.meta["summary"]["train/loss"]
    assert run.metric("eval/loss")["step"].tolist() == [12, 25, 38, 51]
    assert loss["wall_time"].between(1.7e9, 2e9).all()
    nested = run.metric("system/tokens")
    assert nested["value"].iloc[-1] == 48 * 512  # {"system": {"tokens": ...}} joined with "/"


def test_a_record_over_three_blocks_is_reassembled():
    data = wandb_file("direct").read_bytes()
    kinds = [k for _, _, k in chunks(data)]
    assert [log.FIRST, log.MIDDLE, log.LAST] == [k for k in kinds if k != log.FULL]
    scan = log.scan_log(wandb_file("direct"))
    assert not scan.bad_chunks and not scan.truncated
    assert max(len(r) for r in scan.records) > 2 * log.BLOCK  # the config record with the 66 kB value


def test_typed_values_and_train_global_step():
    (run,) = FMT.read(claim(DATA / "typed" / "wandb").sources[0], ReadOptions())
    assert run.name == "typed-demo"
    assert run.meta["step_key"] == "train/global_step"
    assert run.notes == ["steps are `train/global_step`, not W&B's `_step`"]
    loss = run.metric("train/loss")
    assert loss["step"].tolist() == list(range(1, 49))
    assert run.metric("eval/loss")["step"].tolist() == [12, 24, 36, 48]
    epoch = run.metric("train/epoch")
    assert len(epoch) == 48  # the eval rows repeat the epoch of the same step: one point per step
    assert epoch["value"].iloc[11] == 1.0
    assert run.meta["steps_per_epoch"] == 12.0


def test_typed_fields_agree_with_value_json():
    """The typed client writes both forms; the typed value is what is read, and it matches the JSON text."""
    import json

    seen = 0
    for payload in log.scan_log(wandb_file("typed")).records:
        for number, wire, value in protobuf_wire.fields(payload):
            if number != log.RECORD_HISTORY or wire != 2:
                continue
            for n, _, item in protobuf_wire.fields(value):
                if n != 1:
                    continue
                key, typed = log.decode_item(item)
                raw = {k: v for k, _, v in protobuf_wire.fields(item)}
                assert any(t in raw for t in range(3, 9)), key
                if isinstance(typed, (int, float)):
                    assert typed == json.loads(raw[log.ITEM_VALUE_JSON].decode())
                    seen += 1
    assert seen > 200


def test_hand_encoded_typed_only_items():
    """Items with only a typed value (no value_json): double, zigzag sint64, text, bool, none."""

    def item(*parts: bytes) -> bytes:
        return b"".join(parts)

    def text(number: int, value: str) -> bytes:
        raw = value.encode()
        tag = number << 3 | 2
        key = bytes([tag]) if tag < 0x80 else bytes([tag & 0x7F | 0x80, tag >> 7])
        return key + bytes([len(raw)]) + raw

    nested = text(2, "train") + text(2, "loss")
    assert log.decode_item(item(nested, bytes([6 << 3 | 1]), struct.pack("<d", 1.5))) == ("train/loss", 1.5)
    assert log.decode_item(item(text(1, "n"), bytes([5 << 3, 5]))) == ("n", -3)  # zigzag 5 -> -3
    assert log.decode_item(item(text(1, "t"), text(7, "hi"))) == ("t", "hi")
    assert log.decode_item(item(text(1, "b"), bytes([4 << 3, 1]))) == ("b", True)
    assert log.decode_item(item(text(1, "z"), bytes([3 << 3, 0]))) == ("z", None)
    assert math.isnan(log.decode_item(item(text(1, "j"), text(16, "NaN")))[1])  # wandb's JSON spelling


@pytest.mark.parametrize("name", ["hf-stepped", "hf-smooth"])
def test_hf_trainer_run_gives_the_same_curves_as_its_trainer_state(name):
    folder = SAMPLES / name
    if not (folder / "wandb").is_dir():
        pytest.skip("sample_logs not made yet")
    (source,) = claim(folder / "wandb").sources
    (run,) = FMT.read(source, ReadOptions())
    state = read_trainer_output(Source("trainer_state", folder, (folder / "trainer_state.json",)))
    assert run.name == name and run.meta["step_key"] == "train/global_step"
    for metric in (TRAIN_LOSS, EVAL_LOSS, EPOCH, LEARNING_RATE, GRAD_NORM):
        columns = ["step", "epoch", "value"]
        pd.testing.assert_frame_equal(run.metric(metric)[columns], state.metric(metric)[columns])
    for key in ("num_train_epochs", "train_batch_size", "logging_steps", "steps_per_epoch"):
        assert run.meta[key] == state.meta[key], key
    assert run.meta["summary"]["train_loss"] == state.meta["summary"]["train_loss"]


def test_direct_sample_run_with_an_epoch_index():
    folder = SAMPLES / "wandb-direct" / "wandb"
    if not folder.is_dir():
        pytest.skip("sample_logs not made yet")
    (source,) = claim(folder).sources
    (run,) = FMT.read(source, ReadOptions())
    assert run.name == "wandb-direct" and run.warnings == []
    loss = run.metric(TRAIN_LOSS)
    assert loss["step"].tolist() == list(range(1, 81))
    assert sorted(set(loss["epoch"])) == [0.0, 1.0, 2.0, 3.0]  # `epoch` logged as the epoch index
    assert run.meta["steps_per_epoch"] == 20.0  # not 80 / 3


# --- damage -------------------------------------------------------------------------------------------------


def test_truncated_file_keeps_every_complete_record(tmp_path):
    data = wandb_file("typed").read_bytes()
    full = read_copy(tmp_path, "full.wandb", data)
    cut = read_copy(tmp_path, "cut.wandb", data[: len(data) - 4000])
    assert any("ends inside a record" in w for w in cut.warnings)
    loss, full_loss = cut.metric("train/loss"), full.metric("train/loss")
    assert 40 < len(loss) < len(full_loss)
    assert loss["value"].tolist() == full_loss["value"].tolist()[: len(loss)]
    assert cut.name == "typed-demo"


def test_truncated_inside_a_multi_block_record(tmp_path):
    data = wandb_file("direct").read_bytes()
    middle = next(pos for pos, _, kind in chunks(data) if kind == log.MIDDLE)
    with pytest.raises(ParseError, match="no run record"):  # only the header record is complete
        read_copy(tmp_path, "cut.wandb", data[: middle + 100])
    scan = log.scan_log(tmp_path / "cut.wandb")
    assert scan.truncated and len(scan.records) == 1


def test_bad_crc_skips_that_chunk_with_a_warning(tmp_path):
    data = bytearray(wandb_file("typed").read_bytes())
    history = [
        pos
        for pos, length, kind in chunks(bytes(data))
        if kind == log.FULL and _is_history(bytes(data[pos + 7 : pos + 7 + length]))
    ]
    target = history[5]
    data[target + 20] ^= 0xFF
    run = read_copy(tmp_path, "bad.wandb", bytes(data))
    assert any("damaged chunk" in w and str(target) in w for w in run.warnings)
    assert len(run.metric("train/loss")) == 47
    unchecked = read_copy(tmp_path, "bad2.wandb", bytes(data), verify_checksums=False)
    assert isinstance(unchecked.warnings, list)  # no check: no crash, whatever the bytes decode to


def _is_history(payload: bytes) -> bool:
    try:
        return any(n == log.RECORD_HISTORY for n, _, _ in protobuf_wire.fields(payload))
    except ValueError:
        return False


def test_bad_length_skips_the_rest_of_the_block(tmp_path):
    data = bytearray(wandb_file("typed").read_bytes())
    first = chunks(bytes(data))[3][0]
    data[first + 4 : first + 6] = struct.pack("<H", 40000)
    run = read_copy(tmp_path, "bad.wandb", bytes(data))
    assert any("damaged chunk" in w for w in run.warnings)
    assert 0 < len(run.metric("train/loss")) < 48  # the second block still reads


def test_not_a_wandb_file(tmp_path):
    (tmp_path / "empty.wandb").write_bytes(b"")
    (tmp_path / "text.wandb").write_text("hello world\n")
    for name in ("empty.wandb", "text.wandb"):
        with pytest.raises(ParseError) as error:
            read_wandb_file(tmp_path / name, run_path=tmp_path)
        assert name in str(error.value)
    header_only = wandb_file("typed").read_bytes()[:7]
    with pytest.raises(ParseError, match="no complete record"):
        read_copy(tmp_path, "header.wandb", header_only)


def test_no_wandb_package_needed(monkeypatch):
    for name in ("wandb", "wandb.proto", "google.protobuf"):
        monkeypatch.setitem(sys.modules, name, None)  # any import of them now fails
    (run,) = FMT.read(claim(DATA / "direct" / "wandb").sources[0], ReadOptions())
    assert len(run.metric("train/loss")) == 48
