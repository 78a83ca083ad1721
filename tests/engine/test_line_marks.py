"""Codemod.line_mark: the lines a message names are PositionProvider's, resolved with the findings.

loop-commit and query-in-loop write "at line N" into their messages.  The line comes from the
code generation that positions the findings (``position_reports``), not from positions of every
node; here every message they write is compared with the same message written with the line
PositionProvider gives, on the sample_repo files and on every source of the rules' tests.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from codemods.base import Codemod, position_reports
from codemods.engine.pipeline import FileOutcome, transform_source
from codemods.rules.loop_commit import LoopCommit
from codemods.rules.query_in_loop import QueryInLoop
from tests.rules import test_loop_commit, test_query_in_loop
from tests.rules.helpers import make_plan

SAMPLE_REPO = Path(__file__).resolve().parents[2] / "sample_repo"
RULES = (LoopCommit, QueryInLoop)


def _test_sources(module: object) -> Iterator[str]:
    """The first argument of every parametrized case of a rule's test module (its source)."""
    for name in dir(module):
        function = getattr(module, name)
        for mark in getattr(function, "pytestmark", ()) if name.startswith("test_") else ():
            if mark.name == "parametrize":
                for case in mark.args[1]:
                    value = case.values[0] if hasattr(case, "values") else case
                    if isinstance(value, str):
                        yield textwrap.dedent(value)


SOURCES = [
    *((str(path.relative_to(SAMPLE_REPO)), path.read_text()) for path in sorted(SAMPLE_REPO.rglob("*.py"))),
    *((f"loop_commit[{n}]", source) for n, source in enumerate(_test_sources(test_loop_commit))),
    *((f"query_in_loop[{n}]", source) for n, source in enumerate(_test_sources(test_query_in_loop))),
]


def write_provider_lines(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Make line_mark write PositionProvider's line of the node in the tree the codemod was given
    (what the rules wrote before line marks); the list counts the lines written."""
    written: list[int] = []
    rewrite = Codemod.rewrite

    def keeping_tree(self: Codemod, tree: cst.Module, wrapper: MetadataWrapper | None = None) -> cst.Module:
        self._test_tree = tree  # type: ignore[attr-defined]
        return rewrite(self, tree, wrapper)

    def provider_line(self: Codemod, node: cst.CSTNode) -> str:
        line = MetadataWrapper(self._test_tree, unsafe_skip_copy=True).resolve(PositionProvider)[node].start.line  # type: ignore[attr-defined]
        written.append(line)
        return str(line)

    monkeypatch.setattr(Codemod, "rewrite", keeping_tree)
    monkeypatch.setattr(Codemod, "line_mark", provider_line)
    return written


def _outcome(rule: type[Codemod], source: str) -> FileOutcome:
    plan = make_plan(rule, {"app/module.py": source})
    return transform_source("app/module.py", source.encode(), plan, precheck=False)


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.name)
def test_messages_name_the_lines_position_provider_gives(rule: type[Codemod], monkeypatch: pytest.MonkeyPatch) -> None:
    marked = [_outcome(rule, source) for _, source in SOURCES]
    written = write_provider_lines(monkeypatch)
    expected = [_outcome(rule, source) for _, source in SOURCES]
    assert written, "no message of these sources names a line: the comparison would prove nothing"
    for (path, _), got, want in zip(SOURCES, marked, expected):
        assert (path, got.findings) == (path, want.findings)
        assert "\0" not in "".join(finding.message for finding in got.findings)


def test_a_mark_names_the_line_of_its_node_in_the_tree_positioned() -> None:
    source = "def f():\n    pass\n\n\nx = 1\n"
    tree = cst.parse_module(source)
    plan = make_plan(LoopCommit, {"app/module.py": source})
    codemod = LoopCommit(plan.context(LoopCommit, "app/module.py", source.encode()))
    assignment = tree.body[1]
    codemod.report(tree.body[0], f"see line {codemod.line_mark(assignment)}, not line {codemod.line_mark(tree.body[0])}")
    (finding,) = position_reports(tree, [codemod])
    assert (finding.line, finding.message) == (1, "see line 5, not line 1")
