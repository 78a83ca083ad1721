"""Cheaper traversal hooks for libcst visitors and transformers.

On every node, libcst's ``CSTVisitor`` and ``CSTTransformer`` build the names
``visit_<Node>`` and ``leave_<Node>`` and look them up on the instance, and on every child
attribute of every node (several per node) they do the same for
``visit_<Node>_<attribute>`` and ``leave_<Node>_<attribute>``.  On a 10 kB module that
bookkeeping is about 40% of a traversal that does nothing else.

The hooks here dispatch exactly as libcst's do, but remember per (visitor class, node
class) which method to call, and skip the attribute hooks altogether for a class that
defines none.  :func:`install` puts them on a class (the codemods' base class does it for
each codemod); :class:`Visitor` is a ``cst.CSTVisitor`` that installs them on each subclass.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import libcst as cst

from codemods.speedups import ENABLED

# Each visitor class gets its own tables, node class -> its visit_/leave_ function or None, as
# attributes of the class: they live as long as the class (helper visitors defined inside a
# function are new classes on every call) and a subclass never reads its parent's.
_VISIT = "_auditfix_visit_functions"
_LEAVE = "_auditfix_leave_functions"


def _table(owner: type, name: str) -> dict[type, Callable[..., Any] | None]:
    table = owner.__dict__.get(name)
    if table is None:
        table = {}
        setattr(owner, name, table)
    return table


def _function(owner: type, name: str, prefix: str, kind: type) -> Any:
    table = _table(owner, name)
    if kind not in table:
        table[kind] = getattr(owner, f"{prefix}_{kind.__name__}", None)
    return table[kind]


def visit(visitor: Any, node: cst.CSTNode) -> bool:
    """libcst's ``on_visit``: call ``visit_<Node>``; visit the children unless it returns False."""
    owner, kind = type(visitor), type(node)
    table = owner.__dict__.get(_VISIT)
    function = table[kind] if table is not None and kind in table else _function(owner, _VISIT, "visit", kind)
    return function is None or function(visitor, node) is not False


def leave_transformed(transformer: Any, original_node: cst.CSTNode, updated_node: Any) -> Any:
    """CSTTransformer's ``on_leave``: ``leave_<Node>``'s result, else the updated node."""
    owner, kind = type(transformer), type(original_node)
    table = owner.__dict__.get(_LEAVE)
    function = table[kind] if table is not None and kind in table else _function(owner, _LEAVE, "leave", kind)
    return updated_node if function is None else function(transformer, original_node, updated_node)


def leave_visited(visitor: Any, original_node: cst.CSTNode) -> None:
    """CSTVisitor's ``on_leave``: call ``leave_<Node>``."""
    owner, kind = type(visitor), type(original_node)
    table = owner.__dict__.get(_LEAVE)
    function = table[kind] if table is not None and kind in table else _function(owner, _LEAVE, "leave", kind)
    if function is not None:
        function(visitor, original_node)


def no_attribute_hook(visitor: Any, node: cst.CSTNode, attribute: str) -> None:
    """The attribute hook of a class without ``visit_<Node>_<attribute>`` methods."""


def has_attribute_hooks(cls: type) -> bool:
    """Does ``cls`` define a ``visit_<Node>_<attribute>`` or ``leave_<Node>_<attribute>``?"""
    for klass in cls.__mro__:
        if klass.__module__ == "libcst._typed_visitor":
            continue  # libcst's typed stubs: a do-nothing method for every node and attribute
        for name in vars(klass):
            prefix, _, rest = name.partition("_")
            node, separator, _ = rest.partition("_")
            if prefix in ("visit", "leave") and separator:
                kind = getattr(cst, node, None)
                if isinstance(kind, type) and issubclass(kind, cst.CSTNode):
                    return True
    return False


def install(cls: type, defaults: type) -> None:
    """Give ``cls`` the fast hooks where it has ``defaults``' own or fast ones it inherited;
    the hooks it overrides stay.  A subclass that adds attribute hooks gets libcst's back.
    With the speed-ups off, nothing is installed."""
    if not ENABLED:
        return
    transformer = issubclass(cls, cst.CSTTransformer)
    base = cst.CSTTransformer if transformer else cst.CSTVisitor
    plain = not has_attribute_hooks(cls)
    hooks: dict[str, Callable[..., Any]] = {
        "on_visit": visit,
        "on_leave": leave_transformed if transformer else leave_visited,
        "on_visit_attribute": no_attribute_hook if plain else base.on_visit_attribute,
        "on_leave_attribute": no_attribute_hook if plain else base.on_leave_attribute,
    }
    for hook, function in hooks.items():
        current = getattr(cls, hook)
        if current is getattr(defaults, hook) or current in _FAST_HOOKS:
            setattr(cls, hook, function)


_FAST_HOOKS = (visit, leave_transformed, leave_visited, no_attribute_hook)


class Visitor(cst.CSTVisitor):
    """``cst.CSTVisitor`` with the fast hooks (see the module docstring)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        install(cls, cst.CSTVisitor)


# Every libcst traversal stops copying unchanged nodes once the speed-ups are imported, and
# libcst's scope analysis walks the tree only with the visitors that do its work.
from codemods.speedups import scopes, unchanged  # noqa: E402, F401 - install themselves (when ENABLED)
