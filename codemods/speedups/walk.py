"""A node's children and a read-only visit, without libcst's node rebuilding.

``CSTNode.children`` goes through the node's ``_visit_and_replace_children``, which builds (and
validates) a new copy of the node: on route-commit's analysis of one route that was most of the
time spent.  :func:`children` reads the same children from the node's fields, in the order
libcst visits them (:func:`codemods.speedups.unchanged.fields_of`, learnt once per class).
:func:`walk` is a read-only visit, which :mod:`codemods.speedups.unchanged` makes copy nothing.
With the speed-ups off, both are libcst's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import libcst as cst

from codemods.speedups import ENABLED, unchanged

_NodeT = TypeVar("_NodeT", bound=cst.CSTNode)


def children(node: cst.CSTNode) -> Sequence[cst.CSTNode]:
    """What ``node.children`` returns: the node's direct children in source order."""
    if not ENABLED:
        return node.children
    found: list[cst.CSTNode] = []
    for name in unchanged.fields_of(node)[0]:
        # A visited field holds a node, a sequence of nodes, None or a sentinel.
        value = getattr(node, name)
        if type(value) is tuple or type(value) is list:
            found.extend(value)
        elif unchanged.is_node(value):
            found.append(value)
    return found


def walk(node: _NodeT, visitor: cst.CSTVisitor) -> _NodeT:
    """``node.visit(visitor)`` for a read-only ``cst.CSTVisitor`` (the same ``visit_*`` and
    ``leave_*`` calls in the same order, without copying the tree); returns ``node``."""
    node.visit(visitor)
    return node
