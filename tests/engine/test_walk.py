"""speedups.walk: a node's children and a read-only visit, exactly as libcst gives them."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest

from codemods.speedups import walk

SAMPLE_REPO = Path(__file__).resolve().parents[2] / "sample_repo"

# Every node class whose visiting order differs from its field order, and fields that are
# visited only when they hold something (an f-string's format spec).
SOURCE = """\
x = a if b else c
y = f"{v!r:>{width}}" + f"{w}"
z = {k: v for k, v in items if k}
def g(*args, key: int = 1, **kwargs) -> None:
    global x
    lambda q, /, r=2: q
    return (yield from h())
from . import (m as n,)
"""


def all_nodes(tree: cst.CSTNode) -> list[cst.CSTNode]:
    found, pending = [], [tree]
    while pending:
        node = pending.pop()
        found.append(node)
        pending.extend(node.children)
    return found


def sources() -> list[str]:
    return [SOURCE, *(p.read_text() for p in sorted(SAMPLE_REPO.rglob("*.py")))]


@pytest.mark.parametrize("source", sources())
def test_children_are_libcsts_in_order(source: str) -> None:
    for node in all_nodes(cst.parse_module(source)):
        assert [id(c) for c in walk.children(node)] == [id(c) for c in node.children], type(node).__name__


class Events(cst.CSTVisitor):
    """Logs every visit and leave; skips the children of function definitions."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list[tuple[str, int]] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.events.append(("visit", id(node)))
        return not isinstance(node, cst.FunctionDef)

    def on_leave(self, original_node: cst.CSTNode) -> None:
        self.events.append(("leave", id(original_node)))


class WithAttributeHooks(Events):
    def visit_Call_func(self, node: cst.Call) -> None:
        self.events.append(("visit Call.func", id(node)))


@pytest.mark.parametrize("visitor", [Events, WithAttributeHooks])
@pytest.mark.parametrize("source", sources())
def test_walk_calls_what_visit_calls(source: str, visitor: type[Events]) -> None:
    tree = cst.parse_module(source)
    plain, fast = visitor(), visitor()
    tree.visit(plain)
    assert walk.walk(tree, fast) is tree
    assert fast.events == plain.events
