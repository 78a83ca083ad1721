"""Shortcuts around libcst's codemod and matcher machinery: the same results, for less.

Each function here returns exactly what the libcst call it replaces returns (the tests compare
them); with the speed-ups off (see :mod:`codemods.speedups`) each one is that plain libcst call,
and the patches at the bottom are not installed.  Importing this module imports libcst's codemod
framework: :mod:`codemods.speedups.imports` does so only for an edit it leaves to libcst.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import libcst as cst
from libcst.codemod import Codemod as LibcstCodemod
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor
from libcst.metadata import MetadataWrapper

from codemods.analysis.nodes import is_import_line
from codemods.speedups import ENABLED, traversal


def transform_module(transformer: LibcstCodemod, tree: cst.Module) -> cst.Module:
    """``transformer.transform_module(tree)``, without copying the tree when that buys nothing.

    libcst deep-copies the tree before every transform so that metadata, keyed by node identity,
    cannot be confused by a node that occurs twice.  A transformer without metadata (such as
    AddImportsVisitor) cannot be confused, and the copy costs about as much as the transform.
    """
    if not ENABLED or transformer.get_inherited_dependencies():
        return transformer.transform_module(tree)
    wrapper = MetadataWrapper(tree, unsafe_skip_copy=True)
    previous = transformer.context
    transformer.context = dataclasses.replace(previous, wrapper=wrapper)
    try:
        return transformer.transform_module_impl(tree)
    finally:
        transformer.context = previous


def add_imports(context: CodemodContext, tree: cst.Module) -> cst.Module:
    """What ``AddImportsVisitor(context).transform_module(tree)`` returns, for a fraction of the cost.

    AddImportsVisitor reads and changes only the top of a module: the docstring (or
    ``__strict__`` flag), the block of imports after it, and the first statement below that
    block (which may get a blank line).  Yet it traverses the whole tree, through libcst's
    matcher machinery, which costs more than parsing the file.  So it is given the top alone,
    and the rest of the body is put back after the result.
    """
    if not ENABLED:
        return AddImportsVisitor(context).transform_module(tree)
    from libcst.codemod.visitors._add_imports import _skip_first

    end = 1 if _skip_first(tree) else 0
    while end < len(tree.body) and is_import_line(tree.body[end]):
        end += 1
    if end + 1 >= len(tree.body):
        return transform_module(AddImportsVisitor(context), tree)
    top = transform_module(AddImportsVisitor(context), tree.with_changes(body=tree.body[: end + 1]))
    return top.with_changes(body=(*top.body, *tree.body[end + 1 :]))


def _matcher_decorator_attributes() -> tuple[str, ...]:
    from libcst.matchers import _decorators as matcher_decorators

    return (
        matcher_decorators.CONSTRUCTED_VISIT_MATCHER_ATTR,
        matcher_decorators.CONSTRUCTED_LEAVE_MATCHER_ATTR,
        matcher_decorators.VISIT_POSITIVE_MATCHER_ATTR,
        matcher_decorators.VISIT_NEGATIVE_MATCHER_ATTR,
    )


def _has_matcher_decorators(cls: type) -> bool:
    """Whether a class uses libcst's matcher decorators (@m.visit, @m.call_if_inside, ...), its
    libcst bases included, but not libcst's typed stubs: about 1,600 do-nothing methods that are
    never decorated."""
    for klass in cls.__mro__:
        if klass.__module__ == "libcst._typed_visitor":
            continue
        for value in vars(klass).values():
            function = getattr(value, "__func__", value)
            if any(getattr(function, attribute, None) for attribute in _ATTRIBUTES):
                return True
    return False


def _skip_matcher_scans_of_undecorated_classes() -> None:
    """Make constructing libcst's AddImportsVisitor, RemoveImportsVisitor & co. cheap.

    Every new matcher-decoratable visitor runs three scans over every attribute of its class
    (hundreds of ``visit_*`` methods, with typing introspection) looking for matcher decorators:
    about 15 ms per instance, more than the import edit itself on most files, and the import
    visitors are built once per edited file.  A class without any decorated method always gets
    empty results, so those are returned at once (decided once per class).  The functions keep
    their names and signatures; only this shortcut is added.
    """
    from libcst.matchers import _visitors

    undecorated: dict[type, bool] = {}

    def shortcut(scan: Callable[[object], Any]) -> Callable[[object], Any]:
        def scan_unless_undecorated(obj: object) -> Any:
            cls = type(obj)
            if cls not in undecorated:
                undecorated[cls] = not _has_matcher_decorators(cls)
            return {} if undecorated[cls] else scan(obj)

        scan_unless_undecorated.__wrapped__ = scan  # type: ignore[attr-defined]
        return scan_unless_undecorated

    for name in ("_gather_matchers", "_gather_constructed_visit_funcs", "_gather_constructed_leave_funcs"):
        scan = getattr(_visitors, name, None)
        if callable(scan) and not hasattr(scan, "__wrapped__"):
            setattr(_visitors, name, shortcut(scan))




def _plain_hooks_for_libcsts_import_visitors() -> None:
    """Let AddImportsVisitor, RemoveImportsVisitor and the gatherers they run traverse cheaply.

    They derive from libcst's matcher-decoratable classes but have no matcher decorator, so on
    every node the matcher bookkeeping finds nothing to do and then dispatches as a plain
    visitor does, at about twice the cost.  Such classes get the fast plain hooks of
    :mod:`codemods.speedups.traversal`, which call the same methods in the same order.  A class with a
    matcher decorator keeps libcst's hooks.
    """
    import libcst.codemod.visitors  # noqa: F401 - defines the classes
    from libcst.matchers import MatcherDecoratableTransformer, MatcherDecoratableVisitor

    for base in (MatcherDecoratableTransformer, MatcherDecoratableVisitor):
        pending = list(base.__subclasses__())
        while pending:
            cls = pending.pop()
            pending.extend(cls.__subclasses__())
            if cls.__module__.startswith("libcst.codemod.visitors.") and not _has_matcher_decorators(cls):
                traversal.install(cls, base)


_ATTRIBUTES: tuple[str, ...] = ()
if ENABLED:
    _ATTRIBUTES = _matcher_decorator_attributes()
    _skip_matcher_scans_of_undecorated_classes()
    _plain_hooks_for_libcsts_import_visitors()
