"""The Pydantic models of a whole tree: which classes are models or settings, through imports,
re-exports and inheritance across modules (read with ``ast``, module by module), and which are
on the v1 API.  pydantic-config builds it in the whole-tree pass; other Pydantic rules share it."""

from __future__ import annotations

import ast
import dataclasses
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from codemods.analysis import precheck
from codemods.analysis.paths import module_name
from codemods.analysis.pydantic_version import v1_evidence


MODEL_ROOTS = frozenset({"pydantic.BaseModel", "pydantic.main.BaseModel", "pydantic.generics.GenericModel"})



SETTINGS_ROOTS = frozenset(
    {
        "pydantic.BaseSettings",
        "pydantic.env_settings.BaseSettings",
        "pydantic_settings.BaseSettings",
        "pydantic_settings.main.BaseSettings",
    }
)



_PYDANTIC_PACKAGES = ("pydantic", "pydantic_settings")



# Bases that never make a class a Pydantic model (a class with only these and a Config is not
# reported as undecidable).
_NOT_MODELS = frozenset(
    {
        "object", "abc.ABC", "ABC", "typing.Generic", "Generic", "typing.Protocol", "typing_extensions.Protocol",
        "Exception", "BaseException", "enum.Enum", "enum.IntEnum", "str", "int", "dict", "list",
        "typing.NamedTuple", "typing.TypedDict", "typing_extensions.TypedDict",
    }
)  # fmt: skip



UNRESOLVED = "?"  # prefix of a base name the file's imports do not explain



@dataclasses.dataclass(frozen=True)
class ClassFacts:
    qualname: str  # module.Outer.Inner (functions count as a level, without <locals>)
    # One entry per base: every dotted name the base expression may denote.  "?Name" marks a
    # name no import explains (relative imports above the scanned folder, builtins, names a star
    # import may bind); "module.*.Name" is Name as bound by ``from module import *``.
    bases: tuple[tuple[str, ...], ...]
    has_config: bool = False  # its body defines ``class Config``



@dataclasses.dataclass(frozen=True)
class FileFacts:
    module: str
    classes: tuple[ClassFacts, ...]
    imports: tuple[tuple[str, tuple[str, ...]], ...]  # module-level name -> dotted targets (re-exports)
    stars: tuple[str, ...] = ()  # modules this one star-imports at module level
    exports: tuple[str, ...] | None = None  # a literal ``__all__``; None: none, or not a literal
    # A module with no class with bases is not parsed by the index pass: its text is kept and its
    # imports are read only if a name is looked up through it (see _TreeResolver.names).
    unparsed: bytes | None = None
    package: str = ""  # what its relative imports are relative to
    v1_only: str | None = None  # "path, line N: why" if the file uses what only Pydantic 1 has



@dataclasses.dataclass(frozen=True)
class ModelIndex:
    """The Pydantic models of the scanned tree, by module-qualified class name."""

    models: frozenset[str]
    settings: frozenset[str]  # a subset of models
    # Classes on the Pydantic v1 API (a pydantic.v1 or *.pydantic_v1 base, however far up and
    # through however many re-exports), with the v1 base they derive from: their Config is right
    # as it is, and is reported so.
    v1_api: tuple[tuple[str, str], ...] = ()
    # Classes with a base that may be on the v1 API or something else (a fallback import, a star
    # import), with that v1 base: not provably a v2 model, so reported and not converted.
    v1_maybe: tuple[tuple[str, str], ...] = ()
    # Classes with a ``class Config`` that are not known models because a base comes from
    # outside the scanned folder, with that base: reported, since nobody can tell from here.
    unknown: tuple[tuple[str, str], ...] = ()
    # "path, line N: why" of the first file whose code runs only on Pydantic 1 (see
    # analysis/pydantic_version): the project is still on v1, where the v2 API breaks it.
    v1_project: str | None = None



# Modules that are (or re-export) the Pydantic v1 API under Pydantic 2: pydantic.v1, and the
# compatibility shims libraries ship, such as langchain_core.pydantic_v1.
V1_API = re.compile(r"(^|\.)pydantic(\.v1|_v1)\.")



_CLASS_WITH_BASES = re.compile(rb"^[ \t]*class[ \t]+\w+[ \t]*\(", re.M)



_CLASS_NAME = re.compile(rb"^[ \t]*class[ \t]+(\w+)", re.M)



_STAR = ".*."  # "module.*.Name": Name as ``from module import *`` binds it, if it does



_MAX_REEXPORTS = 40  # a longer chain of re-exports is given up on (it only grows, like a.b -> a.b.b)



def _dotted(expr: ast.expr) -> str | None:
    if isinstance(expr, ast.Name):
        return expr.id
    if isinstance(expr, ast.Attribute):
        head = _dotted(expr.value)
        return f"{head}.{expr.attr}" if head else None
    if isinstance(expr, ast.Subscript):  # Generic[T], GenericModel[T]
        return _dotted(expr.value)
    return None



def _absolute_module(package: str, level: int, module: str | None) -> str | None:
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



def join_name(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name



def _literal_names(expr: ast.expr) -> list[str] | None:
    """The strings of a literal list or tuple of strings (an ``__all__``), else None."""
    if not isinstance(expr, (ast.List, ast.Tuple)):
        return None
    names = [e.value for e in expr.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
    return names if len(names) == len(expr.elts) else None



def _touches_all(stmt: ast.stmt) -> bool:
    """Whether ``stmt`` changes ``__all__`` other than as a literal (``__all__.extend(...)``, ...)."""
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
        func = stmt.value.func
        return isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "__all__"
    targets = stmt.targets if isinstance(stmt, ast.Assign) else [getattr(stmt, "target", None)]
    return any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets)



class _FileIndexer:
    """Walks one file's ``ast`` collecting classes and the names its imports bind."""

    def __init__(self, module: str, package: str) -> None:
        self.module = module
        self.package = package
        self.classes: list[ClassFacts] = []
        self.module_scope: dict[str, set[str]] = {}
        self.defined: set[str] = set()  # qualnames of the classes seen so far
        self.stars: list[str] = []
        self.exports: list[str] | None = None
        self.dynamic_exports = False

    def walk(self, body: Sequence[ast.stmt], prefix: str, scopes: list[dict[str, set[str]]]) -> None:
        scope = scopes[-1]
        for stmt in body:
            if isinstance(stmt, ast.Import):
                for alias in stmt.names:
                    if alias.asname:
                        scope.setdefault(alias.asname, set()).add(alias.name)
                    else:
                        head = alias.name.partition(".")[0]
                        scope.setdefault(head, set()).add(head)
            elif isinstance(stmt, ast.ImportFrom):
                source = _absolute_module(self.package, stmt.level, stmt.module)
                for alias in stmt.names:
                    if alias.name == "*":
                        if source is not None and source not in self.stars:
                            self.stars.append(source)  # only legal at module level
                        continue
                    target = UNRESOLVED + alias.name if source is None else join_name(source, alias.name)
                    scope.setdefault(alias.asname or alias.name, set()).add(target)
            elif isinstance(stmt, ast.ClassDef):
                qualname = join_name(prefix, stmt.name)
                bases = tuple(self.resolve(base, scopes) for base in stmt.bases)
                has_config = any(isinstance(s, ast.ClassDef) and s.name == "Config" for s in stmt.body)
                self.classes.append(ClassFacts(qualname, tuple(b for b in bases if b), has_config))
                self.defined.add(qualname)
                scope.setdefault(stmt.name, set()).add(qualname)
                self.walk(stmt.body, qualname, [*scopes, {}])
            elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.walk(stmt.body, join_name(prefix, stmt.name), [*scopes, {}])
            elif isinstance(stmt, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Expr)):
                if len(scopes) == 1 and _touches_all(stmt):
                    self.read_all(stmt)
                # `Model = pydantic.BaseModel`: an alias a class statement may use later.
                elif isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
                    if isinstance(stmt.value, (ast.Name, ast.Attribute)):
                        targets = self.resolve(stmt.value, scopes)
                        if targets:
                            scope.setdefault(stmt.targets[0].id, set()).update(targets)
            elif isinstance(stmt, (ast.If, ast.For, ast.While, ast.With, ast.AsyncWith, ast.AsyncFor)):
                self.walk(stmt.body, prefix, scopes)
                self.walk(getattr(stmt, "orelse", []), prefix, scopes)
            elif isinstance(stmt, (ast.Try, getattr(ast, "TryStar", ast.Try))):
                self.walk(stmt.body, prefix, scopes)
                for handler in stmt.handlers:
                    self.walk(handler.body, prefix, scopes)
                self.walk(stmt.orelse, prefix, scopes)
                self.walk(stmt.finalbody, prefix, scopes)

    def read_all(self, stmt: ast.stmt) -> None:
        """``__all__ = [...]`` and ``__all__ += [...]`` with literal names; anything else makes it unknown."""
        value = getattr(stmt, "value", None)
        literal = isinstance(stmt, (ast.Assign, ast.AnnAssign)) or (
            isinstance(stmt, ast.AugAssign) and isinstance(stmt.op, ast.Add)
        )
        names = _literal_names(value) if literal and value is not None else None
        if names is None:
            self.dynamic_exports = True
        else:
            self.exports = [*(self.exports or []), *names]

    def resolve(self, expr: ast.expr, scopes: list[dict[str, set[str]]]) -> tuple[str, ...]:
        dotted = _dotted(expr)
        if dotted is None:
            return ()
        head, dot, rest = dotted.partition(".")
        for scope in reversed(scopes[1:]):
            if head in scope:
                return tuple(sorted(target + dot + rest for target in scope[head]))
        # A module-level name: a star import before this point may bind it too (or rebind an
        # import of it; a class statement of this file is taken to bind it for good).
        bound = scopes[0].get(head, {UNRESOLVED + head})
        found = {target + dot + rest for target in bound}
        if not bound <= self.defined:
            found.update(star + _STAR + dotted for star in self.stars)
        return tuple(sorted(found))

    def facts(self) -> tuple[tuple[tuple[str, tuple[str, ...]], ...], tuple[str, ...], tuple[str, ...] | None]:
        """(imports, stars, exports) of the module: what other modules can import from it."""
        imports = tuple(
            (name, tuple(sorted(targets)))
            for name, targets in sorted(self.module_scope.items())
            if not any(t == join_name(self.module, name) for t in targets)
        )
        exports = None if self.exports is None or self.dynamic_exports else tuple(self.exports)
        return imports, tuple(self.stars), exports



@dataclasses.dataclass(frozen=True)
class _ModuleNames:
    """What one module of the tree binds at module level, as other modules import it."""

    imports: Mapping[str, tuple[str, ...]]
    stars: tuple[str, ...]
    exports: tuple[str, ...] | None



class _TreeResolver:
    """Resolves every class's bases across files, through re-exports, to the Pydantic roots."""

    def __init__(self, facts: Iterable[FileFacts]) -> None:
        self.bases: dict[str, tuple[tuple[str, ...], ...]] = {}
        self.with_config: set[str] = set()
        self.files: dict[str, FileFacts] = {}
        self.parsed: dict[str, _ModuleNames] = {}
        self.by_simple_name: dict[str, set[str]] = {}
        self.by_suffix: dict[str, set[str]] = {}
        self.packages: set[str] = set()
        self.module_by_suffix: dict[str, set[str]] = {}  # "shop.models" -> {"src.shop.models"}
        for file in facts:
            self.files[file.module] = file
            parts = file.module.split(".")
            self.packages.update(".".join(parts[:i]) for i in range(1, len(parts)))
            for i in range(1, len(parts)):
                self.module_by_suffix.setdefault(".".join(parts[i:]), set()).add(file.module)
            for cls in file.classes:
                self.bases[cls.qualname] = cls.bases
                if cls.has_config:
                    self.with_config.add(cls.qualname)
                names = cls.qualname.split(".")
                self.by_simple_name.setdefault(names[-1], set()).add(cls.qualname)
                for i in range(1, len(names) - 1):
                    self.by_suffix.setdefault(".".join(names[i:]), set()).add(cls.qualname)
        self.kinds: dict[str, tuple[bool, bool]] = {}
        self.v1: dict[str, tuple[str, bool] | None] = {}
        self.resolved: dict[str, frozenset[str]] = {}
        self.resolving: set[str] = set()
        self.cut = False  # a lookup met a cycle of re-exports: what it found is not memoised

    def index(self) -> ModelIndex:
        for qualname in self.bases:
            self.kind(qualname, set())
        models = frozenset(q for q, (model, _) in self.kinds.items() if model and q in self.bases)
        settings = frozenset(q for q, (_, is_settings) in self.kinds.items() if is_settings and q in self.bases)
        v1_api, v1_maybe, unknown = [], [], []
        for qualname in sorted(self.bases):
            v1 = self.v1_root(qualname, set())
            if v1 is not None and qualname not in models:
                (v1_api if v1[1] else v1_maybe).append((qualname, v1[0]))
            elif qualname in self.with_config and qualname not in models:
                outside = self.outside_base(qualname, set())
                if outside is not None:
                    unknown.append((qualname, outside))
        return ModelIndex(models, settings, tuple(v1_api), tuple(v1_maybe), tuple(unknown))

    def outside_base(self, node: str, visiting: set[str]) -> str | None:
        """A base of ``node`` (or of a tree class above it) that nothing in the tree defines."""
        if node in visiting or node not in self.bases:
            return None
        visiting.add(node)
        for candidate in (c for candidates in self.bases[node] for c in candidates):
            if _beyond_models(candidate):
                continue
            targets = self.targets(candidate)
            if not targets:  # a cycle of re-exports, or star imports that do not bind it
                return UNRESOLVED + candidate.rpartition(_STAR)[2] if _STAR in candidate else candidate
            for target in sorted(targets):
                if target in self.bases:
                    found = self.outside_base(target, visiting)
                    if found is not None:
                        return found
                elif not _beyond_models(target):
                    return target
        return None

    def v1_root(self, node: str, visiting: set[str]) -> tuple[str, bool] | None:
        """The Pydantic v1-API base ``node`` derives from (directly or through tree classes), and
        whether that is certain (False: a base may also be something else), or None."""
        if node in self.v1:
            return self.v1[node]
        if node in visiting or node not in self.bases:
            return None
        visiting.add(node)
        found: tuple[str, bool] | None = None
        for candidates in self.bases[node]:
            targets = self.base_targets(candidates)
            roots, certain = [], bool(targets)
            for target in sorted(targets):
                inherited = (target, True) if V1_API.search(target) else self.v1_root(target, visiting)
                if inherited is None:
                    certain = False
                else:
                    roots.append(inherited[0])
                    certain = certain and inherited[1]
            if roots and (found is None or (certain and not found[1])):
                found = (roots[0], certain)
        visiting.discard(node)
        self.v1[node] = found
        return found

    def kind(self, node: str, visiting: set[str]) -> tuple[bool, bool]:
        """(is a Pydantic model, is a settings class) for a class qualname or a root."""
        if node in SETTINGS_ROOTS:
            return True, True
        if node in MODEL_ROOTS:
            return True, False
        if node in self.kinds:
            return self.kinds[node]
        if node in visiting or node not in self.bases:
            return False, False
        visiting.add(node)
        model = settings = False
        for candidates in self.bases[node]:
            targets = self.base_targets(candidates)
            if not targets or any(not _is_root(t) and t not in self.bases for t in targets):
                continue  # a base we cannot pin down is not evidence of a model
            kinds = [self.kind(t, visiting) for t in targets]
            model = model or all(k[0] for k in kinds)
            settings = settings or all(k[1] for k in kinds)
        visiting.discard(node)
        self.kinds[node] = (model, settings)
        return model, settings

    def base_targets(self, candidates: tuple[str, ...]) -> frozenset[str]:
        return frozenset().union(*(self.targets(c) for c in candidates))

    def targets(self, name: str) -> frozenset[str]:
        """Everything ``name`` may denote once re-exports are followed: classes of the tree,
        Pydantic names and names from outside the tree (as written when nothing explains them).
        Empty when nothing can bind it (a cycle of re-exports, a star import that does not)."""
        if name in self.resolved:
            return self.resolved[name]
        if name in self.resolving:
            self.cut = True
            return frozenset()
        if len(self.resolving) > _MAX_REEXPORTS:
            return frozenset({name})
        self.resolving.add(name)
        outer, self.cut = self.cut, False
        found = self._targets(name)
        if not self.cut:
            self.resolved[name] = found
        self.cut = self.cut or outer
        self.resolving.discard(name)
        return found

    def _targets(self, name: str) -> frozenset[str]:
        if _STAR in name:
            module, _, dotted = name.partition(_STAR)
            if not self.star_binds(module, dotted.partition(".")[0], set()):
                return frozenset()
            return self.targets(f"{module}.{dotted}")
        if _is_root(name) or name in self.bases or V1_API.search(name) or _is_pydantic(name):
            return frozenset({name})
        if name.startswith(UNRESOLVED):
            return frozenset({self._unique(self.by_simple_name.get(name[1:].rpartition(".")[2], set())) or name})
        parts = name.split(".")
        for i in range(len(parts) - 1, 0, -1):  # a name re-exported by a module of the tree
            module = ".".join(parts[:i])
            if module not in self.files:
                module = self._unique(self.module_by_suffix.get(module, set())) or module
            bound = self.bound(module, parts[i])
            rest = "".join("." + p for p in parts[i + 1 :])
            found = frozenset().union(*(self.targets(t + rest) for t in bound))
            if found or any(_STAR not in t for t in bound):  # (a cycle of imports binds nothing)
                return found
        # The scanned folder is not the import root (src layout, or a sub-package scanned alone).
        suffix_match = set(self.by_suffix.get(name, set()))
        suffix_match.update(".".join(parts[i:]) for i in range(1, len(parts) - 1) if ".".join(parts[i:]) in self.bases)
        if suffix_match:
            return frozenset({self._unique(suffix_match) or name})
        package = ".".join(parts[:-1])
        if package in self.packages:  # re-exported by an __init__ that was not indexed
            inside = {q for q in self.by_simple_name.get(parts[-1], set()) if q.startswith(package + ".")}
            return frozenset({self._unique(inside) or name})
        return frozenset({name})

    def bound(self, module: str, name: str) -> set[str]:
        """What ``module`` binds ``name`` to at module level: its imports and aliases, and the
        star imports that may bind it (explicit or star, whichever runs last, so both)."""
        names = self.names(module)
        if names is None:
            return set()
        found = set(names.imports.get(name, ()))
        found.update(star + _STAR + name for star in names.stars)
        return found

    def star_binds(self, module: str, name: str, visiting: set[str]) -> bool:
        """Whether ``from module import *`` may bind ``name``: a module outside the tree may bind
        any public name; one of the tree binds what its ``__all__`` lists, or else the public
        names it binds (classes, imports, aliases, its own star imports)."""
        names = self.names(module)
        if names is None:
            return not name.startswith("_")
        if names.exports is not None:
            return name in names.exports
        if name.startswith("_") or module in visiting:
            return False
        visiting.add(module)
        return (
            join_name(module, name) in self.bases
            or name in names.imports
            or any(self.star_binds(star, name, visiting) for star in names.stars)
        )

    def names(self, module: str) -> _ModuleNames | None:
        """The module-level names of a module of the tree, read from its text on first use."""
        if module in self.parsed:
            return self.parsed[module]
        file = self.files.get(module)
        if file is None:
            return None
        if file.unparsed is None:
            names = _ModuleNames(dict(file.imports), file.stars, file.exports)
        else:
            tree = precheck.parse(file.unparsed)
            indexer = _FileIndexer(module, file.package)
            if tree is not None:
                indexer.walk(tree.body, module, [indexer.module_scope])
            imports, stars, exports = indexer.facts()
            names = _ModuleNames(dict(imports), stars, exports)
        self.parsed[module] = names
        return names

    @staticmethod
    def _unique(candidates: set[str]) -> str | None:
        return next(iter(candidates)) if len(candidates) == 1 else None



def _is_root(name: str) -> bool:
    return name in MODEL_ROOTS or name in SETTINGS_ROOTS



def _is_pydantic(name: str) -> bool:
    return name.partition(".")[0] in _PYDANTIC_PACKAGES



def _beyond_models(name: str) -> bool:
    """A base name that settles nothing about being a model: Pydantic's own, or never a model."""
    plain = name.removeprefix(UNRESOLVED)
    return _is_pydantic(plain) or plain in _NOT_MODELS


_last: list[Any] = [None, None, None]  # the path and text last asked about, and its facts


def index_file(path: str, source: bytes) -> FileFacts | None:
    """One file's facts for the model index (None: nothing in it can matter).

    Read once per file: pydantic-config's and pydantic-api's indexers ask one after the other."""
    if _last[0] != path or _last[1] is not source:
        _last[:] = [path, source, _index_file(path, source)]
    return _last[2]


def _index_file(path: str, source: bytes) -> FileFacts | None:
    module = module_name(path)
    package = module if path.rsplit("/", 1)[-1] == "__init__.py" else module.rpartition(".")[0]
    evidence = v1_evidence(path, source)
    v1_only = f"{path}, {evidence}" if evidence is not None else None
    if b"class" not in source or not _CLASS_WITH_BASES.search(source):
        # No class here can be a model, but its names keep the simple-name fallback honest,
        # and its imports may re-export a base: they are read only if a base is looked up
        # through this module, which few of the many such modules ever are.
        names = _CLASS_NAME.findall(source) if b"class" in source else []
        classes = tuple(ClassFacts(join_name(module, n.decode()), ()) for n in names)
        unparsed = source if b"import" in source else None
        if not classes and unparsed is None and v1_only is None:
            return None
        return FileFacts(module, classes, (), unparsed=unparsed, package=package, v1_only=v1_only)
    tree = precheck.parse_shared(source)  # route-commit's indexer reads the same file
    if tree is None:
        return None
    indexer = _FileIndexer(module, package)
    indexer.walk(tree.body, module, [indexer.module_scope])
    imports, stars, exports = indexer.facts()
    return FileFacts(module, tuple(indexer.classes), imports, stars, exports, package=package, v1_only=v1_only)


def build_model_index(facts: Iterable[object]) -> ModelIndex:
    """The index of a whole tree from its files' facts (anything that is not FileFacts is skipped)."""
    files = [f for f in facts if isinstance(f, FileFacts)]
    index = _TreeResolver(files).index()
    v1_project = min((f.v1_only for f in files if f.v1_only is not None), default=None)
    return dataclasses.replace(index, v1_project=v1_project) if v1_project is not None else index
