"""How a route module imports its generated service module: spelled the way the route module
imports its own package, checked against the whole tree, never by a bare name that an installed
library or the standard library also answers to.

The import root (the folder on ``sys.path``) is read from the route module's absolute imports
that resolve to files of the tree: ``from chapter06.sqlalchemy.models import Post`` in
``chapter06/sqlalchemy/app.py`` puts the root above ``chapter06/``.  ``from sqlalchemy import
select`` says nothing about the root, although a folder ``chapter06/sqlalchemy/`` exists: its top
name is the SQLAlchemy library's, so it only counts when it names a module of the tree that is
not a package (``from sqlalchemy.models import Post``: the project does import its folder by that
name).
"""

from __future__ import annotations

import dataclasses
import functools
import sys
from collections.abc import Collection, Sequence

import libcst as cst

from codemods.analysis.installed import top_level_names
from codemods.analysis.nodes import dotted_name
from codemods.rules.route_commit.services import common_prefix

# Top-level names of libraries a web project commonly has installed (whether or not auditfix's
# own environment has them): a project folder of that name must not be imported by it.
WELL_KNOWN_LIBRARIES = frozenset(
    {
        "aiohttp", "alembic", "anyio", "attr", "attrs", "boto3", "celery", "click", "django", "fastapi",
        "flask", "flask_login", "flask_sqlalchemy", "flask_wtf", "gunicorn", "httpx", "jinja2", "jwt",
        "marshmallow", "numpy", "pandas", "passlib", "psycopg", "psycopg2", "pydantic", "pymongo", "pytest",
        "redis", "requests", "sqlalchemy", "sqlmodel", "starlette", "test", "tests", "typer", "uvicorn",
        "werkzeug", "wtforms", "yaml",
    }
)  # fmt: skip


@functools.cache
def library_names() -> frozenset[str]:
    """Top-level names that import something other than the project: the standard library,
    the distributions installed here (auditfix's own aside) and well-known libraries."""
    installed = {
        name
        for name, distributions in top_level_names().items()
        if "auditfix" not in distributions and name.isidentifier()
    }
    return frozenset(sys.stdlib_module_names) | WELL_KNOWN_LIBRARIES | installed


@dataclasses.dataclass(frozen=True)
class Spelling:
    """``from <'.' * level><module> import <name>``: the route's import of its service."""

    module: str
    name: str
    level: int
    names: tuple[str, ...]  # the module path it names, from the import root or the route's package

    def code(self) -> str:
        return f"from {'.' * self.level}{self.module} import {self.name}"


def module_path(parts: Sequence[str], known: Collection[str]) -> str | None:
    """The file ``parts`` (a dotted name split, from the scanned folder) names, if the tree has it."""
    if not parts:
        return None
    base = "/".join(parts)
    if f"{base}.py" in known:
        return f"{base}.py"
    if f"{base}/__init__.py" in known:
        return f"{base}/__init__.py"
    return None


def _is_package(parts: Sequence[str], known: Collection[str]) -> bool:
    prefix = "/".join(parts) + "/"
    return any(path.startswith(prefix) for path in known)


def _absolute_imports(module: cst.Module) -> tuple[list[str], bool]:
    """The dotted names of the module's absolute top-level imports, and whether it has relative ones."""
    names: list[str] = []
    relative = False
    for statement in module.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if isinstance(small, cst.ImportFrom) and small.relative:
                relative = True
            elif isinstance(small, cst.ImportFrom) and small.module is not None:
                base = dotted_name(small.module) or ""
                names.append(base)
                if not isinstance(small.names, cst.ImportStar):
                    names.extend(f"{base}.{alias.evaluated_name}" for alias in small.names)
            elif isinstance(small, cst.Import):
                names.extend(dotted_name(a.name) or "" for a in small.names)
    return [n for n in names if n], relative


def _evidence(name: str, package: Sequence[str], known: Collection[str]) -> list[int]:
    """The import roots (indexes into ``package``) from which ``name`` is a module of the tree."""
    parts = name.split(".")
    shadowed = parts[0] in library_names()
    roots = []
    for offset in range(len(package) + 1):
        target = [*package[:offset], *parts]
        found = module_path(target, known)
        if found is None:
            continue
        if shadowed and (len(parts) < 2 or found.endswith("/__init__.py")):
            continue  # `from sqlalchemy import select` names the library, not the folder
        roots.append(offset)
    return roots


def import_root(module: cst.Module, package: Sequence[str], known: Collection[str]) -> int | None:
    """The import root as an index into ``package`` if the module imports its own tree
    absolutely; None: relative imports (the default: they work wherever the package sits)."""
    names = _absolute_imports(module)[0]
    votes: dict[int, int] = {}
    for name in names:
        for offset in _evidence(name, package, known):
            own = name.split(".")[: len(package) - offset] == list(package[offset:])
            votes[offset] = votes.get(offset, 0) + (2 if own else 1)
    if votes:
        # The most imports agree; on a tie, the longer absolute path (fewer bare names).
        return max(sorted(votes), key=lambda offset: votes[offset])
    for name in names:  # the tree given may lack the modules imported (a partial run)
        top = name.split(".")[0]
        if top in package and top not in library_names():
            return package.index(top)
    return None


class RouteImports:
    """How one route module spells its imports of service modules (see :meth:`spell`).

    What its own imports say (its absolute imports, the import root they give) is a fact of the
    module: worked out on the first service spelled, then kept for its other routes.  One per
    route module and run: ``known`` is the tree's paths.
    """

    def __init__(self, route_module: cst.Module, route_package: Sequence[str], known: Collection[str]) -> None:
        self.route_module = route_module
        self.route_package = route_package
        self.known = known
        self._existing: dict[tuple[tuple[str, ...], str | None], tuple[Spelling, str | None] | None] = {}

    def existing(self, wanted: Sequence[str], class_name: str | None) -> tuple[Spelling, str | None] | None:
        """:func:`existing_import` of the route module, once per service module (and class)."""
        key = (tuple(wanted), class_name)
        if key not in self._existing:
            self._existing[key] = existing_import(self.route_module, self.route_package, wanted, class_name)
        return self._existing[key]

    @functools.cached_property
    def _root(self) -> tuple[bool, int | None, frozenset[str]]:
        """(uses relative imports?, the import root or None, the top names of its own imports from that root)."""
        names, uses_relative = _absolute_imports(self.route_module)
        root = import_root(self.route_module, self.route_package, self.known)
        if root is None and not self.route_package:
            root = 0
        if root is None:
            return uses_relative, None, frozenset()
        own = {name.split(".")[0] for name in names if root in _evidence(name, self.route_package, self.known)}
        return uses_relative, root, frozenset(own)

    def spell(self, service_package: Sequence[str], service_module: str, class_name: str | None) -> Spelling | str:
        """How the route imports the service (``class_name``: the "class" style's class), or why it cannot.

        The spelling is resolved back against the tree: it must name the service module's file
        from the route's import root (or package), and its first name must not be a library's
        unless the route module itself imports its folder by that name.
        """
        uses_relative, root, own = self._root
        route_package = self.route_package
        wanted = (*service_package, service_module)
        if root is not None:
            spelling = _spelled(service_package[root:], service_module, class_name, 0)
            problem = _check_absolute(spelling, route_package[:root], wanted, own)
            if problem is None:
                return spelling
            if not uses_relative:
                return f"not moved: {problem}, and the route module uses no relative imports"
        spelling = _relative(route_package, service_package, service_module, class_name)
        if _resolve_relative(spelling, route_package) != wanted:
            return f"not moved: `{spelling.code()}` would not import {'/'.join(wanted)}.py"
        return spelling


def _spelled(parts: Sequence[str], service_module: str, class_name: str | None, level: int) -> Spelling:
    """``from <level dots><parts> import <service_module>`` (or its service class)."""
    names = (*parts, service_module)
    if class_name is not None:
        return Spelling(".".join(names), class_name, level, names)
    return Spelling(".".join(parts), service_module, level, names)


def _relative(
    route_package: Sequence[str], service_package: Sequence[str], service_module: str, class_name: str | None
) -> Spelling:
    common = common_prefix(route_package, service_package)
    return _spelled(service_package[common:], service_module, class_name, len(route_package) - common + 1)


def _resolve_relative(spelling: Spelling, route_package: Sequence[str]) -> tuple[str, ...] | None:
    if spelling.level - 1 > len(route_package):
        return None
    return (*route_package[: len(route_package) - (spelling.level - 1)], *spelling.names)


def _check_absolute(
    spelling: Spelling, root: Sequence[str], wanted: Sequence[str], own_tops: Collection[str]
) -> str | None:
    """Why the absolute ``spelling`` would not import the generated module, if it would not."""
    if (*root, *spelling.names) != tuple(wanted):
        return f"`{spelling.code()}` would not import {'/'.join(wanted)}.py"
    top = spelling.names[0]
    if top in library_names() and top not in own_tops:
        folder = "/".join((*root, top))
        return f"`{spelling.code()}` would import the library `{top}`, not the project's {folder}/"
    return None


def existing_import(
    route_module: cst.Module, route_package: Sequence[str], wanted: Sequence[str], class_name: str | None
) -> tuple[Spelling, str | None] | None:
    """The route module's own top-level import of the service (``wanted``: its module path, as
    parts), whatever its spelling (``from app.services import order_service``, ``from ..services
    import order_service as orders``), and the alias it binds; None if it has none."""
    for statement in route_module.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if not isinstance(small, cst.ImportFrom) or isinstance(small.names, cst.ImportStar):
                continue
            level = len(small.relative)
            module = dotted_name(small.module) if small.module is not None else ""
            for alias in small.names:
                name = alias.evaluated_name
                if class_name is not None and name != class_name:
                    continue
                parts = tuple(p for p in (module or "").split(".") if p)
                names = parts if class_name is not None else (*parts, name)
                spelling = Spelling(module or "", name, level, names)
                if _names_module(spelling, route_package, tuple(wanted)):
                    return spelling, alias.evaluated_alias
    return None


def _names_module(spelling: Spelling, route_package: Sequence[str], wanted: tuple[str, ...]) -> bool:
    if spelling.level:
        return _resolve_relative(spelling, route_package) == wanted
    # Absolute: from any import root above the route module.
    return any((*route_package[:root], *spelling.names) == wanted for root in range(len(route_package) + 1))
