"""route-commit: move a route's writes and their commit into a generated service function."""

from __future__ import annotations

import dataclasses
import keyword
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import libcst as cst

from codemods.analysis import precheck
from codemods.analysis.metadata import Metadata
from codemods.analysis.names import shared_name_facts
from codemods.analysis.nodes import dotted_name
from codemods.analysis.paths import is_test_path
from codemods.analysis.precheck import SyntaxFacts, matches_any
from codemods.analysis.routes import (
    DEFAULT_HTTP_NAMES,
    DEFAULT_ROUTE_DECORATORS,
    DEFAULT_VIEW_BASES,
    Route,
    find_route,
    router_prefixes,
)
from codemods.analysis.session_index import build_session_index, session_facts
from codemods.analysis.sessions import (
    DEFAULT_SESSION_FACTORIES,
    DEFAULT_SESSION_NAMES,
    SessionFacts,
    SessionMatcher,
    SessionScope,
)
from codemods.analysis.sessions import INDEX_MARKERS as SESSION_INDEX_MARKERS
from codemods.base import (
    Codemod,
    FileContext,
    FinalizeResult,
    GeneratedFile,
    Option,
    Templates,
)
from codemods.rules.route_commit.boundary import (
    EDIT_WORDS,
    BoundaryCheck,
    BoundaryEdit,
    HookEdit,
    UnitOfWork,
    add_after_request_hook,
    boundary_facts,
    build_boundary_index,
    commit_after_yield,
    without_statement,
)
from codemods.rules.route_commit.boundary import MARKERS as BOUNDARY_MARKERS
from codemods.rules.route_commit.flow import (
    Decline,
    Flow,
    ImportItem,
    Run,
    analyse_flow,
    commit_statement,
    extract_run,
    find_commits,
    has_global_or_nonlocal,
    http_parameters,
    keep_handler_values,
)
from codemods.rules.route_commit.naming import (
    DEFAULT_ROUTE_PACKAGES,
    ServiceLocation,
    locate,
    naming_facts,
    naming_of_source,
    service_layout,
)
from codemods.rules.route_commit.request_values import (
    RequestValues,
    hoist_values,
    in_try_body,
)
from codemods.rules.route_commit.service_checks import (
    body_shape,
    http_reference,
    moved_what,
    share_across_modules,
)
from codemods.rules.route_commit.services import (
    UNPARSABLE,
    ModuleFacts,
    RouteCommitIndex,
    ServiceFunction,
    ServiceFunctionRequest,
    blocked_services,
    describe_writes,
    keep_blank_lines,
    module_facts,
    parsed_text,
    respell,
    says_what_it_does,
    service_module_source,
    summary_of,
    without_channel,
)
from codemods.rules.route_commit.spelling import RouteImports
from codemods.rules.route_commit.syntax import (
    attributes_read_on,
    body_code,
    docstring_safe,
    drop_unused_package_imports,
    may_have_routes,
    package_of,
    parameter_code,
)
from codemods.speedups import imports


class RouteCommit(Codemod):
    """Move the writes and the commit of a route into a service function.

    What it does:
    In every route (a function decorated with ``@app.route``, ``@bp.post``, ``@router.put``,
    ``@expose``..., or a ``get``/``post``/``put``/``patch``/``delete`` method of a ``MethodView``,
    ``View`` or ``Resource`` class), each ``commit()`` on a database session is moved, with the
    longest run of statements before it in the same block that neither leaves the route
    (``return``, ``raise``, ``yield``, ``break``, ``continue``) nor touches the HTTP layer
    (Flask's ``request``, ``g``, ``session``, ``abort``, ``jsonify``...; FastAPI's ``Request``,
    ``Response``, ``HTTPException``, ``BackgroundTasks``), into a function of the route module's
    service module (``app/routes/candidate_routes.py`` -> ``app/services/candidate_service.py``).
    The route calls it: the route's values that the moved code reads before assigning them
    are passed as arguments (the session first), the values it assigns and the rest of the route
    may read are returned; the variables of its own loops and branches are neither. An ``async`` route awaits an ``async``
    service function when the moved code awaits. The service module imports what the moved
    code uses by copying the route module's own imports (relative ones respelled for its
    location) and gets its own module logger if the moved code logs.

    The service module follows the project's layout and names. An existing service module for
    the same resource is reused, in the singular or the plural (``order_service.py`` or
    ``services/orders.py`` for ``orders.py``, else a package's ``services.py``), so no twin of
    it is created; a new one follows the pattern the project's service modules share
    (``*_service.py``, ``*_services.py`` or plain ``services/<name>.py``; singular names where
    ``orders.py``'s services are ``order_service.py``), in the nearest existing ``services/``
    folder. Its name comes from the route module's (``candidate_routes.py`` -> ``candidate``),
    from the blueprint of a generic ``routes.py``/``views.py`` (``Blueprint("auth", ...)`` ->
    ``auth_service``, ``APIRouter(prefix="/items")`` -> ``items_service``), and for a module
    of inline routes (``app.py``, ``main.py``, ``flask_app.py``, a top-level ``routes.py``)
    from the model each route writes (``db.session.add(Item(...))`` -> ``item_service``). ``module-name`` and ``service-dir``,
    when set, win.

    The route imports the service module the way it imports its own package: absolutely, from
    the root its own imports of files of the tree have (``from chapter06.sqlalchemy.models
    import Post`` gives ``from chapter06.sqlalchemy.services import post_service``), else
    relatively (``from ..services import candidate_service``). Relative is the default because
    it works wherever the package sits (a ``src/`` layout, a vendored copy). A folder run as a
    script (no relative imports, ``from models import Item`` next to ``models.py``) gets ``from
    services import item_service``, rooted at that folder. The import is resolved back against
    the tree before anything is written, and a first name that the standard library or an
    installed library also has (a folder called ``sqlalchemy``, ``logging``, ``test``) is never
    used unless the module itself imports its folder by that name.

    Sessions are found as projects write them, across the whole tree: the configured names
    (``db.session``, ``session``, ``db``...), parameters annotated with a session type or an
    alias of one defined in any module (``SessionDep = Annotated[Session, Depends(get_db)]``),
    ``Depends(get_db)`` of a function that yields a session, ``store.session`` of a module that
    creates one, and the project's commit helpers (a function whose name says commit or save and
    whose body commits the session it is given or its module's). A ``.commit()`` on a
    dependency auditfix cannot type is a finding ("session of unknown type"). Lookups that
    answer 404 (``get_or_404``...) and the HTTP layer stay in the route; a commit that nothing
    can move with stays too, with a finding naming the statement that held it back. Commits with
    nothing of the HTTP layer between them share one function; a name already taken becomes a
    name for what the code writes (``create_audit_log``), never a number. Each function has a
    one-line docstring that says what it does.

    Writes on request-bound objects move too: the route passes ``current_user``, ``g.<attr>``,
    ``request.form[...]``, ``request.json``, ``auth.current_user()``, ``form.<field>.data``, a
    FastAPI ``request.headers.get(...)``... as values (``follow(current_user, user)``; see
    request_values.py). A service never names the HTTP layer nor takes a form object (one that
    would is not generated). Routes whose moved code is the same (a web form and its JSON twin)
    share one function: a module's second route calls the first's, another service module
    imports it (``from .views_service import pay_bill as api_pay_bill``).

    A commit the request boundary already makes is removed instead, with its writes left in the
    route and no service: when the session comes from a FastAPI dependency that commits what it
    yields on every normal exit (``yield db`` then ``db.commit()``, ``with
    SessionLocal.begin() as db: yield db``; directly or through an ``Annotated`` alias of any
    module) declared with ``scope="function"``, or a Flask ``after_request`` hook commits
    ``db.session``, and nothing after the commit reads the database (only returns of literals,
    plain parameters and the web framework's helpers). With FastAPI's default dependency scope
    the commit after ``yield`` runs after the response is sent, so the route's commit is kept
    and a finding says why; so it is for teardown hooks and ``SQLALCHEMY_COMMIT_ON_TEARDOWN``.

    With ``strategy = "unit-of-work"`` the service only writes: the commit becomes a
    ``flush()`` in it and the request boundary commits, once per request, as SQLAlchemy's
    session documentation recommends for web apps. The session dependency gets
    ``db.commit()`` after its ``yield`` (``templates/boundary_commit.py.j2``) if it does not
    commit yet; a Flask app gets an ``after_request`` hook that commits responses below 400
    and rolls back the others (``templates/boundary_hook.py.j2``, after its one
    ``db.init_app(app)``) unless one commits already. The route must have one commit, nothing
    but reads after it, and (FastAPI) ``Depends(..., scope="function")``, else it is declined
    with the reason. See docs/unit-of-work.md.

    Why is this bad?
    A route that writes and commits mixes HTTP handling with the unit of work: the transaction
    cannot be reused by a CLI command, a worker or another route, and it can only be tested
    through the HTTP client.

    Example:
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
        candidate = db.get_or_404(Candidate, candidate_id)
        candidate_service.update_status(candidate, new_status)
        return jsonify(candidate.to_dict())
    ```
    with ``update_status(candidate: Candidate, new_status)`` in
    ``app/services/candidate_service.py``, importing ``db`` and ``Candidate`` the way the route
    module does.

    Fix safety:
    The moved statements run in the same order, on the same objects (passed by reference), in
    the same request: only the frame they run in changes. A request value is read before the
    call, and only when that gives the same value and failure: nothing that may change it runs
    before its read, one that may fail (``request.form["x"]``) is read on every path and after
    nothing that leaves a trace, in its order (``current_user`` is passed as the proxy itself).
    Exceptions propagate unchanged, so an ``except: rollback()`` in the route still applies. Code that reads a moved
    name the analysis cannot see (``locals()``, ``eval``) would change behaviour.

    A removed redundant commit leaves the writes to the boundary's commit, which runs before the
    response is sent, after nothing but returns that read no database state: a failing commit
    still answers 500 with nothing saved. Unit-of-work flushes where the route committed (the
    same SQL at the same point: errors and generated ids stay where they were), then the
    boundary commits before the response. What changes: objects are no longer expired by a
    commit in the route (a relationship collection loaded before the write is not reloaded),
    and with unit-of-work every request using the dependency commits its writes at the end,
    also one whose route wrote without committing.

    Limitations:
    Test modules (``tests/``, ``test_*.py``, ``conftest.py``) and functions decorated with
    ``mock.patch`` are not routes. Declined, with a finding that says why: commits inside lambdas, comprehensions, nested
    functions or one-line blocks; commits whose result is used; routes with ``global`` or
    ``nonlocal``; moved code that deletes a name, reads a local the route may not have assigned
    on every path to it (a value carried from an earlier loop iteration, or set in one branch),
    uses a name defined in the route module itself (the service would import the route module: an
    import cycle) or a name from a function around the route; a name the route reads after the
    commit that the moved code assigns only on some paths; a service module name already used
    in the route module; two route modules that map to the same service module (the first one,
    by path, gets it); a module of inline routes that writes no model by name (set
    ``module-name``); an import of the service that would name a library and cannot be
    relative. A project's ``*Service`` classes are followed (static methods) when they hold
    static methods only; instance-based service classes get module functions beside them. Existing service modules are looked up in a whole-tree index of the
    files that commit or have "service" in their path; a name clash with a module outside
    that set makes the generation fail, and the engine then leaves the routes unchanged.
    Only the block that holds the commit is considered, so a commit inside
    ``try:`` or ``if`` moves with the statements before it in that block, and the
    ``except: rollback()`` stays in the route. A statement whose request value cannot be read
    earlier, or that uses a form object otherwise, stays in the route with those before it (the
    finding says why); so do Flask's ``session`` and FastAPI's request body. No function is
    shared through folders that are not packages, in the class style, or when it logs.
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
        Option("module-name", "{stem}_service", "service module name when set; {stem} is the route module's stem", str),
        Option("route-packages", list(DEFAULT_ROUTE_PACKAGES), "package names that hold route modules", list, item_kind=str),
        Option("style", "functions", "module functions, or static methods of a <Stem>Service class", str, choices=("functions", "class")),
        Option(
            "strategy",
            "service",
            "service: the commit moves into the service with the writes; unit-of-work: the service only "
            "writes (and flushes), the commit is made once at the request boundary",
            str,
            choices=("service", "unit-of-work"),
        ),
    )

    def __init__(self, file: FileContext) -> None:
        super().__init__(file)
        # RemoveImportsVisitor needs the package to match relative imports; AddImportsVisitor must
        # not have it, or it would turn the relative imports it adds into absolute ones.
        self._removals = imports.EditContext(
            filename=file.path, full_module_name=file.module_name, full_package_name=".".join(package_of(file))
        )
        # block -> (start, end, the statement replacing body[start:end], None to remove it)
        self._plans: dict[cst.IndentedBlock, list[tuple[int, int, cst.BaseStatement | None]]] = {}
        self._scopes: list[cst.ClassDef | cst.FunctionDef] = []  # the definitions around the visitor
        self._used_names: set[str] = set()
        self._shapes: dict[tuple[str, str], tuple[str, str]] = {}  # (service, body shape) -> (function, route)
        self._units: dict[int, UnitOfWork] = {}  # id of a commit call -> its boundary (unit-of-work)

    @classmethod
    def may_change(cls, facts: SyntaxFacts, options: Mapping[str, Any]) -> bool:
        # A .commit() call, and a route decorator or a view base class (what _may_have_routes
        # looks for, by the last part of the name).
        if not facts.commit_lines and not facts.commit_helper_call:
            return False
        decorators = options.get("route-decorators", DEFAULT_ROUTE_DECORATORS)
        bases = options.get("view-bases", DEFAULT_VIEW_BASES)
        return matches_any(facts.decorator_names, decorators) or matches_any(facts.base_names, bases)

    # -- the whole-tree index -----------------------------------------------------------------

    @classmethod
    def index_file(cls, path: str, source: bytes) -> ModuleFacts | None:
        # Only route modules (they commit) and service modules (they commit, or their path
        # says "service") matter; the layout options are not known yet, so this is a superset.
        defines_sessions = any(marker in source for marker in SESSION_INDEX_MARKERS)
        boundary_only = b"COMMIT_ON" in source or b"init_app" in source  # config, an app factory
        if b"commit" not in source and "service" not in path.lower() and not defines_sessions and not boundary_only:
            return None
        tree = precheck.parse_shared(source)  # pydantic-config's indexer reads the same file
        if tree is None:
            return UNPARSABLE
        facts = module_facts(tree, b"commit" in source)
        naming = naming_facts(tree) if facts.maybe_routes else None
        boundary = boundary_facts(path, tree) if any(m in source for m in BOUNDARY_MARKERS) else None
        sessions = session_facts(tree) if defines_sessions else None
        return dataclasses.replace(facts, sessions=sessions, boundary=boundary, naming=naming)

    @classmethod
    def build_index(cls, facts: Mapping[str, Any], options: Mapping[str, Any]) -> RouteCommitIndex:
        services: dict[str, ModuleFacts] = {}
        claims: dict[str, list[str]] = {}
        sessions: dict[str, SessionFacts | None] = {}
        routes = {p: f for p, f in sorted(facts.items()) if isinstance(f, ModuleFacts) and f.maybe_routes}
        classes = {p: f.service_class for p, f in facts.items() if isinstance(f, ModuleFacts) and f.service_class}
        layout = service_layout(facts, routes, options, classes)
        for path, fact in sorted(facts.items()):
            if fact is None or fact == UNPARSABLE:
                continue
            services[path] = fact
            sessions[path] = fact.sessions
        for path, fact in routes.items():
            qualnames = [None, *(name for name, _ in fact.naming.writes)] if fact.naming else [None]
            for qualname in qualnames:
                location = locate(path, fact.naming, qualname, layout, options)
                if isinstance(location, ServiceLocation) and path not in claims.get(location.path, []):
                    claims.setdefault(location.path, []).append(path)
        owners = {service: routes[0] for service, routes in claims.items() if len(routes) > 1}
        blocked = blocked_services(claims, facts)
        wanted = set(claims)
        kept = {p: f for p, f in services.items() if p in wanted}
        naming = {p: f.naming for p, f in routes.items() if f.naming is not None}
        boundary = build_boundary_index({path: fact.boundary for path, fact in services.items()})
        return RouteCommitIndex(
            kept, owners, blocked, frozenset(facts), build_session_index(sessions), boundary, layout, naming
        )

    # -- the per-file transform ---------------------------------------------------------------

    def visit_Module(self, node: cst.Module) -> bool:
        decorators, bases = self.option("route-decorators"), self.option("view-bases")
        if is_test_path(self.file.path) or not may_have_routes(node, decorators, bases):
            return False  # nothing to do: skip the costly scope analysis
        self._module = node
        facts = shared_name_facts(self.file.source) if self.file.shortcuts and self.file.source else None
        self._meta = Metadata(node, package_of(self.file), facts)
        matcher = SessionMatcher(self.option("session-names"), self.option("session-factories"))
        self._matcher = matcher.for_module(
            node, self._index_of().sessions, self.file.module_name, self.file.is_package_init
        )
        self._module_sessions = self._matcher.scope_sessions(node)
        self._prefixes = router_prefixes(node)
        self._index = self._index_of()
        self._imports = RouteImports(node, package_of(self.file), self._index.modules)  # spells the service imports
        # A route module the whole-tree index did not see (a run without one): its own facts.
        self._naming = self._index.naming.get(self.file.path) or naming_of_source(self.file.source or node.code.encode())
        self._location: ServiceLocation | str = "no route yet"
        self._class_style = False
        self._boundary = BoundaryCheck(self._index.boundary, node, self.file.module_name, package_of(self.file))
        return True

    def _index_of(self) -> RouteCommitIndex:
        return self.file.index if isinstance(self.file.index, RouteCommitIndex) else RouteCommitIndex({}, {})

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._scopes.append(node)

    def leave_ClassDef(self, original_node: cst.ClassDef, updated_node: cst.ClassDef) -> cst.ClassDef:
        self._scopes.pop()
        return updated_node

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> bool:
        return False  # no function, class or block below it (all this transform plans or changes)

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
            if replacement is None:
                body = without_statement(body, start)
            else:
                body[start:end] = [replacement]
        return updated_node.with_changes(body=body)

    # -- planning one route -------------------------------------------------------------------

    def _plan_route(self, route: Route) -> None:
        self._location = locate(
            self.file.path, self._naming, route.qualified_name, self._index.layout, self.file.options
        )
        class_style = isinstance(self._location, ServiceLocation) and self._location.class_style
        self._class_style = self.option("style") == "class" or class_style
        scope = self._matcher.scope_sessions(route.function, self._module_sessions)
        commits, declines = find_commits(route, self._matcher, scope)
        for decline in declines:
            self.report(decline.node, decline.reason, fixable=False)
        if self.option("strategy") == "unit-of-work":
            commits = self._units_of_work(route, commits)
        else:
            commits = self._not_redundant(route, commits)
        if not commits:
            return
        problem = self._route_problem(route)
        if problem is not None:
            for commit in commits:
                self.report(commit.call, f"not moved: {problem}", fixable=False)
            return
        runs = self._runs(route, commits)
        sessions = self._session_names(route, scope)
        accepted: list[tuple[Run, Flow]] = []
        # Outermost first: a run that contains another commit's run moves both commits together.
        for run in sorted(runs, key=lambda r: self._depth(r.block)):
            if any(self._contains(outer, run) for outer, _ in accepted):
                continue
            flow = analyse_flow(route, run, self._meta, self._module, sessions, self._matcher.alias_types)
            if isinstance(flow, Decline):
                self.report(flow.node, flow.reason, fixable=False)
                continue
            accepted.append((run, flow))
        for run, flow in sorted(accepted, key=lambda item: self._start(item[0])):
            self._extract(route, run, flow)

    def _not_redundant(self, route: Route, commits: Sequence[Any]) -> list[Any]:
        """The commits left once those the request boundary makes redundant are removed."""
        kept = []
        for commit in commits:
            found = commit_statement(commit, self._meta)
            verdict = None if isinstance(found, Decline) else self._boundary.verdict(commit, route.function, found[0], self._meta)
            if verdict is None or isinstance(found, Decline):
                kept.append(commit)
                continue
            line, block = found
            if verdict.remove and len(block.body) > 1:
                index = next(i for i, s in enumerate(block.body) if s is line)
                self._plans.setdefault(block, []).append((index, index + 1, None))
                self.report(commit.call, verdict.message)
                continue
            message = verdict.message if not verdict.remove else "not removed: it is the only statement of its block"
            self.report(commit.call, message, fixable=False)
            kept.append(commit)
        return kept

    def _units_of_work(self, route: Route, commits: Sequence[Any]) -> list[Any]:
        """The one commit of the route whose writes move into a service that only writes, the
        boundary committing them; the others are declined with the reason."""
        if len(commits) != 1:
            for commit in commits:
                self.report(
                    commit.call,
                    f"not moved: unit-of-work: the route commits {len(commits)} times; one commit at the boundary "
                    "would undo the first ones when a later step fails",
                    fixable=False,
                )
            return []
        commit = commits[0]
        found = commit_statement(commit, self._meta)
        if isinstance(found, Decline):
            self.report(found.node, found.reason, fixable=False)
            return []
        unit = self._boundary.unit_of_work(commit, route.function, found[0], self._meta)
        if isinstance(unit, str):
            self.report(commit.call, unit, fixable=False)
            return []
        self._units[id(commit.call)] = unit
        return [commit]

    def _session_names(self, route: Route, scope: SessionScope) -> frozenset[str]:
        """The route's plain names that hold database sessions (they come first in signatures)."""
        params = route.function.params
        names = [p.name.value for p in (*params.posonly_params, *params.params, *params.kwonly_params)]
        return frozenset(n for n in names if self._matcher.is_session(cst.Name(n), scope))

    def _route_problem(self, route: Route) -> str | None:
        """Why none of the route's commits can move, if none can."""
        if has_global_or_nonlocal(route.function):
            return "the route uses `global` or `nonlocal`"
        if isinstance(self._location, str):
            return self._location
        blocked = self._index.blocked.get(self._location.path)
        if blocked is not None:
            return blocked
        owner = self._index.owners.get(self._location.path)
        if owner is not None and owner != self.file.path:
            return f"{self._location.path} is generated from {owner}, which maps to the same service module"
        return None

    def _runs(self, route: Route, commits: Sequence[Any]) -> list[Run]:
        """The statements that move with each commit; commits with nothing of the HTTP layer
        between them share one run (one service function, one unit of work)."""
        http_names = self.option("http-names")
        http_locals = http_parameters(route, self._meta, http_names)
        values = RequestValues(route.function, self._meta, http_names)
        runs: list[Run] = []
        lower_bounds: dict[cst.IndentedBlock, int] = {}
        for commit in commits:
            found = commit_statement(commit, self._meta)
            if isinstance(found, Decline):
                self.report(found.node, found.reason, fixable=False)
                continue
            line, block = found
            lower = lower_bounds.get(block, 0)
            run = extract_run(line, block, lower, commit, self._meta, http_names, http_locals, values)
            lower_bounds[block] = next(i for i, s in enumerate(block.body) if s is line) + 1
            if isinstance(run, Decline):
                self.report(run.node, run.reason, fixable=False)
                continue
            previous = runs[-1] if runs else None
            if previous is not None and previous.block is block and previous.end == run.start:
                runs[-1] = dataclasses.replace(run, start=previous.start, held_by=previous.held_by)
                continue
            runs.append(run)
        kept = []
        for whole in runs:
            run = keep_handler_values(whole, route.function, self._meta)
            if run.start != whole.start:
                run = dataclasses.replace(run, held_by="assigns a value the route reads if the commit fails")
            in_try = in_try_body(run.block, route.function, self._meta)
            run = hoist_values(run, route.function, self._meta, values, in_try)
            if run.end - run.start == 1:
                self.report(run.commit.call, self._only_commit_reason(run), fixable=False)
                continue
            kept.append(run)
        return kept

    def _only_commit_reason(self, run: Run) -> str:
        """Why nothing moves with the commit (a service that only commits is no unit of work)."""
        if not run.held_by:
            return (
                "not moved: nothing before the commit in its block can move with it, "
                "and a service that only commits is no unit of work"
            )
        before = run.block.body[run.start - 1]
        line = self._meta.position(before).start.line
        leaves = run.held_by in ("return", "raise", "yield", "break", "continue")
        why = f"leaves the route (`{run.held_by}`)" if leaves else run.held_by
        return (
            f"not moved: the statement before the commit (line {line}) stays in the route: it {why}; "
            "only the commit would move, and a service that only commits is no unit of work"
        )

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
        assert isinstance(location, ServiceLocation)
        call_target = self._service_import(location, route)
        service_imports = self._service_imports(flow, location)
        if isinstance(service_imports, str):
            self.report(run.commit.call, service_imports, fixable=False)
            return
        if isinstance(call_target, str):
            self.report(run.commit.call, call_target, fixable=False)
            return
        import_module, import_obj, import_level, import_as = call_target
        kept = {i.bound_name for i in flow.imports} | ({flow.logger_name} if flow.logger_name else set())
        shape = (location.path, f"{flow.is_async}\n{body_shape(run.body, flow.parameters, flow.returns, kept)}")
        unit_of_work = id(run.commit.call) in self._units  # each route's commit has its own boundary edit
        if shape in self._shapes and not unit_of_work:
            self._share(run, flow, import_as or import_obj, *self._shapes[shape], location)
            return
        function_name = self._function_name(route.service_name, run, location, service_imports, import_as or import_obj)
        if function_name is None:
            self.report(
                run.commit.call,
                f"not moved: {location.path} already has a `{route.service_name}` and no other name says what this code writes",
                fixable=False,
            )
            return
        source, rendered = self._render_function(route, run, flow, function_name)
        used = http_reference(rendered, service_imports, self.option("http-names"))
        if used is not None:
            self.report(run.commit.call, f"not moved: the service function would use {used} of the HTTP layer", fixable=False)
            return
        self._used_names.add(function_name)
        if not unit_of_work:
            self._shapes[shape] = (function_name, route.qualified_name)
        replacement = self._call_statement(run, flow, import_as or import_obj, function_name)
        self._plans.setdefault(run.block, []).append((run.start, run.end, replacement))
        if not self._already_imported(import_as or import_obj):
            imports.add_needed_import(self.context, import_module, import_obj, import_as, relative=import_level)
        for item in flow.imports:
            self._remove_if_unused(item)
        self.extras.append(
            ServiceFunctionRequest(
                route_path=self.file.path,
                service_path=location.path,
                class_name=location.class_name if self._class_style else None,
                function_name=function_name,
                source=source,
                imports=tuple(service_imports),
                logger_name=flow.logger_name,
                shape=shape[1],
            )
        )
        where = f"{location.class_name}.{function_name}" if self._class_style else function_name
        note = f"; {run.note}" if run.note else ""
        unit = self._units.get(id(run.commit.call))
        if unit is None:
            self.report(run.commit.call, f"moved {moved_what(run)} into {where} in {location.path}{note}")
            return
        if unit.edit is not None:
            self.extras.append(dataclasses.replace(unit.edit, route_path=self.file.path))
        moved = len(run.statements) - 1
        what = f"the {moved} statement{'s' if moved != 1 else ''} before the commit"
        self.report(
            run.commit.call,
            f"moved {what} into {where} in {location.path}, which flushes instead of committing; "
            f"{unit.committer} commits at the request boundary"
            + (f" ({EDIT_WORDS[type(unit.edit)]} {unit.edit.path})" if unit.edit is not None else "")
            + note,
        )

    def _share(self, run: Run, flow: Flow, owner: str, name: str, other: str, location: ServiceLocation) -> None:
        """Call the function an earlier route of the module generated for the same code."""
        replacement = self._call_statement(run, flow, owner, name)
        self._plans.setdefault(run.block, []).append((run.start, run.end, replacement))
        for item in flow.imports:
            self._remove_if_unused(item)
        where = f"{location.class_name}.{name}" if self.option("style") == "class" else name
        self.report(
            run.commit.call,
            f"moved {moved_what(run)} into {where} in {location.path}, the function of `{other}`, which does the same"
            + (f"; {run.note}" if run.note else ""),
        )

    def _service_import(self, location: ServiceLocation, route: Route) -> tuple[str, str, int, str | None] | str:
        """(module, name, relative level, alias) of the route's import of the service, or why not."""
        class_name = location.class_name if self._class_style else None
        wanted = (*location.package, location.module)
        found = self._imports.existing(wanted, class_name)
        if found is not None:  # the route already imports the module it reuses: that binding
            (spelled, alias) = found
            problem = self._binding_clash(alias or spelled.name, spelled.module, spelled.level, route)
            return problem if problem is not None else (spelled.module, spelled.name, spelled.level, alias)
        spelling = self._imports.spell(location.package, location.module, class_name)
        if isinstance(spelling, str):
            return spelling
        problem = self._binding_clash(spelling.name, spelling.module, spelling.level, route)
        if problem is not None and class_name is None and "service" not in spelling.name:
            # services/orders.py next to a local `orders`: imported as orders_service
            alias = f"{spelling.name}_service"
            if self._binding_clash(alias, spelling.module, spelling.level, route) is None:
                return (spelling.module, spelling.name, spelling.level, alias)
        return problem if problem is not None else (spelling.module, spelling.name, spelling.level, None)

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
            respelled = respell(item, package_of(self.file), location.package)
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

    def _function_name(
        self, base: str, run: Run, location: ServiceLocation, imports: Sequence[ImportItem], owner: str
    ) -> str | None:
        """The route's name if it says what it does (``close_job``), else one for what the moved
        code writes (``create_post`` for ``index``/``new_post``); never a numbered one."""
        existing = self._index.services.get(location.path)
        taken = set(self._used_names) | {i.bound_name for i in imports}
        taken |= attributes_read_on(owner, self._meta, self._module)
        if existing is not None:
            if self._class_style:
                taken |= existing.class_methods.get(location.class_name, frozenset())
            else:
                taken |= set(existing.bindings)
        described = describe_writes(run.body)
        base = without_channel(base)  # api_pay_bill and web_pay_bill both pay a bill
        names = (base, described) if says_what_it_does(base) or not described else (described, base)
        for name in (*names, f"{base}_{described}" if described and described != base else None):
            if name and name not in taken and name.isidentifier() and not keyword.iskeyword(name):
                return name
        return None

    def _render_function(self, route: Route, run: Run, flow: Flow, name: str) -> tuple[str, cst.Module]:
        """The service function's text and its tree (finalize composes the module from the same tree)."""
        function = ServiceFunction(
            name=name,
            parameters=[parameter_code(p.name, p.annotation) for p in flow.parameters],
            body=body_code(self._service_statements(run)),
            returns=list(flow.returns),
            is_async=flow.is_async,
            static=self._class_style,
            summary=docstring_safe(self._summary(name, run)),
        )
        source = self.render("service_function.py.j2", fn=function)
        parsed = parsed_text(source)
        functions = [s for s in parsed.body if isinstance(s, cst.FunctionDef)]
        if len(functions) != 1 or functions[0].name.value != name:
            raise ValueError(f"service_function.py.j2 must render exactly one function named {name}")
        return source, parsed

    def _summary(self, name: str, run: Run) -> str:
        summary = summary_of(name, run.body)
        if id(run.commit.call) not in self._units:
            return summary
        return summary.removesuffix(" and commit.").removesuffix(".") + " and flush (the request commits)."

    def _service_statements(self, run: Run) -> Sequence[cst.BaseStatement]:
        """The moved statements; in a unit of work the commit becomes a flush (the same SQL at the
        same point: its errors and generated ids stay where they were)."""
        body = run.body  # the statements reading the request values the route passes, if any
        if id(run.commit.call) not in self._units:
            return body
        last = body[-1]
        assert isinstance(last, cst.SimpleStatementLine) and isinstance(last.body[-1], cst.Expr)
        call = last.body[-1].value
        call = call.expression if isinstance(call, cst.Await) else call
        assert isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute)
        return [*body[:-1], last.deep_replace(call.func.attr, cst.Name("flush"))]

    def _call_statement(self, run: Run, flow: Flow, owner: str, name: str) -> cst.SimpleStatementLine:
        call: cst.BaseExpression = cst.Call(
            func=cst.Attribute(cst.Name(owner), cst.Name(name)),
            args=[cst.Arg(p.argument if p.argument is not None else cst.Name(p.name)) for p in flow.parameters],
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
            package = package_of(self.file)
            base = package[: len(package) - (item.level - 1)]
            module = ".".join([*base, *([item.module] if item.module else [])])
        else:
            module = item.module
        imports.remove_unused_import(self._removals, module, item.obj, item.asname)

    def _apply_import_edits(self, tree: cst.Module) -> cst.Module:
        tree = super()._apply_import_edits(tree)
        requests = self._removals.scratch.get(imports.REMOVE)
        if requests:
            trimmed = imports.remove_unused_imports(tree, self._removals, shortcuts=self.file.shortcuts)
            package_names = {obj for module, obj, asname in requests if obj is not None and asname is None}
            package_names |= {asname for _, _, asname in requests if asname is not None}
            trimmed = drop_unused_package_imports(trimmed, package_names)
            tree = keep_blank_lines(tree, trimmed)
        return tree

    # -- finalize: create or extend the service modules -------------------------------------

    @classmethod
    def finalize(
        cls,
        extras: Sequence[tuple[str, Any]],
        read_file: Callable[[str], str | None],
        options: Mapping[str, Any],
        templates: Templates,
    ) -> FinalizeResult:
        by_service: dict[str, list[ServiceFunctionRequest]] = {}
        ordered = [r for _, r in sorted(extras, key=lambda item: item[0]) if isinstance(r, ServiceFunctionRequest)]
        for request in share_across_modules(ordered, read_file):
            by_service.setdefault(request.service_path, []).append(request)
        files: dict[str, str] = {}
        done: set[Any] = set()  # boundary edits made (one per dependency or app, whatever the routes)
        contributors: dict[str, set[str]] = {}  # generated path -> the routes whose code goes in
        for path, requests in sorted(by_service.items()):
            existing = read_file(path)
            files[path] = service_module_source(path, requests, existing, templates)
            routes = {r.route_path for r in requests}
            contributors.setdefault(path, set()).update(routes)
            init = path.rsplit("/", 1)[0] + "/__init__.py" if "/" in path else "__init__.py"
            # An existing module is imported as it is; only a new services/ folder needs a package.
            if init in files or (existing is None and read_file(init) is None):
                files[init] = ""
                contributors.setdefault(init, set()).update(routes)
        edits = {r for _, r in extras if isinstance(r, (BoundaryEdit, HookEdit))}
        for edit in sorted(edits, key=lambda r: (r.path, repr(r))):
            current = files.get(edit.path, read_file(edit.path))
            if current is None:
                raise ValueError(f"route-commit: {edit.path} is gone, so the request boundary cannot commit")
            key = dataclasses.replace(edit, route_path="")
            if key in done:
                contributors[edit.path].add(edit.route_path)
                continue
            done.add(key)
            if isinstance(edit, BoundaryEdit):
                edited = commit_after_yield(current, edit.function, templates.render)
            else:
                edited = add_after_request_hook(current, edit, templates.render)
            if edited is not None:
                files[edit.path] = edited
            contributors.setdefault(edit.path, set()).add(edit.route_path)
        return FinalizeResult(
            files=[GeneratedFile(p, c, tuple(sorted(contributors[p]))) for p, c in sorted(files.items()) if p in files]
        )

