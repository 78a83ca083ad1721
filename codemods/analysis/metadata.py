"""Metadata of one module resolved on first use: scopes, qualified names, positions, parents."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import libcst as cst
from libcst.metadata import (
    BaseMetadataProvider,
    CodePosition,
    CodeRange,
    MetadataWrapper,
    QualifiedName,
    QualifiedNameProvider,
    Scope,
    ScopeProvider,
)

from codemods.analysis.names import NameFacts
from codemods.analysis.nodes import dotted_name
from codemods.speedups import walk
from codemods.speedups.positions import TreePositions, positions_of


class Metadata:
    """Metadata of one module, resolved on first use.

    Most files that mention ``commit`` have no route; scope and qualified-name analysis of a
    large module costs seconds, so nothing is computed until a route needs it.
    """

    def __init__(self, module: cst.Module, package: Sequence[str], facts: NameFacts | None = None) -> None:
        # unsafe_skip_copy: the lookups are keyed by the nodes of the tree being transformed.
        self._wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
        self._package = tuple(package)
        self._resolved: dict[type[BaseMetadataProvider[Any]], Mapping[cst.CSTNode, Any]] = {}
        self._parents: dict[cst.CSTNode, cst.CSTNode] | None = None
        self._positions: TreePositions | None = None
        self._facts = facts  # name facts of the module's text, for answers without the providers

    def refers_to_any(self, node: cst.CSTNode, prefixes: Sequence[str]) -> set[str] | None:
        """The qualified names of ``node`` that are one of ``prefixes`` or under one, when the
        name facts decide it (see codemods.analysis.names); None when only the providers can tell."""
        return self.qualified_names_where(node, lambda name: any(name == p or name.startswith(p + ".") for p in prefixes))

    def qualified_names_where(self, node: cst.CSTNode, under: Callable[[str], bool]) -> set[str] | None:
        """The qualified names of ``node`` that ``under`` accepts, when the name facts decide
        it; None when only the providers can tell.  Names are read as libcst does: calls and
        subscripts in the chain are skipped (``request.get_json().get`` -> ``request.get_json.get``)."""
        facts, dotted = self._facts, dotted_name(node, through_calls=True)
        if facts is None or dotted is None:
            return None
        head, _, rest = dotted.partition(".")
        if facts.bindings[head] == 1 and head in facts.imports:
            target = self._absolute(facts.imports[head] + (f".{rest}" if rest else ""))
            return {target} if under(target) else set()
        if head not in facts.imported and not under(dotted):
            # Not imported: its qualified names are the dotted text, or it under "<locals>" of a
            # function or "builtins.", none of them under an imported prefix.
            return set()
        return None

    def _lookup(self, provider: type[BaseMetadataProvider[Any]], node: cst.CSTNode) -> Any:
        if provider not in self._resolved:
            self._resolved[provider] = self._wrapper.resolve(provider)
        value = self._resolved[provider].get(node)
        # QualifiedNameProvider stores lazy values (callables); no other value here is callable.
        return value() if callable(value) else value

    def scope(self, node: cst.CSTNode) -> Scope | None:
        return self._lookup(ScopeProvider, node)

    def qualified_names(self, node: cst.CSTNode) -> set[QualifiedName]:
        """Qualified names, relative imports made absolute (``..tenancy.x`` -> ``app.tenancy.x``)."""
        return {QualifiedName(self._absolute(n.name), n.source) for n in self._lookup(QualifiedNameProvider, node) or ()}

    def _absolute(self, name: str) -> str:
        """``..tenancy.x`` -> ``app.tenancy.x`` in package ``app.routes`` (as far as it reaches)."""
        dots = len(name) - len(name.lstrip("."))
        if dots and dots - 1 <= len(self._package):
            base = self._package[: len(self._package) - (dots - 1)]
            return ".".join([*base, name[dots:]])
        return name

    def position(self, node: cst.CSTNode) -> CodeRange:
        """What PositionProvider gives, from one code generation shared with the findings."""
        if self._positions is None:
            self._positions = positions_of(self._wrapper.module)
        return self._positions.range(node)

    def parent(self, node: cst.CSTNode) -> cst.CSTNode | None:
        return self.parents().get(node)

    def parents(self) -> dict[cst.CSTNode, cst.CSTNode]:
        """Every node's parent (ParentNodeProvider's answer), computed once for the module."""
        if self._parents is None:
            self._parents = parents_of(self._wrapper.module)
        return self._parents

    def within(self, node: cst.CSTNode, start: CodeRange, end: CodeRange) -> bool:
        where = self.position(node)
        return position_key(where.start) >= position_key(start.start) and position_key(where.end) <= position_key(end.end)



def parents_of(module: cst.Module) -> dict[cst.CSTNode, cst.CSTNode]:
    """Each node's parent: what libcst's ParentNodeProvider gives, at a tenth of its cost (the
    fields walked directly, without the visitor machinery; see codemods.speedups.walk.parents)."""
    return walk.parents(module)


def position_key(position: CodePosition) -> tuple[int, int]:
    return (position.line, position.column)
