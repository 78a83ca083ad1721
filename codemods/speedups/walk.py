"""A node's children and a read-only visit, without libcst's node rebuilding.

``CSTNode.children`` goes through the node's ``_visit_and_replace_children``, which builds (and
validates) a new copy of the node: on route-commit's analysis of one route that was most of the
time spent.  :func:`children` reads the same children from the node's fields, in the order
libcst visits them (:func:`codemods.speedups.unchanged.fields_of`, learnt once per class).
:func:`walk` is a read-only visit, which :mod:`codemods.speedups.unchanged` makes copy nothing.
With the speed-ups off, both are libcst's.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import libcst as cst

from codemods.speedups import ENABLED, traversal, unchanged

_NodeT = TypeVar("_NodeT", bound=cst.CSTNode)


def children(node: cst.CSTNode) -> Sequence[cst.CSTNode]:
    """What ``node.children`` returns: the node's direct children in source order."""
    if not ENABLED:
        return node.children
    found: list[cst.CSTNode] = []
    node_types = unchanged._NODE_TYPES  # unchanged.fields_of and is_node, inlined: called for every node walked
    for name in _fields(node):
        # A visited field holds a node, a sequence of nodes, None or a sentinel.
        value = getattr(node, name)
        value_kind = type(value)
        if value_kind is tuple or value_kind is list:
            found.extend(value)
        else:
            is_node = node_types.get(value_kind)
            if is_node is None:
                is_node = unchanged.is_node(value)
            if is_node:
                found.append(value)
    return found


def children_but_trivia(node: cst.CSTNode) -> Sequence[cst.CSTNode]:
    """:func:`children` without whitespace, comments and punctuation (:data:`unchanged.TRIVIA`,
    about two thirds of the nodes), which hold nothing but each other: for walks that look for
    anything else, in the same order."""
    trivia = unchanged.TRIVIA
    if not ENABLED:
        return [child for child in node.children if type(child) not in trivia]
    found: list[cst.CSTNode] = []
    node_types = unchanged._NODE_TYPES
    for name in _fields(node):
        value = getattr(node, name)
        value_kind = type(value)
        if value_kind is tuple or value_kind is list:
            for child in value:
                if type(child) not in trivia:
                    found.append(child)
        elif value_kind not in trivia:
            is_node = node_types.get(value_kind)
            if is_node is None:
                is_node = unchanged.is_node(value)
            if is_node:
                found.append(value)
    return found


def parents(module: cst.CSTNode) -> dict[cst.CSTNode, cst.CSTNode]:
    """Each node's parent below ``module`` (what libcst's ParentNodeProvider gives): every node of
    each node's :func:`children`, from the fields libcst visits; a node without child fields (most
    whitespace and punctuation) is not entered.  With the speed-ups off, from the node's dataclass
    fields (a node's children are the nodes among them, alone or in a sequence)."""
    if not ENABLED:
        return _plain_parents(module)
    found: dict[cst.CSTNode, cst.CSTNode] = {}
    pending: list[cst.CSTNode] = [module]
    plans, learn, node_types = unchanged._FIELDS, unchanged._learn, unchanged._NODE_TYPES
    while pending:
        node = pending.pop()
        plan = plans.get(type(node))
        for name in (learn(node) if plan is None else plan)[0]:
            value = getattr(node, name)
            value_kind = type(value)
            if value_kind is tuple or value_kind is list:
                for child in value:
                    found[child] = node
                    plan = plans.get(type(child))
                    if plan is None or plan[0]:
                        pending.append(child)
            else:
                is_node = node_types.get(value_kind)
                if is_node is None:
                    is_node = unchanged.is_node(value)
                if is_node:  # else None, a sentinel or a flag
                    found[value] = node
                    plan = plans.get(value_kind)
                    if plan is None or plan[0]:
                        pending.append(value)
    return found


_DATACLASS_FIELDS: dict[type, tuple[str, ...]] = {}


def _plain_parents(module: cst.CSTNode) -> dict[cst.CSTNode, cst.CSTNode]:
    found: dict[cst.CSTNode, cst.CSTNode] = {}
    pending: list[cst.CSTNode] = [module]
    while pending:
        node = pending.pop()
        kind = type(node)
        names = _DATACLASS_FIELDS.get(kind)
        if names is None:
            names = _DATACLASS_FIELDS[kind] = tuple(field.name for field in dataclasses.fields(kind))
        for name in names:
            value = getattr(node, name)
            if isinstance(value, cst.CSTNode):
                found[value] = node
                pending.append(value)
            elif isinstance(value, (tuple, list)):
                for item in value:
                    if isinstance(item, cst.CSTNode):
                        found[item] = node
                        pending.append(item)
    return found


def walk(node: _NodeT, visitor: cst.CSTVisitor) -> _NodeT:
    """``node.visit(visitor)`` for a read-only ``cst.CSTVisitor`` (the same ``visit_*`` and
    ``leave_*`` calls in the same order, without copying the tree); returns ``node``.

    A read-only visitor without attribute hooks is walked here: :func:`_walk_dispatching` for one
    with the fast hooks of :mod:`codemods.speedups.traversal` (it makes the calls those hooks
    make without going through them), :func:`_walk_hooks` for one with its own ``on_visit`` /
    ``on_leave``; any other by ``node.visit``, which calls the attribute hooks too."""
    if not ENABLED:
        node.visit(visitor)
        return node
    kind = type(visitor)
    read_only, attribute_hooks, inert, _ = unchanged.visitor_kind(kind)
    if not read_only or attribute_hooks:
        node.visit(visitor)
    elif kind.on_visit is traversal.visit and kind.on_leave is traversal.leave_visited:
        tables = traversal._table(kind, traversal._VISIT), traversal._table(kind, traversal._LEAVE)
        _walk_dispatching(node, visitor, *tables, inert)
    else:
        _walk_hooks(node, visitor.on_visit, visitor.on_leave, inert)
    return node


def _fields(node: cst.CSTNode) -> tuple[str, ...]:
    plan = unchanged._FIELDS.get(type(node))
    return (unchanged._learn(node) if plan is None else plan)[0]


_Table = dict[type, Callable[..., Any] | None]


def _walk_dispatching(node: cst.CSTNode, visitor: Any, visits: _Table, leaves: _Table, inert: frozenset[type]) -> None:
    """What ``node.visit(visitor)`` calls for a visitor with traversal's hooks: ``visit_<Node>``
    (the children unless it returns False), then ``leave_<Node>``, looked up as those hooks look
    them up (``visits``/``leaves`` are the visitor class's tables); the children are those
    :func:`children` gives, in that order (the order ``unchanged.visit`` visits them in), but
    those of the ``inert`` classes (``unchanged.visitor_kind``: no hook of the visitor can see them
    or anything below them)."""
    kind = type(node)
    function = visits[kind] if kind in visits else traversal._function(type(visitor), traversal._VISIT, "visit", kind)
    if function is None or function(visitor, node) is not False:
        node_types = unchanged._NODE_TYPES
        for field in _fields(node):
            value = getattr(node, field)
            value_kind = type(value)
            if value_kind is tuple or value_kind is list:
                for child in value:
                    if type(child) not in inert:
                        _walk_dispatching(child, visitor, visits, leaves, inert)
            elif value_kind not in inert:
                is_node = node_types.get(value_kind)
                if is_node is None:
                    is_node = unchanged.is_node(value)
                if is_node:  # else None or a sentinel
                    _walk_dispatching(value, visitor, visits, leaves, inert)
    function = leaves[kind] if kind in leaves else traversal._function(type(visitor), traversal._LEAVE, "leave", kind)
    if function is not None:
        function(visitor, node)


def _walk_hooks(
    node: cst.CSTNode, on_visit: Callable[[cst.CSTNode], Any], on_leave: Callable[[cst.CSTNode], Any], inert: frozenset[type]
) -> None:
    """What ``node.visit(visitor)`` calls for a read-only visitor without attribute hooks:
    ``on_visit``, the children (but those of the ``inert`` classes) unless it returned a false
    value, ``on_leave``."""
    if on_visit(node):
        node_types = unchanged._NODE_TYPES
        for field in _fields(node):
            value = getattr(node, field)
            value_kind = type(value)
            if value_kind is tuple or value_kind is list:
                for child in value:
                    if type(child) not in inert:
                        _walk_hooks(child, on_visit, on_leave, inert)
            elif value_kind not in inert:
                is_node = node_types.get(value_kind)
                if is_node is None:
                    is_node = unchanged.is_node(value)
                if is_node:
                    _walk_hooks(value, on_visit, on_leave, inert)
    on_leave(node)
