"""Runs in object storage: a real S3 server on localhost (moto's server mode) holding a copy of sample runs in
several formats, read by every command as the same tree on a disk is read, and judged on a two-worker Dask
cluster with the same output.

The tree uploaded is the layout an upload makes: no symbolic links (object stores have none). Records are
compared whole, with the local folder's path written as the URL.
"""

from __future__ import annotations

import json
import logging
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import DATA, SAMPLE_LOGS

import losscli
from losscli.cli import app
from losscli.errors import UsageError
from losscli.storage.filesystem import storage_options

pytestmark = pytest.mark.timeout(120)
BUCKET = "archive"
RUNS = ("hf-stepped", "tf2-tensor", "wandb-direct", "wandb-exports")


def _copy_without_links(source: Path, target: Path) -> None:
    for path in sorted(source.rglob("*")):
        if path.is_symlink() or not path.is_file() or any(p.is_symlink() for p in path.parents):
            continue
        dest = target / path.relative_to(source)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, dest)


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """trainer_state + TensorBoard + W&B (hf-stepped), TF2 tensors, W&B CSV exports, a loss table, archive
    fine-tunes with their configs, and a damaged trainer_state.json (a real one whose bytes after the start were
    overwritten)."""
    root = tmp_path_factory.mktemp("local") / "tree"
    for name in RUNS:
        _copy_without_links(SAMPLE_LOGS / name, root / name)
    for name in ("sft-v1", "sft-v2"):  # sft-v2 holds the Trainer's training_args.bin (a pickle)
        _copy_without_links(SAMPLE_LOGS / "archive" / name, root / "archive" / name)
    (root / "tables").mkdir()
    shutil.copy(DATA / "tables" / "loss_table.csv", root / "tables" / "loss_table.csv")
    real = (SAMPLE_LOGS / "hf-smooth" / "trainer_state.json").read_bytes()
    (root / "broken").mkdir()
    (root / "broken" / "trainer_state.json").write_bytes(real[:300] + b"\0" * (len(real) - 300))
    return root


@pytest.fixture(scope="module")
def s3(tree: Path) -> Any:
    """moto's S3 server on a free localhost port, with `tree` uploaded under s3://archive/tree."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    import s3fs

    fs = s3fs.S3FileSystem(
        key="test", secret="test", client_kwargs={"endpoint_url": endpoint}, skip_instance_cache=True
    )
    fs.mkdir(BUCKET)
    for path in sorted(tree.rglob("*")):
        if path.is_file():
            fs.pipe_file(f"{BUCKET}/tree/{path.relative_to(tree).as_posix()}", path.read_bytes())
    yield fs, endpoint
    server.stop()


def _options(endpoint: str) -> list[str]:
    return ["--storage-option", f"endpoint_url={endpoint}", "--storage-option", "key=test"] + [
        "--storage-option",
        "secret=test",
    ]


def _objects(fs: Any) -> dict[str, tuple[int, str]]:
    fs.invalidate_cache()
    return {k: (v["size"], v.get("ETag", "")) for k, v in fs.find(BUCKET, detail=True).items()}


def _invoke(args: list[str]) -> Any:
    return CliRunner().invoke(app, args, catch_exceptions=False)


@pytest.fixture
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where losscli's private folders go during the test (checked empty after)."""
    folder = tmp_path / "private"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def test_an_s3_tree_gives_the_records_of_the_same_tree_on_disk(tree: Path, s3: Any, private_tmp: Path) -> None:
    fs, endpoint = s3
    before = _objects(fs)
    local = _invoke(["classify", str(tree), "-f", "json"])
    remote = _invoke(["classify", f"s3://{BUCKET}/tree", "-f", "json", *_options(endpoint)])
    assert remote.exit_code == local.exit_code == 1  # the damaged file
    assert remote.stdout == local.stdout.replace(str(tree), f"s3://{BUCKET}/tree")
    records = {r["run"]: r for r in json.loads(remote.stdout)}
    assert records["hf-stepped"]["verdict"] == "stepped"
    assert records["hf-stepped"]["config"]["model"] == "gpt2"  # read from the event file beside it
    assert {r["format"] for r in records.values()} >= {"trainer_state", "tensorboard", "wandb_run", "loss_table"}
    assert len(records) >= 8
    assert _objects(fs) == before  # nothing written
    assert list(private_tmp.iterdir()) == []  # every private folder deleted


def test_a_damaged_object_is_one_error_naming_its_url(s3: Any, private_tmp: Path) -> None:
    fs, endpoint = s3
    result = _invoke(["classify", f"s3://{BUCKET}/tree", "-f", "jsonl", *_options(endpoint)])
    assert result.exit_code == 1
    broken = [json.loads(line) for line in result.stdout.splitlines() if '"broken"' in line]
    assert broken[0]["verdict"] == "error"
    assert broken[0]["error"].startswith(f"s3://{BUCKET}/tree/broken/trainer_state.json: invalid JSON")
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == [f"error: {broken[0]['error']}"]
    judged = [json.loads(line) for line in result.stdout.splitlines()]
    assert sum(r["verdict"] != "error" for r in judged) == len(judged) - 1  # the other runs still judged


def test_large_files_are_read_from_their_first_bytes_as_on_disk(
    tree: Path, s3: Any, private_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the first-bytes window as small as a claim's look (4 KiB), every larger file is a sparse stand-in in
    the walk's mirror and only its own run fetches it whole: the verdicts and evidence do not change. (The
    configuration may: other runs' logs then give their first 4 KiB only, less than its readers look at.)"""
    from losscli.storage import mirror

    monkeypatch.setattr(mirror, "HEAD", 4096)
    fs, endpoint = s3
    local = _invoke(["classify", str(tree), "-f", "json", "-j", "1"])
    remote = _invoke(["classify", f"s3://{BUCKET}/tree", "-f", "json", "-j", "1", *_options(endpoint)])
    assert remote.exit_code == local.exit_code

    def judged(out: str) -> list[dict[str, Any]]:
        return [{k: v for k, v in r.items() if k != "config"} for r in json.loads(out)]

    assert judged(remote.stdout) == judged(local.stdout.replace(str(tree), f"s3://{BUCKET}/tree"))


def test_pickles_are_never_fetched_and_event_files_only_as_far_as_each_reader_looks(
    s3: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from losscli.storage.filesystem import open_url

    fs, endpoint = s3
    url = f"s3://{BUCKET}/tree/archive"
    used, _ = open_url(url, {"endpoint_url": endpoint, "key": "test", "secret": "test"})  # losscli's (cached) one
    requests: list[tuple[str, int]] = []
    real = used.cat_ranges

    def spy(paths: list[str], starts: list[int], ends: list[int], **kwargs: Any) -> Any:
        requests.extend(zip(paths, ends))
        return real(paths, starts, ends, **kwargs)

    monkeypatch.setattr(used, "cat_ranges", spy)
    result = _invoke(["classify", url, "-f", "jsonl", "-j", "1", *_options(endpoint)])
    assert result.exit_code == 0, result.stderr
    pickles = [k for k in fs.find(f"{BUCKET}/tree/archive") if k.endswith(".bin")]
    assert pickles and not [p for p, _ in requests if p.endswith(".bin")]
    events = f"{BUCKET}/tree/archive/sft-v1/runs/Jul09_10-14-07_vm/events.out.tfevents.1783592047.vm.29755.0"
    size = fs.size(events)
    assert size > 4096
    # the walk's look, then once for the three runs of that training, fetched together: its own TensorBoard run
    # reads it whole, the trainer_state and W&B runs their configuration from it
    assert [end for path, end in requests if path == events] == [4096, size]


def test_show_and_export_read_urls_as_paths(tree: Path, s3: Any, tmp_path: Path) -> None:
    fs, endpoint = s3
    local = _invoke(["show", str(tree / "hf-stepped"), "-f", "jsonl"])
    remote = _invoke(["show", f"s3://{BUCKET}/tree/hf-stepped", "-f", "jsonl", *_options(endpoint)])
    assert remote.stdout == local.stdout.replace(str(tree), f"s3://{BUCKET}/tree")
    _invoke(["export", str(tree / "wandb-exports"), "--to", str(tmp_path / "local.csv")])
    _invoke(["export", f"s3://{BUCKET}/tree/wandb-exports", "--to", str(tmp_path / "s3.csv"), *_options(endpoint)])
    written = (tmp_path / "local.csv").read_text().replace(str(tree), f"s3://{BUCKET}/tree")
    assert (tmp_path / "s3.csv").read_text() == written
    assert f"s3://{BUCKET}/tree/wandb-exports/" in written


def test_a_url_that_names_one_file_is_the_run_of_its_folder(s3: Any) -> None:
    fs, endpoint = s3
    url = f"s3://{BUCKET}/tree/hf-stepped/trainer_state.json"
    record = json.loads(_invoke(["classify", url, "-f", "jsonl", *_options(endpoint)]).stdout)
    assert (record["run"], record["path"], record["verdict"]) == (
        "hf-stepped",
        f"s3://{BUCKET}/tree/hf-stepped",
        "stepped",
    )


def test_a_url_that_names_nothing_is_a_usage_error(s3: Any) -> None:
    fs, endpoint = s3
    result = _invoke(["classify", f"s3://{BUCKET}/nothing-here", *_options(endpoint)])
    assert result.exit_code == 2
    assert result.stderr.strip() == f"Error: s3://{BUCKET}/nothing-here: no such file or folder"


def test_memory_urls_are_read_too(tree: Path) -> None:
    import fsspec

    memory = fsspec.filesystem("memory")
    for path in sorted((tree / "hf-stepped").rglob("*")):
        if path.is_file():
            memory.pipe_file(f"/runs/hf-stepped/{path.relative_to(tree / 'hf-stepped').as_posix()}", path.read_bytes())
    try:
        local = _invoke(["classify", str(tree / "hf-stepped"), "-f", "jsonl", "-j", "1"])
        remote = _invoke(["classify", "memory://runs/hf-stepped", "-f", "jsonl", "-j", "1"])
        loaded = losscli.load("memory://runs/hf-stepped")
    finally:
        memory.rm("/runs", recursive=True)
    assert remote.stdout == local.stdout.replace(str(tree / "hf-stepped"), "memory://runs/hf-stepped")
    on_disk = losscli.load(tree / "hf-stepped")
    assert [(r.name, r.format, len(r.scalars)) for r in loaded] == [(r.name, r.format, len(r.scalars)) for r in on_disk]
    assert str(loaded[0].path) == "memory://runs/hf-stepped"


def test_watch_says_it_follows_local_paths_only() -> None:
    result = _invoke(["watch", "s3://bucket/runs"])
    assert result.exit_code == 2
    assert "watch follows local paths only" in result.stderr


def test_the_runs_of_one_training_fetch_each_file_once(
    tree: Path, s3: Any, private_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """hf-stepped is one training in three formats (its state, its event file, its W&B run), each reading the
    others' logs for its configuration: after the walk's first bytes, each file is fetched once, not once per run."""
    from collections import Counter

    from losscli.storage.filesystem import open_url

    fs, endpoint = s3
    url = f"s3://{BUCKET}/tree/hf-stepped"
    used, _ = open_url(url, {"endpoint_url": endpoint, "key": "test", "secret": "test"})  # losscli's (cached) one
    asked: Counter[str] = Counter()
    real = used.cat_ranges

    def counted(paths: list[str], *args: Any, **kwargs: Any) -> Any:
        asked.update(paths)
        return real(paths, *args, **kwargs)

    monkeypatch.setattr(used, "cat_ranges", counted)
    remote = _invoke(["classify", url, "-f", "jsonl", "-j", "1", *_options(endpoint)])
    local = _invoke(["classify", str(tree / "hf-stepped"), "-f", "jsonl", "-j", "1"])
    assert remote.stdout == local.stdout.replace(str(tree), f"s3://{BUCKET}/tree")
    assert {json.loads(line)["format"] for line in remote.stdout.splitlines()} == {
        "trainer_state",
        "tensorboard",
        "wandb_run",
    }
    logs = [p for p in asked if "tfevents" in p or p.endswith(".wandb")]
    assert len(logs) == 2  # the event file and the W&B log
    assert all(asked[p] == 2 for p in logs), asked  # the walk's first bytes, then the whole file once
    assert max(asked.values()) <= 2, asked


def test_storage_options_are_json_scalars_or_text() -> None:
    assert storage_options(["anon=true", "retries=3", "endpoint_url=http://127.0.0.1:9000", "token=a=b"]) == {
        "anon": True,
        "retries": 3,
        "endpoint_url": "http://127.0.0.1:9000",
        "token": "a=b",
    }
    assert storage_options(['profile={"a": 1}']) == {"profile": '{"a": 1}'}  # not a scalar: the text
    with pytest.raises(UsageError, match="expected KEY=VALUE"):
        storage_options(["anon"])


@pytest.mark.parametrize(
    ("protocol", "package", "extra"),
    [("s3", "s3fs", "s3"), ("gs", "gcsfs", "gcs"), ("gcs", "gcsfs", "gcs"), ("hf", "huggingface_hub", "hf")],
)
def test_a_missing_protocol_package_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, protocol: str, package: str, extra: str
) -> None:
    import importlib

    registry = importlib.import_module("fsspec.registry")._registry  # the module (`fsspec.registry` is a mapping)
    monkeypatch.delitem(registry, protocol, raising=False)
    monkeypatch.setitem(sys.modules, package, None)
    result = _invoke(["classify", f"{protocol}://bucket/runs"])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: {protocol}://bucket/runs: reading {protocol}:// URLs needs a package")
    assert result.stderr.strip().endswith(f"pip install 'losscli[{extra}]'")
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_missing_distributed_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)
    result = _invoke(["classify", str(SAMPLE_LOGS / "hf-smooth"), "--dask", "tcp://127.0.0.1:1"])
    assert result.exit_code == 2
    assert result.stderr.strip() == "Error: --dask needs Dask's distributed package: pip install 'losscli[dask]'"


@pytest.fixture(scope="module")
def cluster() -> Any:
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as local:
        yield local.scheduler_address


@pytest.mark.slow
def test_dask_workers_give_the_output_of_a_local_run(tree: Path, s3: Any, cluster: str) -> None:
    fs, endpoint = s3
    before = _objects(fs)
    url = f"s3://{BUCKET}/tree"
    for command in (["classify", "-f", "json"], ["summary", "-f", "json"]):
        here = _invoke([command[0], url, *command[1:], *_options(endpoint)])
        there = _invoke([command[0], url, *command[1:], "--dask", cluster, *_options(endpoint)])
        assert there.exit_code == here.exit_code
        assert there.stdout == here.stdout
    here = _invoke(["export", url, "--to", "-", *_options(endpoint)])
    there = _invoke(["export", url, "--to", "-", "--dask", cluster, *_options(endpoint)])
    assert there.stdout == here.stdout and f"{url}/hf-stepped/runs/hf-stepped" in there.stdout
    assert _objects(fs) == before


def test_keys_that_cannot_be_a_local_path_are_skipped_not_followed() -> None:
    """A key with `..` would write outside the private folder; a key that is also a folder cannot be both."""
    from losscli.storage.listing import Listing

    listing = Listing("s3://b/t", "b/t", {"a/trainer_state.json": 1, "a": 2, "../../evil": 3, "c//d": 4})
    assert listing.files == {"a/trainer_state.json": 1}
    assert sorted(listing.unsafe) == ["../../evil", "a", "c//d"]
    assert listing.children[""] == ([], ["a"])


def test_a_run_needs_its_own_files_and_the_configuration_around_it_not_its_neighbours(s3: Any) -> None:
    """What a cluster worker fetches for each run: two W&B exports side by side need their own file each; a
    TensorBoard run inside a Trainer output folder needs its event file whole, the folder's configuration files and
    the first MiB of the W&B log beside it, not the W&B run's debug logs nor the checkpoints' other files."""
    from losscli.storage.runs import RemoteGroup, RemoteSource
    from losscli.storage.sources import closed, find

    fs, endpoint = s3
    options = {"endpoint_url": endpoint, "key": "test", "secret": "test"}
    found = find([f"s3://{BUCKET}/tree"], storage_options=options, local_workers=False)
    items = [item for item in found if isinstance(item, (RemoteSource, RemoteGroup))]
    closed(found)
    runs = [r for item in items for r in (item.sources if isinstance(item, RemoteGroup) else (item,))]
    needed = {r.path: {n: end for n, _, end in r.needed} for r in runs}
    # the three runs of sft-v1's training read each other's logs: one group, fetched together
    [sft] = [g for g in items if isinstance(g, RemoteGroup) and g.sources[0].path.startswith("archive/sft-v1")]
    assert {r.format for r in sft.sources} == {"trainer_state", "tensorboard", "wandb_run"}
    exports = [path for path in needed if path.startswith("wandb-exports/")]
    assert len(exports) == 2
    for path, other in zip(exports, reversed(exports)):
        assert path in needed[path] and other not in needed[path]  # (and the README beside them: a model card)
    tensorboard = needed["archive/sft-v1/runs/Jul09_10-14-07_vm"]
    wandb = "archive/sft-v1/wandb/offline-run-20260709_101407-jnj0knym"
    assert f"{wandb}/run-jnj0knym.wandb" in tensorboard and f"{wandb}/logs/debug.log" not in tensorboard
    assert {"archive/sft-v1/trainer_state.json", "archive/sft-v1/README.md", "archive/sft-v1/config.json"} <= set(
        tensorboard
    )
    assert not any(name.startswith("archive/sft-v1/checkpoint-") for name in tensorboard)  # the folder has them all
