"""losscli never writes into the folders it reads: a checksum of the input tree before and after each command.

The checksum covers every entry under the input (folders, files, links): its path, type, mode, size, mtime in
nanoseconds, the sha256 of a file's bytes and a link's target. A file created and removed again still shows,
because it changes its folder's mtime. The commands run with the input tree as the working directory, so that
a stray relative write (a cache, a default output file) lands in it and is caught too.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import SAMPLE_LOGS, corpus

from losscli.cli import ExitStatus, app

runner = CliRunner()


def manifest(root: Path) -> list[tuple[str, ...]]:
    """One row per entry under `root` (itself included), sorted: what must not change."""
    rows: list[tuple[str, ...]] = []
    for folder, dirs, files in os.walk(root, followlinks=False):
        for name in ["", *dirs, *files]:
            path = Path(folder) / name
            info = path.lstat()
            row = [path.relative_to(root).as_posix(), stat.filemode(info.st_mode), str(info.st_mtime_ns)]
            if stat.S_ISLNK(info.st_mode):
                row.append("-> " + os.readlink(path))
            elif stat.S_ISREG(info.st_mode):
                row += [str(info.st_size), hashlib.sha256(path.read_bytes()).hexdigest()]
            rows.append(tuple(row))
        dirs.sort()
    return sorted(set(rows))


@pytest.fixture
def inputs(tmp_path: Path) -> Path:
    """Every sample format, with the links wandb writes (`latest-run`), a corpus run and a broken file."""
    root = tmp_path / "in"
    shutil.copytree(SAMPLE_LOGS, root / "sample_logs", symlinks=True)
    shutil.copytree(corpus("lt-slm-20ep"), root / "lightning_logs" / "version_0")
    shutil.copytree(corpus("tl-agosalvez-20ep"), root / "llama-factory")
    (root / "broken").mkdir()
    (root / "broken" / "trainer_state.json").write_text('{"log_history": [{"step": 1, "loss"')
    return root


COMMANDS = [
    ["classify", ".", "-j", "1"],
    ["classify", ".", "-j", "2", "-f", "jsonl"],
    ["classify", ".", "-f", "json", "--strict"],
    ["classify", ".", "-f", "csv", "--hidden"],
    ["show", ".", "-f", "json"],
]


def test_classify_and_show_leave_the_input_tree_as_it_was(inputs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = manifest(inputs)
    assert len(before) > 30
    monkeypatch.chdir(inputs)
    for args in COMMANDS:
        result = runner.invoke(app, args)
        assert result.exit_code == ExitStatus.RUN_FAILED, (args, result.stderr)  # the broken file only
        assert "Traceback" not in result.stdout + result.stderr
        assert manifest(inputs) == before, f"losscli {' '.join(args)} changed the input tree"


def test_report_writes_only_its_output_file(inputs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = manifest(inputs)
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.chdir(inputs)
    result = runner.invoke(app, ["report", ".", "--html", str(out / "out.html"), "--cdn", "-j", "1"])
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    assert result.exit_code == ExitStatus.RUN_FAILED, result.stderr
    assert manifest(inputs) == before
    assert [p.name for p in out.iterdir()] == ["out.html"]  # no temp or side files left next to it
    assert (out / "out.html").stat().st_size > 1000
    to_stdout = runner.invoke(app, ["report", ".", "--html", "-", "--cdn", "-j", "1"])
    assert to_stdout.exit_code == ExitStatus.RUN_FAILED and to_stdout.stdout.startswith("<!DOCTYPE html>")
    assert manifest(inputs) == before  # no file named "-" in the tree


def test_the_checksum_sees_a_change() -> None:
    """The manifest is not blind: a rewritten byte, a touched mtime, a created-and-removed file all show."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "a").mkdir()
        (root / "a" / "f").write_bytes(b"x")
        base = manifest(root)
        info = (root / "a" / "f").stat()
        (root / "a" / "f").write_bytes(b"y")
        os.utime(root / "a" / "f", ns=(info.st_atime_ns, info.st_mtime_ns))
        assert manifest(root) != base  # same size and mtime, other bytes
        (root / "a" / "f").write_bytes(b"x")
        os.utime(root / "a" / "f", ns=(info.st_atime_ns, info.st_mtime_ns))
        assert manifest(root) == base  # rewriting a file in place does not touch its folder
        (root / "a" / "g").write_bytes(b"")
        (root / "a" / "g").unlink()
        assert manifest(root) != base  # the folder's mtime moved
