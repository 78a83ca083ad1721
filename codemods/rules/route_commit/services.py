"""route-commit's service modules: where a route's service lives, what the whole-tree index knows
about existing modules, and how generated functions are rendered into new or existing modules."""

from __future__ import annotations

import ast
import dataclasses
import difflib
import sys
from collections import OrderedDict
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

import libcst as cst

from codemods.analysis.precheck import walk_ast
from codemods.analysis.routes import snake_case
from codemods.analysis.sessions import SessionFacts, SessionIndex
from codemods.base import Templates
from codemods.rules.route_commit.boundary import BoundaryFacts, BoundaryIndex
from codemods.rules.route_commit.flow import ImportItem
from codemods.rules.route_commit.naming import RouteModuleNaming, ServiceLayout
from codemods.speedups import imports as import_edits
from codemods.speedups.walk import children_but_trivia


@dataclasses.dataclass(frozen=True)
class ServiceFunction:
    """What ``service_function.py.j2`` renders."""

    name: str
    parameters: list[str]  # "candidate_id", "db: Session"
    body: str  # the moved statements, indented by four spaces, ending with a newline
    returns: list[str]
    is_async: bool
    static: bool  # a @staticmethod of the service class ("class" style)
    summary: str  # the one-line docstring: what the function does



@dataclasses.dataclass(frozen=True)
class ServiceModule:
    """What ``service_module.py.j2`` renders: a new module, before its functions are added."""

    summary: str  # the module docstring: "Candidate services: database writes and their commits."
    import_groups: list[list[str]]  # absolute imports, then relative ones; one statement a line
    logger_name: str | None
    class_name: str | None
    class_summary: str = ""



@dataclasses.dataclass(frozen=True)
class ServiceFunctionRequest:
    """One generated function for :meth:`RouteCommit.finalize` (picklable)."""

    route_path: str
    service_path: str
    class_name: str | None  # the "class" style's service class
    function_name: str
    source: str  # the rendered function, parsed once already (:func:`parsed_text` keeps that tree)
    imports: tuple[ImportItem, ...]  # spelled for the service module
    logger_name: str | None
    shape: str = ""  # the code with names by position (service_checks.body_shape); "" for a function shared from
    # another module, which ``imports`` then brings in



@dataclasses.dataclass(frozen=True)
class ModuleFacts:
    """Top-level facts about a file, for the whole-tree index (built with ``ast``: fast)."""

    bindings: Mapping[str, str]  # name -> import signature, or "def" / "class" / "value"
    class_methods: Mapping[str, frozenset[str]]
    maybe_routes: bool  # decorated functions or classes, and a commit
    sessions: SessionFacts | None = None  # session aliases, module sessions, providers, commit helpers
    boundary: BoundaryFacts | None = None  # dependencies and hooks that commit at the request boundary
    naming: RouteModuleNaming | None = None  # a route module's blueprint and the models it writes
    service_class: str | None = None  # a `class OrderService` of static methods only



UNPARSABLE = "unparsable"  # index fact of a file the stdlib parser cannot read



@dataclasses.dataclass(frozen=True)
class RouteCommitIndex:
    services: Mapping[str, ModuleFacts]  # existing service modules by path
    owners: Mapping[str, str]  # service path -> the route module that generates into it
    blocked: Mapping[str, str] = dataclasses.field(default_factory=dict)  # service path -> why not there
    modules: frozenset[str] = frozenset()  # every Python file the index saw, to tell siblings apart
    sessions: SessionIndex = dataclasses.field(default_factory=SessionIndex)
    boundary: BoundaryIndex = dataclasses.field(default_factory=BoundaryIndex)
    layout: ServiceLayout = dataclasses.field(default_factory=ServiceLayout)
    naming: Mapping[str, RouteModuleNaming] = dataclasses.field(default_factory=dict)  # route path -> facts



# Generated texts parsed in this process, by their exact text: the rule parses each service
# function it renders to check it, and finalize composes the module from the same text; libcst's
# trees are immutable, so the one tree serves both.  A request pickled to another process finds
# nothing here and is parsed there (the same tree).  Bounded: a long run renders many functions.
_PARSED: OrderedDict[str, cst.Module] = OrderedDict()
PARSED_KEPT = 256


def parsed_text(text: str) -> cst.Module:
    """``cst.parse_module(text)``, parsed once per process for texts this module generates
    (rendered service functions and module templates)."""
    # pop and store again: each step is atomic, so threads (a fleet worker's) cannot break it
    tree = _PARSED.pop(text, None)
    if tree is None:
        tree = cst.parse_module(text)
    _PARSED[text] = tree  # the newest
    while len(_PARSED) > PARSED_KEPT:
        try:
            _PARSED.popitem(last=False)  # the oldest used
        except KeyError:  # another thread emptied it meanwhile
            break
    return tree


def keep_blank_lines(before: cst.Module, after: cst.Module) -> cst.Module:
    """Give the blank lines of removed import lines to the statement that follows them.

    RemoveImportsVisitor drops a removed line with its leading blank lines, which would glue
    the import groups (or the first definition) to the imports above them.
    """
    empty = cst.Module([])
    codes: dict[int, str] = {}  # by statement: ``after`` shares most of its statements with ``before``

    def code(statement: cst.BaseStatement) -> str:
        known = codes.get(id(statement))
        if known is None:
            known = codes[id(statement)] = empty.code_for_node(statement.with_changes(leading_lines=()))
        return known

    old = [code(s) for s in before.body]
    new = [code(s) for s in after.body]
    body = list(after.body)
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, _ in matcher.get_opcodes():
        if tag not in ("delete", "replace") or j1 >= len(body):
            continue
        removed = max(_blank_count(before.body[i]) for i in range(i1, i2))
        following = body[j1]
        if removed > _blank_count(following):
            body[j1] = following.with_changes(leading_lines=[*_blank(removed), *following.leading_lines])
    return after.with_changes(body=body)



def _blank_count(statement: cst.BaseStatement) -> int:
    count = 0
    for line in statement.leading_lines:
        if line.comment is not None:
            break
        count += 1
    return count



def blocked_services(claimed: Collection[str], indexed: Mapping[str, Any]) -> dict[str, str]:
    """Why each service module of ``claimed`` cannot be written (``indexed``: the whole tree's
    index facts by path), for those that cannot."""
    folders = package_folders(indexed)
    blocked = {service: reason for service in claimed if (reason := shadowing(service, indexed, folders)) is not None}
    for service in claimed:
        if indexed.get(service) == UNPARSABLE:
            blocked[service] = f"{service} exists but does not parse, so the function cannot be added to it"
    return blocked


def package_folders(paths: Iterable[str]) -> frozenset[str]:
    """Every folder (as ``a/b/``) that holds one of ``paths``, at any depth: a service module's
    check asks this set instead of reading every path of the tree."""
    folders: set[str] = set()
    for path in paths:
        end = path.rfind("/")
        # A folder already known was added with all the folders above it.
        while end > 0 and path[: end + 1] not in folders:
            folders.add(path[: end + 1])
            end = path.rfind("/", 0, end)
    return frozenset(folders)


def shadowing(service_path: str, indexed: Mapping[str, Any], folders: Collection[str]) -> str | None:
    """Why creating ``service_path`` would hide, or be hidden by, a module that already exists
    (``folders``: :func:`package_folders` of ``indexed``)."""
    package = service_path[: -len(".py")] + "/"
    if package in folders:  # some indexed path starts with it
        return f"{package} is a package, which would hide a {service_path.rsplit('/', 1)[-1]} next to it"
    folder = service_path.rsplit("/", 1)[0] if "/" in service_path else ""
    if folder and f"{folder}.py" in indexed:
        return f"{folder}.py exists; a {folder.rsplit('/', 1)[-1]}/ package next to it would hide it"
    return None




def common_prefix(a: Sequence[str], b: Sequence[str]) -> int:
    count = 0
    for x, y in zip(a, b):
        if x != y:
            break
        count += 1
    return count



def respell(item: ImportItem, route_package: Sequence[str], service_package: Sequence[str]) -> ImportItem | None:
    """``item`` as the service module must write it (relative imports resolved and re-relativised)."""
    if not item.level:
        return item
    if item.level - 1 > len(route_package):
        return None
    base = list(route_package[: len(route_package) - (item.level - 1)])
    target = [*base, *(item.module.split(".") if item.module else [])]
    common = common_prefix(target, service_package)
    if common == 0:
        return None
    level = len(service_package) - common + 1
    return ImportItem(".".join(target[common:]), item.obj, item.asname, level)



def module_facts(tree: ast.Module, has_commit: bool) -> ModuleFacts:
    bindings: dict[str, str] = {}
    methods: dict[str, frozenset[str]] = {}
    service_class = None
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            bindings[node.name] = "def"
        elif isinstance(node, ast.ClassDef):
            bindings[node.name] = "class"
            if node.name.endswith("Service") and service_class is None and _static_only(node):
                service_class = node.name
            methods[node.name] = frozenset(
                n.name for n in node.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
            )
        elif isinstance(node, ast.Import):
            for alias in node.names:
                item = ImportItem(alias.name, None, alias.asname)
                bindings[item.bound_name] = item.signature
        elif isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if alias.name != "*":
                    item = ImportItem(node.module or "", alias.name, alias.asname, node.level)
                    bindings[item.bound_name] = item.signature
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for name in walk_ast(target):
                    if isinstance(name, ast.Name):
                        bindings.setdefault(name.id, "value")
    return ModuleFacts(bindings, methods, has_commit and _has_decorated_definition(tree), service_class=service_class)


def _has_decorated_definition(tree: ast.Module) -> bool:
    """A decorated function or a class with bases at any depth: routes also live inside an app
    factory (``def create_app(): @app.post(...) def create(): ...``) or under ``if``."""
    pending: list[ast.stmt] = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.decorator_list:
            return True
        if isinstance(node, ast.ClassDef) and node.bases:
            return True
        for field in ("body", "orelse", "finalbody", "handlers", "cases"):
            for child in getattr(node, field, ()):
                pending.extend(child.body if isinstance(child, (ast.ExceptHandler, ast.match_case)) else [child])
    return False


def _static_only(node: ast.ClassDef) -> bool:
    """A class used as a namespace: methods, all static or class methods."""
    methods = [n for n in node.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    return bool(methods) and all(
        any(isinstance(d, ast.Name) and d.id in ("staticmethod", "classmethod") for d in m.decorator_list)
        for m in methods
    )



def service_module_source(
    path: str, requests: Sequence[ServiceFunctionRequest], existing: str | None, templates: Templates
) -> str:
    imports: list[ImportItem] = []
    for request in requests:
        for item in request.imports:
            if item not in imports:
                imports.append(item)
    logger_name = next((r.logger_name for r in requests if r.logger_name), None)
    class_name = next((r.class_name for r in requests if r.class_name), None)
    if existing is None:
        groups = _import_groups([*imports, *([ImportItem("logging", None, None)] if logger_name else [])])
        module_values = _module_values(path, groups, logger_name, class_name)
        module = _rendered_module(templates, module_values)
    else:
        module = _merge_into(cst.parse_module(existing), path, imports, logger_name, class_name, templates)
    functions = [_parse_function(r) for r in requests if r.source]
    return _append_functions(module, functions, class_name, path).code



def _rendered_module(templates: Templates, values: ServiceModule) -> cst.Module:
    return parsed_text(templates.render("service_module.py.j2", module=values))


def _module_values(
    path: str, groups: list[list[str]], logger_name: str | None, class_name: str | None
) -> ServiceModule:
    stem = path.rsplit("/", 1)[-1][: -len(".py")]
    for suffix in ("_services", "_service", "services", "service"):
        if stem.endswith(suffix) and len(stem) > len(suffix):
            stem = stem[: -len(suffix)].rstrip("_")
            break
    subject = stem.replace("_", " ").strip().capitalize() or "Database"
    summary = f"{subject} services: database writes and their commits."
    return ServiceModule(summary, groups, logger_name, class_name, f"{subject} services.")


def _import_groups(items: Sequence[ImportItem]) -> list[list[str]]:
    """Absolute imports, then relative ones; names from one module share a ``from`` line."""
    plain = sorted({item.code() for item in items if item.obj is None})
    names_by_module: dict[tuple[int, str], set[str]] = {}
    for item in items:
        if item.obj is not None:
            alias = f" as {item.asname}" if item.asname else ""
            names_by_module.setdefault((item.level, item.module), set()).add(f"{item.obj}{alias}")
    froms = {
        key: f"from {'.' * key[0]}{key[1]} import {', '.join(sorted(names))}" for key, names in names_by_module.items()
    }
    absolute = [*plain, *(froms[key] for key in sorted(froms) if key[0] == 0)]
    standard = [line for line in absolute if _top_module(line) in sys.stdlib_module_names]
    others = [line for line in absolute if line not in standard]
    relative = [froms[key] for key in sorted(froms, key=lambda k: (-k[0], k[1])) if key[0] > 0]
    return [group for group in (standard, others, relative) if group]



def _top_module(import_line: str) -> str:
    return import_line.split()[1].split(".")[0]



def _merge_into(
    module: cst.Module,
    path: str,
    imports: Sequence[ImportItem],
    logger_name: str | None,
    class_name: str | None,
    templates: Templates,
) -> cst.Module:
    """Add what the new functions need to an existing service module."""
    parts = path[: -len(".py")].split("/")
    # No package: AddImportsVisitor would turn the relative imports into absolute ones.
    context = import_edits.EditContext(filename=path, full_module_name=".".join(parts))
    bound = _top_level_names(module)
    for item in imports:
        if item.bound_name not in bound:
            import_edits.add_needed_import(context, item.module, item.obj, item.asname, item.level)
    needs_logger = logger_name is not None and logger_name not in bound
    if needs_logger:
        import_edits.add_needed_import(context, "logging")
    module = import_edits.add_imports(context, module)
    if needs_logger:
        rendered = _rendered_module(templates, _module_values(path, [], logger_name, None))
        logger_line = next(
            s for s in rendered.body if isinstance(s, cst.SimpleStatementLine) and isinstance(s.body[0], cst.Assign)
        )
        module = _insert_after_imports(module, logger_line)
    if class_name is not None and not any(isinstance(s, cst.ClassDef) and s.name.value == class_name for s in module.body):
        rendered = _rendered_module(templates, _module_values(path, [], None, class_name))
        service_class = next(s for s in rendered.body if isinstance(s, cst.ClassDef))
        module = module.with_changes(body=[*module.body, service_class.with_changes(leading_lines=_blank(2))])
    return module



def _top_level_names(module: cst.Module) -> set[str]:
    names: set[str] = set()
    for statement in module.body:
        if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
            names.add(statement.name.value)
        elif isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                if isinstance(small, (cst.Import, cst.ImportFrom)) and not isinstance(small.names, cst.ImportStar):
                    for alias in small.names:
                        names.add(alias.evaluated_alias or alias.evaluated_name.split(".")[0])
                elif isinstance(small, cst.Assign):
                    names.update(t.target.value for t in small.targets if isinstance(t.target, cst.Name))
    return names



def _insert_after_imports(module: cst.Module, statement: cst.SimpleStatementLine) -> cst.Module:
    body = list(module.body)
    last_import = max(
        (
            i
            for i, s in enumerate(body)
            if isinstance(s, cst.SimpleStatementLine) and any(isinstance(x, (cst.Import, cst.ImportFrom)) for x in s.body)
        ),
        default=-1,
    )
    body.insert(last_import + 1, statement.with_changes(leading_lines=_blank(1)))
    return module.with_changes(body=body)



def _parse_function(request: ServiceFunctionRequest) -> cst.FunctionDef:
    parsed = parsed_text(request.source)  # the tree the rule parsed to check it, in the same process
    return next(s for s in parsed.body if isinstance(s, cst.FunctionDef))



def _append_functions(
    module: cst.Module, functions: Sequence[cst.FunctionDef], class_name: str | None, path: str
) -> cst.Module:
    if class_name is None:
        taken = _top_level_names(module)
        _check_clashes(functions, taken, path)
        spaced = [f.with_changes(leading_lines=_blank(2)) for f in functions]
        return module.with_changes(body=[*module.body, *spaced])
    body = list(module.body)
    index = next(i for i, s in enumerate(body) if isinstance(s, cst.ClassDef) and s.name.value == class_name)
    service_class = body[index]
    assert isinstance(service_class, cst.ClassDef) and isinstance(service_class.body, cst.IndentedBlock)
    taken = {s.name.value for s in service_class.body.body if isinstance(s, (cst.FunctionDef, cst.ClassDef))}
    _check_clashes(functions, taken, path)
    spaced = [f.with_changes(leading_lines=_blank(1)) for f in functions]
    new_body = service_class.body.with_changes(body=[*service_class.body.body, *spaced])
    body[index] = service_class.with_changes(body=new_body)
    return module.with_changes(body=body)



def _check_clashes(functions: Sequence[cst.FunctionDef], taken: set[str], path: str) -> None:
    """The index should have prevented this; if it did not, refuse (the engine reverts the routes)."""
    seen = set(taken)
    for function in functions:
        if function.name.value in seen:
            raise ValueError(f"{path} already defines {function.name.value}; route-commit cannot add it")
        seen.add(function.name.value)



def _blank(count: int) -> list[cst.EmptyLine]:
    return [cst.EmptyLine(indent=False) for _ in range(count)]


_HTTP_VERB_ACTIONS = {"post": "create", "put": "update", "patch": "update", "delete": "delete", "get": "record"}


# First words of view names that say where a page is or which HTTP method answers, not what
# the code does to the data (``index``, ``new_post``, ``post``, ``item_detail``).
NOT_ACTIONS = frozenset(
    "index home root main page view show detail details get post put patch new handle handler process "
    "do endpoint route api form".split()
)


_CHANNELS = ("api", "web", "ajax", "json", "html", "admin", "v1", "v2", "v3")


def without_channel(name: str) -> str:
    """A view name without the prefix that says which client calls it (``api_pay_bill`` ->
    ``pay_bill``), when something is left."""
    head, _, rest = name.partition("_")
    return rest if head in _CHANNELS and rest and rest[0].isalpha() else name


def says_what_it_does(name: str) -> bool:
    """Whether a view's name can name its service function: ``close_job``, ``restock`` and
    ``post_audit`` (a post creates an audit) can; ``index``, ``new_post`` or ``post`` cannot."""
    words = [w for w in name.split("_") if w]
    if not words:
        return False
    if words[0] in _HTTP_VERB_ACTIONS and len(words) > 1:
        return True
    return words[0] not in NOT_ACTIONS and words[-1] not in ("detail", "details", "page", "view")


def summary_of(function_name: str, statements: Sequence[cst.BaseStatement]) -> str:
    """A one-line docstring: what the service function does (``Delete the candidate and commit.``)."""
    words = [w for w in function_name.split("_") if w]
    if words and words[0] in _HTTP_VERB_ACTIONS:
        words[0] = _HTTP_VERB_ACTIONS[words[0]]  # a view's post_audit creates an audit
    if not words:
        return "Write and commit."
    head, rest = words[0].capitalize(), " ".join(words[1:])
    if not rest:
        return f"{head} and commit."
    if words[1] in ("or", "and", "to", "from", "for", "with", "all", "as", "by", "in", "on"):
        return f"{head} {rest} and commit."
    return f"{head} the {rest} and commit."


def describe_writes(statements: Sequence[cst.BaseStatement]) -> str | None:
    """A function name for what ``statements`` write: ``create_audit_log`` for an added
    ``AuditLog(...)``, ``delete_<name>`` for a deleted object, ``update_<name>`` for a changed one."""
    constructed: dict[str, str] = {}  # variable -> model class
    nodes = statement_nodes(statements)
    for node in nodes:
        if isinstance(node, cst.Assign) and isinstance(node.value, cst.Call) and isinstance(node.value.func, cst.Name):
            for target in node.targets:
                if isinstance(target.target, cst.Name) and node.value.func.value[:1].isupper():
                    constructed[target.target.value] = node.value.func.value
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.args:
            method, argument = node.func.attr.value, node.args[0].value
            if method in ("add", "merge"):
                if isinstance(argument, cst.Call) and isinstance(argument.func, cst.Name):
                    return f"create_{snake_case(argument.func.value)}"
                if isinstance(argument, cst.Name):
                    model = constructed.get(argument.value)
                    return f"create_{snake_case(model)}" if model else f"save_{argument.value}"
            if method == "delete" and isinstance(argument, cst.Name):
                return f"delete_{argument.value}"
    for node in nodes:
        if isinstance(node, (cst.Assign, cst.AugAssign)):
            targets = [t.target for t in node.targets] if isinstance(node, cst.Assign) else [node.target]
            for target in targets:
                if isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name):
                    return f"update_{target.value.value}"
    return None


def statement_nodes(statements: Sequence[cst.BaseStatement]) -> list[cst.CSTNode]:
    """Every node of ``statements`` but trivia (whitespace, comments, punctuation), each before its
    children, in the order libcst visits them."""
    found: list[cst.CSTNode] = []
    pending: list[cst.CSTNode] = list(reversed(statements))
    while pending:
        node = pending.pop()
        found.append(node)
        pending.extend(reversed(children_but_trivia(node)))
    return found
