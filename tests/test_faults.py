"""Stopping a run at any moment, or failing to write, never leaves a half-written file."""

from __future__ import annotations

import errno
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from codemods import REGISTRY
from codemods.engine.config import resolve
from codemods.engine.runner import Engine, write_changes
from tests.test_sample_repo import IGNORED, SAMPLE, python_files

COMMAND = [sys.executable, "-c", "from cli import app; app()", "run", ".", "--write", "--no-cache", "--no-progress"]


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """The files of sample_repo after one uninterrupted --write."""
    copy = tmp_path_factory.mktemp("finished") / "sample_repo"
    shutil.copytree(SAMPLE, copy, ignore=IGNORED)
    subprocess.run(COMMAND, cwd=copy, check=True, capture_output=True)
    return python_files(copy)


def assert_each_file_old_or_new(folder: Path, original: dict[str, bytes], finished: dict[str, bytes]) -> None:
    for path, data in python_files(folder).items():
        assert data in (original.get(path), finished.get(path)), f"{path} is neither its old nor its new content"


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["sigint", "sigkill"])
def test_interrupted_write_leaves_old_or_new_bytes_and_next_run_finishes(
    tmp_path: Path, finished: dict[str, bytes], sig: signal.Signals
) -> None:
    original = python_files(SAMPLE)
    assert sum(original.get(p) != d for p, d in finished.items()) >= 5, "the codemods must change sample_repo"
    copy = tmp_path / "sample_repo"
    shutil.copytree(SAMPLE, copy, ignore=IGNORED)
    started = time.perf_counter()
    subprocess.run(COMMAND, cwd=tmp_path / "sample_repo", capture_output=True, check=True)
    duration = time.perf_counter() - started
    randomness = random.Random(20261122)
    for _attempt in range(6):
        shutil.rmtree(copy)
        shutil.copytree(SAMPLE, copy, ignore=IGNORED)
        process = subprocess.Popen(COMMAND, cwd=copy, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(randomness.uniform(0.2, 1.0) * duration)
        process.send_signal(sig)
        process.wait(timeout=60)
        assert_each_file_old_or_new(copy, original, finished)
    result = subprocess.run(COMMAND, cwd=copy, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert python_files(copy) == finished
    assert not list(copy.rglob("*.auditfix-*.tmp")), "temporary files left behind"


def test_disk_full_is_reported_per_file_and_nothing_is_lost(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copy = tmp_path / "sample_repo"
    shutil.copytree(SAMPLE, copy, ignore=IGNORED)
    original = python_files(copy)
    report = Engine(copy, resolve(copy, REGISTRY, jobs=1, cache=False)).run()
    assert report.changes

    def no_space(descriptor: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", no_space)
    problems = write_changes(copy, report.changes)
    assert sorted(p.path for p in problems) == sorted(c.path for c in report.changes)
    # A file that needs a generated one which could not be written is not even tried.
    assert all(
        "No space left on device" in p.message or p.message.startswith("not written: it needs") for p in problems
    )
    assert any("No space left on device" in p.message for p in problems)
    assert python_files(copy) == original
    assert not list(copy.rglob("*.tmp"))


def test_leftover_temporary_of_a_dead_process_is_removed(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text("x = 1\n")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    leftover = tmp_path / f".m.py.auditfix-{int(dead.stdout)}-abc.tmp"
    leftover.write_text("partial")
    live = tmp_path / f".m.py.auditfix-{os.getpid()}-abc.tmp"
    live.write_text("in progress elsewhere")
    from codemods.engine.runner import Change

    assert write_changes(tmp_path, [Change("m.py", b"x = 1\n", b"x = 2\n", ("t",), 0o644)]) == []
    assert not leftover.exists() and live.exists()
    assert (tmp_path / "m.py").read_text() == "x = 2\n"
