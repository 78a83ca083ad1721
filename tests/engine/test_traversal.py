"""The fast traversal hooks call exactly what libcst's own hooks call, in the same order."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import libcst as cst
import pytest

from codemods.speedups import traversal
from codemods.registry import REGISTRY

SOURCE = """\
import os

@decorator(1)
def f(a, b=2):
    if a:
        return g(a, key=b)
    print(os.path.join("x", "y"))

class C(Base):
    def m(self):
        return [h(i) for i in range(3)]
"""


class Recording:
    """Logs every visit_/leave_ call; skips the children of ``if`` statements."""

    def __init__(self) -> None:
        self.events: list[str] = []

    def visit_Call(self, node: cst.Call) -> None:
        self.events.append(f"visit Call {cst.Module([]).code_for_node(node.func)}")

    def visit_If(self, node: cst.If) -> bool:
        self.events.append("visit If (children skipped)")
        return False

    def visit_Name(self, node: cst.Name) -> None:
        self.events.append(f"visit Name {node.value}")


class RecordingVisitor(Recording):
    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.events.append(f"leave FunctionDef {original_node.name.value}")


class WithAttributeHooks(RecordingVisitor):
    def visit_Call_func(self, node: cst.Call) -> None:
        self.events.append("visit Call.func")

    def leave_Call_args(self, node: cst.Call) -> None:
        self.events.append("leave Call.args")


class RecordingTransformer(Recording):
    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.Name:
        self.events.append(f"leave Name {original_node.value}")
        return updated_node.with_changes(value=updated_node.value.upper()) if updated_node.value == "os" else updated_node

    def leave_SimpleString(self, original_node: cst.SimpleString, updated_node: cst.SimpleString) -> cst.BaseExpression:
        return cst.Name("REPLACED")


def visit_with(base: type, mixin: type) -> list[str]:
    visitor: Any = type(f"{mixin.__name__}On{base.__name__}", (mixin, base), {})()
    cst.parse_module(SOURCE).visit(visitor)
    return visitor.events


@pytest.mark.parametrize("mixin", [RecordingVisitor, WithAttributeHooks], ids=["plain", "attribute-hooks"])
def test_a_fast_visitor_makes_the_same_calls_as_a_libcst_visitor(mixin: type) -> None:
    expected = visit_with(cst.CSTVisitor, mixin)
    assert expected  # the recording works
    assert visit_with(traversal.Visitor, mixin) == expected


def test_attribute_hooks_added_by_a_subclass_of_a_fast_visitor_are_called() -> None:
    parent = type("Parent", (RecordingVisitor, traversal.Visitor), {})
    assert parent.on_visit_attribute is traversal.no_attribute_hook
    child: Any = type("Child", (WithAttributeHooks, parent), {})()
    cst.parse_module(SOURCE).visit(child)
    assert "visit Call.func" in child.events and "leave Call.args" in child.events


def test_a_fast_transformer_returns_the_same_tree_after_the_same_calls() -> None:
    def transform(install: bool) -> tuple[str, list[str]]:
        cls: Any = type("T", (RecordingTransformer, cst.CSTTransformer), {})
        if install:
            traversal.install(cls, cst.CSTTransformer)
            assert cls.on_leave is traversal.leave_transformed
        transformer = cls()
        return cst.parse_module(SOURCE).visit(transformer).code, transformer.events

    expected_code, expected_events = transform(install=False)
    assert "OS.path" in expected_code and "REPLACED" in expected_code
    assert transform(install=True) == (expected_code, expected_events)


def test_hooks_a_class_overrides_are_kept() -> None:
    class Counting(traversal.Visitor):
        def __init__(self) -> None:
            self.count = 0

        def on_visit(self, node: cst.CSTNode) -> bool:
            self.count += 1
            return True

    counting = Counting()
    cst.parse_module("x = 1\n").visit(counting)
    assert counting.count > 3


@pytest.mark.parametrize("codemod", REGISTRY, ids=lambda c: c.name)
def test_every_registered_codemod_traverses_with_the_fast_hooks(codemod: type) -> None:
    # Its visit_/leave_ methods are reached through TracksAncestors or directly, never by
    # libcst's name-building lookup; none of them has attribute hooks.
    assert codemod.on_visit_attribute is traversal.no_attribute_hook
    assert codemod.on_leave_attribute is traversal.no_attribute_hook
    assert codemod.on_visit in (traversal.visit,) or codemod.on_visit.__qualname__ == "TracksAncestors.on_visit"


def test_attribute_hooks_of_any_class_are_found_but_not_libcsts_typed_stubs() -> None:
    from libcst.metadata import scope_provider

    assert traversal.has_attribute_hooks(scope_provider.ScopeVisitor)  # visit_ClassDef_bases
    assert not traversal.has_attribute_hooks(type("Bare", (cst.CSTVisitor,), {}))
    assert traversal.has_attribute_hooks(WithAttributeHooks)


HOOKS = ("on_visit", "on_leave", "on_visit_attribute", "on_leave_attribute")
SAMPLE_REPO = Path(__file__).resolve().parents[2] / "sample_repo"


def test_libcsts_undecorated_import_visitors_get_the_fast_hooks() -> None:
    from libcst.codemod.visitors import (
        AddImportsVisitor,
        GatherImportsVisitor,
        RemoveImportsVisitor,
    )

    # Loaded (by codemods.speedups.imports) whenever an import edit falls back to libcst's visitors.
    import codemods.speedups.libcst_hooks  # noqa: F401 - installs them

    for cls in (AddImportsVisitor, RemoveImportsVisitor, GatherImportsVisitor):
        assert cls.on_visit is traversal.visit, cls


def with_libcsts_hooks(cls: type) -> type:
    from libcst.matchers import MatcherDecoratableTransformer

    return type(f"Libcst{cls.__name__}", (cls,), {hook: getattr(MatcherDecoratableTransformer, hook) for hook in HOOKS})


@pytest.mark.parametrize("path", sorted(SAMPLE_REPO.glob("*_app/**/*.py")), ids=lambda p: str(p.relative_to(SAMPLE_REPO)))
def test_import_edits_with_the_fast_hooks_equal_libcsts(path: Path) -> None:
    from libcst.codemod import CodemodContext
    from libcst.codemod.visitors import AddImportsVisitor, RemoveImportsVisitor

    import codemods.base  # noqa: F401

    module = cst.parse_module(path.read_bytes())

    def edit(add: type, remove: type) -> str:
        context = CodemodContext(filename=str(path), full_module_name="pkg.module")
        AddImportsVisitor.add_needed_import(context, "logging")
        AddImportsVisitor.add_needed_import(context, "pkg.services.things", "make_thing", "make")
        for name in ("os", "sys", "json", "datetime"):
            RemoveImportsVisitor.remove_unused_import(context, name)
        RemoveImportsVisitor.remove_unused_import(context, "datetime", "datetime")
        added = add(context).transform_module(module)
        return remove(context).transform_module(added).code

    fast = edit(AddImportsVisitor, RemoveImportsVisitor)
    assert "import logging" in fast
    assert fast == edit(with_libcsts_hooks(AddImportsVisitor), with_libcsts_hooks(RemoveImportsVisitor))


def test_a_visitor_class_made_on_every_call_is_not_kept_alive_by_the_hooks() -> None:
    import gc
    import weakref

    def make() -> weakref.ref[type]:
        class Local(traversal.Visitor):  # as route-commit's helpers are: a new class per call
            def visit_Name(self, node: cst.Name) -> None:
                pass

        cst.parse_module("x = y\n").visit(Local())
        return weakref.ref(Local)

    references = [make() for _ in range(3)]
    gc.collect()
    assert all(reference() is None for reference in references)


def test_a_subclass_does_not_reuse_the_dispatch_its_parent_learned() -> None:
    class Parent(traversal.Visitor):
        def __init__(self) -> None:
            self.seen: list[str] = []

        def visit_Name(self, node: cst.Name) -> None:
            self.seen.append("parent")

    class Child(Parent):
        def visit_Name(self, node: cst.Name) -> None:
            self.seen.append("child")

    module = cst.parse_module("x\n")
    parent, child = Parent(), Child()
    module.visit(parent)
    module.visit(child)
    assert (parent.seen, child.seen) == (["parent"], ["child"])
