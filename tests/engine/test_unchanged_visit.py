"""The traversal that keeps unchanged nodes (codemods/speedups/unchanged.py) calls what libcst's
calls, in the same order, and returns a tree equal to libcst's; it only stops copying."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import libcst as cst
import pytest

from codemods import speedups
from codemods.speedups import unchanged

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
