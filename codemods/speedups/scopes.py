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
- Every ``node.visit`` of either visitor is made by :func:`walk_scopes` / :func:`walk_contexts`
  (``unchanged.register_walk``): the calls those hooks make, from a plan per node class, without
  libcst's do-nothing stubs; in whitespace, comments and punctuation ScopeVisitor only records each
  node's scope (:func:`_mark_scope`), ExpressionContextVisitor is not taken there at all.
  Installed only while the hooks are the ones the walks were written from (:func:`_walks_apply`).
- ScopeVisitor's ``on_leave`` (:func:`scope_on_leave`) tests whether a node is assignment-like once
  per node class (libcst's ``isinstance`` against a tuple of 14 ABC node classes is 14 ABC
  checks on every node); installed only while libcst's ``on_leave`` is the one it was written
  from (the names its code uses are compared).
- ``BatchableCSTVisitor.get_visitors`` (:func:`get_visitors`) names a class's visitor methods
  once (libcst's runs ``inspect.getmembers`` over the thousand typed visitor stubs on every
  call) and binds them to the instance, unless the instance itself holds a method; the first
  time, from the functions of each class of the MRO, judged once per class (:func:`_visitor_names`).

``tests/engine/test_scopes.py`` compares the scopes (the mapping, in its order), accesses,
assignments, qualified names and expression contexts with libcst's own on every sample_repo
module and on hard cases.  With the speed-ups off nothing is
installed.
"""

from __future__ import annotations

import abc
import inspect
from collections.abc import Callable, Iterable, Mapping
from types import FunctionType
from typing import Any

import libcst as cst
from libcst import _batched_visitor
from libcst.metadata import scope_provider as _scope_provider
from libcst.metadata import wrapper as _wrapper
from libcst.metadata.base_provider import BaseMetadataProvider
from libcst.metadata.expression_context_provider import ExpressionContextVisitor
from libcst.metadata.scope_provider import ScopeProvider, ScopeVisitor

from codemods.speedups import ENABLED, traversal, unchanged

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
    if not _WALKS_INSTALLED:
        _install_walks()
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


def _is_assignment_like(kind: type) -> bool:
    """``isinstance(node, _ASSIGNMENT_LIKE_NODES)`` for a node of class ``kind``, once per class.

    Those classes are ABCs (as every node class): ``isinstance`` asks each of them in turn, and
    the first time for a class that walks its subclasses.  An ABC without registered (virtual)
    subclasses nor a ``__subclasshook__`` of its own is a base of exactly the classes that have it
    in their MRO: then that is asked instead."""
    known = _ASSIGNMENT_LIKE.get(kind)
    if known is None:
        bases = _scope_provider._ASSIGNMENT_LIKE_NODES
        if not _REAL_BASES or _REAL_BASES[0] != bases:
            _REAL_BASES[:] = [bases, frozenset(bases) if all(_only_real_subclasses(base) for base in bases) else None]
        real = _REAL_BASES[1]
        known = _ASSIGNMENT_LIKE[kind] = issubclass(kind, bases) if real is None else not real.isdisjoint(kind.__mro__)
    return known


_REAL_BASES: list[Any] = []  # [_ASSIGNMENT_LIKE_NODES, them as a set when _only_real_subclasses, else None]


def _only_real_subclasses(cls: type) -> bool:
    """Is every subclass of ABC ``cls`` one that has it in its MRO (no ``register``, no hook)?"""
    hooks = [klass for klass in cls.__mro__ if "__subclasshook__" in vars(klass)]
    if hooks != [object]:
        return False
    try:
        registry = abc._get_dump(cls)[0]  # type: ignore[attr-defined] - C abc's; the pure Python one has none
    except AttributeError:
        return False
    return not registry


def scope_on_leave(self: Any, original_node: cst.CSTNode) -> None:
    """libcst's ``ScopeVisitor.on_leave``: the node's scope, the scope's count of assignment-like
    nodes, then ``CSTVisitor.on_leave`` (traversal's hook, which dispatches as it does)."""
    self.provider.set_metadata(original_node, self.scope)
    kind = type(original_node)
    assignment_like = _ASSIGNMENT_LIKE.get(kind)
    if assignment_like is None:
        assignment_like = _is_assignment_like(kind)
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
        names = _VISITOR_NAMES[kind] = _visitor_names(self) if kind.__getattribute__ is object.__getattribute__ else tuple(_LIBCST_GET_VISITORS(self))
    return {name: getattr(self, name) for name in names}


_KEPT_BY_CLASS: dict[type, dict[str, bool | None]] = {}  # class -> its own names that may be kept


def _visitor_names(self: Any) -> tuple[str, ...]:
    """The names libcst's ``get_visitors`` keeps, without binding each of the thousand attributes.

    libcst's ``inspect.getmembers`` gets every name of ``dir(self)``, sorted, and keeps the bound
    methods whose ``__name__`` starts with ``visit_``/``leave_`` and that have no true
    ``_is_no_op``.  For an instance holding no callable (see get_visitors) a name in its own
    ``__dict__`` is no method; any other name is the class attribute found first along the MRO.
    A plain function there is bound to a method of the same ``__name__`` and attributes, so it is
    judged unbound, once per class that defines it (:func:`_kept_by`); anything else is got and
    tested as libcst does."""
    own = getattr(self, "__dict__", {})
    mro = type(self).__mro__
    candidates = {name for klass in mro for name in _kept_by(klass)}
    names: list[str] = []
    for name in sorted(candidates):
        if name in own:
            continue
        kept = next(_kept_by(klass).get(name, False) for klass in mro if name in vars(klass))
        if kept is None:
            try:
                value = getattr(self, name)
            except AttributeError:
                continue
            kept = inspect.ismethod(value) and value.__name__.startswith(("visit_", "leave_")) and not getattr(value, "_is_no_op", False)
        if kept:
            names.append(name)
    return tuple(names)


def _kept_by(klass: type) -> dict[str, bool | None]:
    """The names of ``klass``'s own dict that libcst's ``get_visitors`` may keep when found there
    first: a plain function that passes its test (True), anything but a function (None: tested
    bound); a function that fails it is left out."""
    kept = _KEPT_BY_CLASS.get(klass)
    if kept is None:
        kept = _KEPT_BY_CLASS[klass] = {}
        for name, value in vars(klass).items():
            if type(value) is not FunctionType:
                kept[name] = None
            elif value.__name__.startswith(("visit_", "leave_")) and not getattr(value, "_is_no_op", False):
                kept[name] = True
    return kept


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


# -- the walks of the two visitors (unchanged.register_walk) --------------------------------------
#
# ``unchanged.visit`` with one of these visitors calls, per node: ``on_visit`` (the visitor's
# ``visit_<Node>``), per child field ``on_visit_attribute``, the children, ``on_leave_attribute``,
# then ``on_leave``; ScopeVisitor's ``on_leave`` is scope_on_leave above.  The walks make the same
# calls in the same order from a plan per node class: its ``visit_``/``leave_`` and attribute
# methods (libcst's do-nothing stubs left out: calling them does nothing), and its child fields.
# Their own ``node.visit(self)`` calls come back through ``unchanged.visit`` to the same walk.
#
# ScopeVisitor has no method for the :data:`unchanged.TRIVIA` classes (whitespace, comments,
# punctuation: install checks it), which hold nothing but each other and are not assignment-like:
# in their subtrees its hooks only record each node's scope, the visitor's current one, which
# :func:`_mark_scope` does in the same order.  ExpressionContextVisitor does nothing there (the
# trivia ``unchanged.visit`` already skips for it).

_Plan = tuple[Any, Any, tuple[tuple[str, Any, Any, bool], ...], bool]


def _is_stub(function: Any) -> bool:
    return getattr(function, "_is_no_op", False) is True and getattr(function, "__module__", None) == "libcst._typed_visitor"


def _method(owner: type, name: str) -> Any:
    function = getattr(owner, name, None)
    return None if function is None or _is_stub(function) else function


def _plan(owner: type, node: cst.CSTNode, plans: dict[type, _Plan]) -> _Plan:
    """(``visit_<Node>``, ``leave_<Node>``, per child field (its name, ``visit_<Node>_<field>``,
    ``leave_<Node>_<field>``, is it visited only when set), is the node assignment-like), looked
    up as traversal's and the attribute hooks look them up, stubs as None."""
    kind = type(node)
    name = kind.__name__
    fields, conditional = unchanged.fields_of(node)
    plan = plans[kind] = (
        _method(owner, f"visit_{name}"),
        _method(owner, f"leave_{name}"),
        tuple((field, _method(owner, f"visit_{name}_{field}"), _method(owner, f"leave_{name}_{field}"), field == conditional) for field in fields),
        _is_assignment_like(kind),
    )
    return plan


_SCOPE_PLANS: dict[type, _Plan] = {}
_TRIVIA_FIELDS: dict[type, tuple[str, ...]] = {}
_NOT_ENTERED: frozenset[type] = frozenset()  # ScopeVisitor's: TRIVIA once install has checked it


def walk_scopes(node: cst.CSTNode, visitor: Any) -> None:
    """``unchanged.visit(node, visitor)`` for a ScopeVisitor."""
    kind = type(node)
    plan = _SCOPE_PLANS.get(kind)
    if plan is None:
        plan = _plan(ScopeVisitor, node, _SCOPE_PLANS)
    visit, leave, fields, assignment_like = plan
    if visit is None or visit(visitor, node) is not False:
        trivia, node_types = _NOT_ENTERED, unchanged._NODE_TYPES
        for field, before, after, conditional in fields:
            value = getattr(node, field)
            if conditional and value is None:
                continue
            if before is not None:
                before(visitor, node)
            value_kind = type(value)
            if value_kind is tuple or value_kind is list:
                for child in value:
                    if type(child) in trivia:
                        _mark_scope(child, visitor.provider._computed, visitor.scope)
                    else:
                        walk_scopes(child, visitor)
            elif value_kind in trivia:
                _mark_scope(value, visitor.provider._computed, visitor.scope)
            else:
                is_node = node_types.get(value_kind)
                if is_node is None:
                    is_node = unchanged.is_node(value)
                if is_node:  # else None or a sentinel
                    walk_scopes(value, visitor)
            if after is not None:
                after(visitor, node)
    scope = visitor.scope
    visitor.provider._computed[node] = scope  # set_metadata (install checks it is the base one)
    if assignment_like:
        scope._assignment_count += 1
    if leave is not None:
        leave(visitor, node)


def _mark_scope(node: cst.CSTNode, computed: dict[Any, Any], scope: Any) -> None:
    """What ScopeVisitor's walk does in a trivia subtree: each node's scope, children first."""
    kind = type(node)
    fields = _TRIVIA_FIELDS.get(kind)
    if fields is None:
        fields = _TRIVIA_FIELDS[kind] = unchanged.fields_of(node)[0]
    for field in fields:
        value = getattr(node, field)
        value_kind = type(value)
        if value_kind is tuple or value_kind is list:
            for child in value:
                _mark_scope(child, computed, scope)
        elif unchanged.is_node(value):  # only trivia below trivia; else None or a flag
            _mark_scope(value, computed, scope)
    computed[node] = scope


_CONTEXT_PLANS: dict[type, _Plan] = {}


def walk_contexts(node: cst.CSTNode, visitor: Any) -> None:
    """``unchanged.visit(node, visitor)`` for an ExpressionContextVisitor (no attribute hooks,
    traversal's ``on_visit``/``on_leave``; trivia not entered, as ``unchanged.visit`` does)."""
    kind = type(node)
    plan = _CONTEXT_PLANS.get(kind)
    if plan is None:
        plan = _plan(ExpressionContextVisitor, node, _CONTEXT_PLANS)
    visit, leave, fields, _ = plan
    if visit is None or visit(visitor, node) is not False:
        trivia, node_types = unchanged.TRIVIA, unchanged._NODE_TYPES
        for field, _before, _after, _conditional in fields:
            value = getattr(node, field)
            value_kind = type(value)
            if value_kind is tuple or value_kind is list:
                for child in value:
                    if type(child) not in trivia:
                        walk_contexts(child, visitor)
            elif value_kind not in trivia:
                is_node = node_types.get(value_kind)
                if is_node is None:
                    is_node = unchanged.is_node(value)
                if is_node:
                    walk_contexts(value, visitor)
    if leave is not None:
        leave(visitor, node)


def _walks_apply() -> tuple[bool, bool]:
    """May walk_scopes and walk_contexts stand for ``unchanged.visit`` on this libcst?  Only while
    the visitors' hooks are the ones the walks make the calls of: ScopeVisitor's scope_on_leave,
    traversal's (or, for the attributes, :func:`visit_attribute`'s), ``set_metadata`` libcst's
    base one, no method of either visitor for a trivia class and no attribute hook of
    ExpressionContextVisitor."""
    trivia_names = {kind.__name__ for kind in unchanged.TRIVIA}
    base_set = ScopeProvider.set_metadata is BaseMetadataProvider.set_metadata and BaseMetadataProvider.set_metadata.__code__.co_names == ("_computed",)
    # visit_<Trivia>, leave_<Trivia> or an attribute hook of a trivia class
    no_trivia_methods = not any(name.split("_")[1] in trivia_names for cls in (ScopeVisitor, ExpressionContextVisitor) for name in _attribute_methods(cls))
    scope = (
        base_set and no_trivia_methods
        and ScopeVisitor.on_visit is traversal.visit and ScopeVisitor.on_leave is scope_on_leave
        and ScopeVisitor.on_visit_attribute is visit_attribute and ScopeVisitor.on_leave_attribute is leave_attribute
    )  # fmt: skip
    read_only, attribute_hooks, inert, _ = unchanged.visitor_kind(ExpressionContextVisitor)
    contexts = (
        no_trivia_methods and read_only and not attribute_hooks and inert == unchanged.TRIVIA
        and ExpressionContextVisitor.on_visit is traversal.visit and ExpressionContextVisitor.on_leave is traversal.leave_visited
    )  # fmt: skip
    return scope, contexts


def _attribute_methods(owner: type) -> set[str]:
    """The names of ``owner``'s ``visit_``/``leave_`` methods that are not libcst's stubs (which
    are all libcst's typed visitor classes define; any other is in a class's own dict)."""
    return {
        name
        for klass in owner.__mro__
        if klass.__module__ != "libcst._typed_visitor"
        for name in vars(klass)
        if name.startswith(("visit_", "leave_")) and not _is_stub(getattr(owner, name))
    }


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
    global _WALKS_INSTALLED
    _WALKS_INSTALLED = False  # the walks are installed by the first resolve (visit_batched)


# The walks are installed when libcst's metadata wrapper first resolves a provider (all of the
# speed-ups imported by then): unchanged.py may be only partly imported when this module is.
_WALKS_INSTALLED = False


def _install_walks() -> None:
    global _NOT_ENTERED, _WALKS_INSTALLED
    _WALKS_INSTALLED = True
    scope, contexts = _walks_apply()
    _NOT_ENTERED = unchanged.TRIVIA if scope else frozenset()
    unchanged.register_walk(ScopeVisitor, walk_scopes if scope else None)
    unchanged.register_walk(ExpressionContextVisitor, walk_contexts if contexts else None)


def uninstall() -> None:
    global _WALKS_INSTALLED
    _WALKS_INSTALLED = True  # none: libcst's visit_batched is back, and nothing installs them
    unchanged.register_walk(ScopeVisitor, None)
    unchanged.register_walk(ExpressionContextVisitor, None)
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
