"""Pre-check summaries: taken by the index pass from a file's CPython tree, they answer the
pipeline's pre-check as ``may_change_file`` does, without parsing the file again."""

from __future__ import annotations

from pathlib import Path

import pytest

from codemods.analysis import precheck
from codemods.engine.config import resolve
from codemods.engine.manifest import CodemodInfo, loaded
from codemods.engine.pipeline import Plan, candidates, summarised_candidates
from codemods.engine.templating import TemplateSet
from codemods.registry import REGISTRY
from codemods.rules.query_in_loop import ModelIndex, QueryInLoop
from tests.engine.toy_codemods import OldToNew

SAMPLE_REPO = Path(__file__).resolve().parents[2] / "sample_repo"
SAMPLE_FILES = {path.relative_to(SAMPLE_REPO).as_posix(): path.read_bytes() for path in sorted(SAMPLE_REPO.rglob("*.py"))}


def sample_plan() -> Plan:
    """Every registered codemod, as the console script gives them (markers only, imported when a
    file has one), with sample_repo's options and whole-tree indexes."""
    settings = resolve(SAMPLE_REPO, REGISTRY, cache=False)
    indexes = {}
    for codemod in map(loaded, settings.codemods):
        if codemod.index_markers:
            facts = {
                path: codemod.index_file(path, data)
                for path, data in SAMPLE_FILES.items()
                if any(marker in data for marker in codemod.index_markers)
            }
            indexes[codemod.name] = codemod.build_index(facts, settings.options.get(codemod.name, {}))
    infos = tuple(CodemodInfo.of(codemod) for codemod in settings.codemods)
    return Plan(infos, settings.options, indexes, TemplateSet())


def summaries_of(plan: Plan, data: bytes) -> dict[str, object]:
    """What the index pass hands the pipeline for a file (runner._summaries)."""
    facts = precheck.facts_of(precheck.parse(data))
    summaries = {c.name: c.precheck_summary(facts, plan.options.get(c.name, {})) for c in plan.applicable(data)}
    return {name: summary for name, summary in summaries.items() if summary is not False}


@pytest.mark.parametrize("path", sorted(SAMPLE_FILES))
def test_every_codemods_summary_answers_as_its_file_precheck_on_sample_repo(path: str) -> None:
    plan = sample_plan()
    data = SAMPLE_FILES[path]
    facts = precheck.facts_of(precheck.parse(data))
    for codemod in plan.applicable(data):
        options = plan.options.get(codemod.name, {})
        summary = codemod.precheck_summary(facts, options)
        assert (summary is False) == (not codemod.may_change(facts, options)), codemod.name
        if summary is not False and summary is not None:
            index = plan.index(codemod)
            expected = codemod.may_change_file(facts, options, path=path, source=data, index=index)
            assert codemod.may_change_summary(summary, options, path=path, source=data, index=index) == expected
    summarised = summarised_candidates(plan.applicable(data), summaries_of(plan, data), plan, path, data)
    assert summarised == candidates(plan.applicable(data), precheck.parse(data), plan, path, data)


class _OwnFileCheck(OldToNew):
    """A file pre-check of its own and no summary: the pipeline must parse the file for it."""

    name = "own-file-check"

    @classmethod
    def may_change_file(cls, facts, options, *, path, source, index) -> bool:
        return path.endswith("wanted.py")


def test_a_codemod_with_its_own_file_precheck_is_summarised_only_if_it_says_how() -> None:
    facts = precheck.facts_of(precheck.parse(b"old()\n"))
    assert _OwnFileCheck.precheck_summary(facts, {}) is None
    plan = Plan((), {}, {}, TemplateSet())
    summaries = {_OwnFileCheck.name: None}
    assert summarised_candidates([_OwnFileCheck], summaries, plan, "a.py", b"old()\n") == []
    assert summarised_candidates([_OwnFileCheck], summaries, plan, "wanted.py", b"old()\n") == [_OwnFileCheck]


LOOP_OVER_A_QUERY = b"""\
def report(session):
    for job in session.query(Job).all():
        print(job.applications, job.title)
"""


@pytest.mark.parametrize(
    ("lazy", "expected"),
    [
        pytest.param({"Job": {"applications": "select"}}, True, id="a-read-attribute-is-lazy"),
        pytest.param({"Job": {"applications": "joined"}}, False, id="no-read-attribute-is-lazy"),
        pytest.param({}, False, id="no-model-known"),
    ],
)
def test_query_in_loop_summary_is_the_attributes_read_on_the_loop_variable(lazy: dict, expected: bool) -> None:
    facts = precheck.facts_of(precheck.parse(LOOP_OVER_A_QUERY))
    summary = QueryInLoop.precheck_summary(facts, {})
    index = ModelIndex(lazy)

    assert summary == frozenset({"applications", "title"})
    assert QueryInLoop.may_change_summary(summary, {}, path="jobs.py", source=LOOP_OVER_A_QUERY, index=index) is expected
    assert QueryInLoop.may_change_file(facts, {}, path="jobs.py", source=LOOP_OVER_A_QUERY, index=index) is expected
    assert QueryInLoop.may_change(facts, {}) is True  # the index pass: any attribute may be lazy


class _NarrowerThanItsMarkers(OldToNew):
    """A class pre-filter stricter than its markers (secret-compare's: a secret's name in the text),
    which the console script's manifest does not know."""

    name = "narrower-than-its-markers"

    @classmethod
    def applies_to(cls, source: bytes) -> bool:
        return super().applies_to(source) and b"wanted" in source


def test_a_summarised_file_still_passes_the_class_pre_filter() -> None:
    plan = Plan((), {}, {}, TemplateSet())
    summaries = {_NarrowerThanItsMarkers.name: True}
    source = b"old()\n"

    assert summarised_candidates([_NarrowerThanItsMarkers], summaries, plan, "a.py", source) == []
    assert summarised_candidates([_NarrowerThanItsMarkers], summaries, plan, "a.py", source + b"# wanted\n") == [
        _NarrowerThanItsMarkers
    ]


# -- the index pass's trees, handed over to the rewriting pass (precheck.hand_over) --------------


@pytest.fixture
def no_parse(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Record CPython's parses (the texts); the shared parse starts empty."""
    parsed: list[bytes] = []
    parse = precheck.parse

    def recording(source: bytes):  # noqa: ANN202
        parsed.append(source)
        return parse(source)

    monkeypatch.setattr(precheck, "parse", recording)
    monkeypatch.setattr(precheck, "_last_parse", [None, None])
    return parsed


def test_a_handed_over_tree_is_the_shared_parse_of_its_text_without_a_parse(no_parse: list[bytes]) -> None:
    source = b"import os\nx = os.sep\n"
    tree = precheck.parse(source)
    no_parse.clear()
    precheck.hand_over("a.py", source, tree)

    precheck.take_over("a.py", bytes(source))  # an equal text, as a worker's pickled copy is
    assert precheck.parse_shared(bytes(source)) is tree
    assert no_parse == []
    assert "a.py" not in precheck._handed  # taken once


def test_a_tree_of_another_text_is_dropped_not_used(no_parse: list[bytes]) -> None:
    precheck.hand_over("a.py", b"x = 1\n", precheck.parse(b"x = 1\n"))
    precheck.take_over("a.py", b"x = 2\n")
    assert "a.py" not in precheck._handed
    assert precheck.parsed(b"x = 2\n") is None
    assert precheck.parse_shared(b"x = 2\n") is not None and no_parse[-1] == b"x = 2\n"


def test_trees_are_kept_within_the_budget_and_only_in_the_process_that_imported_precheck(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(precheck, "_handed", {})
    monkeypatch.setattr(precheck, "_handed_bytes", [0])
    monkeypatch.setattr(precheck, "HAND_OVER_BUDGET", 20)
    small, large = b"x = 1\n" * 2, b"y = 2\n" * 2
    precheck.hand_over("small.py", small, precheck.parse(small))
    precheck.hand_over("large.py", large, precheck.parse(large))  # 12 + 12 bytes > 20
    assert set(precheck._handed) == {"small.py"}
    precheck.hand_over("small.py", b"z = 3\n", precheck.parse(b"z = 3\n"))  # an earlier run's, never taken: replaced
    assert precheck._handed["small.py"][0] == b"z = 3\n" and precheck._handed_bytes == [6]
    precheck.take_over("small.py", b"z = 3\n")
    assert precheck._handed_bytes == [0]

    monkeypatch.setattr(precheck, "_PROCESS", -1)  # a forked worker: its trees never reach the rewriting pass
    precheck.hand_over("large.py", large, precheck.parse(large))
    assert precheck._handed == {}


def test_a_one_process_run_parses_the_files_a_codemod_runs_on_once_less(
    tmp_path: Path, no_parse: list[bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The files the index pass parsed that a codemod will run on are not parsed again by the
    rewriting pass (for their name facts, print-to-logging's and query-in-loop's statement
    filters), and the output is the same as with no tree handed over."""
    import shutil

    from codemods.engine.runner import Engine

    handed: list[bytes] = []
    hand_over = precheck.hand_over
    monkeypatch.setattr(precheck, "hand_over", lambda path, source, tree: handed.append(source) or hand_over(path, source, tree))
    runs: list[tuple] = []
    parses: list[list[int]] = []
    texts: list[bytes] = []
    for name, budget in (("handed over", precheck.HAND_OVER_BUDGET), ("parsed again", 0)):
        monkeypatch.setattr(precheck, "HAND_OVER_BUDGET", budget)
        root = tmp_path / name / "sample_repo"
        shutil.copytree(SAMPLE_REPO, root)
        report = Engine(root, resolve(root, REGISTRY, cache=False, jobs=1)).run()
        runs.append(([(c.path, c.new) for c in report.changes], report.findings, report.failed))
        texts = texts if parses else list(handed)  # the first run's: the second keeps none
        parses.append([no_parse.count(text) for text in texts])
        assert precheck._handed == {}
        no_parse.clear()

    assert len(texts) >= 5 and runs[0][0]
    spared = [again - once for once, again in zip(*parses)]
    # One parse less of each, but of a file the rewriting pass filters after all, or whose
    # codemods ask nothing of CPython's tree.
    assert set(spared) <= {0, 1} and sum(spared) > len(texts) // 2, spared
    assert runs[0] == runs[1]
