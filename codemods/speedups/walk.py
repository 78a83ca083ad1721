"""A node's children and a read-only visit, without libcst's node rebuilding.

``CSTNode.children`` and ``CSTNode.visit(visitor)`` both go through the node's
``_visit_and_replace_children``, which builds (and validates) a new copy of every node it
passes, even for a visitor that changes nothing: on route-commit's analysis of one route that
is most of the time spent.  The answers here are the same, read from the nodes' fields.

A node class visits its fields in a fixed order (source order, not always the dataclass
field order: ``x if test else y`` visits ``x`` first); the only variation is that a field
holding nothing may be skipped.  That order is learnt once per class, from the class's own
``_visit_and_replace_children`` run with a recording visitor, and a field the learning
instance left out is learnt again from the first instance where it holds a node.  With the
speed-ups off, both functions are libcst's.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, TypeVar

import libcst as cst

from codemods.speedups import ENABLED, traversal

_NodeT = TypeVar("_NodeT", bound=cst.CSTNode)

# node class -> (its fields in visiting order, its fields left out when learnt that may hold a
# node in another instance: None, an empty sequence or a sentinel then)
_ORDER: dict[type[cst.CSTNode], tuple[tuple[str, ...], tuple[str, ...]]] = {}
# type -> whether it is a node class (isinstance with CSTNode, an ABC, costs several times this)
_IS_NODE: dict[type, bool] = {}


class _Recorder(cst.CSTVisitor):
    """Records the attributes a node visits, in order, and its children (not descending)."""

    def __init__(self) -> None:
        super().__init__()
        self.attributes: list[str] = []
        self.children: list[cst.CSTNode] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        self.children.append(node)
        return False

    def on_visit_attribute(self, node: cst.CSTNode, attribute: str) -> None:
        self.attributes.append(attribute)

    def on_leave_attribute(self, original_node: cst.CSTNode, attribute: str) -> None:
        pass


def _learn(node: cst.CSTNode) -> list[cst.CSTNode]:
    recorder = _Recorder()
    node._visit_and_replace_children(recorder)
    kind = type(node)
    known = _ORDER.get(kind)
    if known is None or len(recorder.attributes) >= len(known[0]):
        order = tuple(recorder.attributes)
        rest = tuple(
            f.name
            for f in dataclasses.fields(kind)
            if f.name not in order and _absent(getattr(node, f.name))
        )
        _ORDER[kind] = (order, rest)
    return recorder.children


def _absent(value: Any) -> bool:
    return value is None or isinstance(value, cst.MaybeSentinel) or (isinstance(value, (tuple, list)) and not value)


def _is_node(value: Any) -> bool:
    kind = type(value)
    known = _IS_NODE.get(kind)
    if known is None:
        known = _IS_NODE[kind] = issubclass(kind, cst.CSTNode)
    return known


def children(node: cst.CSTNode) -> Sequence[cst.CSTNode]:
    """What ``node.children`` returns: the node's direct children in source order."""
    if not ENABLED:
        return node.children
    known = _ORDER.get(type(node))
    if known is None:
        return _learn(node)
    order, rest = known
    for name in rest:
        value = getattr(node, name)
        if not _absent(value) and not isinstance(value, str):
            return _learn(node)
    found: list[cst.CSTNode] = []
    for name in order:
        # A visited field holds a node, a sequence of nodes, None or a sentinel.
        value = getattr(node, name)
        if _is_node(value):
            found.append(value)
        elif value is not None and type(value) is not cst.MaybeSentinel:
            found.extend(value)
    return found


def walk(node: _NodeT, visitor: cst.CSTVisitor) -> _NodeT:
    """``node.visit(visitor)`` for a read-only ``cst.CSTVisitor``: the same ``visit_*`` and
    ``leave_*`` calls in the same order, without copying the tree.  A visitor with attribute
    hooks (``visit_<Node>_<attribute>``) is given libcst's own visit."""
    if not ENABLED or not _plain(type(visitor)):
        node.visit(visitor)
        return node
    _walk(node, visitor)
    return node


_PLAIN: dict[type, bool] = {}


def _plain(cls: type) -> bool:
    plain = _PLAIN.get(cls)
    if plain is None:
        hooks_untouched = all(
            getattr(cls, hook) in (getattr(cst.CSTVisitor, hook), traversal.no_attribute_hook)
            for hook in ("on_visit_attribute", "on_leave_attribute")
        )
        plain = _PLAIN[cls] = (
            issubclass(cls, cst.CSTVisitor) and hooks_untouched and not traversal.has_attribute_hooks(cls)
        )
    return plain


def _walk(node: cst.CSTNode, visitor: cst.CSTVisitor) -> None:
    if visitor.on_visit(node):
        for child in children(node):
            _walk(child, visitor)
    visitor.on_leave(node)
