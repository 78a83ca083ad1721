"""Small facts about single libcst nodes, shared by the analyses, the rules and the speed-ups."""

from __future__ import annotations

import re

import libcst as cst

from codemods.speedups.walk import walk

# Statements that open a new scope: names bound inside them are not the enclosing block's.
NESTED_SCOPES = (cst.FunctionDef, cst.ClassDef, cst.Lambda)


def node_types(*classes: type[cst.CSTNode]) -> frozenset[type[cst.CSTNode]]:
    """``classes`` and every subclass of them: ``type(node) in node_types(A, B)`` answers
    ``isinstance(node, (A, B))``.  libcst's nodes are ABCs, so each ``isinstance`` that answers
    no is a Python call to ``ABCMeta.__instancecheck__``; the walks that ask it of every node of
    a function ask this instead.  Computed when libcst is loaded (it defines every node class
    at import; tests/analysis/test_nodes.py checks the answers agree on all of them)."""
    found: set[type[cst.CSTNode]] = set()
    pending = list(classes)
    while pending:
        kind = pending.pop()
        if kind not in found:
            found.add(kind)
            pending.extend(kind.__subclasses__())
    return frozenset(found)


# A name as it stands in source text: not an attribute (after a dot), not inside a longer word.
IDENTIFIER = re.compile(r"(?<![\w.])[^\W\d]\w*")


def dotted_name(expr: cst.CSTNode, *, through_calls: bool = False) -> str | None:
    """``a.b.c`` for a chain of names and attributes, None for anything else.  With
    ``through_calls``, calls and subscripts in the chain are read through, as libcst's
    qualified names read them (``request.get_json().get`` -> ``request.get_json.get``)."""
    if isinstance(expr, cst.Name):
        return expr.value
    if isinstance(expr, cst.Attribute):
        base = dotted_name(expr.value, through_calls=through_calls)
        return None if base is None else f"{base}.{expr.attr.value}"
    if through_calls and isinstance(expr, cst.Call):
        return dotted_name(expr.func, through_calls=True)
    if through_calls and isinstance(expr, cst.Subscript):
        return dotted_name(expr.value, through_calls=True)
    return None


def is_import_line(statement: cst.CSTNode, *, every: bool = False) -> bool:
    """A statement line of one import (or, with ``every``, of nothing but imports)."""
    if not isinstance(statement, cst.SimpleStatementLine):
        return False
    if every:
        return all(isinstance(small, (cst.Import, cst.ImportFrom)) for small in statement.body)
    return len(statement.body) == 1 and isinstance(statement.body[0], (cst.Import, cst.ImportFrom))


class _LoadedNames(cst.CSTVisitor):
    def __init__(self) -> None:
        self.names: set[str] = set()

    def visit_Name(self, node: cst.Name) -> None:
        self.names.add(node.value)

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        walk(node.value, self)
        return False

    def visit_Arg(self, node: cst.Arg) -> bool:
        walk(node.value, self)
        return False


def loaded_names(node: cst.CSTNode) -> set[str]:
    """The names an expression reads (the head of each attribute chain, not attribute names)."""
    visitor = _LoadedNames()
    walk(node, visitor)
    return visitor.names


def is_name(node: object, value: str) -> bool:
    """A plain name ``value`` (what ``libcst.matchers.matches(node, Name(value))`` says, without
    importing the matchers, which cost more than libcst itself to load)."""
    return isinstance(node, cst.Name) and node.value == value


def mentions_name(node: cst.CSTNode, value: str) -> bool:
    """Whether any ``Name`` under ``node`` (itself included; attribute and keyword names too) is ``value``."""
    finder = _NameFinder(value)
    walk(node, finder)
    return finder.found


class _NameFinder(cst.CSTVisitor):
    def __init__(self, value: str) -> None:
        self.value = value
        self.found = False

    def on_visit(self, node: cst.CSTNode) -> bool:
        if not self.found and isinstance(node, cst.Name) and node.value == self.value:
            self.found = True
        return not self.found


def has_multiline_string(module: cst.Module, node: cst.CSTNode) -> bool:
    """Whether a string literal under ``node`` spans several lines."""
    finder = _StringFinder()
    walk(node, finder)
    return any("\n" in module.code_for_node(s) for s in finder.strings)


class _StringFinder(cst.CSTVisitor):
    def __init__(self) -> None:
        self.strings: list[cst.CSTNode] = []

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        self.strings.append(node)

    def visit_FormattedString(self, node: cst.FormattedString) -> bool:
        self.strings.append(node)
        return False
