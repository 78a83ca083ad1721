"""The syntax pre-check: which codemods can possibly change or report anything in a file.

The text pre-filter (each codemod's ``markers``) is cheap but coarse: ``commit`` occurs in
most files of a database-backed application, and ``print(`` in files whose prints are all
methods of other objects.  Before a file is parsed with libcst (slow: every node becomes a
Python object) and given to the codemods whose markers matched, CPython's own parser reads it
(an order of magnitude faster) and one walk over that tree collects the few facts the codemods'
``may_change`` methods need: are there bare ``except:`` handlers, statement calls of ``print``,
``Config`` classes inside classes, ``.commit()`` calls and where the loops are, which
decorators and base classes occur.

Every ``may_change`` is a *necessary condition* for its codemod to do anything: when it says
False, the codemod, run on the libcst tree, would return the file unchanged and report nothing.
The pipeline uses the same check on a rewritten file, so the second pass that proves a rewrite
is a fixed point only re-runs the codemods that still have something to look at.  The codemod
tests run every case with and without the pre-check and require identical outcomes.

A file CPython's parser cannot read (newer syntax than the running Python, or not Python 3)
gets no facts; every codemod whose markers matched then runs, and libcst decides.
"""

from __future__ import annotations

import ast
import collections
import dataclasses
import os
import warnings
from collections.abc import Callable, Collection, Iterator, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the pre-check decides whether libcst is needed at all: it never imports it
    import libcst as cst

_LOOPS = (ast.For, ast.AsyncFor, ast.While)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


@dataclasses.dataclass
class SyntaxFacts:
    """What one file contains, as far as the codemods' pre-checks ask."""

    bare_except: bool = False
    # Names and attribute names called as whole statements: ``print(x)`` -> "print",
    # ``traceback.print_exc()`` -> "print_exc".
    statement_call_names: set[str] = dataclasses.field(default_factory=set)
    statement_call_attributes: set[str] = dataclasses.field(default_factory=set)
    # Local names bound by ``from traceback import ...`` (an alias of print_exc among them).
    traceback_imports: set[str] = dataclasses.field(default_factory=set)
    # A class whose own body defines ``class Config`` or assigns ``Config``.
    config_in_class: bool = False
    # Start lines of every ``X.commit(...)`` call, and the line spans of every loop.
    commit_lines: list[int] = dataclasses.field(default_factory=list)
    # Whether some call's name has "commit" or "save" in it besides ``.commit()`` (a project's
    # commit helper: ``store.session_commit()``, ``save_changes(db)``).
    commit_helper_call: bool = False
    loop_spans: list[tuple[int, int]] = dataclasses.field(default_factory=list)
    # A list, set or dict comprehension or a generator expression (loops written as expressions).
    comprehension: bool = False
    # Decorator names (``@app.route(...)`` -> "route") and base class names (``views.MethodView``
    # -> "MethodView") of every definition.
    decorator_names: set[str] = dataclasses.field(default_factory=set)
    base_names: set[str] = dataclasses.field(default_factory=set)
    # ``==`` / ``!=`` comparisons, and how many of them are (in) the test of an ``assert``.
    equality_compares: int = 0
    equality_compares_in_asserts: int = 0
    # The tree the facts come from, for a pre-check that needs a closer look than these facts
    # (query-in-loop asks whether a loop iterates over a query); None when not known.
    tree: ast.Module | None = dataclasses.field(default=None, repr=False, compare=False)
    # The nodes of ``tree`` by their type, in the order ast.walk meets them: a closer look reads
    # the kinds it asks about without walking the tree again.
    by_kind: dict[type[ast.AST], list[ast.AST]] = dataclasses.field(default_factory=dict, repr=False, compare=False)

    def nodes(self, *kinds: type[ast.AST]) -> list[ast.AST]:
        """The nodes of ``tree`` of these kinds (kind after kind, each in ast.walk's order)."""
        if not self.by_kind and self.tree is not None:
            for node in walk_ast(self.tree):
                self.by_kind.setdefault(type(node), []).append(node)
        return [node for kind in kinds for node in self.by_kind.get(kind, ())]

    def commit_in_loop(self) -> bool:
        if not self.commit_lines or not self.loop_spans:
            return False
        return any(start <= line <= end for line in self.commit_lines for start, end in self.loop_spans)


def parse(source: bytes) -> ast.Module | None:
    """CPython's tree of ``source``, or None when CPython cannot parse it."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escape sequences and the like: not our business
            return ast.parse(source)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return None


def walk_ast(node: ast.AST) -> Iterator[ast.AST]:
    """``ast.walk(node)``: the same nodes in the same (breadth-first) order, for about 60% of its
    cost (``ast.walk`` goes through two generators per node, ``iter_child_nodes`` and
    ``iter_fields``)."""
    found = [node]
    append = found.append
    index = 0
    while index < len(found):
        node = found[index]
        index += 1
        # add_children(node, found), inlined: this loop runs for every node of every walk.
        for name in node._fields:
            value = getattr(node, name, None)
            if type(value) is list:
                for item in value:
                    if isinstance(item, ast.AST):
                        append(item)
            elif isinstance(value, ast.AST):
                append(value)
        yield node


def add_children(node: ast.AST, into: list[ast.AST], leave_out: tuple[type, ...] = ()) -> None:
    """Append what ``ast.iter_child_nodes(node)`` yields to ``into``, in its order, but those
    whose type is one of ``leave_out``."""
    for name in node._fields:
        value = getattr(node, name, None)
        if type(value) is list:
            for item in value:
                if isinstance(item, ast.AST) and type(item) not in leave_out:
                    into.append(item)
        elif isinstance(value, ast.AST) and type(value) not in leave_out:
            into.append(value)


_last_parse: list[Any] = [None, None]


def parse_shared(source: bytes) -> ast.Module | None:
    """:func:`parse`, shared by everything that asks about the same text one after another
    (the pre-check, the name facts, the indexers of one file, the check of a rewrite).

    Callers must not change the tree."""
    last = _last_parse[0]
    if last is not source and last != source:
        kept = _kept.get(id(source))
        _last_parse[0], _last_parse[1] = source, kept[1] if kept is not None and kept[0] is source else parse(source)
    return _last_parse[1]


# Trees parsed before the step that asks for them again: id(text) -> (text, tree).  The engine
# keeps here the trees of the few files whose syntax decided whether a whole-tree index is
# needed (it holds those trees anyway), and the index pass, which parses them next, takes them.
# The text is kept with its tree, so its id is not reused meanwhile.
_kept: dict[int, tuple[bytes, ast.Module | None]] = {}


def keep(source: bytes, tree: ast.Module | None) -> None:
    """Let :func:`parse_shared` give ``tree`` (the parse of ``source``) for this very text object
    until :func:`forget_kept`."""
    _kept[id(source)] = (source, tree)


def forget_kept() -> None:
    _kept.clear()


# CPython trees the index pass parsed of files the rewriting pass of the same process will
# parse again (a codemod runs on them whatever the whole-tree indexes say: their name facts,
# print-to-logging's and query-in-loop's statement filters ask for the tree): path -> (text, tree).
# A tree takes about 30 times its text, hence a budget (superset's 111 such files: 0.7 MB of
# text, about 20 MB of trees); past it, the rewriting pass parses again.  Each is dropped when
# the rewriting pass takes it.
_handed: dict[str, tuple[bytes, ast.Module]] = {}
_handed_bytes = [0]
HAND_OVER_BUDGET = 2 << 20  # bytes of text
_PROCESS = os.getpid()  # a forked worker's trees would never reach the rewriting pass


def hand_over(path: str, source: bytes, tree: ast.Module) -> None:
    """Keep ``tree`` (CPython's parse of ``source``, the text at ``path``) for :func:`take_over`,
    within the budget, in the process that imported this module (not in a forked worker)."""
    stale = _handed.pop(path, None)  # an earlier run's, never taken (its outcome was cached)
    if stale is not None:
        _handed_bytes[0] -= len(stale[0])
    if os.getpid() != _PROCESS or _handed_bytes[0] + len(source) > HAND_OVER_BUDGET:
        return
    _handed[path] = (source, tree)
    _handed_bytes[0] += len(source)


def take_over(path: str, source: bytes) -> None:
    """Drop the tree handed over for ``path``; if it is the parse of ``source``, make it the
    shared parse (what :func:`parse_shared` and :func:`parsed` give for ``source``)."""
    handed = _handed.pop(path, None)
    if handed is None:
        return
    _handed_bytes[0] -= len(handed[0])
    if handed[0] is source or handed[0] == source:
        _last_parse[0], _last_parse[1] = source, handed[1]


def parsed(source: bytes) -> ast.Module | None:
    """:func:`parse_shared`'s tree of ``source`` if it has one at hand (None: not parsed, or
    unparsable): for a question worth asking only when it costs no parse."""
    return _last_parse[1] if _last_parse[0] is source else None


# libcst's compound statements and the CPython nodes each stands for.
_COMPOUND = {
    "FunctionDef": (ast.FunctionDef, ast.AsyncFunctionDef),
    "ClassDef": (ast.ClassDef,),
    "If": (ast.If,),
    "For": (ast.For, ast.AsyncFor),
    "While": (ast.While,),
    "Try": (ast.Try,),
    "TryStar": (getattr(ast, "TryStar", ast.Try),),
    "With": (ast.With, ast.AsyncWith),
    "Match": (ast.Match,),
}


def statements_without(source: bytes, module: cst.Module, contains: Callable[[ast.AST], bool]) -> set[int] | None:
    """The ids of the statements of ``module`` (``source``'s libcst tree), at module level and in
    the bodies of functions and classes to any depth, in which CPython's tree of ``source`` has
    no node for which ``contains`` is true; None when that cannot be told (unparsable text, or
    CPython's statements do not line up with libcst's), so the caller visits everything.

    libcst puts ``a = 1; b = 2`` in one statement line, CPython makes two statements of it:
    each statement line takes as many CPython statements as it has small statements.
    """
    tree = parse_shared(source) if source else None
    if tree is None:
        return None
    found = _statements_with(tree, contains)
    skipped: set[int] = set()
    return skipped if _line_up(module.body, tree.body, found, skipped) else None


def _statements_with(tree: ast.Module, contains: Callable[[ast.AST], bool]) -> set[int]:
    """The ids of the statements of ``tree`` with a node ``contains`` accepts (themselves included)."""
    found: set[int] = set()
    parents: dict[int, ast.AST] = {}
    pending: collections.deque[ast.AST] = collections.deque([tree])
    while pending:
        node = pending.popleft()
        if contains(node):
            around: ast.AST | None = node
            while around is not None:
                if isinstance(around, ast.stmt):
                    if id(around) in found:
                        break  # and every statement around it
                    found.add(id(around))
                around = parents.get(id(around))
        children: list[ast.AST] = []
        add_children(node, children)
        for child in children:
            parents[id(child)] = node
        pending.extend(children)
    return found


_ALL_COMPOUND = tuple(kind for kinds in _COMPOUND.values() for kind in kinds)
_SCOPES = ("FunctionDef", "ClassDef")  # libcst's statements whose bodies are lined up too


def _line_up(statements: Sequence[cst.BaseStatement], nodes: list[ast.stmt], found: set[int], skipped: set[int]) -> bool:
    """Add to ``skipped`` the libcst ``statements`` whose CPython ``nodes`` are not in ``found``
    (and, inside functions and classes, their statements); False if the two do not line up."""
    import libcst as cst

    position = 0
    for statement in statements:
        count = len(statement.body) if isinstance(statement, cst.SimpleStatementLine) else 1
        group = nodes[position : position + count]
        if len(group) != count:
            return False
        name = type(statement).__name__
        kinds = _COMPOUND.get(name)
        if kinds is not None and not isinstance(group[0], kinds):
            return False
        if kinds is None and any(isinstance(node, _ALL_COMPOUND) for node in group):
            return False
        if not any(id(node) in found for node in group):
            skipped.add(id(statement))
        elif (
            name in _SCOPES
            and isinstance(statement.body, cst.IndentedBlock)  # type: ignore[attr-defined]
            and not _line_up(statement.body.body, group[0].body, found, skipped)  # type: ignore[attr-defined]
        ):
            return False
        position += count
    return position == len(nodes)


def facts_of(tree: ast.Module) -> SyntaxFacts:
    """One walk over ``tree`` collecting every fact a pre-check asks for.

    The walk is :func:`walk_ast`'s (the nodes in ``ast.walk``'s order) without the expression
    contexts (``Load``, ``Store``, ``Del``: a quarter of the nodes, and no pre-check asks about
    them), so ``by_kind`` has every node but those."""
    by_kind: collections.defaultdict[type[ast.AST], list[ast.AST]] = collections.defaultdict(list)
    facts = SyntaxFacts(tree=tree, by_kind=by_kind)
    found: list[ast.AST] = [tree]
    append = found.append
    for node in found:  # grows as it goes: breadth first, as ast.walk
        for name in node._fields:
            value = getattr(node, name, None)
            if type(value) is list:
                for item in value:
                    if isinstance(item, ast.AST):
                        append(item)
            elif isinstance(value, ast.AST) and name != "ctx":  # only expressions' contexts are named so
                append(value)
        kind = type(node)
        by_kind[kind].append(node)
        if kind is ast.ExceptHandler:
            if node.type is None:  # type: ignore[attr-defined]
                facts.bare_except = True
        elif kind is ast.Expr:
            value = node.value  # type: ignore[attr-defined]
            if type(value) is ast.Call:
                func = value.func
                if type(func) is ast.Name:
                    facts.statement_call_names.add(func.id)
                elif type(func) is ast.Attribute:
                    facts.statement_call_attributes.add(func.attr)
        elif kind is ast.Call:
            func = node.func  # type: ignore[attr-defined]
            if type(func) is ast.Attribute and func.attr == "commit":
                facts.commit_lines.append(node.lineno)  # type: ignore[attr-defined]
            elif not facts.commit_helper_call:
                name = func.attr if type(func) is ast.Attribute else func.id if type(func) is ast.Name else ""
                facts.commit_helper_call = "commit" in name or "save" in name
        elif kind in _COMPREHENSIONS:
            facts.comprehension = True
        elif kind in _LOOPS:
            facts.loop_spans.append((node.lineno, node.end_lineno or node.lineno))  # type: ignore[attr-defined]
        elif kind in _DEFINITIONS:
            _definition(node, facts)  # type: ignore[arg-type]
        elif kind is ast.ImportFrom and node.module == "traceback":  # type: ignore[attr-defined]
            facts.traceback_imports.update(alias.asname or alias.name for alias in node.names)  # type: ignore[attr-defined]
        elif kind is ast.Compare:
            if is_equality(node):
                facts.equality_compares += 1
        elif kind is ast.Assert:
            facts.equality_compares_in_asserts += sum(1 for n in walk_ast(node.test) if is_equality(n))  # type: ignore[attr-defined]
    return facts


def is_equality(node: ast.AST) -> bool:
    """An ``==`` or ``!=`` comparison (perhaps chained with others)."""
    return type(node) is ast.Compare and any(type(op) in (ast.Eq, ast.NotEq) for op in node.ops)  # type: ignore[attr-defined]


def _definition(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef, facts: SyntaxFacts) -> None:
    for decorator in node.decorator_list:
        name = _last_name(decorator.func if isinstance(decorator, ast.Call) else decorator)
        if name:
            facts.decorator_names.add(name)
    if not isinstance(node, ast.ClassDef):
        return
    for base in node.bases:
        name = _last_name(base)
        if name:
            facts.base_names.add(name)
    if not facts.config_in_class:
        facts.config_in_class = any(_defines_config(statement) for statement in node.body)


def _last_name(expr: ast.expr) -> str:
    if isinstance(expr, ast.Name):
        return expr.id
    if isinstance(expr, ast.Attribute):
        return expr.attr
    return ""


def _defines_config(statement: ast.stmt) -> bool:
    if isinstance(statement, ast.ClassDef):
        return statement.name == "Config"
    if isinstance(statement, ast.Assign):
        return any(isinstance(t, ast.Name) and t.id == "Config" for t in statement.targets)
    if isinstance(statement, ast.AnnAssign):
        return isinstance(statement.target, ast.Name) and statement.target.id == "Config"
    return False


def matches_any(names: Collection[str], wanted: Collection[str]) -> bool:
    """Whether one of ``names`` is one of ``wanted`` or the last part of a dotted one."""
    return any(name in names or name.rpartition(".")[2] in names for name in wanted)
