"""Whole-tree indexes kept as built (codemods/engine/indexes.py): a run takes a kept index only
when it equals a rebuild (the paths read, their contents or their facts' digests, the options and
auditfix all as recorded), and every input that can change the index makes it build again."""

from __future__ import annotations

import pickle
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from codemods.engine import indexes as kept_indexes
from codemods.engine.cache import JournalledCache, stable_bytes, value_digest
from codemods.engine.config import resolve
from codemods.engine.indexes import IndexPass, built_path
from codemods.engine.runner import Engine, RunReport
from codemods.registry import REGISTRY
from tests.engine.test_engine import make_tree
from tests.engine.test_precommit_path import ROUTE_PROJECT, ROUTES

ROUTE_FILE = "app/routes.py"


def record_of(root: Path) -> Path:
    """Where route-commit's index is kept as built."""
    return built_path(root / ".auditfix_cache", "route-commit")


class Spy:
    """Which way each index pass of a run went, and the indexes it gave."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.rebuilt = 0
        self.built: list[dict[str, Any]] = []
        build, rebuilt = IndexPass.build, IndexPass._rebuilt

        def spied_build(index_pass: IndexPass, *args: Any) -> dict[str, Any]:
            self.built.append(build(index_pass, *args))
            return self.built[-1]

        def spied_rebuilt(index_pass: IndexPass, *args: Any) -> dict[str, Any]:
            self.rebuilt += 1
            return rebuilt(index_pass, *args)

        monkeypatch.setattr(IndexPass, "build", spied_build)
        monkeypatch.setattr(IndexPass, "_rebuilt", spied_rebuilt)

    def run(self, root: Path, *, cache: bool = True) -> tuple[bool, RunReport, dict[str, Any]]:
        """(whether the kept indexes were taken, the report, the indexes) of a run on the route file."""
        before = self.rebuilt
        report = Engine(root, resolve(root, REGISTRY, cache=cache), only=[ROUTE_FILE]).run()
        return self.rebuilt == before, report, self.built[-1]


def outcome(report: RunReport) -> tuple[Any, ...]:
    return [(c.path, c.new) for c in report.changes], report.findings, report.skipped, report.failed


def assert_as_rebuilt(spy: Spy, root: Path, report: RunReport, indexes: dict[str, Any]) -> None:
    """The run's indexes and results are those of a run without the cache."""
    _, uncached, rebuilt = spy.run(root, cache=False)
    assert stable_bytes(indexes, ordered=True) == stable_bytes(rebuilt, ordered=True)
    assert outcome(report) == outcome(uncached)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return make_tree(tmp_path, ROUTE_PROJECT)


@pytest.fixture
def spy(project: Path, monkeypatch: pytest.MonkeyPatch) -> Spy:
    spy = Spy(monkeypatch)
    taken, _, indexes = spy.run(project)  # the previous commit's run: builds and keeps
    assert not taken and "route-commit" in indexes
    assert record_of(project).is_file()
    return spy


def edit(root: Path, path: str, text: str) -> None:
    (root / path).write_text((root / path).read_text() + text)


# -- the kept index is taken: nothing it was built from changed ------------------------------


def test_a_comment_appended_to_the_changed_file_takes_the_kept_index(project: Path, spy: Spy) -> None:
    main = (project / ".auditfix_cache" / "index.pickle").read_bytes()
    for number in range(3):  # repeated commits of the same file
        edit(project, ROUTE_FILE, f"# edited {number}\n")
        taken, report, indexes = spy.run(project)
        assert taken
        assert report.changes  # the route's unit of work still moves
        assert_as_rebuilt(spy, project, report, indexes)
    # The facts file was never loaded nor rewritten; the journal holds the new facts.
    assert (project / ".auditfix_cache" / "index.pickle").read_bytes() == main


def test_a_run_with_nothing_changed_takes_the_kept_index_and_writes_nothing(project: Path, spy: Spy) -> None:
    built = record_of(project).read_bytes()
    taken, report, indexes = spy.run(project)
    assert taken
    assert record_of(project).read_bytes() == built
    assert_as_rebuilt(spy, project, report, indexes)


def test_an_edit_to_another_file_that_keeps_its_facts_takes_the_kept_index(project: Path, spy: Spy) -> None:
    edit(project, "app/db.py", "# a comment\n")
    taken, report, indexes = spy.run(project)
    assert taken
    assert_as_rebuilt(spy, project, report, indexes)


def test_the_facts_cache_after_a_taken_index_is_what_the_whole_pass_leaves(project: Path, spy: Spy) -> None:
    edit(project, ROUTE_FILE, "# edited\n")
    edit(project, "app/db.py", "# edited\n")
    assert spy.run(project)[0]
    journalled = JournalledCache(project / ".auditfix_cache", "index").entries
    record_of(project).unlink()
    assert not spy.run(project)[0]  # the whole pass, on the same files: every fact from the cache
    assert JournalledCache(project / ".auditfix_cache", "index").entries.keys() == journalled.keys()
    assert spy.run(project)[0]  # and the record is written again


# -- every input that can change the index builds it again -------------------------------------

ADDED_IMPORT = "import os\n"  # a new binding of the route module: its facts change


def change_the_route_files_facts(root: Path) -> None:
    (root / ROUTE_FILE).write_text(ADDED_IMPORT + ROUTES)


def change_another_files_facts(root: Path) -> None:
    edit(root, "app/db.py", "\n\ndef save():\n    db.session.commit()\n")


def add_a_file(root: Path) -> None:
    (root / "app/extra.py").write_text("VALUE = 1\n")


def remove_a_file(root: Path) -> None:
    (root / "app/models.py").unlink()


def rename_a_file(root: Path) -> None:
    (root / "app/__init__.py").rename(root / "app/package.py")


def change_the_options(root: Path) -> None:
    (root / "pyproject.toml").write_text('[tool.auditfix.route-commit]\nservice-dir = "logic"\n')


def damage_the_record(root: Path) -> None:
    record_of(root).write_bytes(b"not a pickle")


def damage_the_kept_index(root: Path) -> None:
    path = record_of(root)
    data = pickle.loads(path.read_bytes())
    data["index"] = b"\x80damaged"
    path.write_bytes(pickle.dumps(data))


def lose_the_record(root: Path) -> None:
    record_of(root).unlink()


@pytest.mark.parametrize(
    "change",
    [
        change_the_route_files_facts,
        change_another_files_facts,
        add_a_file,
        remove_a_file,
        rename_a_file,
        change_the_options,
        damage_the_record,
        damage_the_kept_index,
        lose_the_record,
    ],
)
def test_a_change_to_what_the_index_is_built_from_builds_it_again(
    project: Path, spy: Spy, change: Callable[[Path], None]
) -> None:
    edit(project, ROUTE_FILE, "# the commit's edit\n")
    change(project)
    taken, report, indexes = spy.run(project)
    assert not taken
    assert_as_rebuilt(spy, project, report, indexes)
    taken, report, indexes = spy.run(project)  # kept again as built
    assert taken
    assert_as_rebuilt(spy, project, report, indexes)


def test_another_auditfix_builds_the_index_again(project: Path, spy: Spy, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kept_indexes, "tool_digest", lambda: "another build of auditfix")
    taken, report, indexes = spy.run(project)
    assert not taken
    assert_as_rebuilt(spy, project, report, indexes)


def test_many_changed_files_build_the_index_from_the_facts_cache(
    project: Path, spy: Spy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(kept_indexes, "FEW_CHANGED", 1)
    edit(project, ROUTE_FILE, "# edited\n")
    edit(project, "app/db.py", "# edited\n")
    taken, report, indexes = spy.run(project)
    assert not taken
    assert_as_rebuilt(spy, project, report, indexes)


def test_a_full_journal_is_folded_into_the_facts_file(project: Path, spy: Spy, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(JournalledCache, "JOURNAL_LIMIT", 1)
    edit(project, ROUTE_FILE, "# edited\n")
    edit(project, "app/db.py", "# edited\n")
    assert spy.run(project)[0]
    assert not (project / ".auditfix_cache" / "index-journal.pickle").exists()
    journalled = JournalledCache(project / ".auditfix_cache", "index").entries
    lose_the_record(project)
    spy.run(project)
    assert JournalledCache(project / ".auditfix_cache", "index").entries.keys() == journalled.keys()


def test_a_run_without_the_cache_neither_reads_nor_writes_kept_indexes(project: Path, spy: Spy) -> None:
    record = record_of(project)
    damage_the_record(project)  # read, it would be ignored; the run must not touch it at all
    taken, _, _ = spy.run(project, cache=False)
    assert not taken and record.read_bytes() == b"not a pickle"
    record.unlink()
    spy.run(project, cache=False)
    assert not record.exists()


# -- the parts ------------------------------------------------------------------------------------


def test_a_facts_digest_tells_mapping_orders_apart() -> None:
    # build_index may iterate a fact's mapping: the same items in another order are another fact.
    assert value_digest({"a": 1, "b": 2}) != value_digest({"b": 2, "a": 1})
    assert value_digest({"a": frozenset({"x", "y"})}) == value_digest({"a": frozenset({"y", "x"})})
    assert value_digest(threading.Lock()) is None  # undescribable: never taken as unchanged


def run_cache(cache: JournalledCache, used: dict[str, object]) -> None:
    for key, value in used.items():
        if cache.get(key) is None:
            cache.put(key, value)
    cache.retain(set(used))
    cache.save()


def test_amending_the_journal_gives_what_loading_and_saving_gives(tmp_path: Path) -> None:
    used = {f"key{n}": (n,) for n in range(20)}
    run_cache(JournalledCache(tmp_path, "index"), used)
    for step in range(5):
        old, new = f"key{step}" if step == 0 else f"new{step - 1}", f"new{step}"
        assert JournalledCache.amend(tmp_path, "index", {new: (step,)}, [old])
        used = {**{k: v for k, v in used.items() if k != old}, new: (step,)}
        assert JournalledCache(tmp_path, "index").entries == used
    journal = pickle.loads((tmp_path / "index-journal.pickle").read_bytes())
    assert journal["added"] == {"new4": (4,)} and journal["dropped"] == ["key0"]  # it does not grow


def test_amending_declines_without_a_facts_file_or_past_the_journals_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert not JournalledCache.amend(tmp_path, "index", {"a": (1,)}, [])
    run_cache(JournalledCache(tmp_path, "index"), {"a": (1,)})
    monkeypatch.setattr(JournalledCache, "JOURNAL_LIMIT", 1)
    assert not JournalledCache.amend(tmp_path, "index", {"b": (2,)}, ["a"])
    assert not (tmp_path / "index-journal.pickle").exists()


class DefNames:
    """A toy indexer whose index follows the order of a file's facts: each file's function names."""

    name = "def-names"
    index_markers = (b"def ",)

    @classmethod
    def index_file(cls, path: str, source: bytes) -> dict[str, int]:
        lines = source.decode().splitlines()
        return {line.split()[1].split("(")[0]: n for n, line in enumerate(lines) if line.startswith("def ")}

    @classmethod
    def build_index(cls, facts: Any, options: Any) -> tuple[tuple[str, ...], ...]:
        return tuple((path, *names) for path, names in sorted(facts.items()))


class ClassCount(DefNames):
    name = "class-count"
    index_markers = (b"class ",)

    @classmethod
    def index_file(cls, path: str, source: bytes) -> int:  # type: ignore[override]
        return source.count(b"class ")

    @classmethod
    def build_index(cls, facts: Any, options: Any) -> int:
        return sum(facts.values())


class Source:
    def __init__(self, path: str, data: bytes) -> None:
        self.path, self.data = path, data

    def content_digest(self) -> bytes:
        return value_digest(self.data) or b""

    def has_marker(self, marker: bytes) -> bool:
        return marker in self.data


def index_pass(folder: Path | None, tree: dict[str, str], *indexers: Any) -> tuple[dict[str, Any], list[str]]:
    """The indexes over ``tree``, and the files whose facts were computed."""
    computed: list[str] = []

    def compute(files: list[tuple[tuple[Any, ...], Any]]) -> list[tuple[str, str, Any, bytes | None]]:
        results = []
        for readers, source in files:
            computed.append(source.path)
            for codemod in readers:
                fact = codemod.index_file(source.path, source.data)
                results.append((codemod.name, source.path, fact, value_digest(fact)))
        return results

    sources = [Source(path, text.encode()) for path, text in tree.items()]
    return IndexPass(folder, indexers, {}).build(sources, compute), computed


def test_a_fact_whose_mapping_changed_order_builds_the_index_again(tmp_path: Path) -> None:
    tree = {"a.py": "def f(): pass\ndef g(): pass\n", "b.py": "def h(): pass\n"}
    index_pass(tmp_path, tree, DefNames)
    swapped = {**tree, "a.py": "def g(): pass\ndef f(): pass\n"}  # the same names, another order
    indexes, _ = index_pass(tmp_path, swapped, DefNames)
    assert indexes == index_pass(None, swapped, DefNames)[0] == {"def-names": (("a.py", "g", "f"), ("b.py", "h"))}
    assert index_pass(tmp_path, swapped, DefNames) == (indexes, [])  # then kept, nothing computed


def test_a_run_keeps_the_indexes_it_did_not_build(tmp_path: Path) -> None:
    tree = {"a.py": "def f(): pass\nclass A: pass\n", "b.py": "class B: pass\n"}
    index_pass(tmp_path, tree, DefNames, ClassCount)
    edited = {**tree, "a.py": tree["a.py"] + "# edited\n"}
    assert index_pass(tmp_path, edited, DefNames) == ({"def-names": (("a.py", "f"),)}, ["a.py"])
    # class-count's record still holds: its changed file is computed, the rest is kept.
    assert index_pass(tmp_path, edited, DefNames, ClassCount) == (
        {"def-names": (("a.py", "f"),), "class-count": 2},
        ["a.py"],
    )
    # The facts cache holds what the whole pass keeps.
    journalled = JournalledCache(tmp_path, "index").entries
    for record in tmp_path.glob("index-built-*.pickle"):
        record.unlink()
    assert index_pass(tmp_path, edited, DefNames, ClassCount) == (
        {"def-names": (("a.py", "f"),), "class-count": 2},
        [],
    )
    assert JournalledCache(tmp_path, "index").entries == journalled
