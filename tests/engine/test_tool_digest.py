"""The digest of auditfix's own files kept in the user's cache (codemods/engine/cache.py,
kept_tool_digest): the digest their content gives, reused only while every file's stamp is the
same and none was written in the last two seconds."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from codemods.engine import cache
from codemods.engine.cache import content_digest, kept_tool_digest
from tests.engine.test_engine import make_tree

LONG_AGO = 1_600_000_000  # seconds: a modification time well out of the "recent" window


@pytest.fixture
def tool(tmp_path: Path) -> tuple[Path, list[Path]]:
    root = make_tree(tmp_path / "tool", {"codemods/a.py": "A = 1\n", "codemods/b.py": "B = 2\n", "templates/t.j2": "{{ x }}\n"})
    paths = sorted(root.rglob("*.*"))
    for path in paths:
        os.utime(path, (LONG_AGO, LONG_AGO))
    return root, paths


def age(monkeypatch: pytest.MonkeyPatch, seconds: int) -> None:
    """The files' change times are recent in a test: let ``seconds`` pass."""
    now = cache.time.time_ns()
    monkeypatch.setattr(cache.time, "time_ns", lambda: now + seconds * 1_000_000_000)


def hashed(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    digest = cache.content_digest

    def counted(root: Path, paths: list[Path]) -> str:
        calls.append(1)
        return digest(root, paths)

    monkeypatch.setattr(cache, "content_digest", counted)
    return calls


def test_a_kept_digest_is_the_contents(tmp_path: Path, tool: tuple[Path, list[Path]], monkeypatch: pytest.MonkeyPatch) -> None:
    root, paths = tool
    age(monkeypatch, 10)
    calls = hashed(monkeypatch)
    first = kept_tool_digest(root, paths, tmp_path / "user-cache")
    assert first == content_digest(root, paths) == kept_tool_digest(root, paths, tmp_path / "user-cache")
    assert len(calls) == 1  # the second from the cache


def test_a_rewritten_file_misses_even_with_its_old_size_and_time(
    tmp_path: Path, tool: tuple[Path, list[Path]], monkeypatch: pytest.MonkeyPatch
) -> None:
    root, paths = tool
    age(monkeypatch, 10)
    before = kept_tool_digest(root, paths, tmp_path / "user-cache")
    (root / "codemods/a.py").write_text("A = 9\n")  # same size
    os.utime(root / "codemods/a.py", (LONG_AGO, LONG_AGO))  # same modification time: the change time moved
    age(monkeypatch, 20)
    after = kept_tool_digest(root, paths, tmp_path / "user-cache")
    assert after == content_digest(root, paths) != before


def test_a_recently_written_file_is_hashed_every_time(tmp_path: Path, tool: tuple[Path, list[Path]], monkeypatch: pytest.MonkeyPatch) -> None:
    root, paths = tool
    calls = hashed(monkeypatch)  # the files' change times are now
    for _ in range(2):
        assert kept_tool_digest(root, paths, tmp_path / "user-cache") == content_digest(root, paths)
    assert len(calls) == 2 and not (tmp_path / "user-cache" / "tool-digests.json").exists()


def test_another_file_list_or_versions_miss(tmp_path: Path, tool: tuple[Path, list[Path]], monkeypatch: pytest.MonkeyPatch) -> None:
    root, paths = tool
    age(monkeypatch, 10)
    kept_tool_digest(root, paths, tmp_path / "user-cache")
    assert kept_tool_digest(root, paths[:-1], tmp_path / "user-cache") == content_digest(root, paths[:-1])
    monkeypatch.setattr(cache, "_versions", ["python 9.9"])
    calls = hashed(monkeypatch)
    assert kept_tool_digest(root, paths, tmp_path / "user-cache") == content_digest(root, paths)
    assert len(calls) == 1  # other versions: hashed again


def test_a_damaged_store_is_ignored(tmp_path: Path, tool: tuple[Path, list[Path]], monkeypatch: pytest.MonkeyPatch) -> None:
    root, paths = tool
    age(monkeypatch, 10)
    make_tree(tmp_path / "user-cache", {"tool-digests.json": "not json"})
    assert kept_tool_digest(root, paths, tmp_path / "user-cache") == content_digest(root, paths)


def test_a_digest_per_checkout_is_kept(tmp_path: Path, tool: tuple[Path, list[Path]], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cache, "_KEPT_DIGESTS", 2)
    root, paths = tool
    age(monkeypatch, 10)
    for subset in (paths, paths[:2], paths[:1]):
        kept_tool_digest(root, subset, tmp_path / "user-cache")
    calls = hashed(monkeypatch)
    kept_tool_digest(root, paths[:1], tmp_path / "user-cache")
    kept_tool_digest(root, paths[:2], tmp_path / "user-cache")
    kept_tool_digest(root, paths, tmp_path / "user-cache")  # the oldest: dropped
    assert len(calls) == 1


def test_stats_taken_earlier_are_judged_at_the_time_they_were_taken(
    tmp_path: Path, tool: tuple[Path, list[Path]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The run's one stat of auditfix's files (cache.tool_stats) serves the kept digest later: a
    file recent when they were taken is racy, however late the digest is asked for."""
    root, paths = tool
    taken = (cache.time.time_ns(), [os.stat(path) for path in paths])  # the change times are now
    age(monkeypatch, 10)
    calls = hashed(monkeypatch)
    for _ in range(2):
        assert kept_tool_digest(root, paths, tmp_path / "user-cache", taken) == content_digest(root, paths)
    assert len(calls) == 2 and not (tmp_path / "user-cache" / "tool-digests.json").exists()
    later = (cache.time.time_ns(), taken[1])
    kept_tool_digest(root, paths, tmp_path / "user-cache", later)
    assert kept_tool_digest(root, paths, tmp_path / "user-cache") == kept_tool_digest(root, paths, tmp_path / "user-cache", later)
    assert len(calls) == 3  # the same stamps, stated again or not: kept


def test_one_stat_of_auditfixs_files_per_process() -> None:
    stats = cache.tool_stats()
    assert [path for path, _ in stats] == cache.tool_files() and cache.tool_stats() is stats
