"""The engine: finds files, builds whole-tree indexes, runs the pipeline in parallel,
lets codemods generate files, and writes results atomically.

It never raises for a problem with one file: every file ends as changed, unchanged,
filtered (never parsed), skipped (unreadable) or failed (left untouched), and the caller
decides what to print.
"""

from __future__ import annotations

import collections
import dataclasses
import glob
import os
import stat
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codemods import __version__
from codemods.analysis import precheck
from codemods.engine.cache import (
    CACHE_DIR_NAME,
    ResultCache,
    content_key,
    folder_digest,
    tool_digest,
    value_digest,
)  # fmt: skip
from codemods.engine.collector import fewer_collections
from codemods.engine.config import Settings
from codemods.engine.discovery import discover
from codemods.engine.generated import GeneratedChecks
from codemods.engine.indexes import Computed, IndexPass, index_digest
from codemods.engine.manifest import CodemodInfo, loaded
from codemods.engine.replay import TreeChanged, TreeRead, file_state
from codemods.engine.sources import (
    Problem,
    SourceFile,
    TreeSource,
    indexed_in,
    read_sources,
    sources_in,
)

# libcst, the codemods and the pipeline are imported when a file needs them (codemods.engine.pipeline):
# a run whose files contain no codemod's markers never imports them.
if TYPE_CHECKING:
    from codemods.base import Codemod, Finding
    from codemods.engine.pipeline import FileOutcome, Plan

ProgressCallback = Callable[[str, int, int], None]  # (phase, done, total)


@dataclasses.dataclass(frozen=True)
class Change:
    """New bytes for one file; ``old`` is None for a file the run creates."""

    path: str
    old: bytes | None
    new: bytes
    codemods: tuple[str, ...]
    mode: int | None = None
    mtime_ns: int | None = None
    # Files this one needs (a route that now imports a generated service): it is written only
    # after all of them were.
    requires: tuple[str, ...] = ()


@dataclasses.dataclass
class RunReport:
    root: Path
    codemods: tuple[str, ...]
    files: int = 0
    parsed: int = 0
    filtered: int = 0
    cached: int = 0
    changes: list[Change] = dataclasses.field(default_factory=list)
    findings: list[Finding] = dataclasses.field(default_factory=list)
    skipped: list[Problem] = dataclasses.field(default_factory=list)
    failed: list[Problem] = dataclasses.field(default_factory=list)
    # Files read besides the discovered ones (by finalize), with their state: a replayed run
    # (codemods.engine.replay) is valid only while they are unchanged.
    external: dict[str, str | None] = dataclasses.field(default_factory=dict)

    def changes_per_codemod(self) -> dict[str, int]:
        counts = collections.Counter(name for change in self.changes for name in change.codemods)
        return {name: counts[name] for name in self.codemods if counts[name]}

    def findings_per_codemod(self) -> dict[str, int]:
        counts = collections.Counter(f.codemod for f in self.findings)
        return {name: counts[name] for name in self.codemods if counts[name]}

    def summary(self) -> str:
        text = (
            f"{self.files} files scanned ({self.parsed} parsed, {self.filtered} skipped by the pre-filter"
            f"{f', {self.cached} from cache' if self.cached else ''}), "
            f"{len(self.changes)} changed, {len(self.skipped)} skipped, {len(self.failed)} failed"
        )
        per_codemod = self.changes_per_codemod()
        if per_codemod:
            text += "; files changed per codemod: " + ", ".join(f"{n} {c}" for n, c in per_codemod.items())
        return text


# -- parallel map ----------------------------------------------------------------------------

_WORKER_STATE: dict[str, Any] = {}


def _init_worker(plan: Plan | None) -> None:
    import multiprocessing

    _WORKER_STATE["plan"] = plan
    if multiprocessing.parent_process() is not None:
        _exit_with_parent(os.getppid())


def _exit_with_parent(parent: int) -> None:
    """A worker whose run was killed (SIGKILL leaves no time to stop the pool) must not linger."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="auditfix-parent-watch", daemon=True).start()


def _transform_batch(batch: Sequence[tuple[str, bytes]]) -> list[FileOutcome]:
    from codemods.engine.pipeline import transform_source

    plan = _WORKER_STATE["plan"]
    return [transform_source(path, data, plan) for path, data in batch]


@dataclasses.dataclass(frozen=True)
class _Screen:
    """The run's codemods whose markers occur in a file, and their options: the index pass asks
    their syntax pre-check while the file's CPython tree is at hand."""

    codemods: tuple[type[Codemod] | CodemodInfo, ...]
    options: dict[str, Any]


def _index_batch(
    batch: Sequence[tuple[Sequence[type[Codemod]], str, bytes, _Screen | None]],
) -> list[tuple[str | None, str, Any, bytes | None]]:
    """(codemod name, path, facts, their value_digest) for each file and indexer; a file an
    indexer cannot read has facts None.  A file's indexers run one after the other, so they
    share its parse.

    A file an indexer parsed that has a screen also gets (None, path, summaries, None): its screen's
    codemods' pre-check summaries (name -> ``precheck_summary``), those that cannot change the
    file left out; none left, the rewriting pass filters the file, else it decides which
    codemods run from them, without parsing the file again.  The tree of a file a codemod
    will run on is handed over to the rewriting pass of this process (precheck.hand_over)."""
    results: list[tuple[str | None, str, Any, bytes | None]] = []
    for codemods, path, data, screen in batch:
        for codemod in map(loaded, codemods):
            try:
                facts = codemod.index_file(path, data)
            except Exception:  # noqa: BLE001 - one odd file must not stop the index
                facts = None
            results.append((codemod.name, path, facts, value_digest(facts)))
        tree = precheck.parsed(data) if screen is not None else None
        if tree is not None:
            summaries = _summaries(screen, tree)  # type: ignore[arg-type]
            if any(summary is True for summary in summaries.values()):  # rewritten: parsed again
                precheck.hand_over(path, data, tree)
            results.append((None, path, summaries, None))
    return results


def _summaries(screen: _Screen, tree: Any) -> dict[str, Any]:
    syntax = precheck.facts_of(tree)
    summaries = {c.name: loaded(c).precheck_summary(syntax, screen.options.get(c.name, {})) for c in screen.codemods}
    return {name: summary for name, summary in summaries.items() if summary is not False}


_UNITS_PER_WORKER = 32  # work units per worker: enough that the last ones are short


def _batches(items: Sequence[Any], size_of: Callable[[Any], int], jobs: int) -> list[list[Any]]:
    """Work units, largest files first: the largest alone, the small ones grouped.

    Workers take the next unit when they finish one, so the run ends on short units and no
    worker idles while another works through a long tail (the cost of a file is only roughly
    its size: a route module of 10 kB can take longer than a 50 kB module of constants).
    Grouping the small files bounds the number of round trips to the pool."""
    if not items:
        return []
    ordered = sorted(items, key=size_of, reverse=True)
    units = max(jobs, 1) * _UNITS_PER_WORKER
    most = -(-len(ordered) // units)  # files per unit at most
    least_size = sum(size_of(item) + 1 for item in ordered) // units
    batches: list[list[Any]] = [[]]
    size = 0
    for item in ordered:
        if batches[-1] and (len(batches[-1]) >= most or size >= least_size):
            batches.append([])
            size = 0
        batches[-1].append(item)
        size += size_of(item) + 1
    return batches


def _parallel_map(
    function: Callable[[Any], list[Any]],
    batches: list[list[Any]],
    jobs: int,
    plan: Plan | None,
    progress: Callable[[int], None],
) -> list[Any]:
    results: list[Any] = []
    if jobs <= 1 or len(batches) <= 1:
        # In this process: there is no pool parent to watch (a fleet task runs here, inside a
        # Dask worker process, once per codemod of every repository).
        _WORKER_STATE["plan"] = plan
        for batch in batches:
            results.extend(function(batch))
            progress(len(batch))
        return results
    # Imported here: a run on a few files (the pre-commit hook) never starts a pool.
    import concurrent.futures
    import multiprocessing

    context = multiprocessing.get_context("fork") if "fork" in multiprocessing.get_all_start_methods() else None
    with concurrent.futures.ProcessPoolExecutor(
        max_workers=min(jobs, len(batches)), mp_context=context, initializer=_init_worker, initargs=(plan,)
    ) as pool:
        futures = {pool.submit(function, batch): len(batch) for batch in batches}
        for future in concurrent.futures.as_completed(futures):
            results.extend(future.result())
            progress(futures[future])
    return results


# -- the run ---------------------------------------------------------------------------------


def _in_tree(markers: Sequence[bytes], sources: Sequence[SourceFile]) -> bool:
    """Does some file contain one of ``markers``?  (True when there are none.)"""
    return not markers or any(marker in source.data for source in sources for marker in markers)


def _named(path: str, only: Sequence[str]) -> bool:
    """Is ``path`` one of ``only``, or under one of its folders ("." is the whole root)?"""
    return any(entry == "." or path == entry or path.startswith(entry.rstrip("/") + "/") for entry in only)


_FEW_FILES = 20  # files worth a syntax pre-check before deciding a whole-tree index is needed


class Engine:
    def __init__(
        self,
        root: Path,
        settings: Settings,
        *,
        progress: ProgressCallback | None = None,
        only: Sequence[str] | None = None,
        tree: TreeRead | None = None,
    ) -> None:
        self.root = root
        # Paths named on the command line: their project's root is the root, and only
        # these (posix, relative to it; a folder stands for everything under it) are rewritten.
        self.only = tuple(only) if only is not None else None
        # Paths are relative to this folder; a single file is worked on from its own folder.
        self.folder = root if root.is_dir() else root.parent
        self.settings = settings
        self.progress = progress or (lambda phase, done, total: None)
        self.cache_folder = self.folder / CACHE_DIR_NAME if settings.cache else None
        # Files of this run the index pass found no codemod's syntax pre-check passing in.
        self.screened: set[str] = set()
        # The pre-check summaries of the other files the index pass parsed: path -> name -> summary.
        self.summaries: dict[str, dict[str, Any]] = {}
        # The tree as the replay key just discovered and read it (same root and excludes): the
        # first run works on it instead of discovering and reading every file again.
        self.tree = tree if tree is not None and tree.root == root and tree.excludes == tuple(settings.excludes) else None
        self.read_from_key = False  # whether the last run worked on ``tree``
        # The syntax facts of the files _may_act_anywhere asked about, with the bytes they are of:
        # every codemod of the run asks about the same few files.
        self._syntax_facts: dict[str, tuple[bytes, Any]] = {}
        # Each index of the last index pass, with its index_digest when the pass knew it (kept with it).
        self._index_digests: dict[str, tuple[Any, bytes]] = {}

    def run(self) -> RunReport:
        with fewer_collections():  # the run's indexes and trees are long-lived: see engine.collector
            tree = self.tree
            try:
                report = self._run()
            except TreeChanged:
                # A file changed since the key hashed it without reading it: the run starts again
                # on the tree as it is now (read_from_key is False: no record unless it stays so).
                report = self._run()
            if tree is not None and self.cache_folder is not None:
                tree.save()  # the stat cache, with the markers the index pass learnt
            return report

    def _run(self) -> RunReport:
        report = RunReport(self.root, tuple(c.name for c in self.settings.codemods))
        self.screened, self.summaries = set(), {}
        tree, self.tree = self.tree, None
        self.read_from_key = tree is not None
        everything = found = tree.found if tree is not None else discover(self.root, self.settings.excludes)
        if self.only is not None:
            found = dataclasses.replace(
                found,
                paths=[p for p in found.paths if _named(p, self.only)],
                symlinks=[p for p in found.symlinks if _named(p, self.only)],
            )
        for link in found.symlinks:
            report.skipped.append(Problem(link, "symbolic link: not rewritten (its target is processed if it is in the folder)"))
        report.files = len(found.paths) + len(found.symlinks)
        sources = self._read(found.paths, report, tree)
        codemods = self.settings.codemods
        if self.only is None:  # the whole tree was read: a codemod whose tree markers occur nowhere cannot act
            codemods = tuple(c for c in codemods if _in_tree(c.tree_markers, sources))
        if not any(c.applies_to(source.data) for source in sources for c in codemods):
            # No codemod can act on any file: nothing to index, parse or import (the result a
            # full pass gives: every file filtered).
            report.filtered = len(sources)
            return self._sorted(report)
        # The whole-tree index of a codemod is consulted only by the files it may act on: those
        # the run was given decide whether it is built (a run on a few files of a large tree
        # reads the rest of the tree only for an index they need).
        indexers = [c for c in codemods if c.index_markers and self._may_act_anywhere(c, sources)]
        index_sources = sources
        if self.only is not None and indexers:
            # The whole-tree index still sees the whole tree, so a named file is rewritten as in a full run.
            named = {source.path for source in sources}
            others = [p for p in everything.paths if p not in named]
            index_sources = sources + (
                read_sources(self.folder, others, RunReport(self.root, report.codemods)) if tree is None else indexed_in(tree, others)
            )
        try:
            indexes = self._build_indexes(indexers, index_sources, sources, codemods)
        finally:
            precheck.forget_kept()
        from codemods.engine.pipeline import Plan

        unused = tuple(c.name for c in codemods if c.index_markers and c.name not in indexes)
        plan = Plan(
            codemods, self.settings.options, indexes, self.settings.templates, self.settings.style, tidy=True,
            empty_indexes=unused, screened=frozenset(self.screened), summaries=self.summaries,
        )  # fmt: skip
        for config_file in self.settings.style.sources:  # a replayed run is stale once one changes
            report.external[config_file] = file_state(Path(config_file))
        self.settings.templates.use_cache(self.cache_folder)
        outcomes = self._transform(sources, plan, report)
        by_path = {s.path: s for s in sources}
        self._collect(outcomes, by_path, report)
        self._finalize(outcomes, plan, report)
        self._generated.save(whole_tree=self.only is None)
        self.settings.templates.save_renders()
        return self._sorted(report)

    def _read(self, paths: Sequence[str], report: RunReport, tree: TreeRead | None) -> list[SourceFile]:
        return read_sources(self.folder, paths, report) if tree is None else sources_in(tree, paths, report)

    @staticmethod
    def _sorted(report: RunReport) -> RunReport:
        report.changes.sort(key=lambda c: c.path)
        report.findings.sort()
        report.skipped.sort(key=lambda p: p.path)
        report.failed.sort(key=lambda p: p.path)
        return report

    # whole-tree indexes ---------------------------------------------------------------------

    def _build_indexes(
        self,
        indexers: list[type[Codemod] | CodemodInfo],
        sources: Sequence[SourceFile | TreeSource],
        rewrite: list[SourceFile] | None = None,
        codemods: Sequence[type[Codemod] | CodemodInfo] | None = None,
    ) -> dict[str, Any]:
        """The index of each of ``indexers`` over ``sources``, with its facts of each file from
        the cache when that file's content is as it was (a run on a few files of an unchanged
        tree reads every fact from there), or as kept when built from the same facts
        (codemods.engine.indexes).

        Of the files in ``rewrite`` that an indexer parses, those where no codemod of the run
        (``codemods``, default: the settings') passes the syntax pre-check are added to
        ``self.screened``, the others' pre-check summaries to ``self.summaries``."""
        self._index_digests = {}
        if not indexers:
            return {}
        rewritten = {s.path for s in rewrite} if rewrite is not None else set()
        run_codemods = self.settings.codemods if codemods is None else codemods

        def compute(files: list[tuple[tuple[type[Codemod] | CodemodInfo, ...], SourceFile | TreeSource]]) -> Computed:
            """The facts of ``files`` for their indexers, and what their parse is asked next."""
            todo: list[tuple[tuple[type[Codemod] | CodemodInfo, ...], str, bytes, _Screen | None]] = []
            for missing, source in files:
                applicable = tuple(c for c in run_codemods if c.applies_to(source.data))
                screen = _Screen(applicable, self.settings.options) if source.path in rewritten and applicable else None
                todo.append((missing, source.path, source.data, screen))
            done = 0

            def advance(count: int) -> None:
                nonlocal done
                done += count
                self.progress("indexing", done, len(todo))

            facts: Computed = []
            batches = _batches(todo, lambda item: len(item[2]), self.settings.jobs)
            for name, path, fact, digest in _parallel_map(_index_batch, batches, self.settings.jobs, None, advance):
                if name is None:
                    if fact:
                        self.summaries[path] = fact
                    else:
                        self.screened.add(path)
                else:
                    facts.append((name, path, fact, digest))
            return facts

        index_pass = IndexPass(self.cache_folder, indexers, self.settings.options)
        indexes = index_pass.build(sources, compute)
        self._index_digests = {name: (indexes[name], digest) for name, digest in index_pass.digests.items()}
        return indexes

    def _may_act_anywhere(self, codemod: type[Codemod] | CodemodInfo, sources: list[SourceFile]) -> bool:
        """Whether any file read may be changed or reported by ``codemod`` (else its whole-tree
        index is never consulted).  Decided by the text pre-filter, and by the syntax pre-check
        when only a few files pass that; otherwise assumed."""
        passing = [s for s in sources if codemod.applies_to(s.data)]
        if len(passing) > _FEW_FILES:
            return True
        options = self.settings.options.get(codemod.name, {})
        for source in passing:
            facts = self._syntax_facts_of(source)
            if facts is None or loaded(codemod).may_change(facts, options):
                return True
        return False

    def _syntax_facts_of(self, source: SourceFile) -> Any:
        """``precheck.facts_of`` the file's CPython tree (None: it does not parse), computed once."""
        known = self._syntax_facts.get(source.path)
        if known is None or known[0] is not source.data:
            syntax = precheck.parse_shared(source.data)
            precheck.keep(source.data, syntax)  # the index pass parses it next: held here anyway
            known = self._syntax_facts[source.path] = (source.data, None if syntax is None else precheck.facts_of(syntax))
        return known[1]

    # per-file transforms ---------------------------------------------------------------------

    def _fingerprint(self, plan: Plan) -> str:
        overrides = b""
        if plan.templates.override_dir is not None:
            overrides = folder_digest(Path(plan.templates.override_dir))
        options = repr(sorted((name, sorted(values.items())) for name, values in plan.options.items()))
        indexes = b",".join(name.encode() + b":" + self._index_digest(name, plan.indexes[name]) for name in sorted(plan.indexes))
        return content_key(
            __version__, tool_digest(), ",".join(c.name for c in plan.codemods), options, indexes, overrides, self._style_key(plan)
        )

    def _index_digest(self, name: str, index: Any) -> bytes:
        """:func:`index_digest` of ``index``, as the index pass kept it when that is the index it gave."""
        known = self._index_digests.get(name)
        return known[1] if known is not None and known[0] is index else index_digest(index)

    def _style_key(self, plan: Plan) -> str:
        """The style's part of the cache key: its settings with the folder's own path left out (a
        git-mode worktree has a new path on every run), and the isort file's content, which isort
        reads itself."""
        text = repr(plan.style).replace(str(self.folder.resolve()), "<root>")
        return text + str(file_state(Path(plan.style.isort_file)) if plan.style.isort_file else "")

    def _transform(self, sources: list[SourceFile], plan: Plan, report: RunReport) -> list[FileOutcome]:
        from codemods.engine.pipeline import FAILED, FILTERED

        cache = ResultCache(self.cache_folder, "results")
        fingerprint = self._fingerprint(plan)
        outcomes: list[FileOutcome] = []
        todo: list[tuple[str, bytes]] = []
        keys: dict[str, str] = {}
        for source in sources:
            if not any(c.applies_to(source.data) for c in plan.codemods):
                report.filtered += 1
                continue
            key = keys[source.path] = content_key(fingerprint, source.path, source.data)
            cached = cache.get(key)
            if cached is not None:
                outcomes.append(cached)
                report.cached += cached.status != FILTERED  # parsed files whose result was kept
            else:
                todo.append((source.path, source.data))
        total = len(todo)
        done = 0

        def advance(count: int) -> None:
            nonlocal done
            done += count
            self.progress("rewriting", done, total)

        batches = _batches(todo, lambda item: len(item[1]), self.settings.jobs)
        fresh = _parallel_map(_transform_batch, batches, self.settings.jobs, plan, advance)
        for outcome in fresh:
            # A codemod crash is not a property of the file: do not remember it.
            if not (outcome.status == FAILED and outcome.detail):
                cache.put(keys[outcome.path], outcome)
        if self.only is None:
            cache.retain(set(keys.values()))
        else:
            # A run on some files must not evict the other files' results, but a named file's
            # results for its earlier contents go: the pre-commit hook runs on every commit, and
            # the cache it loads and saves each time would otherwise grow with every edit.
            named = {source.path for source in sources}
            cache.retain({key for key, kept in cache.entries.items() if getattr(kept, "path", None) not in named} | set(keys.values()))
        cache.save()
        self._generated = GeneratedChecks(self.cache_folder, fingerprint)
        outcomes.extend(fresh)
        outcomes.sort(key=lambda o: o.path)
        report.parsed = sum(1 for o in outcomes if o.status != FILTERED)
        report.filtered += len(outcomes) - report.parsed  # the syntax pre-check's share
        return outcomes

    @staticmethod
    def _collect(outcomes: list[FileOutcome], by_path: dict[str, SourceFile], report: RunReport) -> None:
        from codemods.engine.pipeline import CHANGED, FAILED, UNPARSABLE

        for outcome in outcomes:
            report.findings.extend(outcome.findings)
            if outcome.status == CHANGED:
                source = by_path[outcome.path]
                report.changes.append(
                    Change(outcome.path, source.data, outcome.new_source, outcome.changed_by, source.mode, source.mtime_ns)
                )
            elif outcome.status == UNPARSABLE:
                report.skipped.append(Problem(outcome.path, outcome.message))
            elif outcome.status == FAILED:
                report.failed.append(Problem(outcome.path, outcome.message, outcome.detail))

    # generated files -------------------------------------------------------------------------

    def _read_current(self, report: RunReport) -> Callable[[str], str | None]:
        pending = {change.path: change.new for change in report.changes}

        def read_file(path: str) -> str | None:
            data = pending.get(path)
            if data is None:
                full = self.folder / path
                report.external[path] = file_state(full)
                if not full.is_file():
                    return None
                data = full.read_bytes()
            return data.decode("utf-8", errors="surrogateescape")

        return read_file

    def _finalize(self, outcomes: list[FileOutcome], plan: Plan, report: RunReport) -> None:
        from codemods.engine.pipeline import CHANGED

        for codemod in plan.codemods:
            extras = [(o.path, extra) for o in outcomes if o.status == CHANGED for name, extra in o.extras if name == codemod.name]
            if extras:
                self._finalize_one(loaded(codemod), extras, plan, report)

    def _finalize_one(
        self, codemod: type[Codemod], extras: list[tuple[str, Any]], plan: Plan, report: RunReport
    ) -> None:
        """Generate ``codemod``'s files from the files that gave it extras, isolating failures.

        A generated file that fails its checks fails only its contributors; finalize runs again
        without them (their code must not reach any other generated file either), until every
        generated file passes.  A crash of finalize fails the files whose extras make it crash.
        """
        failed: dict[str, Problem] = {}
        while True:
            live = [(path, extra) for path, extra in extras if path not in failed]
            if not live:
                break
            outcome = self._generate(codemod, live, plan, report)
            if isinstance(outcome, dict):
                failed.update(outcome)
                # Their rewrites are withdrawn now: finalize must not read them again.
                report.changes = [c for c in report.changes if c.path not in failed]
                continue
            self._accept_generated(*outcome, report)
            break
        report.failed.extend(failed[path] for path in sorted(failed))

    def _generate(
        self, codemod: type[Codemod], extras: list[tuple[str, Any]], plan: Plan, report: RunReport
    ) -> tuple[list[Change], dict[str, list[str]], list[Finding]] | dict[str, Problem]:
        """The checked generated files, their contributors and findings, or the contributors
        that must fail."""
        contributors = sorted({path for path, _ in extras})
        try:
            result = self._call_finalize(codemod, extras, plan, report)
        except Exception as exc:  # noqa: BLE001 - a codemod bug fails its files, not the run
            culprits = self._crashing_contributors(codemod, extras, plan, report) or contributors
            reason = f"{codemod.name}: internal error: {type(exc).__name__}: {exc}; file left unchanged"
            return {path: Problem(path, reason, traceback.format_exc()) for path in culprits}
        changes: list[Change] = []
        sources_of: dict[str, list[str]] = {}
        findings = list(result.findings)
        rejected: dict[str, Problem] = {}
        for generated in result.files:
            sources = contributors if generated.contributors is None else sorted(generated.contributors)
            try:
                change = self._generated_change(codemod, generated.path, generated.content.encode("utf-8"), report)
                change = dataclasses.replace(change, new=self._generated.tidied(change.path, change.old, change.new, plan.style))
                change, new_findings = self._check_generated(change, plan, report)
            except _GeneratedFileRejected as exc:
                for path in sources:
                    rejected.setdefault(path, Problem(path, f"{codemod.name}: {exc}; file left unchanged"))
                continue
            changes.append(change)
            sources_of[change.path] = sources
            findings.extend(new_findings)
        return rejected or (changes, sources_of, findings)

    def _call_finalize(
        self, codemod: type[Codemod], extras: list[tuple[str, Any]], plan: Plan, report: RunReport
    ) -> Any:
        return codemod.finalize(extras, self._read_current(report), plan.options.get(codemod.name, {}), plan.templates)

    def _crashing_contributors(
        self, codemod: type[Codemod], extras: list[tuple[str, Any]], plan: Plan, report: RunReport
    ) -> list[str]:
        """The files whose extras alone make finalize crash (empty when only the mix does)."""
        culprits = []
        for path in sorted({path for path, _ in extras}):
            try:
                self._call_finalize(codemod, [(p, e) for p, e in extras if p == path], plan, report)
            except Exception:  # noqa: BLE001
                culprits.append(path)
        return culprits

    def _check_generated(self, change: Change, plan: Plan, report: RunReport) -> tuple[Change, list[Finding]]:
        """Run the selected codemods over a generated file, as over any other file of the run.

        Code moved into it (a ``print`` from a route into a service module) is fixed in the same
        run, so the run's result is a fixed point.  The file is rejected when it does not parse,
        does not compile, a second pass would change it, or it would generate code in turn.
        Findings already reported for the same file (a decline in the module merged into) are
        not repeated.
        """
        from codemods.engine.pipeline import CHANGED, FAILED, UNPARSABLE

        outcome, problem = self._generated.verdict(change.path, change.old, change.new, plan)
        if outcome.status in (FAILED, UNPARSABLE):
            raise _GeneratedFileRejected(f"generated {change.path}: {outcome.message or 'rejected'}")
        if outcome.extras:
            raise _GeneratedFileRejected(f"generated {change.path}: the codemods would generate code from it in turn")
        if outcome.status == CHANGED and outcome.new_source is not None:
            names = (*change.codemods, *(n for n in outcome.changed_by if n not in change.codemods))
            change = dataclasses.replace(change, new=outcome.new_source, codemods=names)
        elif problem is not None:
            raise _GeneratedFileRejected(f"generated {change.path}: {problem}")
        known = collections.Counter((f.codemod, f.message, f.fixable) for f in report.findings if f.path == change.path)
        fresh = []
        for finding in outcome.findings:
            key = (finding.codemod, finding.message, finding.fixable)
            if known[key]:
                known[key] -= 1
            else:
                fresh.append(finding)
        return change, fresh

    @staticmethod
    def _accept_generated(
        generated: list[Change], sources_of: dict[str, list[str]], findings: list[Finding], report: RunReport
    ) -> None:
        """Add the generated files; each contributor is written only after the files it needs."""
        report.findings.extend(findings)
        needs: dict[str, set[str]] = {}
        for path, sources in sources_of.items():
            for source in sources:
                if source != path:
                    needs.setdefault(source, set()).add(path)
        report.changes = [
            dataclasses.replace(c, requires=tuple(sorted({*c.requires, *needs[c.path]}))) if c.path in needs else c
            for c in report.changes
            if c.path not in sources_of
        ]
        report.changes.extend(generated)

    def _generated_change(self, codemod: type[Codemod], path: str, new: bytes, report: RunReport) -> Change:
        earlier = next((c for c in report.changes if c.path == path), None)
        if earlier is not None:
            return dataclasses.replace(earlier, new=new, codemods=(*earlier.codemods, codemod.name))
        full = self.folder / path
        report.external[path] = file_state(full)
        # Writing would fail (a folder) or replace a link: refuse now, before the files that
        # would import the generated one are rewritten.
        if full.is_symlink() or (full.exists() and not full.is_file()):
            kind = "a symbolic link" if full.is_symlink() else "a folder or special file"
            raise _GeneratedFileRejected(f"generated {path}: {kind} is already there")
        if full.is_file():
            info = full.stat()
            return Change(path, full.read_bytes(), new, (codemod.name,), stat.S_IMODE(info.st_mode), info.st_mtime_ns)
        return Change(path, None, new, (codemod.name,))


class _GeneratedFileRejected(Exception):
    pass


# -- writing ---------------------------------------------------------------------------------


def write_changes(folder: Path, changes: Sequence[Change]) -> list[Problem]:
    """Write every change atomically, each file only after the files it requires.

    Files other files need (generated service modules) and created files go first, so a run
    stopped at any moment leaves code that imports only what exists.  A file whose requirement
    could not be written is not written either.  Paths are relative to ``folder`` (``Engine.folder``).
    The whole set is recorded in the write journal first (``codemods.engine.journal``), so a
    run killed half-way is finished by the next :func:`finish_interrupted_write`.
    """
    if not changes:
        return []
    from codemods.engine import journal  # only a run that writes

    try:
        journal.record(
            folder,
            [journal.Entry(c.path, journal.digest(c.old), c.new, c.mode, c.requires, c.codemods) for c in changes],
        )
    except OSError:
        pass  # a folder where no journal can be kept is still written, file by file atomically
    problems = _write_in_order(folder, changes, set())
    journal.clear(folder)
    return problems


@dataclasses.dataclass(frozen=True)
class Finished:
    """What :func:`finish_interrupted_write` did."""

    written: list[str]
    done_before: int  # files the interrupted run had written already
    problems: list[Problem]


def finish_interrupted_write(folder: Path) -> Finished | None:
    """Complete the writes of a ``run --write`` that was killed; None when there is none.

    Each file of the journal is its old bytes (written now), its new bytes (written before the
    run stopped), or something else: changed by someone since, so it is left alone, and so are
    the files that need it.  Raises ``journal.JournalError`` for a journal that cannot be used.
    """
    from codemods.engine import (
        journal,  # only a run --write (it finishes an interrupted one first)
    )

    entries = journal.load(folder)
    if entries is None:
        return None
    changes: list[Change] = []
    problems: list[Problem] = []
    done_before = 0
    for entry in entries:
        full = folder / entry.path
        current = full.read_bytes() if full.is_file() and not full.is_symlink() else None
        if current == entry.new:
            done_before += 1
        elif journal.digest(current) == entry.old_digest and (current is not None or not full.exists()):
            changes.append(Change(entry.path, current, entry.new, entry.codemods, entry.mode, None, entry.requires))
        else:
            problems.append(Problem(entry.path, "changed since the interrupted run read it; that run's change is not finished"))
    unfinished = {problem.path for problem in problems}
    problems += _write_in_order(folder, changes, unfinished)
    journal.clear(folder)
    failed = {problem.path for problem in problems}
    return Finished(sorted(c.path for c in changes if c.path not in failed), done_before, problems)


def _write_in_order(folder: Path, changes: Sequence[Change], unwritten: set[str]) -> list[Problem]:
    needed = {path for change in changes for path in change.requires}
    problems = []
    for change in sorted(changes, key=lambda c: (c.path not in needed, c.old is not None, c.path)):
        missing = sorted(unwritten.intersection(change.requires))
        if missing:
            problems.append(Problem(change.path, f"not written: it needs {', '.join(missing)}, which could not be written"))
            unwritten.add(change.path)
            continue
        try:
            _write_one(folder / change.path, change)
        except _StaleFile as exc:
            problems.append(Problem(change.path, str(exc)))
            unwritten.add(change.path)
        except OSError as exc:
            problems.append(Problem(change.path, f"cannot write: {exc.strerror or exc}"))
            unwritten.add(change.path)
    return problems


class _StaleFile(Exception):
    pass


def _write_one(target: Path, change: Change) -> None:
    if change.old is None:
        if target.exists():
            raise _StaleFile("was created by someone else since the run started; not overwritten")
        target.parent.mkdir(parents=True, exist_ok=True)
        mode = 0o666 & ~_umask()
    else:
        if target.read_bytes() != change.old:
            raise _StaleFile("changed on disk since it was read; not overwritten")
        mode = change.mode if change.mode is not None else 0o644
        # The rename below would succeed on a read-only file; respect the owner's intent instead.
        if not mode & stat.S_IWUSR or not os.access(target, os.W_OK):
            raise PermissionError(13, "the file is read-only")
    _remove_leftover_temporaries(target)
    descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=_temporary_prefix(target, os.getpid()), suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(change.new)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise


def _temporary_prefix(target: Path, pid: int) -> str:
    return f".{target.name}.auditfix-{pid}-"


def _remove_leftover_temporaries(target: Path) -> None:
    """Delete temporary files a killed run left beside ``target`` (their process is gone)."""
    for leftover in target.parent.glob(f".{glob.escape(target.name)}.auditfix-*-*.tmp"):
        pid_text = leftover.name[len(f".{target.name}.auditfix-") :].split("-", 1)[0]
        if pid_text.isdigit() and not _process_alive(int(pid_text)):
            try:
                leftover.unlink()
            except OSError:
                pass


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current
