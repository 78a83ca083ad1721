"""The index cache's journal (codemods/engine/cache.py, JournalledCache): a run that changes a
few entries writes them to a small journal instead of rewriting the whole file, and loading
gives the entries a rewrite would have given."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from codemods.engine.cache import JournalledCache, ResultCache
from codemods.engine.config import resolve
from codemods.engine.runner import Engine, RunReport
from codemods.registry import REGISTRY
from tests.engine.test_engine import make_tree
from tests.engine.test_precommit_path import ROUTE_PROJECT, ROUTES


def run(cache: ResultCache, used: dict[str, object]) -> None:
    """A run as the index pass makes one: the entries it lacks put, the others dropped."""
    for key, value in used.items():
        if cache.get(key) is None:
            cache.put(key, value)
    cache.retain(set(used))
    cache.save()


def test_the_journal_gives_what_a_rewrite_gives(tmp_path: Path) -> None:
    rng = random.Random(7)
    tree = {f"file{n}": (n,) for n in range(300)}
    for step in range(12):
        if step:  # a few files change (a commit), or many (a pull)
            for name in rng.sample(sorted(tree), 150 if step == 6 else rng.randint(1, 3)):
                tree[name] = (rng.random(),)
        used = {f"{name}:{value[0]}": value for name, value in tree.items()}
        run(JournalledCache(tmp_path / "journalled", "index"), used)
        run(ResultCache(tmp_path / "plain", "index"), used)
        assert JournalledCache(tmp_path / "journalled", "index").entries == ResultCache(tmp_path / "plain", "index").entries == used


def test_a_small_change_leaves_the_main_file_alone(tmp_path: Path) -> None:
    used = {f"key{n}": (n,) for n in range(100)}
    run(JournalledCache(tmp_path, "index"), used)
    main = (tmp_path / "index.pickle").read_bytes()
    used = {**{key: value for key, value in used.items() if key != "key0"}, "new": ("new",)}
    run(JournalledCache(tmp_path, "index"), used)
    assert (tmp_path / "index.pickle").read_bytes() == main and (tmp_path / "index-journal.pickle").is_file()
    assert JournalledCache(tmp_path, "index").entries == used


def test_a_large_change_rewrites_the_main_file_and_drops_the_journal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(JournalledCache, "JOURNAL_LIMIT", 2)
    used = {f"key{n}": (n,) for n in range(10)}
    run(JournalledCache(tmp_path, "index"), used)
    run(JournalledCache(tmp_path, "index"), {**used, "a": ("a",)})
    assert (tmp_path / "index-journal.pickle").is_file()
    bigger = {**used, "a": ("a",), "b": ("b",), "c": ("c",)}
    run(JournalledCache(tmp_path, "index"), bigger)
    assert not (tmp_path / "index-journal.pickle").exists()
    assert ResultCache(tmp_path, "index").entries == JournalledCache(tmp_path, "index").entries == bigger


@pytest.mark.parametrize("journal", [b"not a pickle", None], ids=["damaged", "lost"])
def test_a_damaged_or_lost_journal_only_costs_entries(tmp_path: Path, journal: bytes | None) -> None:
    used = {f"key{n}": (n,) for n in range(10)}
    run(JournalledCache(tmp_path, "index"), used)
    run(JournalledCache(tmp_path, "index"), {**used, "new": ("new",)})
    if journal is None:
        (tmp_path / "index-journal.pickle").unlink()
    else:
        (tmp_path / "index-journal.pickle").write_bytes(journal)
    assert JournalledCache(tmp_path, "index").entries == used  # "new" is recomputed, nothing else differs


def run_on_routes(root: Path, *, cache: bool) -> RunReport:
    return Engine(root, resolve(root, REGISTRY, cache=cache), only=["app/routes.py"]).run()


def test_pre_commit_runs_write_the_journal_and_change_nothing(tmp_path: Path) -> None:
    make_tree(tmp_path, ROUTE_PROJECT)
    run_on_routes(tmp_path, cache=True)
    main = (tmp_path / ".auditfix_cache" / "index.pickle").read_bytes()
    for edit in ("# one\n", "# two\n"):
        (tmp_path / "app/routes.py").write_text(ROUTES + edit)
        cached = run_on_routes(tmp_path, cache=True)
        uncached = run_on_routes(tmp_path, cache=False)
        assert [(c.path, c.new) for c in cached.changes] == [(c.path, c.new) for c in uncached.changes]
        assert cached.findings == uncached.findings
    assert (tmp_path / ".auditfix_cache" / "index.pickle").read_bytes() == main
    assert (tmp_path / ".auditfix_cache" / "index-journal.pickle").is_file()
