"""The traversal that keeps unchanged nodes (codemods/speedups/unchanged.py) calls what libcst's
calls, in the same order, and returns a tree equal to libcst's; it only stops copying."""

from __future__ import annotations

import contextlib
import dataclasses
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import libcst as cst
import pytest

from codemods import speedups
from codemods.speedups import traversal, unchanged

pytestmark = pytest.mark.skipif(not speedups.ENABLED, reason="the speed-ups are off: libcst's own traversal runs")

SOURCE = """\
import os, sys
from a import (b, c)

@decorator(1)
def f(a, b=2, *args, c, **kwargs) -> int:
    '''Doc.'''
    if a:
        return g(a, key=b)
    elif b: pass
    else:
        x = [i for i in range(3) if i]  # comment
    print(os.path.join("x", "y"), f"{a!r:>{b}}", sep="")
    del a[1:2, ::3]

class C(Base, metaclass=M):
    x: int = 1
    def m(self):
        with open(p) as fh, lock:
            yield from {k: v for k, v in fh}
        try:
            pass
        except* ValueError as e:
            raise E from e
        finally:
            lambda q, /, r: q @ r
"""

SAMPLE_FILES = sorted((Path(__file__).parents[2] / "sample_repo").rglob("*.py"))


@contextlib.contextmanager
def libcsts_own_visit() -> Iterator[None]:
    cst.CSTNode.visit = unchanged._LIBCST_VISIT  # type: ignore[method-assign]
    try:
        yield
    finally:
        unchanged.install()


class Recorder(cst.CSTTransformer):
    """Logs every hook libcst calls, attribute hooks included; changes what ``change`` says."""

    def __init__(self, change: Any = None) -> None:
        super().__init__()
        self.events: list[str] = []
        self.change = change

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.events.append(f"visit {type(node).__name__}")
        return not isinstance(node, cst.Lambda)  # one subtree not entered

    def on_visit_attribute(self, node: cst.CSTNode, attribute: str) -> None:
        self.events.append(f"enter {type(node).__name__}.{attribute}")

    def on_leave_attribute(self, original_node: cst.CSTNode, attribute: str) -> None:
        self.events.append(f"exit {type(original_node).__name__}.{attribute}")

    def on_leave(self, original_node: cst.CSTNode, updated_node: cst.CSTNode) -> Any:
        self.events.append(f"leave {type(original_node).__name__}")
        return self.change(original_node, updated_node) if self.change else updated_node


class ReadOnly(cst.CSTVisitor):
    def __init__(self) -> None:
        super().__init__()
        self.events: list[str] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.events.append(f"visit {type(node).__name__}")
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        self.events.append(f"leave {type(original_node).__name__}")


def rename(original: cst.CSTNode, updated: cst.CSTNode) -> Any:
    return updated.with_changes(value="renamed") if isinstance(updated, cst.Name) and updated.value == "a" else updated


def remove_and_flatten(original: cst.CSTNode, updated: cst.CSTNode) -> Any:
    if isinstance(updated, cst.Import):
        return cst.RemovalSentinel.REMOVE  # the only statement of its line: the line goes too
    if isinstance(updated, cst.Expr) and isinstance(updated.value, cst.Call):
        return cst.FlattenSentinel([updated, cst.Pass()])
    if isinstance(updated, cst.Comma):
        return cst.RemovalSentinel.REMOVE  # an optional (MaybeSentinel) field
    if isinstance(updated, cst.Decorator):
        return cst.RemovalSentinel.REMOVE  # an element of a sequence
    return updated


def both_ways(source: str, make: Any) -> tuple[tuple[Any, list[str]], tuple[Any, list[str]]]:
    module = cst.parse_module(source)
    ours = make()
    ours_result = module.visit(ours)
    with libcsts_own_visit():
        theirs = make()
        theirs_result = module.visit(theirs)
    return (ours_result, ours.events), (theirs_result, theirs.events)


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(None, id="nothing-changed"),
        pytest.param(rename, id="leaves-replaced"),
        pytest.param(remove_and_flatten, id="removed-and-flattened"),
    ],
)
def test_the_same_hooks_in_the_same_order_and_an_equal_tree(change: Any) -> None:
    (ours, our_events), (theirs, their_events) = both_ways(SOURCE, lambda: Recorder(change))
    assert our_events == their_events
    assert ours.code == theirs.code
    assert ours.deep_equals(theirs)


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda p: p.name)
def test_sample_repo_files_traverse_as_with_libcst(path: Path) -> None:
    source = path.read_text()
    (ours, our_events), (theirs, their_events) = both_ways(source, lambda: Recorder(rename))
    assert our_events == their_events
    assert ours.code == theirs.code
    (_, visited), (_, libcst_visited) = both_ways(source, ReadOnly)
    assert visited == libcst_visited


def test_a_transformer_that_changes_nothing_gets_the_tree_back_itself() -> None:
    module = cst.parse_module(SOURCE)
    assert module.visit(Recorder()) is module


def test_only_the_ancestors_of_a_change_are_new_objects() -> None:
    module = cst.parse_module(SOURCE)
    result = module.visit(Recorder(rename))
    function, klass = result.body[2], result.body[3]
    assert function is not module.body[2]  # it has an ``a`` renamed
    assert klass is module.body[3]  # nothing in it changed: the same object
    assert result.body[0] is module.body[0]


def test_removing_a_required_child_fails_as_in_libcst() -> None:
    def remove_names(original: cst.CSTNode, updated: cst.CSTNode) -> Any:
        return cst.RemovalSentinel.REMOVE if isinstance(updated, cst.Name) and updated.value == "g" else updated

    module = cst.parse_module("g(1)\n")
    with pytest.raises(TypeError, match="does not allow it to be removed"):
        module.visit(Recorder(remove_names))
    with libcsts_own_visit(), pytest.raises(TypeError, match="does not allow it to be removed"):
        module.visit(Recorder(remove_names))


def test_a_leave_hook_returning_a_non_node_is_refused_as_in_libcst() -> None:
    module = cst.parse_module("x = 1\n")
    with pytest.raises(cst.CSTValidationError, match="got a return value of int"):
        module.visit(Recorder(lambda original, updated: 3 if isinstance(updated, cst.Integer) else updated))


def test_a_removed_module_is_an_empty_module_as_in_libcst() -> None:
    def remove_module(original: cst.CSTNode, updated: cst.CSTNode) -> Any:
        return cst.RemovalSentinel.REMOVE if isinstance(updated, cst.Module) else updated

    (ours, _), (theirs, _) = both_ways("x = 1\n", lambda: Recorder(remove_module))
    assert isinstance(ours, cst.Module) and not ours.body
    assert ours.code == theirs.code


def test_the_fields_visited_only_when_set_are_all_known() -> None:
    """libcst's source decides: a ``_visit_and_replace_children`` that tests a field before
    visiting it must be listed in VISITED_WHEN_SET (ImportFrom's test picks between two ways of
    visiting ``names`` at the same place, which needs nothing), and that field comes last."""
    import inspect
    import re

    conditional = {}
    for name in dir(cst):
        kind = getattr(cst, name)
        if not (isinstance(kind, type) and issubclass(kind, cst.CSTNode)) or inspect.isabstract(kind):
            continue
        if "_visit_and_replace_children" not in vars(kind):
            continue
        code = inspect.getsource(kind._visit_and_replace_children)
        tested = re.findall(r'visit_\w+\(\s*self,\s*"(\w+)"[^()]*\)\s*if (\w+) is not None', code)
        if tested:
            conditional[kind.__name__] = tested[0][0]
            visited = re.findall(r'visit_\w+\(\s*self,\s*"(\w+)"', code)
            assert visited[-1] == tested[0][0]
        elif re.search(r"\bif\b", code):
            assert "isinstance(names, ImportStar)" in code, kind.__name__
    assert conditional == unchanged.VISITED_WHEN_SET


# -- whitespace, comments and punctuation not entered ---------------------------------------------


def _node_classes_in(annotation: Any) -> set[type]:
    """The concrete libcst node classes a field annotation allows (abstract bases expanded)."""
    found: set[type] = set()
    for argument in typing.get_args(annotation) or ():
        found |= _node_classes_in(argument)
    if isinstance(annotation, type) and issubclass(annotation, cst.CSTNode):
        pending = [annotation]
        while pending:
            kind = pending.pop()
            pending.extend(kind.__subclasses__())
            # libcst's add_slots makes a new class: the one it replaced stays among the subclasses
            if not getattr(kind, "__abstractmethods__", None) and getattr(libcst_nodes_module(kind), kind.__name__, None) is kind:
                found.add(kind)
    return found


def _field_classes(kind: type) -> set[type]:
    hints = typing.get_type_hints(kind, vars(libcst_nodes_module(kind)))
    return set().union(*(_node_classes_in(hints[field.name]) for field in dataclasses.fields(kind)))


def libcst_nodes_module(kind: type) -> Any:
    import sys

    return sys.modules[kind.__module__]


def test_trivia_hold_nothing_but_whitespace() -> None:
    """What makes the skip safe: below a TRIVIA node there is only whitespace and comments (read
    from libcst's field types), so a visitor without methods for those cannot see the visit."""
    for kind in unchanged.TRIVIA:
        assert _field_classes(kind) <= unchanged.WHITESPACE, kind.__name__
    for kind in unchanged.WHITESPACE:
        assert _field_classes(kind) <= unchanged.WHITESPACE, kind.__name__


class _Dispatching(traversal.Visitor):
    """Dispatches through traversal's hooks: skips the trivia."""

    def __init__(self) -> None:
        self.events: list[str] = []

    def visit_Name(self, node: cst.Name) -> None:
        self.events.append(f"visit Name {node.value}")

    def leave_Call(self, original_node: cst.Call) -> None:
        self.events.append("leave Call")

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        self.events.append("visit Lambda")
        return False


class _WantsCommas(_Dispatching):
    def visit_Comma(self, node: cst.Comma) -> None:
        self.events.append("visit Comma")


class _WantsWhitespace(_Dispatching):
    def leave_SimpleWhitespace(self, original_node: cst.SimpleWhitespace) -> None:
        self.events.append(f"leave SimpleWhitespace {original_node.value!r}")


class _LibcstDispatching(cst.CSTTransformer):
    """libcst's own on_visit/on_leave: skips the trivia too; its changes are kept."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list[str] = []

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.Name:
        self.events.append(f"leave Name {original_node.value}")
        return updated_node.with_changes(value="renamed") if original_node.value == "a" else updated_node


class _CountsEveryNode(_Dispatching):
    """An on_visit of its own that sees every node: nothing is skipped for it."""

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.events.append(type(node).__name__)
        return super().on_visit(node)


class _DeclaresInert(_Dispatching):
    """Declares that its own hooks do nothing on trivia (here falsely, to show the skip)."""

    IGNORES_TRIVIA = True

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.events.append(type(node).__name__)
        return super().on_visit(node)

    def on_leave(self, original_node: cst.CSTNode) -> None:
        super().on_leave(original_node)


class _OverridesInert(_DeclaresInert):
    """Overrides the hooks its base declared inert, without declaring it again: nothing skipped."""

    def on_visit(self, node: cst.CSTNode) -> bool:
        return super().on_visit(node)


@pytest.mark.parametrize("make", [_Dispatching, _WantsCommas, _WantsWhitespace, _LibcstDispatching, _CountsEveryNode])
def test_skipping_trivia_calls_what_libcst_calls(make: Any) -> None:
    (ours, ours_events), (theirs, theirs_events) = both_ways(SOURCE, make)
    assert ours_events == theirs_events
    assert ours.deep_equals(theirs)
    assert ours.code == theirs.code


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda path: path.name)
def test_sample_repo_files_skip_trivia_as_libcst_would_see_it(path: Path) -> None:
    for make in (_Dispatching, _LibcstDispatching):
        (ours, ours_events), (theirs, theirs_events) = both_ways(path.read_text(encoding="utf-8"), make)
        assert ours_events == theirs_events
        assert ours.code == theirs.code


def test_which_visitors_skip_which_trivia() -> None:
    assert unchanged._visitor_kind(_Dispatching())[2] == unchanged.TRIVIA
    assert unchanged._visitor_kind(_LibcstDispatching())[2] == unchanged.TRIVIA
    assert unchanged._visitor_kind(_WantsCommas())[2] == unchanged.TRIVIA - {cst.Comma}
    assert unchanged._visitor_kind(_WantsWhitespace())[2] == frozenset()
    assert unchanged._visitor_kind(_CountsEveryNode())[2] == frozenset()
    assert unchanged._visitor_kind(_DeclaresInert())[2] == unchanged.TRIVIA
    assert unchanged._visitor_kind(_OverridesInert())[2] == frozenset()
    assert unchanged._visitor_kind(Recorder())[2] == frozenset()  # attribute hooks: never


def test_a_visitor_declaring_trivia_inert_is_not_shown_them() -> None:
    visitor = _DeclaresInert()
    cst.parse_module("f(a, b)  # c\n").visit(visitor)
    assert "Comma" not in visitor.events and "SimpleWhitespace" not in visitor.events
    assert "Call" in visitor.events and "Arg" in visitor.events
