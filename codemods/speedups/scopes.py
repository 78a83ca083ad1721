"""libcst's scope analysis (ScopeProvider and the ExpressionContextProvider it depends on) for less.

Resolving ScopeProvider on a module walks it four times: libcst's batched visitor walks the whole
tree once per provider, and each provider's ``visit_Module`` walks it again with its own visitor
(ExpressionContextVisitor, ScopeVisitor), which does all of the work.  The batched walks call
nothing below the module: their visitors have no method but ``visit_Module``, yet they build the
names of a ``visit_<Node>``, ``leave_<Node>`` and two attribute hooks for every node and field.
And the two inner visitors dispatch through libcst's plain ``CSTVisitor`` hooks, which build the
same names on every node and, for ScopeVisitor (which has two attribute hooks), every field.

The shortcuts, with the same calls in the same order:

- :func:`visit_batched` calls the ``visit_Module`` and ``leave_Module`` methods of a batch on the
  module and does not walk below it when the batch has no other method (and no
  ``before_visit``/``after_leave``): below the module, libcst's walk calls nothing.
- ScopeVisitor and ExpressionContextVisitor get the fast hooks of
  :mod:`codemods.speedups.traversal`, and ScopeVisitor attribute hooks that look its
  ``visit_<Node>_<attribute>`` methods up once per (node class, attribute).
- ScopeVisitor's ``on_leave`` (:func:`scope_on_leave`) tests whether a node is assignment-like once
  per node class (libcst's ``isinstance`` against a tuple of 14 ABC node classes is 14 ABC
  checks on every node); installed only while libcst's ``on_leave`` is the one it was written
  from (the names its code uses are compared).
- ``BatchableCSTVisitor.get_visitors`` (:func:`get_visitors`) names a class's visitor methods
  once (libcst's runs ``inspect.getmembers`` over the thousand typed visitor stubs on every
  call) and binds them to the instance, unless the instance itself holds a method.

``tests/engine/test_scopes.py`` compares the scopes, accesses, assignments and expression
contexts with libcst's own on every sample_repo module.  With the speed-ups off nothing is
installed.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import libcst as cst
from libcst import _batched_visitor
from libcst.metadata import scope_provider as _scope_provider
from libcst.metadata import wrapper as _wrapper
from libcst.metadata.expression_context_provider import ExpressionContextVisitor
from libcst.metadata.scope_provider import ScopeVisitor

from codemods.speedups import ENABLED, traversal

_LIBCST_VISIT_BATCHED = _batched_visitor.visit_batched
_LIBCST_GET_VISITORS = _batched_visitor.BatchableCSTVisitor.get_visitors
_MODULE_HOOKS = frozenset({"visit_Module", "leave_Module"})


def visit_batched(
    node: Any,
    batchable_visitors: Iterable[Any],
    before_visit: Callable[[cst.CSTNode], None] | None = None,
    after_leave: Callable[[cst.CSTNode], None] | None = None,
) -> Any:
    """libcst's ``visit_batched``, without the walk below a module when nothing is called there."""
    visitors = list(batchable_visitors)
    methods = _batched_visitor._get_visitor_methods(visitors)
    if before_visit is not None or after_leave is not None or type(node) is not cst.Module or not methods.keys() <= _MODULE_HOOKS:
        return _LIBCST_VISIT_BATCHED(node, visitors, before_visit, after_leave)
    for method in methods.get("visit_Module", []):
        method(node)
    for method in methods.get("leave_Module", []):
        method(node)
    return node


# What libcst's ScopeVisitor.on_leave reads (its code's names): scope_on_leave does the same.
_SCOPE_ON_LEAVE_NAMES = ("provider", "set_metadata", "scope", "isinstance", "_ASSIGNMENT_LIKE_NODES", "_assignment_count", "super", "on_leave")
_ASSIGNMENT_LIKE: dict[type, bool] = {}  # node class -> isinstance(node, _ASSIGNMENT_LIKE_NODES)


def scope_on_leave(self: Any, original_node: cst.CSTNode) -> None:
    """libcst's ``ScopeVisitor.on_leave``: the node's scope, the scope's count of assignment-like
    nodes, then ``CSTVisitor.on_leave`` (traversal's hook, which dispatches as it does)."""
    self.provider.set_metadata(original_node, self.scope)
    kind = type(original_node)
    assignment_like = _ASSIGNMENT_LIKE.get(kind)
    if assignment_like is None:
        assignment_like = _ASSIGNMENT_LIKE[kind] = isinstance(original_node, _scope_provider._ASSIGNMENT_LIKE_NODES)
    if assignment_like:
        self.scope._assignment_count += 1
    traversal.leave_visited(self, original_node)


_VISITOR_NAMES: dict[type, tuple[str, ...]] = {}  # class -> the names libcst's get_visitors gives


def get_visitors(self: Any) -> Mapping[str, Callable[[cst.CSTNode], None]]:
    """libcst's ``BatchableCSTVisitor.get_visitors``, the names found once per class.

    libcst's keeps each bound method among the instance's members whose ``__name__`` starts
    with ``visit_``/``leave_`` and that is not a no-op stub; with no method in the instance's own
    ``__dict__``, those are the class's, so the same names give the same bound methods."""
    own = getattr(self, "__dict__", {})
    if any(inspect.ismethod(value) or isinstance(value, (staticmethod, classmethod)) or callable(value) for value in own.values()):
        return _LIBCST_GET_VISITORS(self)
    kind = type(self)
    names = _VISITOR_NAMES.get(kind)
    if names is None:
        names = _VISITOR_NAMES[kind] = tuple(_LIBCST_GET_VISITORS(self))
    return {name: getattr(self, name) for name in names}


_ATTRIBUTE_HOOKS = "_auditfix_attribute_functions"


def _attribute_function(owner: type, prefix: str, kind: type, attribute: str) -> Any:
    table = owner.__dict__.get(_ATTRIBUTE_HOOKS)
    if table is None:
        table = {}
        setattr(owner, _ATTRIBUTE_HOOKS, table)
    key = (prefix, kind, attribute)
    if key not in table:
        table[key] = getattr(owner, f"{prefix}_{kind.__name__}_{attribute}", None)
    return table[key]


def visit_attribute(visitor: Any, node: cst.CSTNode, attribute: str) -> None:
    """``CSTVisitor.on_visit_attribute``: call ``visit_<Node>_<attribute>`` if there is one."""
    function = _attribute_function(type(visitor), "visit", type(node), attribute)
    if function is not None:
        function(visitor, node)


def leave_attribute(visitor: Any, original_node: cst.CSTNode, attribute: str) -> None:
    """``CSTVisitor.on_leave_attribute``: call ``leave_<Node>_<attribute>`` if there is one."""
    function = _attribute_function(type(visitor), "leave", type(original_node), attribute)
    if function is not None:
        function(visitor, original_node)


_HOOKS = ("on_visit", "on_leave", "on_visit_attribute", "on_leave_attribute")
# libcst's own hooks of the two visitors (their own ``__dict__`` entries), put back by uninstall().
_OWN_HOOKS = {cls: {hook: cls.__dict__[hook] for hook in _HOOKS if hook in cls.__dict__} for cls in (ExpressionContextVisitor, ScopeVisitor)}


def install() -> None:
    _wrapper.visit_batched = visit_batched  # type: ignore[assignment]
    _batched_visitor.BatchableCSTVisitor.get_visitors = get_visitors  # type: ignore[method-assign]
    traversal.install(ExpressionContextVisitor, cst.CSTVisitor)
    traversal.install(ScopeVisitor, cst.CSTVisitor)
    own_on_leave = _OWN_HOOKS[ScopeVisitor].get("on_leave")
    if own_on_leave is not None and own_on_leave.__code__.co_names == _SCOPE_ON_LEAVE_NAMES:
        ScopeVisitor.on_leave = scope_on_leave  # type: ignore[method-assign]
    if ScopeVisitor.on_visit_attribute is cst.CSTVisitor.on_visit_attribute:
        ScopeVisitor.on_visit_attribute = visit_attribute  # type: ignore[method-assign]
        ScopeVisitor.on_leave_attribute = leave_attribute  # type: ignore[method-assign]


def uninstall() -> None:
    _wrapper.visit_batched = _LIBCST_VISIT_BATCHED  # type: ignore[assignment]
    _batched_visitor.BatchableCSTVisitor.get_visitors = _LIBCST_GET_VISITORS  # type: ignore[method-assign]
    for cls, own in _OWN_HOOKS.items():
        for hook in _HOOKS:
            if hook in own:
                setattr(cls, hook, own[hook])
            elif hook in cls.__dict__:
                delattr(cls, hook)
        for fact in [name for name in vars(cls) if name.startswith("_auditfix")]:
            delattr(cls, fact)  # the dispatch tables and unchanged's facts of the fast hooks


if ENABLED:
    install()
