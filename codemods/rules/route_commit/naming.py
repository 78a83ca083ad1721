"""Where a route's service function goes, in the project's own layout and names.

An existing service module for the same resource is reused (``order_service.py`` for
``orders.py``, ``services/orders.py``, a package's ``services.py``); a new one follows the
pattern the project's service modules already have (``*_service.py``, ``*_services.py``, plain
``services/<name>.py``; singular names where the project names ``orders.py``'s services
``order_service.py``).  The subject of the name is the route module's own name
(``candidate_routes.py`` -> ``candidate``), a blueprint's name for a generic ``routes.py`` or
``views.py`` (``Blueprint("auth", ...)`` -> ``auth``), and for a module of inline routes
(``app.py``, ``main.py``, ``flask_app.py``) the model the route writes (``db.add(Item(...))`` ->
``item``).  A singular or plural twin of an existing module is never created.
"""

from __future__ import annotations

import ast
import dataclasses
import keyword
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from codemods.analysis import precheck
from codemods.analysis.paths import is_test_path
from codemods.analysis.precheck import walk_ast
from codemods.analysis.routes import snake_case

DEFAULT_MODULE_NAME = "{stem}_service"
DEFAULT_SERVICE_DIR = "services"
DEFAULT_ROUTE_PACKAGES = ("routes", "routers", "views", "api", "endpoints")
_STEM_SUFFIXES = ("_routes", "_views", "_router", "_api")

# Module names that say "routes live here", not what they are about.
GENERIC_STEMS = frozenset(
    {
        "__init__", "api", "apis", "app", "application", "asgi", "blueprint", "blueprints", "controllers",
        "endpoints", "handlers", "main", "resources", "router", "routers", "routes", "server", "urls", "views",
        "web", "wsgi", "core", "site", "pages", "frontend", "backend", "public", "admin_views", "index",
    }
)  # fmt: skip
_PATTERNS = ("{name}_service", "{name}_services", "{name}")


@dataclasses.dataclass(frozen=True)
class ServiceLocation:
    path: str  # app/services/candidate_service.py
    package: tuple[str, ...]  # ("app", "services")
    module: str  # candidate_service
    class_name: str  # CandidateService
    class_style: bool = False  # the project's services are static methods of *Service classes


@dataclasses.dataclass(frozen=True)
class RouteModuleNaming:
    """What a route module says about the names of its services (from ``ast``: index time)."""

    blueprint: str | None  # Blueprint("auth", __name__) -> "auth", APIRouter(prefix="/items") -> "items"
    writes: tuple[tuple[str, str], ...]  # (function's qualified name, model it writes), in order


@dataclasses.dataclass(frozen=True)
class ServiceLayout:
    """The project's existing service modules and the naming pattern they share."""

    modules: frozenset[str] = frozenset()  # paths of existing service modules
    pattern: str = "{name}_service"
    singular: bool = False  # orders.py's services are order_service.py
    classes: Mapping[str, str] = dataclasses.field(default_factory=dict)  # path -> its *Service class
    class_style: bool = False  # most service modules hold a *Service class of static methods
    packages: frozenset[str] = frozenset()  # folders with an __init__.py ("app/auth")


# -- words ---------------------------------------------------------------------------------------


def singular(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "ches", "shes", "zes")):
        return word[:-2]
    if word.endswith(("ss", "us", "is", "news")) or not word.endswith("s") or len(word) < 4:
        return word
    return word[:-1]


def plural(word: str) -> str:
    if word.endswith("y") and len(word) > 2 and word[-2] not in "aeiou":
        return word[:-1] + "ies"
    if word.endswith(("s", "x", "ch", "sh", "z")):
        return word + "es"
    return word + "s"


def _variants(subject: str) -> list[str]:
    found = [subject]
    for other in (singular(subject), plural(subject)):
        if other not in found:
            found.append(other)
    return found


def _class_name(subject: str) -> str:
    return "".join(word.capitalize() for word in subject.split("_") if word) + "Service"


# -- index-time facts ----------------------------------------------------------------------------


def naming_facts(tree: ast.Module) -> RouteModuleNaming:
    """The blueprint a route module defines and the model each committing function writes."""
    blueprint = None
    for node in tree.body:
        value = node.value if isinstance(node, (ast.Assign, ast.AnnAssign)) else None
        if isinstance(value, ast.Call):
            blueprint = _router_name(value)
            if blueprint is not None:
                break
    writes = []
    for qualname, function in _functions(tree):
        if _commits(function):
            model = written_model(function)
            if model is not None:
                writes.append((qualname, model))
    return RouteModuleNaming(blueprint, tuple(writes))


def _router_name(call: ast.Call) -> str | None:
    """``Blueprint("auth", __name__)`` -> auth; ``APIRouter(prefix="/items")`` -> items."""
    called = _called_name(call.func)
    if called == "Blueprint" and call.args:
        first = call.args[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            return first.value
    if called == "APIRouter":
        for keyword in call.keywords:
            if keyword.arg == "prefix" and isinstance(keyword.value, ast.Constant):
                prefix = str(keyword.value.value).strip("/")
                if prefix and "/" not in prefix and "{" not in prefix:
                    return prefix
    return None


def naming_of_source(source: bytes) -> RouteModuleNaming | None:
    tree = precheck.parse_shared(source)
    return naming_facts(tree) if tree is not None else None


def _called_name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _functions(tree: ast.Module) -> list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    found: list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]] = []
    pending: list[tuple[ast.AST, str | None]] = [(tree, None)]
    while pending:
        node, owner = pending.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                found.append((f"{owner}.{child.name}" if owner else child.name, child))
                pending.append((child, None))
            elif isinstance(child, ast.ClassDef):
                pending.append((child, child.name))
            elif not isinstance(child, ast.expr):
                pending.append((child, owner))
    return found


def _commits(function: ast.AST) -> bool:
    return any(
        isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and "commit" in node.func.attr
        for node in walk_ast(function)
    )


_LOOKUPS = ("get", "get_or_404", "query", "select", "first_or_404", "one_or_404", "scalar", "execute")


def written_model(function: ast.AST) -> str | None:
    """The model class a function writes: one it adds (``db.add(Item(...))``), else one it
    deletes or changes after looking it up (``db.get(Item, id)``, ``Item.query.get(id)``)."""
    constructed: dict[str, str] = {}
    looked_up: dict[str, str] = _annotated_models(function)  # post: Post = Depends(get_post_or_404)
    for node in walk_ast(function):
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            target = node.targets[0].id
            if isinstance(node.value, ast.Call) and (model := _model_name(node.value.func)):
                constructed[target] = model
            else:
                model = _looked_up_model(node.value)
                if model is not None:
                    looked_up[target] = model
    added, changed = [], []
    for node in walk_ast(function):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args:
            argument = node.args[0]
            if node.func.attr in ("add", "merge", "add_all"):
                items = argument.elts if isinstance(argument, (ast.List, ast.Tuple)) else [argument]
                for item in items:
                    if isinstance(item, ast.Call) and (model := _model_name(item.func)):
                        added.append(model)
                    elif isinstance(item, ast.Name) and item.id in constructed:
                        added.append(constructed[item.id])
                    elif isinstance(item, ast.Name) and item.id in looked_up:
                        changed.append(looked_up[item.id])
            elif node.func.attr == "delete" and isinstance(argument, ast.Name) and argument.id in looked_up:
                changed.append(looked_up[argument.id])
        if isinstance(node, ast.Call) and _called_name(node.func) in ("delete", "update", "insert"):
            # db.query(Item).filter(...).delete(), session.execute(delete(Item).where(...))
            if node.args and isinstance(node.args[0], ast.Name) and _model_name(node.args[0]):
                changed.append(node.args[0].id)
            elif isinstance(node.func, ast.Attribute) and (model := _looked_up_model(node.func.value)):
                changed.append(model)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            while isinstance(owner, ast.Attribute):
                owner = owner.value
            if isinstance(owner, ast.Name) and owner.id in looked_up and owner is not node.func.value:
                changed.append(looked_up[owner.id])  # cart.items.clear()
            elif _is_current_user(node.func.value):
                changed.append("User")  # current_user.follow(other): the signed-in user changes
        if isinstance(node, (ast.Assign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if (
                    isinstance(target, ast.Attribute)
                    and isinstance(target.value, ast.Name)
                    and target.value.id in looked_up
                ):
                    changed.append(looked_up[target.value.id])
    for found in (added, changed):
        if found:
            return snake_case(Counter(found).most_common(1)[0][0])
    return None


def _is_current_user(owner: ast.expr) -> bool:
    """``current_user`` (Flask-Login) or ``g.user``: the signed-in user, a User row."""
    if isinstance(owner, ast.Name):
        return owner.id == "current_user"
    return isinstance(owner, ast.Attribute) and owner.attr == "user" and isinstance(owner.value, ast.Name) and owner.value.id == "g"


def _annotated_models(function: ast.AST) -> dict[str, str]:
    """Parameters annotated with a class that is no session, request or schema of the HTTP layer."""
    if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return {}
    found = {}
    arguments = function.args
    for argument in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs):
        annotation = argument.annotation
        if (
            isinstance(annotation, ast.Name)
            and _model_name(annotation)
            and not annotation.id.endswith(("Session", "Request", "Tasks", "Create", "Update", "In", "Schema"))
        ):
            found[argument.arg] = annotation.id
    return found


def _model_name(func: ast.expr) -> str | None:
    if (
        isinstance(func, ast.Name)
        and func.id[:1].isupper()
        and not func.id.isupper()
        and not func.id.endswith(("Error", "Exception", "Response", "Warning"))
    ):
        return func.id
    return None


def _looked_up_model(value: ast.expr) -> str | None:
    """``db.get(Item, id)``, ``Item.query.get(id)``, ``session.scalars(select(Item)...)``..."""
    for node in walk_ast(value):
        if isinstance(node, ast.Call) and _called_name(node.func) in _LOOKUPS and node.args:
            first = node.args[0]
            if isinstance(first, ast.Name) and _model_name(first):
                return first.id
        if (
            isinstance(node, ast.Attribute)
            and node.attr == "query"
            and isinstance(node.value, ast.Name)
            and _model_name(node.value)
        ):
            return node.value.id
    return None


def service_layout(
    paths: Collection[str],
    route_modules: Collection[str],
    options: Mapping[str, Any],
    classes: Mapping[str, str] | None = None,
) -> ServiceLayout:
    """The service modules of the tree (``paths``: every Python file) and the pattern they follow;
    ``classes``: the modules that hold a ``*Service`` class of static methods, and its name."""
    service_dir = _service_dir_name(options)
    modules = frozenset(p for p in paths if _is_service_module(p, service_dir) and not is_test_path(p))
    patterns: Counter[str] = Counter()
    subjects = []
    for path in modules:
        stem = path.rsplit("/", 1)[-1][: -len(".py")]
        if stem in ("services", "__init__"):
            continue
        pattern = next((p for p in _PATTERNS[:2] if stem.endswith(p[len("{name}") :])), "{name}")
        patterns[pattern] += 1
        subjects.append(stem[: len(stem) - (len(pattern) - len("{name}"))])
    pattern = "{name}_service"
    if patterns:
        best = max(patterns.values())
        pattern = next(p for p in _PATTERNS if patterns[p] == best)
    route_stems = {_route_stem(p, options)[1] for p in route_modules}
    paired_singular = any(s != plural(s) and plural(s) in route_stems for s in subjects if s not in route_stems)
    paired_plural = any(s in route_stems and s != singular(s) for s in subjects)
    classes = {p: c for p, c in (classes or {}).items() if p in modules}
    class_style = len(classes) * 2 > len([m for m in modules if not m.endswith("/__init__.py")])
    packages = frozenset(p[: -len("/__init__.py")] for p in paths if p.endswith("/__init__.py"))
    singular_names = paired_singular and not paired_plural
    return ServiceLayout(modules, pattern, singular_names, classes, class_style, packages)


def _service_dir_name(options: Mapping[str, Any]) -> str:
    parts = [p for p in str(options.get("service-dir", DEFAULT_SERVICE_DIR)).split("/") if p]
    return parts[-1] if parts else DEFAULT_SERVICE_DIR


def _is_service_module(path: str, service_dir: str) -> bool:
    *folders, filename = path.split("/")
    stem = filename[: -len(".py")]
    if stem == "__init__" or not filename.endswith(".py"):
        return False
    return (
        bool(folders and folders[-1] in (service_dir, "services"))
        or stem.endswith(("_service", "_services"))
        or stem == "services"
    )


# -- the location of one route's service ----------------------------------------------------------


def _route_stem(route_path: str, options: Mapping[str, Any]) -> tuple[list[str], str, list[str]]:
    """(folders, stem, base): the route module's folders, its stem without a routes suffix, and
    the folder that holds its package of routes (where ``services/`` goes)."""
    parts = route_path.split("/")
    folders, filename = parts[:-1], parts[-1]
    stem = filename.removesuffix(".py")
    route_packages = options.get("route-packages", DEFAULT_ROUTE_PACKAGES)
    base = folders[:-1] if folders and folders[-1] in route_packages else folders
    for suffix in _STEM_SUFFIXES:
        if stem.endswith(suffix) and len(stem) > len(suffix):
            stem = stem[: -len(suffix)]
            break
    return folders, stem, base


def legacy_location(route_path: str, options: Mapping[str, Any]) -> ServiceLocation | None:
    """The location the user's ``module-name`` pattern gives (``{stem}``: the route module's stem)."""
    folders, stem, base = _route_stem(route_path, options)
    if stem == "__init__":
        if not folders:
            return None
        stem = folders[-1]
    try:
        module = str(options.get("module-name", DEFAULT_MODULE_NAME)).format(stem=stem)
    except (KeyError, IndexError, ValueError):
        return None
    if not module.isidentifier():
        return None
    package = (*base, *_dir_parts(options))
    return ServiceLocation("/".join((*package, f"{module}.py")), tuple(package), module, _class_name(stem))


def _dir_parts(options: Mapping[str, Any]) -> list[str]:
    return [p for p in str(options.get("service-dir", DEFAULT_SERVICE_DIR)).split("/") if p]


def subject_of(
    route_path: str, naming: RouteModuleNaming | None, qualname: str | None, options: Mapping[str, Any]
) -> str | None:
    """What the route's services are about: the module's name, its blueprint's, or its model's."""
    folders, stem, _ = _route_stem(route_path, options)
    if not _is_generic(stem):
        return stem
    if naming is not None and naming.blueprint:
        name = snake_case(naming.blueprint.replace(".", "_").replace("-", "_"))
        if name.isidentifier() and not _is_generic(name):
            return name
    if naming is not None and naming.writes:
        by_function = dict(naming.writes)
        if qualname is not None and qualname in by_function:
            return by_function[qualname]
        return Counter(model for _, model in naming.writes).most_common(1)[0][0]
    route_packages = options.get("route-packages", DEFAULT_ROUTE_PACKAGES)
    if stem in ("routes", "views", "__init__") and folders and folders[-1] not in route_packages:
        return folders[-1] if not _is_generic(folders[-1]) else None  # a blueprint package: auth/routes.py
    return None


def _is_blueprint_package(folders: Sequence[str], stem: str, naming: RouteModuleNaming | None) -> bool:
    """``auth/routes.py`` (or ``views.py``, ``__init__.py``) defining ``Blueprint("auth", ...)``."""
    return (
        len(folders) > 1
        and stem in ("routes", "views", "__init__")
        and naming is not None
        and naming.blueprint == folders[-1]
    )


def _is_generic(stem: str) -> bool:
    return stem in GENERIC_STEMS or stem.endswith(("_app", "_api", "_routes", "_views")) or not stem.isidentifier()


def locate(
    route_path: str,
    naming: RouteModuleNaming | None,
    qualname: str | None,
    layout: ServiceLayout,
    options: Mapping[str, Any],
) -> ServiceLocation | str:
    """The service module of a route (``qualname``; None: the module's main one), or why none."""
    if options.get("module-name", DEFAULT_MODULE_NAME) != DEFAULT_MODULE_NAME:
        legacy = legacy_location(route_path, options)
        pattern = options.get("module-name")
        return legacy if legacy is not None else f"the module name pattern {pattern!r} gives no valid module name"
    subject = subject_of(route_path, naming, qualname, options)
    if subject is None:
        return (
            f"{route_path.rsplit('/', 1)[-1]} says nothing of what its routes are about and no model "
            "they write names a service module; set module-name in [tool.auditfix.route-commit]"
        )
    folders, stem, base = _route_stem(route_path, options)
    if _is_blueprint_package(folders, stem, naming) and base == folders and "/".join(base[:-1]) in layout.packages:
        base = base[:-1]  # app/auth/routes.py of Blueprint("auth"), a blueprint package of app/: app/services/
    packages = _service_packages(tuple(base), _dir_parts(options), layout)
    explicit_dir = options.get("service-dir", DEFAULT_SERVICE_DIR) != DEFAULT_SERVICE_DIR
    existing = _existing(subject, packages, tuple(base), tuple(folders), layout, explicit_dir, route_path)
    if existing is not None:
        return existing
    name = singular(subject) if layout.singular else subject
    module = layout.pattern.format(name=name)
    if not module.isidentifier() or keyword.iskeyword(module) or module in ("services", "__init__"):
        module = f"{name}_service"  # services/import.py could not be imported by name
    package = packages[0]
    path = "/".join((*package, f"{module}.py"))
    return ServiceLocation(path, package, module, _class_name(name), layout.class_style)


def _service_packages(
    base: tuple[str, ...], service_dir: Sequence[str], layout: ServiceLayout
) -> list[tuple[str, ...]]:
    """The service folders a route may use: the nearest existing one of ``base`` and its parents
    (``shop/auth/routes.py`` uses ``shop/services/`` when that folder exists), then
    ``base``'s own."""
    found: list[tuple[str, ...]] = []
    for depth in range(len(base), -1, -1):
        package = (*base[:depth], *service_dir)
        prefix = "/".join(package) + "/"
        if any(path.startswith(prefix) for path in layout.modules):
            found.append(package)
    own = (*base, *service_dir)
    return found if found else [own]


def _existing(
    subject: str,
    packages: Sequence[tuple[str, ...]],
    base: tuple[str, ...],
    folders: tuple[str, ...],
    layout: ServiceLayout,
    explicit_dir: bool,
    route_path: str,
) -> ServiceLocation | None:
    """An existing service module for ``subject`` (any of its singular/plural spellings)."""
    candidates: list[tuple[tuple[str, ...], str]] = []
    for package in packages:
        for variant in _variants(subject):
            candidates.extend((package, pattern.format(name=variant)) for pattern in _PATTERNS)
    if not explicit_dir:
        for folder in dict.fromkeys((base, folders)):
            for variant in _variants(subject):
                candidates.extend((folder, pattern.format(name=variant)) for pattern in _PATTERNS[:2])
        for depth in range(len(base), -1, -1):
            candidates.append((base[:depth], "services"))  # a package's services.py
    for folder, module in candidates:
        path = "/".join((*folder, f"{module}.py"))
        if path in layout.modules and path != route_path:
            existing_class = layout.classes.get(path)
            class_name = existing_class or _class_name(singular(subject))
            return ServiceLocation(path, folder, module, class_name, existing_class is not None)
    return None
