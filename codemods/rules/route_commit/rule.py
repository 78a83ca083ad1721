"""route-commit: move a route's writes and their commit into a generated service function."""

from __future__ import annotations

import ast
import dataclasses
import difflib
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import libcst as cst
from libcst.codemod import CodemodContext
from libcst.codemod.visitors import AddImportsVisitor, RemoveImportsVisitor

from codemods.analysis import precheck
from codemods.base import (
    Codemod,
    FileContext,
    FinalizeResult,
    GeneratedFile,
    Option,
    remove_unused_imports,
)
from codemods.analysis.sessions import (
    DEFAULT_SESSION_FACTORIES,
    DEFAULT_SESSION_NAMES,
    SessionMatcher,
    dotted_name,
)
from codemods.analysis.names import shared_name_facts
from codemods.analysis.precheck import SyntaxFacts, matches_any
from codemods.rules.route_commit.flow import (
    DEFAULT_HTTP_NAMES,
    DEFAULT_ROUTE_DECORATORS,
    DEFAULT_VIEW_BASES,
    Decline,
    Flow,
    ImportItem,
    Metadata,
    Route,
    Run,
    analyse_flow,
    commit_statement,
    extract_run,
    find_commits,
    find_route,
    has_global_or_nonlocal,
    http_parameters,
    keep_handler_values,
    router_prefixes,
)
from codemods.engine.templating import TemplateSet

DEFAULT_ROUTE_PACKAGES = ("routes", "routers", "views", "api", "endpoints")
_STEM_SUFFIXES = ("_routes", "_views", "_router", "_api")


# -- values rendered by the templates and handed to finalize ----------------------------------


@dataclasses.dataclass(frozen=True)
class ServiceFunction:
    """What ``service_function.py.j2`` renders."""

    name: str
    parameters: list[str]  # "candidate_id", "db: Session"
    body: str  # the moved statements, indented by four spaces, ending with a newline
    returns: list[str]
    is_async: bool
    static: bool  # a @staticmethod of the service class ("class" style)
    indent: str  # the indentation of the body once the function is in place (docstring lines)
    route: str  # "POST /candidates/<int:candidate_id>/status"
    route_function: str  # "update_status"
    route_path: str


@dataclasses.dataclass(frozen=True)
class ServiceModule:
    """What ``service_module.py.j2`` renders: a new module, before its functions are added."""

    route_paths: list[str]
    import_groups: list[list[str]]  # absolute imports, then relative ones; one statement a line
    logger_name: str | None
    class_name: str | None


@dataclasses.dataclass(frozen=True)
class ServiceFunctionRequest:
    """One generated function for :meth:`RouteCommit.finalize` (picklable)."""

    route_path: str
    service_path: str
    class_name: str | None  # the "class" style's service class
    function_name: str
    source: str  # the rendered function, parsed once already
    imports: tuple[ImportItem, ...]  # spelled for the service module
    logger_name: str | None


@dataclasses.dataclass(frozen=True)
class ServiceLocation:
    path: str  # app/services/candidate_service.py
    package: tuple[str, ...]  # ("app", "services")
    module: str  # candidate_service
    class_name: str  # CandidateService


@dataclasses.dataclass(frozen=True)
class ModuleFacts:
    """Top-level facts about a file, for the whole-tree index (built with ``ast``: fast)."""

    bindings: Mapping[str, str]  # name -> import signature, or "def" / "class" / "value"
    class_methods: Mapping[str, frozenset[str]]
    maybe_routes: bool  # decorated functions or classes, and a commit


_UNPARSABLE = "unparsable"  # index fact of a file the stdlib parser cannot read


@dataclasses.dataclass(frozen=True)
class RouteCommitIndex:
    services: Mapping[str, ModuleFacts]  # existing service modules by path
    owners: Mapping[str, str]  # service path -> the route module that generates into it
    blocked: Mapping[str, str] = dataclasses.field(default_factory=dict)  # service path -> why not there
    modules: frozenset[str] = frozenset()  # every Python file the index saw, to tell siblings apart


class RouteCommit(Codemod):
    """Move the writes and the commit of a route into a service function.

    ## What it does
    In every route (a function decorated with ``@app.route``, ``@bp.post``, ``@router.put``,
    ``@expose``..., or a ``get``/``post``/``put``/``patch``/``delete`` method of a ``MethodView``,
    ``View`` or ``Resource`` class), each ``commit()`` on a database session is moved, with the
    longest run of statements before it in the same block that neither leaves the route
    (``return``, ``raise``, ``yield``, ``break``, ``continue``) nor touches the HTTP layer
    (Flask's ``request``, ``g``, ``session``, ``abort``, ``jsonify``...; FastAPI's ``Request``,
    ``Response``, ``HTTPException``, ``BackgroundTasks``), into a function of the route module's
    service module (``app/routes/candidate_routes.py`` -> ``app/services/candidate_service.py``).
    The route calls it: the values the moved code reads are passed as arguments, the values it
    assigns and the route still needs are returned. An ``async`` route awaits an ``async``
    service function when the moved code awaits. The service module imports what the moved
    code uses by copying the route module's own imports (relative ones respelled for its
    location) and gets its own module logger if the moved code logs.

    The route imports the service module the way it imports its own package: absolutely
    (``from app.services import candidate_service``) if it already imports its own package
    absolutely, else relatively (``from ..services import candidate_service``). Relative is
    the default because it works wherever the package sits (a ``src/`` layout, a vendored
    copy); an absolute name would assume the scanned folder is the import root. A folder run
    as a script (no relative imports, ``from models import Item`` next to ``models.py``) gets
    ``from services import main_service``, rooted at that folder.

    ## Why is this bad?
    A route that writes and commits mixes HTTP handling with the unit of work: the transaction
    cannot be reused by a CLI command, a worker or another route, and it can only be tested
    through the HTTP client.

    ## Example
    ```python
    @bp.post("/<int:candidate_id>/status")
    def update_status(candidate_id):
        new_status = request.json["status"]
        candidate = db.get_or_404(Candidate, candidate_id)
        candidate.status = new_status
        db.session.commit()
        return jsonify(candidate.to_dict())
    ```
    Use instead:
    ```python
    @bp.post("/<int:candidate_id>/status")
    def update_status(candidate_id):
        new_status = request.json["status"]
        candidate = candidate_service.update_status(candidate_id, new_status)
        return jsonify(candidate.to_dict())
    ```
    with ``update_status`` in ``app/services/candidate_service.py``, importing ``db`` and
    ``Candidate`` the way the route module does.

    ## Fix safety
    The moved statements run in the same order, on the same objects (passed by reference), in
    the same request: only the frame they run in changes. Exceptions propagate unchanged, so an
    ``except: rollback()`` around the commit in the route still applies. Code that reads a moved
    name the analysis cannot see (``locals()``, ``eval``) would change behaviour.

    ## Limitations
    Test modules (``tests/``, ``test_*.py``, ``conftest.py``) and functions decorated with
    ``mock.patch`` are not routes. Declined, with a finding that says why: commits inside lambdas, comprehensions, nested
    functions or one-line blocks; commits whose result is used; routes with ``global`` or
    ``nonlocal``; moved code that deletes a name, carries a value across loop iterations, uses a
    name defined in the route module itself (the service would import the route module: an
    import cycle) or a name from a function around the route; a name the route reads after the
    commit that the moved code assigns only on some paths; a service module name already used
    in the route module; two route modules that map to the same service module (the first one,
    by path, gets it). Existing service modules are looked up in a whole-tree index of the
    files that commit or have "service" in their path; a name clash with a module outside
    that set makes the generation fail, and the engine then leaves the routes unchanged.
    Only the block that holds the commit is considered, so a commit inside
    ``try:`` or ``if`` moves with the statements before it in that block, and the
    ``except: rollback()`` stays in the route. Helpers that raise HTTP errors but are not
    listed in ``http-names`` (Flask-SQLAlchemy's ``get_or_404``) move like any other call;
    they still raise through the route. The route's URL prefix in the docstring is read from
    ``Blueprint(url_prefix=...)`` / ``APIRouter(prefix=...)`` in the same module only.
    """

    name = "route-commit"
    summary = "Move the writes and the commit of a route into a generated service function"
    safety = (
        "The moved statements run unchanged, in the same order and request, in a function the route "
        "calls with the values they read; only the frame they run in changes."
    )
    markers = (b"commit",)
    # Every file: the check that a new services/ package hides no module needs every path.
    index_markers = (b"",)
    options = (
        Option("route-decorators", list(DEFAULT_ROUTE_DECORATORS), "decorator names that make a route", list, item_kind=str),
        Option("view-bases", list(DEFAULT_VIEW_BASES), "base classes of class-based views", list, item_kind=str),
        Option("http-names", list(DEFAULT_HTTP_NAMES), "HTTP-layer objects that stay in the route", list, item_kind=str),
        Option("session-names", list(DEFAULT_SESSION_NAMES), "expressions that are database sessions", list, item_kind=str),
        Option("session-factories", list(DEFAULT_SESSION_FACTORIES), "calls that create sessions", list, item_kind=str),
        Option("service-dir", "services", "folder of the service modules, next to the routes' package", str),
        Option("module-name", "{stem}_service", "service module name; {stem} is the route module's stem", str),
        Option("route-packages", list(DEFAULT_ROUTE_PACKAGES), "package names that hold route modules", list, item_kind=str),
        Option("style", "functions", "module functions, or static methods of a <Stem>Service class", str, choices=("functions", "class")),
    )

    def __init__(self, file: FileContext) -> None:
        super().__init__(file)
        # RemoveImportsVisitor needs the package to match relative imports; AddImportsVisitor must
        # not have it, or it would turn the relative imports it adds into absolute ones.
        self._removals = CodemodContext(
            filename=file.path, full_module_name=file.module_name, full_package_name=".".join(_package_of(file))
        )
        self._plans: dict[cst.IndentedBlock, list[tuple[int, int, cst.BaseStatement]]] = {}
        self._scopes: list[cst.ClassDef | cst.FunctionDef] = []  # the definitions around the visitor
        self._used_names: set[str] = set()

    @classmethod
    def may_change(cls, facts: SyntaxFacts, options: Mapping[str, Any]) -> bool:
        # A .commit() call, and a route decorator or a view base class (what _may_have_routes
        # looks for, by the last part of the name).
        if not facts.commit_lines:
            return False
        decorators = options.get("route-decorators", DEFAULT_ROUTE_DECORATORS)
        bases = options.get("view-bases", DEFAULT_VIEW_BASES)
        return matches_any(facts.decorator_names, decorators) or matches_any(facts.base_names, bases)

    # -- the whole-tree index -----------------------------------------------------------------

    @classmethod
    def index_file(cls, path: str, source: bytes) -> ModuleFacts | None:
        # Only route modules (they commit) and service modules (they commit, or their path
        # says "service") matter; the layout options are not known yet, so this is a superset.
        if b"commit" not in source and "service" not in path.lower():
            return None
        tree = precheck.parse_shared(source)  # pydantic-config's indexer reads the same file
        if tree is None:
            return _UNPARSABLE
        return _module_facts(tree, b"commit" in source)

    @classmethod
    def build_index(cls, facts: Mapping[str, Any], options: Mapping[str, Any]) -> RouteCommitIndex:
        services: dict[str, ModuleFacts] = {}
        claims: dict[str, list[str]] = {}
        for path, fact in sorted(facts.items()):
            if fact is None or fact == _UNPARSABLE:
                continue
            services[path] = fact
            if fact.maybe_routes:
                location = service_location(path, options)
                if location is not None:
                    claims.setdefault(location.path, []).append(path)
        owners = {service: routes[0] for service, routes in claims.items() if len(routes) > 1}
        blocked = {service: reason for service in claims if (reason := _shadowing(service, facts)) is not None}
        for service in claims:
            if facts.get(service) == _UNPARSABLE:
                blocked[service] = f"{service} exists but does not parse, so the function cannot be added to it"
        wanted = set(claims)
        kept = {p: f for p, f in services.items() if p in wanted}
        return RouteCommitIndex(kept, owners, blocked, frozenset(facts))

    # -- the per-file transform ---------------------------------------------------------------

    def visit_Module(self, node: cst.Module) -> bool:
        decorators, bases = self.option("route-decorators"), self.option("view-bases")
        if is_test_path(self.file.path) or not _may_have_routes(node, decorators, bases):
            return False  # nothing to do: skip the costly scope analysis
        self._module = node
        facts = shared_name_facts(self.file.source) if self.file.shortcuts and self.file.source else None
        self._meta = Metadata(node, _package_of(self.file), facts)
        matcher = SessionMatcher(self.option("session-names"), self.option("session-factories"))
        self._matcher = matcher.for_module(node)
        self._module_sessions = self._matcher.scope_sessions(node)
        self._prefixes = router_prefixes(node)
        self._location = service_location(self.file.path, self.file.options)
        self._index = self.file.index if isinstance(self.file.index, RouteCommitIndex) else RouteCommitIndex({}, {})
        return True

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._scopes.append(node)

    def leave_ClassDef(self, original_node: cst.ClassDef, updated_node: cst.ClassDef) -> cst.ClassDef:
        self._scopes.pop()
        return updated_node

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        enclosing = self._scopes[-1] if self._scopes and isinstance(self._scopes[-1], cst.ClassDef) else None
        self._scopes.append(node)
        route = find_route(
            node, enclosing, self.option("route-decorators"), self.option("view-bases"), self._prefixes, self._meta
        )
        if route is not None:
            self._plan_route(route)

    def leave_FunctionDef(self, original_node: cst.FunctionDef, updated_node: cst.FunctionDef) -> cst.FunctionDef:
        self._scopes.pop()
        return updated_node

    def leave_IndentedBlock(
        self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock
    ) -> cst.IndentedBlock:
        plan = self._plans.get(original_node)
        if not plan:
            return updated_node
        body = list(updated_node.body)
        for start, end, replacement in sorted(plan, key=lambda p: p[0], reverse=True):
            body[start:end] = [replacement]
        return updated_node.with_changes(body=body)

    # -- planning one route -------------------------------------------------------------------

    def _plan_route(self, route: Route) -> None:
        commits, declines = find_commits(route, self._matcher, self._module_sessions)
        for decline in declines:
            self.report(decline.node, decline.reason, fixable=False)
        if not commits:
            return
        problem = self._route_problem(route)
        if problem is not None:
            for commit in commits:
                self.report(commit.call, f"not moved: {problem}", fixable=False)
            return
        runs = self._runs(route, commits)
        accepted: list[tuple[Run, Flow]] = []
        # Outermost first: a run that contains another commit's run moves both commits together.
        for run in sorted(runs, key=lambda r: self._depth(r.block)):
            if any(self._contains(outer, run) for outer, _ in accepted):
                continue
            flow = analyse_flow(route, run, self._meta, self._module)
            if isinstance(flow, Decline):
                self.report(flow.node, flow.reason, fixable=False)
                continue
            accepted.append((run, flow))
        for run, flow in sorted(accepted, key=lambda item: self._start(item[0])):
            self._extract(route, run, flow)

    def _route_problem(self, route: Route) -> str | None:
        """Why none of the route's commits can move, if none can."""
        if has_global_or_nonlocal(route.function):
            return "the route uses `global` or `nonlocal`"
        if self._location is None:
            return f"the module name pattern {self.option('module-name')!r} gives no valid module name"
        blocked = self._index.blocked.get(self._location.path)
        if blocked is not None:
            return blocked
        owner = self._index.owners.get(self._location.path)
        if owner is not None and owner != self.file.path:
            return f"{self._location.path} is generated from {owner}, which maps to the same service module"
        return None

    def _runs(self, route: Route, commits: Sequence[Any]) -> list[Run]:
        http_names = self.option("http-names")
        http_locals = http_parameters(route, self._meta, http_names)
        runs = []
        lower_bounds: dict[cst.IndentedBlock, int] = {}
        for commit in commits:
            found = commit_statement(commit, self._meta)
            if isinstance(found, Decline):
                self.report(found.node, found.reason, fixable=False)
                continue
            line, block = found
            lower = lower_bounds.get(block, 0)
            run = extract_run(line, block, lower, commit, self._meta, http_names, http_locals)
            lower_bounds[block] = next(i for i, s in enumerate(block.body) if s is line) + 1
            if isinstance(run, Decline):
                self.report(run.node, run.reason, fixable=False)
                continue
            runs.append(keep_handler_values(run, route.function, self._meta))
        return runs

    def _depth(self, node: cst.CSTNode) -> int:
        depth = 0
        current = self._meta.parent(node)
        while current is not None:
            depth += 1
            current = self._meta.parent(current)
        return depth

    def _start(self, run: Run) -> tuple[int, int]:
        start = self._meta.position(run.statements[0]).start
        return (start.line, start.column)

    def _contains(self, outer: Run, inner: Run) -> bool:
        first, last = self._meta.position(outer.statements[0]), self._meta.position(outer.statements[-1])
        return self._meta.within(inner.block, first, last)

    # -- generating one service function -----------------------------------------------------

    def _extract(self, route: Route, run: Run, flow: Flow) -> None:
        location = self._location
        assert location is not None
        call_target = self._service_import(location, route)
        service_imports = self._service_imports(flow, location)
        if isinstance(service_imports, str):
            self.report(run.commit.call, service_imports, fixable=False)
            return
        if isinstance(call_target, str):
            self.report(run.commit.call, call_target, fixable=False)
            return
        import_module, import_obj, import_level = call_target
        function_name = self._function_name(route.service_name, location, service_imports)
        source = self._render_function(route, run, flow, function_name)
        self._used_names.add(function_name)
        replacement = self._call_statement(run, flow, import_obj, function_name)
        self._plans.setdefault(run.block, []).append((run.start, run.end, replacement))
        if not self._already_imported(import_obj):
            AddImportsVisitor.add_needed_import(self.context, import_module, import_obj, relative=import_level)
        for item in flow.imports:
            self._remove_if_unused(item)
        self.extras.append(
            ServiceFunctionRequest(
                route_path=self.file.path,
                service_path=location.path,
                class_name=location.class_name if self.option("style") == "class" else None,
                function_name=function_name,
                source=source,
                imports=tuple(service_imports),
                logger_name=flow.logger_name,
            )
        )
        moved = len(run.statements) - 1
        what = f"the commit and {moved} statement{'s' if moved != 1 else ''} before it" if moved else "the commit"
        where = f"{location.class_name}.{function_name}" if self.option("style") == "class" else function_name
        self.report(run.commit.call, f"moved {what} into {where} in {location.path}")

    def _service_import(self, location: ServiceLocation, route: Route) -> tuple[str, str, int] | str:
        """(module, name, relative level) of the route's import of the service, or why not."""
        package = _package_of(self.file)
        offset = _absolute_root(self._module, package, self._index.modules)
        if offset is not None or not package:
            parts = location.package[offset or 0 :]
            module, level = ".".join(parts), 0
        else:
            common = _common_prefix(package, location.package)
            level = len(package) - common + 1
            module = ".".join(location.package[common:])
        name = location.class_name if self.option("style") == "class" else location.module
        if self.option("style") == "class":
            module = f"{module}.{location.module}" if module else location.module
        problem = self._binding_clash(name, module, level, route)
        return problem if problem is not None else (module, name, level)

    def _binding_clash(self, name: str, module: str, level: int, route: Route) -> str | None:
        """Why ``name`` cannot be imported into the route module, if it cannot."""
        route_scope = self._meta.scope(route.function.body)
        if route_scope is not None and any(a.scope is route_scope for a in route_scope.assignments[name]):
            return f"not moved: the route has a local named `{name}`, which would hide the service"
        global_scope = self._meta.scope(self._module.body[0]) if self._module.body else None
        if global_scope is None:
            return None
        for assignment in global_scope.assignments[name]:
            node = getattr(assignment, "node", None)
            if isinstance(node, cst.ImportFrom) and len(node.relative) == level:
                if (dotted_name(node.module) if node.module is not None else "") == module:
                    continue
            return f"not moved: the route module already uses the name `{name}` for something else"
        return None

    def _already_imported(self, name: str) -> bool:
        global_scope = self._meta.scope(self._module.body[0]) if self._module.body else None
        return global_scope is not None and bool(global_scope.assignments[name])

    def _service_imports(self, flow: Flow, location: ServiceLocation) -> list[ImportItem] | str:
        """The imports the service function needs, respelled for the service module, or why not."""
        items: list[ImportItem] = []
        every = [*flow.imports, *(i for p in flow.parameters for i in p.annotation_imports)]
        for item in every:
            respelled = _respell(item, _package_of(self.file), location.package)
            if respelled is None:
                return f"not moved: the relative import of `{item.bound_name}` reaches above the scanned folder"
            if respelled not in items:
                items.append(respelled)
        existing = self._index.services.get(location.path)
        if existing is not None:
            for item in items:
                bound = existing.bindings.get(item.bound_name)
                if bound is not None and bound != item.signature:
                    return f"not moved: {location.path} already defines `{item.bound_name}` as something else"
        return items

    def _function_name(self, base: str, location: ServiceLocation, imports: Sequence[ImportItem]) -> str:
        existing = self._index.services.get(location.path)
        taken = set(self._used_names) | {i.bound_name for i in imports}
        if existing is not None:
            if self.option("style") == "class":
                taken |= existing.class_methods.get(location.class_name, frozenset())
            else:
                taken |= set(existing.bindings)
        name, counter = base, 1
        while name in taken:
            counter += 1
            name = f"{base}_{counter}"
        return name

    def _render_function(self, route: Route, run: Run, flow: Flow, name: str) -> str:
        templates = self.file.templates or TemplateSet()
        function = ServiceFunction(
            name=name,
            parameters=[_parameter_code(p.name, p.annotation) for p in flow.parameters],
            body=_body_code(run.statements),
            returns=list(flow.returns),
            is_async=flow.is_async,
            static=self.option("style") == "class",
            indent="        " if self.option("style") == "class" else "    ",
            route=_docstring_safe(route.label),
            route_function=_docstring_safe(route.qualified_name),
            route_path=_docstring_safe(self.file.path),
        )
        source = templates.render("service_function.py.j2", fn=function)
        parsed = cst.parse_module(source)
        functions = [s for s in parsed.body if isinstance(s, cst.FunctionDef)]
        if len(functions) != 1 or functions[0].name.value != name:
            raise ValueError(f"service_function.py.j2 must render exactly one function named {name}")
        return parsed.code

    def _call_statement(self, run: Run, flow: Flow, owner: str, name: str) -> cst.SimpleStatementLine:
        call: cst.BaseExpression = cst.Call(
            func=cst.Attribute(cst.Name(owner), cst.Name(name)),
            args=[cst.Arg(cst.Name(p.name)) for p in flow.parameters],
        )
        if flow.is_async:
            call = cst.Await(call)
        small: cst.BaseSmallStatement
        if not flow.returns:
            small = cst.Expr(call)
        else:
            if len(flow.returns) == 1:
                target: cst.BaseAssignTargetExpression = cst.Name(flow.returns[0])
            else:
                target = cst.Tuple([cst.Element(cst.Name(r)) for r in flow.returns], lpar=[], rpar=[])
            small = cst.Assign([cst.AssignTarget(target)], call)
        first = run.statements[0]
        blank = [line for line in first.leading_lines if line.comment is None][:1]
        return cst.SimpleStatementLine([small], leading_lines=blank)

    def _remove_if_unused(self, item: ImportItem) -> None:
        """Drop the route's import of a name only the moved code used (libcst checks usage)."""
        if item.level:
            package = _package_of(self.file)
            base = package[: len(package) - (item.level - 1)]
            module = ".".join([*base, *([item.module] if item.module else [])])
        else:
            module = item.module
        RemoveImportsVisitor.remove_unused_import(self._removals, module, item.obj, item.asname)

    def _apply_import_edits(self, tree: cst.Module) -> cst.Module:
        tree = super()._apply_import_edits(tree)
        if self._removals.scratch.get(RemoveImportsVisitor.CONTEXT_KEY):
            trimmed = remove_unused_imports(tree, self._removals, shortcuts=self.file.shortcuts)
            tree = _keep_blank_lines(tree, trimmed)
        return tree

    # -- finalize: create or extend the service modules -------------------------------------

    @classmethod
    def finalize(
        cls,
        extras: Sequence[tuple[str, Any]],
        read_file: Callable[[str], str | None],
        options: Mapping[str, Any],
        templates: TemplateSet,
    ) -> FinalizeResult:
        by_service: dict[str, list[ServiceFunctionRequest]] = {}
        for _, request in sorted(extras, key=lambda item: item[0]):
            if isinstance(request, ServiceFunctionRequest):
                by_service.setdefault(request.service_path, []).append(request)
        files: dict[str, str] = {}
        for path, requests in sorted(by_service.items()):
            files[path] = _service_module_source(path, requests, read_file(path), templates)
            init = path.rsplit("/", 1)[0] + "/__init__.py" if "/" in path else "__init__.py"
            if read_file(init) is None and init not in files:
                files[init] = ""
        return FinalizeResult(files=[GeneratedFile(p, c) for p, c in sorted(files.items())])


def _keep_blank_lines(before: cst.Module, after: cst.Module) -> cst.Module:
    """Give the blank lines of removed import lines to the statement that follows them.

    RemoveImportsVisitor drops a removed line with its leading blank lines, which would glue
    the import groups (or the first definition) to the imports above them.
    """
    empty = cst.Module([])
    old = [empty.code_for_node(s.with_changes(leading_lines=())) for s in before.body]
    new = [empty.code_for_node(s.with_changes(leading_lines=())) for s in after.body]
    body = list(after.body)
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, _ in matcher.get_opcodes():
        if tag != "delete" or j1 >= len(body):
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


# -- paths and imports ---------------------------------------------------------------------------


def _shadowing(service_path: str, indexed: Mapping[str, Any]) -> str | None:
    """Why creating ``service_path`` would hide, or be hidden by, a module that already exists."""
    package = service_path[: -len(".py")] + "/"
    if any(path.startswith(package) for path in indexed):
        return f"{package} is a package, which would hide a {service_path.rsplit('/', 1)[-1]} next to it"
    folder = service_path.rsplit("/", 1)[0] if "/" in service_path else ""
    if folder and f"{folder}.py" in indexed:
        return f"{folder}.py exists; a {folder.rsplit('/', 1)[-1]}/ package next to it would hide it"
    return None


def _may_have_routes(module: cst.Module, decorators: Sequence[str], view_bases: Sequence[str]) -> bool:
    """A cheap syntactic look for route decorators or view classes, before any metadata.

    Decorators and base classes only occur on definitions, so only statements are walked,
    never the expressions inside them (which are most of a module's nodes).
    """
    pending: list[cst.CSTNode] = list(module.body)
    while pending:
        statement = pending.pop()
        if isinstance(statement, cst.SimpleStatementLine):
            continue
        if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
            for decorator in statement.decorators:
                if isinstance(decorator.decorator, cst.Call):
                    func = decorator.decorator.func
                    name = func.attr.value if isinstance(func, cst.Attribute) else dotted_name(func)
                    if name in decorators:
                        return True
        if isinstance(statement, cst.ClassDef):
            names = [(dotted_name(base.value) or "").rsplit(".", 1)[-1] for base in statement.bases]
            if any(name in view_bases for name in names):
                return True
        pending.extend(_inner_statements(statement))
    return False


def _inner_statements(statement: cst.CSTNode) -> list[cst.CSTNode]:
    """The statements directly inside a compound statement's blocks (elif, else, except, case...)."""
    inner: list[cst.CSTNode] = []
    parts = [getattr(statement, name, None) for name in ("body", "orelse", "finalbody")]
    parts += [*getattr(statement, "handlers", ()), *getattr(statement, "cases", ())]
    for part in parts:
        if isinstance(part, cst.If):  # elif
            inner.append(part)
        elif isinstance(part, cst.BaseSuite):
            inner.extend(part.body)
        elif part is not None and isinstance(getattr(part, "body", None), cst.BaseSuite):
            inner.extend(part.body.body)  # else, finally, except handlers, match cases
    return inner


def is_test_path(path: str) -> bool:
    """Tests build throwaway apps whose routes commit; their database work has no service to go to."""
    *folders, filename = path.split("/")
    return (
        any(folder in ("tests", "test") for folder in folders)
        or filename.startswith("test_")
        or filename.endswith("_test.py")
        or filename == "conftest.py"
    )


def _package_of(file: FileContext) -> tuple[str, ...]:
    parts = file.module_name.split(".") if file.module_name else []
    return tuple(parts if file.is_package_init else parts[:-1])


def service_location(route_path: str, options: Mapping[str, Any]) -> ServiceLocation | None:
    """Where the service module of ``route_path`` lives, per the layout options."""
    parts = route_path.split("/")
    folders, filename = parts[:-1], parts[-1]
    stem = filename[: -len(".py")] if filename.endswith(".py") else filename
    if stem == "__init__":
        if not folders:
            return None
        stem = folders[-1]
    route_packages = options.get("route-packages", DEFAULT_ROUTE_PACKAGES)
    base = folders[:-1] if folders and folders[-1] in route_packages else folders
    for suffix in _STEM_SUFFIXES:
        if stem.endswith(suffix) and len(stem) > len(suffix):
            stem = stem[: -len(suffix)]
            break
    try:
        module = options.get("module-name", "{stem}_service").format(stem=stem)
    except (KeyError, IndexError, ValueError):
        return None
    if not module.isidentifier():
        return None
    service_dir = options.get("service-dir", "services")
    package = (*base, *[p for p in service_dir.split("/") if p])
    class_name = "".join(word.capitalize() for word in stem.split("_") if word) + "Service"
    return ServiceLocation("/".join((*package, f"{module}.py")), tuple(package), module, class_name)


def _absolute_root(module: cst.Module, package: Sequence[str], known: frozenset[str]) -> int | None:
    """Where the import root is, as an index into ``package``, if the module imports absolutely.

    ``from app.models import X`` in ``src/app/routes/x.py``: the root is ``src/`` (index 1).
    ``from models import X`` next to a ``models.py`` (a folder run as a script, no relative
    imports): the root is the module's own folder (index ``len(package)``).  None: use relative
    imports.
    """
    tops = []
    relative = False
    for statement in module.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if isinstance(small, cst.ImportFrom) and small.relative:
                relative = True
            elif isinstance(small, cst.ImportFrom) and small.module is not None:
                tops.append((dotted_name(small.module) or "").split(".")[0])
            elif isinstance(small, cst.Import):
                tops.extend((dotted_name(a.name) or "").split(".")[0] for a in small.names)
    for top in tops:
        if top in package:
            return package.index(top)
    if relative:
        return None
    folder = "/".join(package)
    for top in tops:
        if f"{folder}/{top}.py" in known or any(path.startswith(f"{folder}/{top}/") for path in known):
            return len(package)
    return None


def _common_prefix(a: Sequence[str], b: Sequence[str]) -> int:
    count = 0
    for x, y in zip(a, b):
        if x != y:
            break
        count += 1
    return count


def _respell(item: ImportItem, route_package: Sequence[str], service_package: Sequence[str]) -> ImportItem | None:
    """``item`` as the service module must write it (relative imports resolved and re-relativised)."""
    if not item.level:
        return item
    if item.level - 1 > len(route_package):
        return None
    base = list(route_package[: len(route_package) - (item.level - 1)])
    target = [*base, *(item.module.split(".") if item.module else [])]
    common = _common_prefix(target, service_package)
    if common == 0:
        return None
    level = len(service_package) - common + 1
    return ImportItem(".".join(target[common:]), item.obj, item.asname, level)


def _parameter_code(name: str, annotation: cst.BaseExpression | None) -> str:
    if annotation is None:
        return name
    return f"{name}: {cst.Module([]).code_for_node(annotation)}"


def _body_code(statements: Sequence[cst.BaseStatement]) -> str:
    """The moved statements as a function body indented by four spaces (libcst does the indenting)."""
    first = statements[0]
    leading = list(first.leading_lines)
    while leading and leading[0].comment is None:
        leading.pop(0)
    body = [first.with_changes(leading_lines=leading), *statements[1:]]
    wrapper = cst.FunctionDef(cst.Name("_"), cst.Parameters(), cst.IndentedBlock(body))
    code = cst.Module([wrapper], default_indent="    ").code
    return code.split("\n", 1)[1]


def _docstring_safe(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _module_facts(tree: ast.Module, has_commit: bool) -> ModuleFacts:
    bindings: dict[str, str] = {}
    methods: dict[str, frozenset[str]] = {}
    maybe_routes = False
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            bindings[node.name] = "def"
            maybe_routes = maybe_routes or bool(node.decorator_list)
        elif isinstance(node, ast.ClassDef):
            bindings[node.name] = "class"
            methods[node.name] = frozenset(
                n.name for n in node.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
            )
            maybe_routes = maybe_routes or bool(node.bases)
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
                for name in ast.walk(target):
                    if isinstance(name, ast.Name):
                        bindings.setdefault(name.id, "value")
    return ModuleFacts(bindings, methods, maybe_routes and has_commit)


# -- building service modules -------------------------------------------------------------------


def _service_module_source(
    path: str, requests: Sequence[ServiceFunctionRequest], existing: str | None, templates: TemplateSet
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
        module_values = ServiceModule(sorted({r.route_path for r in requests}), groups, logger_name, class_name)
        module = cst.parse_module(templates.render("service_module.py.j2", module=module_values))
    else:
        module = _merge_into(cst.parse_module(existing), path, imports, logger_name, class_name, templates)
    functions = [_parse_function(r) for r in requests]
    return _append_functions(module, functions, class_name, path).code


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
    templates: TemplateSet,
) -> cst.Module:
    """Add what the new functions need to an existing service module."""
    parts = path[: -len(".py")].split("/")
    # No package: AddImportsVisitor would turn the relative imports into absolute ones.
    context = CodemodContext(filename=path, full_module_name=".".join(parts))
    bound = _top_level_names(module)
    for item in imports:
        if item.bound_name not in bound:
            AddImportsVisitor.add_needed_import(context, item.module, item.obj, item.asname, item.level)
    needs_logger = logger_name is not None and logger_name not in bound
    if needs_logger:
        AddImportsVisitor.add_needed_import(context, "logging")
    module = AddImportsVisitor(context).transform_module(module)
    if needs_logger:
        rendered = cst.parse_module(
            templates.render("service_module.py.j2", module=ServiceModule([path], [], logger_name, None))
        )
        logger_line = next(
            s for s in rendered.body if isinstance(s, cst.SimpleStatementLine) and isinstance(s.body[0], cst.Assign)
        )
        module = _insert_after_imports(module, logger_line)
    if class_name is not None and not any(isinstance(s, cst.ClassDef) and s.name.value == class_name for s in module.body):
        rendered = cst.parse_module(
            templates.render("service_module.py.j2", module=ServiceModule([path], [], None, class_name))
        )
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
    parsed = cst.parse_module(request.source)
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


