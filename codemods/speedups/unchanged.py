"""libcst's traversal without rebuilding the nodes it leaves unchanged.

``CSTNode.visit`` builds a new copy of every node it passes (``_visit_and_replace_children``
calls the node's constructor and its validation), for a transformer that changes nothing and
even for a read-only ``CSTVisitor``, which throws the copies away.  On auditfix's runs that
copying is most of what a traversal costs: a codemod visits a whole module and changes a few
statements of it, and scope analysis visits every module it is asked about.

:func:`visit` calls the same hooks in the same order as libcst's (``on_visit``, then per child
field ``on_visit_attribute``, the children, ``on_leave_attribute``, then ``on_leave``), but a node
whose children all came back as the very objects they were is given to ``on_leave`` as it is.
When a child did change (a new node, ``RemovalSentinel``, ``FlattenSentinel``), the node is
rebuilt by libcst's own ``_visit_and_replace_children``, replaying the children's results, so
removal, flattening and validation follow libcst's rules exactly.

The tree returned equals libcst's (same code, ``deep_equals``); unchanged subtrees are shared
with the input tree instead of copied.  A visitor receives ``updated_node is original_node``
where libcst would hand it an equal copy.

Whitespace, comments and punctuation (:data:`TRIVIA`: about two thirds of a module's nodes) are not
entered by a visitor none of whose hooks can do anything there: one that dispatches as libcst's
visitors do (or through :mod:`.traversal`'s hooks), or declares ``IGNORES_TRIVIA`` where it
defines ``on_visit`` and ``on_leave`` (they do nothing for such a node but dispatch), without
attribute hooks and without a ``visit_``/``leave_`` method for any of those classes.  Nothing it
could observe changes: those nodes hold nothing but each other (tests/engine/test_unchanged_visit.py
reads libcst's field types to check it), and each comes back as it was.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import libcst._nodes.op

import libcst as cst
from libcst import CSTNode, CSTTransformer, CSTValidationError, CSTVisitor, FlattenSentinel, RemovalSentinel

from codemods.speedups import ENABLED
from codemods.speedups import traversal
from codemods.speedups.traversal import has_attribute_hooks, no_attribute_hook

# node class -> (the names of its child fields in the order libcst visits them, the one of them
# libcst visits only when it is set, or None)
_FIELDS: dict[type, tuple[tuple[str, ...], str | None]] = {}
# The fields libcst visits only when they are not None (its code tests that first; everywhere
# else a None field still gets its attribute hooks).  tests/engine/test_unchanged_visit.py reads
# libcst's source to check that this list is complete and that each is the last field visited.
VISITED_WHEN_SET = {"FormattedStringExpression": "format_spec", "TemplatedStringExpression": "format_spec"}
# On each visitor class (so that the facts live as long as the class, and a subclass does not
# read its parent's): (is it a read-only CSTVisitor?, must its attribute hooks be called?, the
# node classes it need not enter, the walk that replaces this visit for it or None)
_VISITOR_FACTS = "_auditfix_unchanged_visit"
# Read-only visitor class (exactly that class) -> a walk(node, visitor) that makes the calls
# ``visit`` makes, proven equal for that class (see register_walk)
_WALKS: dict[type, Any] = {}
# Whitespace and comments, whose fields hold nothing but each other.
WHITESPACE: frozenset[type] = frozenset(
    (cst.SimpleWhitespace, cst.ParenthesizedWhitespace, cst.TrailingWhitespace, cst.EmptyLine, cst.Comment, cst.Newline)
)
# Nodes that hold nothing but whitespace and comments (or nothing): those, every operator and
# punctuation node (libcst's op module) and the brackets.
TRIVIA: frozenset[type] = WHITESPACE | frozenset(
    (cst.LeftParen, cst.RightParen, cst.LeftSquareBracket, cst.RightSquareBracket, cst.LeftCurlyBrace, cst.RightCurlyBrace)
) | frozenset(
    kind
    for kind in vars(libcst._nodes.op).values()
    if isinstance(kind, type) and issubclass(kind, CSTNode) and not getattr(kind, "__abstractmethods__", None)
)
# The on_visit / on_leave that only dispatch to visit_<Node> / leave_<Node> by the node's class.
_DISPATCHING_VISITS = (CSTVisitor.on_visit, CSTTransformer.on_visit, traversal.visit)
_DISPATCHING_LEAVES = (CSTVisitor.on_leave, CSTTransformer.on_leave, traversal.leave_visited, traversal.leave_transformed)
# class of a field's value -> is it a node?  (CSTNode is an ABC: isinstance is slow)
_NODE_TYPES: dict[type, bool] = {}
_LIBCST_ATTRIBUTE_HOOKS = (CSTVisitor.on_visit_attribute, CSTTransformer.on_visit_attribute, no_attribute_hook)
_LIBCST_LEAVE_ATTRIBUTE_HOOKS = (CSTVisitor.on_leave_attribute, CSTTransformer.on_leave_attribute, no_attribute_hook)
_LIBCST_VISIT = CSTNode.visit


class _FieldRecorder(CSTTransformer):
    """Learns which fields ``_visit_and_replace_children`` visits, without entering them."""

    def __init__(self, parent: CSTNode) -> None:
        super().__init__()
        self.parent = parent
        self.fields: list[str] = []

    def on_visit(self, node: CSTNode) -> bool:
        return False

    def on_leave(self, original_node: CSTNode, updated_node: CSTNode) -> CSTNode:
        return updated_node

    def on_visit_attribute(self, node: CSTNode, attribute: str) -> None:
        if node is self.parent:
            self.fields.append(attribute)

    def on_leave_attribute(self, original_node: CSTNode, attribute: str) -> None:
        pass


class _Replay(CSTTransformer):
    """Hands libcst's rebuild the results already computed for the children, in visiting order."""

    def __init__(self, results: list[Any]) -> None:
        super().__init__()
        self.results = deque(results)

    def on_visit(self, node: CSTNode) -> bool:
        return False

    def on_leave(self, original_node: CSTNode, updated_node: CSTNode) -> Any:
        return self.results.popleft()

    def on_visit_attribute(self, node: CSTNode, attribute: str) -> None:
        pass

    def on_leave_attribute(self, original_node: CSTNode, attribute: str) -> None:
        pass


def fields_of(node: CSTNode) -> tuple[tuple[str, ...], str | None]:
    """The names of ``node``'s child fields in the order libcst visits them, and the one of them
    libcst visits only when it is set (or None); learnt once per class."""
    plan = _FIELDS.get(type(node))
    return _learn(node) if plan is None else plan


def _learn(node: CSTNode) -> tuple[tuple[str, ...], str | None]:
    kind = type(node)
    recorder = _FieldRecorder(node)
    node._visit_and_replace_children(recorder)
    fields = recorder.fields
    conditional = VISITED_WHEN_SET.get(kind.__name__)
    if conditional is not None and conditional not in fields:
        fields.append(conditional)  # not set on this node; libcst visits it last when it is
    plan = _FIELDS[kind] = (tuple(fields), conditional)
    return plan


def _visitor_kind(visitor: Any) -> tuple[bool, bool, frozenset[type], Any]:
    """(is it a read-only ``CSTVisitor``?, must its attribute hooks be called?, the classes of
    :data:`TRIVIA` it need not enter, its registered walk or None), once per class."""
    return visitor_kind(type(visitor))


def register_walk(kind: type, walk: Any) -> None:
    """Have ``visit`` call ``walk(node, visitor)`` instead of its own loop for a visitor of exactly
    the read-only class ``kind`` (not its subclasses): ``walk`` must make the calls ``visit`` would
    make, in the same order.  None unregisters it."""
    if walk is None:
        _WALKS.pop(kind, None)
    else:
        _WALKS[kind] = walk
    known = kind.__dict__.get(_VISITOR_FACTS)
    if known is not None:
        setattr(kind, _VISITOR_FACTS, (*known[:3], _WALKS.get(kind) if known[0] else None))


def visitor_kind(kind: type) -> tuple[bool, bool, frozenset[type], Any]:
    """:func:`_visitor_kind` of the visitor class ``kind``."""
    known = kind.__dict__.get(_VISITOR_FACTS)
    if known is None:
        plain = (
            kind.on_visit_attribute in _LIBCST_ATTRIBUTE_HOOKS
            and kind.on_leave_attribute in _LIBCST_LEAVE_ATTRIBUTE_HOOKS
            and not has_attribute_hooks(kind)
        )
        read_only = issubclass(kind, CSTVisitor)
        known = (read_only, not plain, _inert_trivia(kind) if plain else frozenset(), _WALKS.get(kind) if read_only else None)
        setattr(kind, _VISITOR_FACTS, known)
    return known


def _inert_trivia(kind: type) -> frozenset[type]:
    """The classes of :data:`TRIVIA` in whose nodes no hook of visitor class ``kind`` does
    anything: none if it has a method for a whitespace class (which occurs in any of them)."""
    dispatching = _declares_inert_trivia(kind) or (
        kind.on_visit in _DISPATCHING_VISITS and kind.on_leave in _DISPATCHING_LEAVES
    )
    if not dispatching or any(_has_method(kind, node) for node in WHITESPACE):
        return frozenset()
    return frozenset(node for node in TRIVIA if not _has_method(kind, node))


def _declares_inert_trivia(kind: type) -> bool:
    """``IGNORES_TRIVIA = True`` on the class that defines the ``on_visit`` ``kind`` uses, and on
    the one that defines its ``on_leave`` (a subclass that overrides them must declare it again)."""
    for hook in ("on_visit", "on_leave"):
        owner = next(klass for klass in kind.__mro__ if hook in vars(klass))
        if vars(owner).get("IGNORES_TRIVIA") is not True:
            return False
    return True


def _has_method(kind: type, node: type) -> bool:
    """Does visitor class ``kind`` have a ``visit_``/``leave_`` method for ``node`` other than
    libcst's do-nothing stubs?"""
    for prefix in ("visit_", "leave_"):
        function = getattr(kind, prefix + node.__name__, None)
        if function is not None and not (
            getattr(function, "_is_no_op", False) is True and function.__module__ == "libcst._typed_visitor"
        ):
            return True
    return False


def is_node(value: object) -> bool:
    """``isinstance(value, CSTNode)``, once per class (CSTNode is an ABC: isinstance is slow)."""
    kind = type(value)
    known = _NODE_TYPES.get(kind)
    if known is None:
        known = _NODE_TYPES[kind] = isinstance(value, CSTNode)
    return known


def visit(self: CSTNode, visitor: Any) -> Any:
    """``CSTNode.visit``, rebuilding only the nodes below which something changed."""
    known = type(visitor).__dict__.get(_VISITOR_FACTS)
    read_only, hooks, inert, walk = _visitor_kind(visitor) if known is None else known
    if walk is not None:
        walk(self, visitor)
        return self
    if visitor.on_visit(self):
        results: list[Any] = []
        changed = False
        plan = _FIELDS.get(type(self))
        fields, conditional = _learn(self) if plan is None else plan
        for field in fields:
            value = getattr(self, field)
            if value is None and field == conditional:
                continue
            if hooks:
                visitor.on_visit_attribute(self, field)
            kind = type(value)
            if kind is tuple or kind is list:
                for child in value:
                    if type(child) in inert:  # nothing below it can see the visit: as it was
                        results.append(child)
                        continue
                    result = child.visit(visitor)
                    results.append(result)
                    if result is not child:
                        changed = True
            elif kind in inert:
                results.append(value)
            else:
                node = _NODE_TYPES.get(kind)
                if node is None:
                    node = is_node(value)
                if node:  # else None or a sentinel: nothing to visit
                    result = value.visit(visitor)
                    results.append(result)
                    if result is not value:
                        changed = True
            if hooks:
                visitor.on_leave_attribute(self, field)
        updated = self._visit_and_replace_children(_Replay(results)) if changed and not read_only else self
    else:
        updated = self
    if read_only:
        visitor.on_leave(self)
        return self
    result = visitor.on_leave(self, updated)
    if result is not updated and not isinstance(result, (CSTNode, RemovalSentinel, FlattenSentinel)):
        raise CSTValidationError(
            "Expected a node of type CSTNode or a RemovalSentinel, "
            + f"but got a return value of {type(result).__name__}"
        )
    return result


def install() -> None:
    """Make every libcst traversal (auditfix's, libcst's own visitors and metadata providers) use :func:`visit`."""
    cst.CSTNode.visit = visit  # type: ignore[method-assign]


def uninstall() -> None:
    cst.CSTNode.visit = _LIBCST_VISIT  # type: ignore[method-assign]


if ENABLED:
    install()
