"""What names mean in a module: libcst's scope analysis, computed only when it is needed.

libcst's ScopeProvider answers every question the logging codemods ask (is ``Exception``
rebound here, is ``logger`` a local name at this call, is this ``sys.stderr``), but it costs
about four times the parse of the file, and in nearly every file the answer is obvious: the
name is bound nowhere, or exactly once by an import.  :class:`Names` answers from
:class:`NameFacts`, a walk over CPython's parse of the same text (a small fraction of that
cost), whenever those facts *decide* the question, and asks libcst's scopes only when they do
not.  Each fast answer is the answer the scope analysis would give; the codemod tests run
every case both ways (``exact=True`` skips the fast answers) and require the same outcome.

The facts over-approximate bindings on purpose: every way of binding a name CPython's tree
shows (assignments and deletions of any kind, parameters, ``def``/``class`` names, imports,
``except ... as``, ``match`` captures, ``global``/``nonlocal``) counts, so "bound nowhere" and
"bound exactly once" are never claimed when libcst would see more.
"""

from __future__ import annotations

import ast
import collections
import dataclasses
from collections.abc import Collection, Mapping
from typing import Any

import libcst as cst
from libcst.metadata import (
    BuiltinAssignment,
    ClassScope,
    GlobalScope,
    MetadataWrapper,
    Scope,
    ScopeProvider,
)

from codemods.analysis import precheck
from codemods.analysis.nodes import dotted_name

_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


@dataclasses.dataclass
class NameFacts:
    """Which names one module binds, and where, from CPython's tree."""

    # Binding sites per name, anywhere in the module, and reads of each name.
    bindings: collections.Counter[str] = dataclasses.field(default_factory=collections.Counter)
    loads: collections.Counter[str] = dataclasses.field(default_factory=collections.Counter)
    # Names bound somewhere other than the module's own scope (and every global/nonlocal name).
    nested: set[str] = dataclasses.field(default_factory=set)
    # Names bound by an import anywhere; the simple imports (``import a``, ``import a.b as c``,
    # ``from m import n [as c]``): local name -> what it stands for, at module level and anywhere.
    # (``from m import *`` binds nothing here, as in libcst's scopes, which ignore it too.)
    imported: set[str] = dataclasses.field(default_factory=set)
    imports: dict[str, str] = dataclasses.field(default_factory=dict)
    imports_anywhere: dict[str, str] = dataclasses.field(default_factory=dict)


def name_facts(source: bytes) -> NameFacts | None:
    """The facts of ``source``; None when CPython cannot parse it."""
    tree = precheck.parse_shared(source)
    if tree is None:
        return None
    facts = NameFacts()
    # A depth-first walk: ``pending`` and ``nesting`` are one stack of (node, inside a function
    # or class); a node's children are ``ast.iter_child_nodes``' (precheck.add_children).
    # CPython's parser makes nodes of exactly these classes: tests by type equal isinstance.
    pending: list[ast.AST] = [tree]
    nesting: list[bool] = [False]
    loads = facts.loads
    while pending:
        node, nested = pending.pop(), nesting.pop()
        kind = type(node)
        if kind is ast.Name and type(node.ctx) is ast.Load:  # type: ignore[attr-defined]
            loads[node.id] += 1  # type: ignore[attr-defined]  # most names: _record's first case
        elif kind is ast.Name or kind in _BINDERS:
            _record(node, nested, facts)
        inner = nested or kind in _SCOPE_TYPES
        count = len(pending)
        precheck.add_children(node, pending)
        if len(pending) > count:
            nesting.extend([inner] * (len(pending) - count))
    return facts


_SCOPE_TYPES = frozenset(_SCOPES)
# The nodes _record does something for, besides names.
_BINDERS = frozenset(
    (
        ast.arg, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom, ast.ExceptHandler,
        ast.Global, ast.Nonlocal, ast.MatchAs, ast.MatchStar, ast.MatchMapping,
    )
)  # fmt: skip


def _record(node: ast.AST, nested: bool, facts: NameFacts) -> None:
    def bind(name: str | None, *, in_nested: bool = nested) -> None:
        if name:
            facts.bindings[name] += 1
            if in_nested:
                facts.nested.add(name)

    if isinstance(node, ast.Name):
        if isinstance(node.ctx, ast.Load):
            facts.loads[node.id] += 1
        else:
            bind(node.id)
    elif isinstance(node, ast.arg):
        bind(node.arg, in_nested=True)
    elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        bind(node.name)
    elif isinstance(node, ast.Import):
        for alias in node.names:
            local = alias.asname or alias.name.split(".")[0]
            bind(local)
            facts.imported.add(local)
            if alias.asname or "." not in alias.name:
                facts.imports_anywhere[local] = alias.name
                if not nested:
                    facts.imports[local] = alias.name
    elif isinstance(node, ast.ImportFrom):
        for alias in node.names:
            if alias.name == "*":
                continue
            local = alias.asname or alias.name
            bind(local)
            facts.imported.add(local)
            # A relative import's qualified names start with its dots in libcst too, so they
            # never equal an absolute name such as "sys.stderr".
            module = "." * node.level + (node.module or "")
            target = f"{module}.{alias.name}" if node.module else f"{module}{alias.name}"
            if module:
                facts.imports_anywhere[local] = target
                if not nested:
                    facts.imports[local] = target
    elif isinstance(node, ast.ExceptHandler):
        bind(node.name)
    elif isinstance(node, (ast.Global, ast.Nonlocal)):
        for name in node.names:
            bind(name, in_nested=True)
    elif isinstance(node, (ast.MatchAs, ast.MatchStar)):
        bind(node.name)
    elif isinstance(node, ast.MatchMapping):
        bind(node.rest)


class Names:
    """The name questions of one codemod run over one tree.

    ``source`` is the text of that tree; ``wrapper`` its MetadataWrapper, which computes (and
    keeps, for the next codemod over the same tree) the scopes on the first question the facts
    cannot decide.  ``exact=True`` always asks the scopes.
    """

    def __init__(self, source: bytes, wrapper: MetadataWrapper, *, exact: bool = False) -> None:
        self.source = source
        self._wrapper = wrapper
        self._exact = exact or not source
        self._facts_computed = False
        self._facts_value: NameFacts | None = None
        self._scopes: Mapping[cst.CSTNode, Scope | None] | None = None
        self._names_in_use: set[str] | None = None

    @property
    def _facts(self) -> NameFacts | None:
        if not self._facts_computed:
            self._facts_value = None if self._exact else shared_name_facts(self.source)
            self._facts_computed = True
        return self._facts_value

    @property
    def scopes(self) -> Mapping[cst.CSTNode, Scope | None]:
        if self._scopes is None:
            self._scopes = self._wrapper.resolve(ScopeProvider)
        return self._scopes

    def scope_of(self, node: cst.CSTNode) -> Scope | None:
        return self.scopes.get(node)

    # -- questions ----------------------------------------------------------------------------

    def is_rebound(self, node: cst.CSTNode, name: str) -> bool:
        """Whether ``name`` at ``node`` may be something other than the builtin."""
        facts = self._facts
        if facts is not None and facts.bindings[name] == 0:
            return False
        scope = self.scope_of(node)
        if scope is None:
            return False
        return any(not isinstance(a, BuiltinAssignment) for a in scope[name])

    def bound_anywhere(self, name: str) -> bool:
        """Whether any scope of the module assigns ``name``."""
        facts = self._facts
        if facts is not None and facts.bindings[name] == 0:
            return False
        scopes = {id(s): s for s in self.scopes.values() if s is not None}
        return any(scope.assignments[name] for scope in scopes.values())

    def bound_once_globally(self, module: cst.Module, name: str) -> bool:
        """Whether the module's global scope assigns ``name`` exactly once (or has no scopes)."""
        facts = self._facts
        if facts is not None and facts.bindings[name] == 1:
            return True  # the one binding the caller found at module level
        scope = self.scope_of(module)
        if not isinstance(scope, GlobalScope):
            return True
        return len(scope.assignments[name]) == 1

    def in_use(self, name: str) -> bool:
        """Whether ``name`` is read or bound anywhere (attribute and keyword names included)."""
        if not self._exact and name.encode() not in self.source:
            return False  # the text has no such identifier at all
        if self._names_in_use is None:
            scopes = self.scopes
            names = {node.value for node in scopes if isinstance(node, cst.Name)}
            for scope in {id(s): s for s in scopes.values() if s is not None}.values():
                names.update(assignment.name for assignment in scope.assignments)
            self._names_in_use = names
        return name in self._names_in_use

    def local_at(self, node: cst.CSTNode, name: str) -> bool:
        """Whether ``name`` at ``node`` is bound by a function (or the innermost class) around it."""
        facts = self._facts
        if facts is not None and name not in facts.nested:
            return False  # bound, if at all, only at module level
        scope = self.scope_of(node)
        innermost = True
        while scope is not None and not isinstance(scope, GlobalScope):
            # A class body's names are visible in that body only, not in its methods.
            visible = innermost or not isinstance(scope, ClassScope)
            if visible and any(not isinstance(a, BuiltinAssignment) for a in scope.assignments[name]):
                return True
            innermost = False
            scope = scope.parent
        return False

    def refers_to(self, node: cst.CSTNode, wanted: Collection[str]) -> set[str]:
        """Which of the dotted names ``wanted`` (such as ``sys.stderr``) ``node`` refers to."""
        fast = self._fast_qualified(node, wanted)
        if fast is not None:
            return fast
        return self.qualified_names(node) & set(wanted)

    def qualified_names(self, node: cst.CSTNode) -> set[str]:
        """Everything ``node`` (a name or attribute) may refer to, from the scopes."""
        scope = self.scope_of(node)
        if scope is None:
            return set()
        return {q.name for q in scope.get_qualified_names_for(node)}

    def _fast_qualified(self, node: cst.CSTNode, wanted: Collection[str]) -> set[str] | None:
        facts = self._facts
        if facts is None or any(w.startswith("builtins.") for w in wanted):
            return None
        if isinstance(node, cst.Attribute) and not any(w.rpartition(".")[2] == node.attr.value for w in wanted):
            return set()  # every qualified name of ``x.attr`` ends in ".attr"
        dotted = dotted_name(node) if isinstance(node, (cst.Name, cst.Attribute)) else None
        if dotted is None:
            return None
        head, _, rest = dotted.partition(".")
        suffix = f".{rest}" if rest else ""
        if facts.bindings[head] == 1 and head in facts.imports:
            return {facts.imports[head] + suffix} & set(wanted)
        if facts.bindings[head] == 1 and head in facts.imports_anywhere:
            # One import inside a function or class: where it is visible the name is what it
            # imports, elsewhere it resolves to nothing imported.
            if not {facts.imports_anywhere[head] + suffix, dotted} & set(wanted):
                return set()
            return None
        if head not in facts.imported and dotted not in wanted:
            # No import binds the head: its qualified names are the dotted text itself (or it
            # under "<locals>" of a function, or "builtins."), never another module's name.
            return set()
        return None


_last: list[Any] = [None, None]


def shared_name_facts(source: bytes) -> NameFacts | None:
    """The facts of the text the last codemod asked about: codemods over one tree share them."""
    if _last[0] is not source:
        _last[0], _last[1] = source, name_facts(source)
    return _last[1]
