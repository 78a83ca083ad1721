"""route_commit.flow's shortcuts answer what their plain versions answer, on every statement of
sample_repo (the planning of a route asks them of each statement that may move)."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest

from codemods.analysis.metadata import Metadata
from codemods.rules.route_commit import flow

SAMPLE_REPO = Path(__file__).resolve().parents[2] / "sample_repo"


def statements(module: cst.Module) -> list[cst.BaseStatement]:
    found, pending = [], [module]
    while pending:
        node = pending.pop()
        if isinstance(node, cst.BaseStatement):
            found.append(node)
        pending.extend(node.children)
    return found


def scopes_of_every_node(statement: cst.CSTNode, meta: Metadata) -> set[int]:
    found, pending = set(), [statement]
    while pending:
        node = pending.pop()
        scope = meta.scope(node)
        if scope is not None:
            found.add(id(scope))
        pending.extend(node.children)
    return found


@pytest.mark.parametrize("path", sorted(SAMPLE_REPO.rglob("*.py")), ids=lambda p: str(p.relative_to(SAMPLE_REPO)))
def test_the_scopes_under_a_statement_leave_out_no_scope_of_its_whitespace(path: Path) -> None:
    # _scopes_under skips whitespace and punctuation: each scope they are in is also the scope of
    # a node beside or above them (a function's body, a comprehension's element, a lambda's value).
    module = cst.parse_module(path.read_text())
    meta = Metadata(module, ())
    for statement in statements(module):
        found = {id(scope) for scope in flow._scopes_under(statement, meta)}
        assert found == scopes_of_every_node(statement, meta), cst.Module([]).code_for_node(statement)[:80]
