"""libcst's scope analysis with the shortcuts of codemods/speedups/scopes.py gives what it gives
without them: the same scopes of the same nodes, with the same assignments, accesses and
referents, and the same expression contexts."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import libcst as cst
import pytest
from libcst.metadata import ExpressionContextProvider, MetadataWrapper, ScopeProvider
from libcst.metadata.scope_provider import ScopeVisitor

from codemods import speedups
from codemods.speedups import scopes

pytestmark = pytest.mark.skipif(not speedups.ENABLED, reason="the speed-ups are off: libcst's own analysis runs")

SAMPLE_FILES = sorted((Path(__file__).parents[2] / "sample_repo").rglob("*.py"))

TRICKY = """\
import os, sys as system
from a import (b, c as d)
from . import rel
x: int = 1
y = [i for i in range(3) if i > x]
del y

@decorator(x)
def f(a, b=x, *args, c: "os.PathLike", **kwargs) -> "int":
    global x
    x = a
    def g():
        nonlocal a
        a += 1
        return lambda q, /, r=c: q @ r
    class C(Base[d], metaclass=M):
        z = b
        w = [z for _ in range(2)]
        def m(self, t: C) -> None:
            print(__class__, t, z)
    with open(a) as (fh, gh):
        yield from {k: v for k, v in fh}
    try:
        pass
    except ValueError as e:
        raise E from e
    if (n := len(args)) > 1:
        return n, system.argv[b:c]
    type Alias = list[int]
    def h[T: int](p: T) -> T:
        return p
    return f"{a!r:>{b}}"

async def k():
    async for item in aiter():
        await item
    match rel:
        case [1, *rest] | {"key": rest}:
            return rest
        case Point(x=0, y=yy) as pt:
            return pt, yy
"""


@contextlib.contextmanager
def libcsts_own() -> Iterator[None]:
    scopes.uninstall()
    try:
        yield
    finally:
        scopes.install()


def described(module: cst.Module) -> tuple[Any, ...]:
    """Everything the scope analysis says of ``module``, nodes and scopes by their order of first
    appearance (the two analyses build different scope objects for the same module)."""
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    scope_of = wrapper.resolve(ScopeProvider)
    contexts = wrapper.resolve(ExpressionContextProvider)
    nodes: dict[int, int] = {}
    known: dict[int, int] = {}

    def node_id(node: Any) -> Any:
        return nodes.setdefault(id(node), len(nodes)) if isinstance(node, cst.CSTNode) else repr(node)

    def scope_id(scope: Any) -> Any:
        return None if scope is None else known.setdefault(id(scope), len(known))

    def assignment(a: Any) -> tuple[Any, ...]:
        node = getattr(a, "node", None)  # a BuiltinAssignment has none
        return (type(a).__name__, a.name, node_id(node), scope_id(a.scope), sorted(node_id(x.node) for x in a.references))

    found: list[Any] = []
    all_scopes: dict[int, Any] = {}
    for node, scope in scope_of.items():
        found.append((node_id(node), scope_id(scope)))
        if scope is not None:
            all_scopes[id(scope)] = scope
    for scope in all_scopes.values():
        found.append((
            scope_id(scope), type(scope).__name__, scope_id(getattr(scope, "parent", None)), node_id(getattr(scope, "node", None)),
            sorted((assignment(a) for a in scope.assignments), key=repr),
            sorted(((node_id(x.node), sorted((assignment(r) for r in x.referents), key=repr)) for x in scope.accesses), key=repr),
        ))  # fmt: skip
    found.append(sorted((node_id(node), context.name) for node, context in contexts.items()))
    return tuple(found)


def _check(source: str) -> None:
    module = cst.parse_module(source)
    fast = described(module)
    with libcsts_own():
        plain = described(module)
    assert fast == plain


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda p: p.name)
def test_sample_repo_scopes_are_libcsts(path: Path) -> None:
    _check(path.read_text(encoding="utf-8"))


def test_tricky_scopes_are_libcsts() -> None:
    _check(TRICKY)


def test_installed_while_enabled() -> None:
    from libcst.metadata import wrapper

    assert wrapper.visit_batched is scopes.visit_batched
    assert ScopeVisitor.on_visit_attribute is scopes.visit_attribute


def test_a_batch_with_methods_below_the_module_is_walked_by_libcst() -> None:
    """A provider with a visit method for other nodes gets libcst's walk, hooks and all."""

    class Names(cst.BatchableCSTVisitor):
        def __init__(self) -> None:
            super().__init__()
            self.seen: list[str] = []

        def visit_Module(self, node: cst.Module) -> None:
            self.seen.append("module")

        def visit_Name(self, node: cst.Name) -> None:
            self.seen.append(node.value)

        def leave_Module(self, original_node: cst.Module) -> None:
            self.seen.append("end")

    names = Names()
    MetadataWrapper(cst.parse_module("a = b\n"), unsafe_skip_copy=True).visit_batched([names])
    assert names.seen == ["module", "a", "b", "end"]


def test_a_batch_of_module_methods_only_is_called_once_each_in_order() -> None:
    calls: list[str] = []

    class Top(cst.BatchableCSTVisitor):
        def visit_Module(self, node: cst.Module) -> None:
            calls.append("visit")

        def leave_Module(self, original_node: cst.Module) -> None:
            calls.append("leave")

    module = cst.parse_module("a = b\n")
    assert MetadataWrapper(module, unsafe_skip_copy=True).visit_batched([Top(), Top()]) is module
    assert calls == ["visit", "visit", "leave", "leave"]


def test_scope_on_leave_is_installed_for_this_libcst() -> None:
    """Installed only while libcst's ScopeVisitor.on_leave reads what it was written from."""
    assert ScopeVisitor.on_leave is scopes.scope_on_leave
    assert scopes._OWN_HOOKS[ScopeVisitor]["on_leave"].__code__.co_names == scopes._SCOPE_ON_LEAVE_NAMES


class _Names(cst.BatchableCSTVisitor):
    def visit_Name(self, node: cst.Name) -> None:
        pass

    def leave_Module(self, original_node: cst.Module) -> None:
        pass


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda: ScopeProvider(), id="scope-provider"),
        pytest.param(lambda: ExpressionContextProvider(), id="expression-context-provider"),
        pytest.param(_Names, id="own-visitor"),
    ],
)
def test_get_visitors_is_libcsts(make: Any) -> None:
    visitor = make()
    for _ in range(2):  # the second time from the names found once per class
        assert visitor.get_visitors() == scopes._LIBCST_GET_VISITORS(visitor)
        assert list(visitor.get_visitors()) == list(scopes._LIBCST_GET_VISITORS(visitor))


def test_get_visitors_of_an_instance_holding_a_method_is_libcsts() -> None:
    first, second = _Names(), _Names()
    first.get_visitors()
    second.visit_Attribute = second.visit_Name  # type: ignore[attr-defined] - a bound method on the instance
    assert second.get_visitors() == scopes._LIBCST_GET_VISITORS(second)
    assert "visit_Attribute" in second.get_visitors() and "visit_Attribute" not in first.get_visitors()
