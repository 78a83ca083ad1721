"""The stat cache (codemods/engine/stamps.py): a run on named files of an unchanged tree takes the
other files' content hashes and markers from .auditfix_cache/stat.pickle under their stamps, as
git's index does, and reads only the files it needs; any change of a file's stamps, a file
written in the two seconds before it was read, a removed or added file, or a marker never asked
about make it read the file again; the result is always that of a run without any cache."""

from __future__ import annotations

import dataclasses
import os
import shutil
import time
import types
from pathlib import Path

import pytest

from codemods.engine import commandline, stamps
from codemods.engine.config import resolve
from codemods.engine.replay import TreeRead
from codemods.engine.runner import Engine, RunReport
from codemods.registry import REGISTRY
from tests.engine.test_engine import make_tree
from tests.test_replay import auditfix

NAMED = ["app/jobs.py"]
FILES = {
    "app/__init__.py": "import logging\n\nlogging.basicConfig(level=logging.INFO)\n",
    "app/jobs.py": "def run():\n    try:\n        work()\n    except:\n        pass\n    print('done')\n",
    "app/clean.py": "x = 1\n",
    "app/models.py": "class Job:\n    title = 'x'\n",
}


class Clock:
    """The stat cache's clock, ``ahead`` seconds ahead of the real one: files written by a test
    are racy (written in the last two seconds) until it is at least 2."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.ahead = 0
        real = time.time_ns
        monkeypatch.setattr(stamps, "time", types.SimpleNamespace(time_ns=lambda: real() + self.ahead * 1_000_000_000))


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return make_tree(tmp_path / "proj", FILES)


def tree_of(root: Path, named: list[str] = NAMED) -> tuple[commandline.ReplayKey, TreeRead]:
    command = commandline.replay.preview_command(True, "", "", named, False)
    key = commandline.ReplayKey.compute(root, command, ())
    assert key.key is not None and key.key.tree is not None
    return key, key.key.tree


def run(root: Path, named: list[str] = NAMED) -> tuple[commandline.ReplayKey, TreeRead, RunReport, set[str]]:
    """A cached preview run of ``named`` on the tree its key read (the stat cache is saved after
    it), and the files the key hashed from the stat cache."""
    key, tree = tree_of(root, named)
    from_cache = unread(tree)
    engine = Engine(root, resolve(root, REGISTRY, jobs=1, cache=True), only=named, tree=tree)
    return key, tree, engine.run(), from_cache


def uncached(root: Path, named: list[str] = NAMED) -> RunReport:
    return Engine(root, resolve(root, REGISTRY, jobs=1, cache=False), only=named).run()


def result(report: RunReport) -> RunReport:
    """The report but for how many files came from the per-file cache."""
    return dataclasses.replace(report, cached=0)


def unread(tree: TreeRead) -> set[str]:
    """The files the key hashed from the stat cache, without reading them (and not read since)."""
    return {path for path, known in tree.files.items() if known.data is None}


def test_an_unchanged_tree_is_hashed_from_the_cache_with_the_result_of_an_uncached_run(
    project: Path, clock: Clock
) -> None:
    first_key, _, first, from_cache = run(project)
    assert from_cache == set()  # nothing was recorded before
    clock.ahead = 10
    key, tree = tree_of(project)
    assert unread(tree) == set()  # the first run's files were racy when it read them: not recorded
    Engine(project, resolve(project, REGISTRY, jobs=1, cache=True), only=NAMED, tree=tree).run()
    key, tree, report, from_cache = run(project)
    # Every file's hash came from the cache; the run read the named file and nothing else.
    assert from_cache == set(FILES) and unread(tree) == {"app/__init__.py", "app/clean.py", "app/models.py"}
    assert key.value == first_key.value
    assert result(report) == result(first) == uncached(project)
    assert [c.path for c in report.changes] == NAMED


def test_each_changed_stamp_or_a_racy_file_is_read_again(project: Path, clock: Clock) -> None:
    clock.ahead = 10
    run(project)
    run(project)
    assert unread(tree_of(project)[1]) == {"app/__init__.py", "app/clean.py", "app/jobs.py", "app/models.py"}
    clean, models, init = project / "app/clean.py", project / "app/models.py", project / "app/__init__.py"
    info = os.stat(clean)
    clean.write_text("x = 22\n")  # size
    os.utime(clean, ns=(info.st_atime_ns, info.st_mtime_ns))
    info = os.stat(models)
    models.write_text(FILES["app/models.py"].replace("'x'", "'y'"))  # same size, same modification time
    os.utime(models, ns=(info.st_atime_ns, info.st_mtime_ns))
    copy = project / "app/copy.tmp"
    shutil.copy2(init, copy)  # same content, size and modification time: another inode
    os.replace(copy, init)
    clock.ahead = 0
    # All three were written just now: racy for a run that reads them now, so not recorded.
    _, _, report, from_cache = run(project)
    assert from_cache == {"app/jobs.py"}
    assert result(report) == uncached(project)
    _, _, report, from_cache = run(project)
    assert from_cache == {"app/jobs.py"}  # still racy: hashed again
    clock.ahead = 30
    _, _, _, from_cache = run(project)
    assert from_cache == {"app/jobs.py"}  # no longer racy: recorded
    _, _, report, from_cache = run(project)
    assert from_cache == set(FILES)
    assert result(report) == uncached(project)


def test_a_removed_or_added_file(project: Path, clock: Clock) -> None:
    clock.ahead = 10
    run(project)
    (project / "app/clean.py").unlink()
    make_tree(project, {"app/extra.py": "def f():\n    print('x')\n"})
    _, tree, report, _ = run(project)
    assert "app/clean.py" not in tree.files and tree.files["app/extra.py"].data is not None
    assert result(report) == uncached(project)
    saved = stamps.StatCache(project / ".auditfix_cache")
    assert not any(stamp.startswith("app/clean.py\0") for stamp in saved._cache.entries)


def test_markers_are_answered_from_the_cache_and_a_new_one_reads_the_file(
    project: Path, clock: Clock
) -> None:
    clock.ahead = 10
    run(project)
    _, tree = tree_of(project)
    known = tree.files["app/models.py"]
    assert known.data is None
    assert tree.has_marker("app/models.py", b"basicConfig") is False  # print-to-logging's index asked before
    assert tree.files["app/models.py"].data is None  # answered without reading
    assert tree.has_marker("app/models.py", b"class Job") is True  # never asked: read
    assert tree.files["app/models.py"].data == FILES["app/models.py"].encode()
    tree.save()
    _, tree = tree_of(project)
    assert tree.has_marker("app/models.py", b"class Job") is True and tree.files["app/models.py"].data is None


@pytest.mark.parametrize("named", [pytest.param(["app/__init__.py", *NAMED], id="named"), pytest.param(NAMED, id="indexed")])
def test_content_that_is_not_the_recorded_one_restarts_the_run_without_a_record(
    project: Path, clock: Clock, named: list[str]
) -> None:
    """Stamps that vouch for a content the file no longer has (a tool that restores all of them):
    the run notices when it reads the file (named, or indexed by print-to-logging, whose facts of
    that hash are not cached), starts again on the tree as it is, and the entry goes."""
    clock.ahead = 10
    run(project)
    _, tree = tree_of(project)
    wrong = tree.files["app/__init__.py"]
    assert wrong.data is None
    tree.files["app/__init__.py"] = type(wrong)(None, wrong.st_mode, wrong.mtime_ns, b"\0" * 20, wrong.stamp)
    engine = Engine(project, resolve(project, REGISTRY, jobs=1, cache=True), only=named, tree=tree)
    report = engine.run()
    assert result(report) == uncached(project, named) and not engine.read_from_key
    assert stamps.StatCache(project / ".auditfix_cache").digest(wrong.stamp) is None


def test_no_cache_neither_reads_nor_writes_the_stat_cache(project: Path, clock: Clock) -> None:
    """A forged entry (the named file's stamps with a wrong hash): --no-cache neither trusts nor
    rewrites it; a cached run trusts it for the key, notices when it reads the file, and drops it."""
    make_tree(project, {"pyproject.toml": "[tool.auditfix]\n"})  # the project's root: where the cache is
    clock.ahead = 10
    cache = stamps.StatCache(project / ".auditfix_cache")
    stamp = stamps.StatCache.stamp("app/jobs.py", os.stat(project / "app/jobs.py"))
    cache.digest(stamp)
    cache.record(stamp, os.stat(project / "app/jobs.py"), b"\0" * 20)
    cache.save()
    saved = (project / ".auditfix_cache/stat.pickle").read_bytes()
    result = auditfix("run", "--check", "--no-cache", "--no-progress", "app/jobs.py", cwd=project)
    assert (result.returncode, result.stdout) == (1, "app/jobs.py\n")
    assert (project / ".auditfix_cache/stat.pickle").read_bytes() == saved
    assert sorted(p.name for p in (project / ".auditfix_cache").iterdir()) == [".gitignore", "stat.pickle"]
    result = auditfix("run", "--check", "--no-progress", "app/jobs.py", cwd=project)
    assert (result.returncode, result.stdout) == (1, "app/jobs.py\n")
    assert stamps.StatCache(project / ".auditfix_cache").digest(stamp) is None
