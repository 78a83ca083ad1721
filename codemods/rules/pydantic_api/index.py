"""pydantic-api's whole-tree facts: which names denote Pydantic models, and what those define.

pydantic-config's model index (every class that derives from a Pydantic base through classes,
aliases and re-exports of the scanned tree) is extended with the two things rewriting a method
call needs: the model classes that a name imported anywhere in the tree denotes once re-exports
are followed, and, for each model, the v1 method names that it, a class it derives from or a
class deriving from it defines (``.dict()`` on a model that overrides ``dict`` must keep
calling the override) and its field names.
"""

from __future__ import annotations

import ast
import dataclasses
import re
from collections.abc import Iterable, Mapping

from codemods.analysis import precheck
from codemods.analysis.paths import module_name
from codemods.analysis.precheck import walk_ast
from codemods.analysis.pydantic_models import (
    FileFacts,
    ModelIndex,
    _is_root,
    _TreeResolver,
)
from codemods.analysis.pydantic_models import index_file as model_index_file
from codemods.rules.pydantic_api.tables import (
    CLASS_METHODS,
    INSTANCE_METHODS,
    NO_EQUIVALENT,
    PYDANTIC,
)

WATCHED_METHODS = frozenset({*INSTANCE_METHODS, *CLASS_METHODS, *NO_EQUIVALENT})

# Text that only Pydantic v1 code has: a nested ``class Config``, v1 validators, GenericModel,
# BaseSettings from pydantic, v1-only Field and Config keywords, v1 class attributes.  A module
# with none of these is taken to be v2 code already, whose Optional fields are required on purpose.
_V1_ERA = re.compile(
    rb"\n[ \t]+class Config\b|@(?:pydantic\.)?(?:validator|root_validator)\b|\bGenericModel\b"
    rb"|from pydantic(?:\.env_settings)? import[^\n]*\bBaseSettings\b|\bpydantic\.BaseSettings\b"
    rb"|\b(?:orm_mode|allow_mutation|min_items|max_items|regex)\s*=|\b__fields__\b|\bupdate_forward_refs\b"
)


@dataclasses.dataclass(frozen=True)
class ClassMembers:
    qualname: str
    methods: tuple[str, ...]  # the watched v1 method names its body defines
    fields: tuple[str, ...]  # names annotated in its body


@dataclasses.dataclass(frozen=True)
class ApiFacts:
    module: str
    shared: FileFacts | None  # pydantic-config's facts of the file
    members: tuple[ClassMembers, ...] = ()
    wanted: tuple[str, ...] = ()  # dotted names the file imports or reads through a module import
    v1_era: bool = False  # the text shows Pydantic v1 code (see _V1_ERA)


@dataclasses.dataclass(frozen=True)
class ModelFacts:
    overridden: tuple[str, ...]  # watched methods defined by it, its tree ancestors or descendants
    fields: tuple[str, ...]  # its own and its tree ancestors' fields
    complete: bool  # every base is a class of the tree or a Pydantic base: ``fields`` is all of them


@dataclasses.dataclass(frozen=True)
class ApiIndex:
    models: frozenset[str] = frozenset()
    settings: frozenset[str] = frozenset()
    aliases: Mapping[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)  # dotted -> models
    facts: Mapping[str, ModelFacts] = dataclasses.field(default_factory=dict)
    # Modules that define a model or import one (a file without "pydantic" in its text and not
    # listed here has no expression known to be a model: the rule skips it).
    users: frozenset[str] = frozenset()
    # Modules whose text shows Pydantic v1 code: only their Optional fields get v1's default None.
    v1_modules: frozenset[str] = frozenset()
    # "path, line N: why" of the first file whose code runs only on Pydantic 1: the project
    # is still on v1, where the v2 methods do not exist.
    v1_project: str | None = None

    def models_of(self, dotted: str) -> frozenset[str]:
        """The models a dotted name (as a module imports it) denotes; empty if not only models."""
        if dotted in self.models:
            return frozenset({dotted})
        return frozenset(self.aliases.get(dotted, ()))


def index_file(path: str, source: bytes, markers: Iterable[bytes]) -> ApiFacts | None:
    shared = model_index_file(path, source)
    uses_api = any(marker in source for marker in markers)
    module = FileFactsPath(path)
    if not uses_api and (shared is None or shared.unparsed is not None):
        return ApiFacts(module.name, shared) if shared is not None else None
    tree = precheck.parse_shared(source)
    if tree is None:
        return ApiFacts(module.name, shared) if shared is not None else None
    members = tuple(_members(tree.body, module.name, ""))
    wanted = tuple(sorted(_wanted(tree, module.package))) if uses_api else ()
    return ApiFacts(module.name, shared, members, wanted, _V1_ERA.search(source) is not None)


@dataclasses.dataclass(frozen=True)
class FileFactsPath:
    path: str

    @property
    def name(self) -> str:
        return module_name(self.path)

    @property
    def package(self) -> str:
        return self.name if self.path.rsplit("/", 1)[-1] == "__init__.py" else self.name.rpartition(".")[0]


def _members(body: list[ast.stmt], module: str, prefix: str) -> Iterable[ClassMembers]:
    for statement in body:
        if isinstance(statement, ast.ClassDef):
            qualname = f"{prefix}.{statement.name}" if prefix else statement.name
            methods = {
                s.name for s in statement.body if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef))
            } & WATCHED_METHODS
            fields = [
                s.target.id for s in statement.body if isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name)
            ]
            yield ClassMembers(f"{module}.{qualname}", tuple(sorted(methods)), tuple(fields))
            yield from _members(statement.body, module, qualname)
        elif isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield from _members(statement.body, module, f"{prefix}.{statement.name}" if prefix else statement.name)
        elif isinstance(statement, (ast.If, ast.Try, ast.With, ast.For, ast.While)):
            for block in ("body", "orelse", "finalbody"):
                yield from _members(getattr(statement, block, []), module, prefix)
            for handler in getattr(statement, "handlers", []):
                yield from _members(handler.body, module, prefix)


def absolute_module(package: str, level: int, module: str | None) -> str | None:
    """The absolute name of ``from <level dots><module> import ...`` in ``package``; None above the root."""
    if level == 0:
        return module or ""
    parts = package.split(".") if package else []
    if level - 1 > len(parts):
        return None
    parts = parts[: len(parts) - (level - 1)]
    if module:
        parts.append(module)
    return ".".join(parts)


def _wanted(tree: ast.Module, package: str) -> set[str]:
    """Every ``module.name`` a from-import binds, and every dotted read through an imported module."""
    found: set[str] = set()
    modules: dict[str, str] = {}
    attributes: list[ast.Attribute] = []
    for node in walk_ast(tree):
        kind = type(node)
        if kind is ast.Attribute:
            attributes.append(node)  # type: ignore[arg-type]
        elif kind is ast.ImportFrom:
            source = absolute_module(package, node.level, node.module)  # type: ignore[attr-defined]
            if source is not None:
                found.update(
                    f"{source}.{alias.name}" if source else alias.name
                    for alias in node.names  # type: ignore[attr-defined]
                    if alias.name != "*"
                )
        elif kind is ast.Import:
            for alias in node.names:  # type: ignore[attr-defined]
                modules[alias.asname or alias.name.partition(".")[0]] = (
                    alias.name if alias.asname else alias.name.partition(".")[0]
                )
    for attribute in attributes if modules else ():
        root: ast.expr = attribute.value
        while type(root) is ast.Attribute:
            root = root.value  # type: ignore[attr-defined]
        if type(root) is ast.Name and root.id in modules:  # type: ignore[attr-defined]
            head, _, rest = (_dotted(attribute) or "").partition(".")
            found.add(f"{modules[head]}.{rest}")
    return found


def _dotted(expr: ast.expr) -> str | None:
    if isinstance(expr, ast.Name):
        return expr.id
    if isinstance(expr, ast.Attribute):
        head = _dotted(expr.value)
        return f"{head}.{expr.attr}" if head else None
    return None


def build_index(facts: Mapping[str, object]) -> ApiIndex:
    files = [f for f in facts.values() if isinstance(f, ApiFacts)]
    resolver = _TreeResolver(f.shared for f in files if f.shared is not None)
    base: ModelIndex = resolver.index()
    aliases: dict[str, tuple[str, ...]] = {}
    for name in sorted({w for f in files for w in f.wanted}):
        if name in base.models:
            continue
        targets = resolver.targets(name)
        if targets and all(t in base.models for t in targets):
            aliases[name] = tuple(sorted(targets))
    members = {m.qualname: m for f in files for m in f.members}
    users = frozenset(
        f.module
        for f in files
        if any(m.qualname in base.models for m in f.members) or any(w in base.models or w in aliases for w in f.wanted)
    )
    v1_modules = frozenset(f.module for f in files if f.v1_era)
    v1_project = min((f.shared.v1_only for f in files if f.shared is not None and f.shared.v1_only), default=None)
    return ApiIndex(
        base.models, base.settings, aliases, _model_facts(resolver, base, members), users, v1_modules, v1_project
    )


def _model_facts(
    resolver: _TreeResolver, base: ModelIndex, members: Mapping[str, ClassMembers]
) -> dict[str, ModelFacts]:
    parents: dict[str, set[str]] = {}
    complete: dict[str, bool] = {}
    for model in base.models:
        found, whole = set(), True
        for candidates in resolver.bases.get(model, ()):
            targets = resolver.base_targets(candidates)
            for target in targets:
                if target in resolver.bases:
                    found.add(target)
                elif not _is_root(target):
                    whole = False
            whole = whole and bool(targets)
        parents[model], complete[model] = found, whole
    children: dict[str, set[str]] = {}
    for child, found in parents.items():
        for parent in found:
            children.setdefault(parent, set()).add(child)

    def closure(start: str, edges: Mapping[str, set[str]]) -> set[str]:
        seen, pending = {start}, [start]
        while pending:
            for other in edges.get(pending.pop(), ()):
                if other not in seen:
                    seen.add(other)
                    pending.append(other)
        return seen

    result = {}
    for model in sorted(base.models):
        ancestors = closure(model, parents)
        family = ancestors | closure(model, children)
        overridden = {m for q in family if q in members for m in members[q].methods}
        fields = [f for q in sorted(ancestors) if q in members for f in members[q].fields]
        whole = all(complete.get(q, q in members) for q in ancestors)
        result[model] = ModelFacts(tuple(sorted(overridden)), tuple(sorted(set(fields))), whole)
    return result


def imports_pydantic(tree: ast.Module) -> bool:
    """Whether some import statement of ``tree`` (CPython's) imports from the pydantic package."""
    for node in walk_ast(tree):
        if isinstance(node, ast.Import):
            if any(alias.name.partition(".")[0] == PYDANTIC for alias in node.names):
                return True
        elif isinstance(node, ast.ImportFrom):
            if not node.level and (node.module or "").partition(".")[0] == PYDANTIC:
                return True
    return False
