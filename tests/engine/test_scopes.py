"""libcst's scope analysis with the shortcuts of codemods/speedups/scopes.py gives what it gives
without them: the same scopes of the same nodes, with the same assignments, accesses and
referents, and the same expression contexts."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import libcst as cst
import pytest
from libcst.metadata import ExpressionContextProvider, MetadataWrapper, QualifiedNameProvider, ScopeProvider
from libcst.metadata import scope_provider
from libcst.metadata.expression_context_provider import ExpressionContextVisitor
from libcst.metadata.scope_provider import ScopeVisitor

from codemods import speedups
from codemods.speedups import scopes, unchanged

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


def _all_nodes(module: cst.Module) -> list[cst.CSTNode]:
    """Every node of ``module`` in libcst's visiting order (numbers nodes the same way for both
    analyses, whatever order each records them in)."""
    found: list[cst.CSTNode] = []

    def walk(node: cst.CSTNode) -> None:
        found.append(node)
        for child in node.children:
            walk(child)

    walk(module)
    return found


def described(module: cst.Module) -> tuple[Any, ...]:
    """Everything the scope analysis says of ``module``: each node's scope (in the order the
    mapping holds them), each scope's kind, parent, node, name, count of assignment-like nodes,
    assignments (with their index and references) and accesses (with their flags and referents),
    the qualified names of every node and the expression contexts.  Nodes are numbered by their
    place in the module, scopes by their first appearance (the two analyses build different
    scope objects for the same module)."""
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    scope_of = wrapper.resolve(ScopeProvider)
    contexts = wrapper.resolve(ExpressionContextProvider)
    names = wrapper.resolve(QualifiedNameProvider)
    nodes: dict[int, int] = {id(node): number for number, node in enumerate(_all_nodes(module))}
    known: dict[int, int] = {}

    def node_id(node: Any) -> Any:
        # string annotations are parsed into modules of their own: numbered after the module's
        return nodes.setdefault(id(node), len(nodes)) if isinstance(node, cst.CSTNode) else repr(node)

    def scope_id(scope: Any) -> Any:
        return None if scope is None else known.setdefault(id(scope), len(known))

    def assignment(a: Any) -> tuple[Any, ...]:
        node = getattr(a, "node", None)  # a BuiltinAssignment has none
        index = getattr(a, "_index", None)
        return (type(a).__name__, a.name, node_id(node), scope_id(a.scope), index, sorted(node_id(x.node) for x in a.references))

    def access(x: Any) -> tuple[Any, ...]:
        return (node_id(x.node), x.is_annotation, x.is_type_hint, scope_id(x.scope), sorted((assignment(r) for r in x.referents), key=repr))

    found: list[Any] = []
    all_scopes: dict[int, Any] = {}
    for node, scope in scope_of.items():
        found.append((node_id(node), scope_id(scope)))
        if scope is not None:
            all_scopes[id(scope)] = scope
    for scope in all_scopes.values():
        found.append((
            scope_id(scope), type(scope).__name__, scope_id(getattr(scope, "parent", None)), node_id(getattr(scope, "node", None)),
            getattr(scope, "name", None), scope._assignment_count,
            sorted((assignment(a) for a in scope.assignments), key=repr),
            sorted((access(x) for x in scope.accesses), key=repr),
        ))  # fmt: skip
    found.append([(node_id(node), context.name) for node, context in contexts.items()])
    found.append(sorted(
        (node_id(node), sorted((q.name, q.source.name) for q in (qualified() if callable(qualified) else qualified)))
        for node, qualified in names.items()
    ))  # fmt: skip
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


HARD_CASES = {
    "comprehensions": """\
xs = [[1, 2], [3]]
flat = [y for x in xs for y in x if y if x]
pairs = {k: v for k, v in zip(xs, xs)}
gen = (a async for a in b)
sets = {(z := w) for w in xs}
nested = [[i * j for j in range(i)] for i in range(3)]
""",
    "class-bodies": """\
class A(Base, metaclass=Meta, **extra):
    x = 1
    y = [x for _ in range(3)]
    z = lambda: x
    def f(self, x=x):
        return x, __class__
    class B:
        w = x
""",
    "global-nonlocal-del": """\
counter = 0
def bump():
    global counter
    counter += 1
    def inner():
        nonlocal_value = 1
        def deeper():
            nonlocal nonlocal_value
            nonlocal_value = 2
            del nonlocal_value
        return deeper
    del counter
x, (y, *z) = 1, (2, 3)
del x, y
""",
    "decorators-lambdas": """\
import functools
@functools.wraps(print)
@decorate(lambda a, b=1, *c, d, **e: (a, b, c, d, e))
def f(g=lambda: f):
    return (lambda h: lambda i: h + i)(1)
""",
    "match": """\
def handle(command):
    match command:
        case ["go", direction] if direction:
            return direction
        case {"action": action, **rest}:
            return action, rest
        case Point(x=0, y=y) | Point(x=y, y=0) as point:
            return point, y
        case [*items] if (count := len(items)):
            return count
        case str() | bytes():
            pass
        case _:
            return command
""",
    "string-annotations": """\
from __future__ import annotations
import typing
from typing import TYPE_CHECKING, Literal, TypeVar, NewType, cast
if TYPE_CHECKING:
    from os import PathLike
T = TypeVar("T", bound="PathLike")
UserId = NewType("UserId", "int")
def f(a: "PathLike", b: "typing.List[PathLike]", c: Literal["PathLike"], d: "broken[") -> "T":
    e: "PathLike" = cast("PathLike", a)
    f: typing.Optional["PathLike"] = None
    return e
class C(typing.Generic[T], "NotAnnotation"):
    attr: "C"
""",
    "all-star-imports": """\
from os import *
from .sibling import *
from . import x as y
import a.b.c
import a.b as ab
__all__ = ["path", "sep", "y"]
__all__ += ["ab"]
print(path, sep, a.b.c.d, ab.e)
""",
    "fstrings-walrus-types": """\
width = 10
value = 3.14159
text = f"{value:{width}.{(precision := 2)}f} {value!r:>{width}} {text=}"
type Pair[K, V: int, *Ts, **P] = dict[K, V]
def first[T](items: list[T]) -> T:
    return items[0]
class Box[T: (int, str)]:
    item: T
async def main():
    async with ctx() as (a, b), other() as c:
        await a
    for i, (j, k) in enumerate(data):
        pass
    else:
        i = 0
    while (line := read()):
        print(line)
    try:
        pass
    except* (ValueError, TypeError) as group:
        raise
""",
}


@pytest.mark.parametrize("source", HARD_CASES.values(), ids=list(HARD_CASES))
def test_hard_cases_scopes_are_libcsts(source: str) -> None:
    _check(source)


def test_installed_while_enabled() -> None:
    from libcst.metadata import wrapper

    assert wrapper.visit_batched is scopes.visit_batched
    assert ScopeVisitor.on_visit_attribute is scopes.visit_attribute
    # the two visitors' walks (see scopes._walks_apply), installed by the first resolve
    MetadataWrapper(cst.parse_module("x = 1\n")).resolve(ScopeProvider)
    assert unchanged.visitor_kind(ScopeVisitor)[3] is scopes.walk_scopes
    assert unchanged.visitor_kind(ExpressionContextVisitor)[3] is scopes.walk_contexts
    assert scopes._NOT_ENTERED == unchanged.TRIVIA


def test_uninstall_takes_the_walks_away() -> None:
    with libcsts_own():
        assert unchanged.visitor_kind(ScopeVisitor)[3] is None
        assert unchanged.visitor_kind(ExpressionContextVisitor)[3] is None
        MetadataWrapper(cst.parse_module("x = 1\n")).resolve(ScopeProvider)
        assert unchanged.visitor_kind(ScopeVisitor)[3] is None
    MetadataWrapper(cst.parse_module("x = 1\n")).resolve(ScopeProvider)
    assert unchanged.visitor_kind(ScopeVisitor)[3] is scopes.walk_scopes


@pytest.mark.parametrize("first", ["unchanged", "scopes", "traversal", "walk", "positions", "codegen"])
def test_the_speedups_import_in_any_order(first: str) -> None:
    """Whichever speed-up module is imported first, all of them load and the walks apply."""
    program = (
        f"import codemods.speedups.{first}\n"
        "import libcst as cst\n"
        "from libcst.metadata import MetadataWrapper, ScopeProvider\n"
        "from codemods.speedups import scopes, unchanged\n"
        "from libcst.metadata.scope_provider import ScopeVisitor\n"
        "MetadataWrapper(cst.parse_module('x = 1\\n')).resolve(ScopeProvider)\n"
        "assert unchanged.visitor_kind(ScopeVisitor)[3] is scopes.walk_scopes\n"
    )
    subprocess.run([sys.executable, "-c", program], check=True, cwd=Path(__file__).parents[2])


def test_a_subclass_of_scope_visitor_is_not_walked_by_the_walk() -> None:
    """The walks stand for exactly the two classes they were written from."""

    class Mine(ScopeVisitor):
        pass

    assert unchanged.visitor_kind(Mine)[3] is None


def test_assignment_like_is_libcsts_isinstance_for_every_node_class() -> None:
    kinds = [kind for kind in vars(cst).values() if isinstance(kind, type) and issubclass(kind, cst.CSTNode)]
    assert len(kinds) > 150
    for kind in kinds:
        assert scopes._is_assignment_like(kind) is issubclass(kind, scope_provider._ASSIGNMENT_LIKE_NODES), kind


def test_an_abc_with_a_registered_subclass_is_asked_by_isinstance() -> None:
    class Base(cst.CSTNode):  # an ABC of the same kind as libcst's node classes
        pass

    class Virtual:
        pass

    assert scopes._only_real_subclasses(cst.Assign)
    Base.register(Virtual)
    assert not scopes._only_real_subclasses(Base)


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
