"""speedups.walk: a node's children and a read-only visit, exactly as libcst gives them."""

from __future__ import annotations

from pathlib import Path

import libcst as cst
import pytest

from codemods import speedups
from codemods.speedups import traversal, unchanged, walk

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


@pytest.mark.parametrize("source", sources())
def test_children_but_trivia_are_the_others_in_order(source: str) -> None:
    # Trivia hold nothing but trivia (test_unchanged_visit), so a walk by children_but_trivia
    # reaches every other node a walk by children reaches.
    for node in all_nodes(cst.parse_module(source)):
        expected = [id(c) for c in node.children if type(c) not in unchanged.TRIVIA]
        assert [id(c) for c in walk.children_but_trivia(node)] == expected, type(node).__name__


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


def _logging_methods() -> dict[str, object]:
    """A ``visit_<Node>`` and ``leave_<Node>`` for every node class; the visits of function and
    class definitions and of lambdas return False (their children are skipped), of ``If`` True."""
    methods: dict[str, object] = {}
    skipped = {"FunctionDef": False, "ClassDef": False, "Lambda": False, "If": True}
    for name in dir(cst):
        kind = getattr(cst, name)
        if not (isinstance(kind, type) and issubclass(kind, cst.CSTNode)):
            continue

        def visit(self, node, name=name):  # noqa: ANN001, ANN202
            self.events.append((f"visit_{name}", id(node)))
            return skipped.get(name)

        def leave(self, original_node, name=name):  # noqa: ANN001, ANN202
            self.events.append((f"leave_{name}", id(original_node)))

        methods[f"visit_{name}"], methods[f"leave_{name}"] = visit, leave
    return methods


def _init(self) -> None:  # noqa: ANN001
    cst.CSTVisitor.__init__(self)
    self.events = []


LibcstHooks = type("LibcstHooks", (cst.CSTVisitor,), {"__init__": _init, **_logging_methods()})
FastHooks = type("FastHooks", (traversal.Visitor,), {"__init__": _init, **_logging_methods()})
SomeHooks = type(
    "SomeHooks", (traversal.Visitor,), {"__init__": _init, **{k: v for k, v in _logging_methods().items() if "Name" in k or "Call" in k}}
)
SomeLibcstHooks = type(
    "SomeLibcstHooks", (cst.CSTVisitor,), {"__init__": _init, **{k: v for k, v in _logging_methods().items() if "Name" in k or "Call" in k}}
)


@pytest.mark.parametrize("source", sources())
def test_walk_of_a_fast_visitor_calls_what_libcsts_hooks_call(source: str) -> None:
    """A traversal.Visitor without attribute hooks is walked by walk._walk_dispatching, a visitor
    with its own on_visit/on_leave by walk._walk_hooks: the same methods on the same nodes in the
    same order as libcst's own dispatch, below any node."""
    tree = cst.parse_module(source)
    for fast, plain in ((FastHooks, LibcstHooks), (SomeHooks, SomeLibcstHooks), (LibcstHooks, LibcstHooks)):
        for node in [tree, *all_nodes(tree)[::29]]:
            expected, got = plain(), fast()
            node.visit(expected)
            assert walk.walk(node, got) is node
            assert got.events == expected.events


@pytest.mark.skipif(not speedups.ENABLED, reason="the speed-ups are off: walk is node.visit")
def test_walk_takes_the_path_of_the_visitors_hooks(monkeypatch: pytest.MonkeyPatch) -> None:
    taken: list[str] = []
    for name in ("_walk_dispatching", "_walk_hooks"):
        original = getattr(walk, name)
        monkeypatch.setattr(walk, name, lambda *args, original=original, name=name: taken.append(name) or original(*args))
    tree = cst.parse_module("f(x)\n")
    expected = {FastHooks: {"_walk_dispatching"}, Events: {"_walk_hooks"}, WithAttributeHooks: set(), LibcstHooks: {"_walk_hooks"}}
    for visitor, paths in expected.items():
        taken.clear()
        walk.walk(tree, visitor())
        assert set(taken) == paths, visitor.__name__


@pytest.mark.skipif(not speedups.ENABLED, reason="the speed-ups are off: walk is node.visit")
@pytest.mark.parametrize("source", sources())
def test_walk_leaving_out_trivia_calls_what_libcsts_own_visit_calls(source: str) -> None:
    """Both walkers leave out the whitespace, comments and punctuation no hook of the visitor can
    see (unchanged.visitor_kind): the calls are those of libcst's own traversal."""
    tree = cst.parse_module(source)
    assert unchanged.visitor_kind(SomeHooks)[2] == unchanged.TRIVIA
    assert unchanged.visitor_kind(SomeLibcstHooks)[2] == unchanged.TRIVIA
    for fast, plain in ((SomeHooks, SomeLibcstHooks), (SomeLibcstHooks, SomeLibcstHooks)):
        expected, got = plain(), fast()
        cst.CSTNode.visit = unchanged._LIBCST_VISIT  # type: ignore[method-assign]
        try:
            tree.visit(expected)
        finally:
            unchanged.install()
        assert walk.walk(tree, got) is tree
        assert got.events == expected.events
