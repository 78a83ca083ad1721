"""Commits the request boundary already makes: a route's commit that is redundant.

A FastAPI dependency that commits the session it yields on every normal exit (``yield db``
then ``db.commit()``, ``with SessionLocal.begin() as db: yield db``), or a Flask
``after_request`` hook that commits ``db.session``, makes the route's own last commit
redundant.  The facts are read with ``ast`` in the whole-tree index pass
(:func:`boundary_facts`), gathered by :func:`build_boundary_index`, and asked per commit in the
route module (:class:`BoundaryCheck`).

What was measured (FastAPI 0.165, Starlette 1.10, Flask 3.1, Flask-SQLAlchemy 3.1; see
tests/rules/test_route_commit_strategy.py): the code after ``yield`` of a dependency declared
with the default scope runs *after the response is sent*: a commit failing there answers 200
while the rows are rolled back.  With ``Depends(get_db, scope="function")`` it runs before the
response, and a failing commit answers 500, as a failing commit in the route does.  A Flask
``after_request`` hook runs before the response is sent (a failing commit answers 500);
a ``teardown_request`` hook runs after the response is built, and Flask-SQLAlchemy 3 ignores
``SQLALCHEMY_COMMIT_ON_TEARDOWN``.  So only the first and the third make a route's commit
removable; the others are named in a finding and the commit is kept.
"""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Callable, Iterator, Mapping, Sequence

import libcst as cst
import libcst.metadata

from codemods.analysis.metadata import Metadata
from codemods.analysis.nodes import dotted_name
from codemods.analysis.paths import module_name
from codemods.analysis.precheck import walk_ast
from codemods.analysis.sessions import SessionCall

Ref = tuple[str, str]  # (dotted module, name in it)

AFTER_HOOKS = ("after_request", "after_app_request")
LATE_HOOKS = ("teardown_request", "teardown_appcontext", "teardown_app_request")
# Text one of which a module with a boundary fact contains (the index reads only those).
MARKERS = (b"yield", b"Depends", b"init_app", b"SQLAlchemy(", *(h.encode() for h in AFTER_HOOKS + LATE_HOOKS), b"COMMIT_ON_TEARDOWN")
# What a route may still do after a removed commit: names of the web frameworks (their calls
# build responses, they do not read the database) and builtins on plain values.
WEB_MODULES = ("flask", "fastapi", "starlette", "werkzeug", "http")
PLAIN_BUILTINS = ("dict", "list", "tuple", "str", "int", "float", "bool", "len", "print")
LOGGERS = ("logger", "log", "_logger", "LOGGER", "logging", "current_app.logger", "app.logger")
LOG_METHODS = ("debug", "info", "warning", "warn", "error", "exception", "critical")
# Methods that turn a loaded object into plain data (read after a flush in the unit of work).
READERS = ("to_", "as_", "model_dump", "dict", "json", "isoformat", "strftime")
PLAIN_TYPES = ("int", "str", "float", "bool", "UUID", "uuid.UUID")


@dataclasses.dataclass(frozen=True)
class BoundaryFacts:
    """What one module defines that commits at the request boundary."""

    providers: frozenset[str] = frozenset()  # dependencies that commit what they yield
    aliases: tuple[tuple[str, Ref, bool], ...] = ()  # alias, its provider, scope="function"
    after_hooks: tuple[Ref, ...] = ()  # the ``db`` objects whose session an after_request hook commits
    success_hooks: tuple[Ref, ...] = ()  # the same, on responses with a status below 400 only
    late: tuple[str, ...] = ()  # commits after the response: teardown hooks, COMMIT_ON_TEARDOWN
    editable: frozenset[str] = frozenset()  # dependencies that yield once and do not commit yet
    # where an app gets its extension: (the ``db`` object, line, app name, db name here, free hook name)
    app_setups: tuple[tuple[Ref, int, str, str, str], ...] = ()


@dataclasses.dataclass(frozen=True)
class BoundaryIndex:
    editable: Mapping[Ref, str] = dataclasses.field(default_factory=dict)  # dependency -> its module's path
    providers: frozenset[Ref] = frozenset()
    aliases: Mapping[Ref, tuple[Ref, bool]] = dataclasses.field(default_factory=dict)
    after_hooks: frozenset[Ref] = frozenset()
    success_hooks: frozenset[Ref] = frozenset()
    app_setups: Mapping[Ref, tuple[tuple[str, int, str, str, str], ...]] = dataclasses.field(default_factory=dict)
    late: tuple[str, ...] = ()

    def find(self, ref: Ref, table: frozenset[Ref] | Mapping[Ref, object]) -> Ref | None:
        """``ref`` as the table spells it, also when the scanned folder is above the import root."""
        if ref in table:
            return ref
        module, name = ref
        ends = [r for r in table if r[1] == name and (r[0].endswith("." + module) or module.endswith("." + r[0]))]
        return ends[0] if len(ends) == 1 else None


# -- the index pass (ast) -------------------------------------------------------------------------


def boundary_facts(path: str, tree: ast.Module) -> BoundaryFacts | None:
    module = module_name(path)
    package = module if path.endswith("__init__.py") else module.rpartition(".")[0]
    imports = _ast_imports(tree, package)
    providers = frozenset(
        n.name
        for n in tree.body
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and not n.decorator_list and commits_on_exit(n)
    )
    editable = frozenset(
        n.name
        for n in tree.body
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and not n.decorator_list
        and n.name not in providers and _commit_insertion(n) is not None
    )
    aliases = tuple(_ast_aliases(tree, module, imports))
    after: list[Ref] = []
    success: list[Ref] = []
    late: list[str] = []
    for node in walk_ast(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            hook = _hook_kind(node)
            committed = _hook_commit(node) if hook else None
            if committed is not None and hook in AFTER_HOOKS:
                resolved = _resolve(committed[0], imports, module)
                if resolved is not None:
                    (success if committed[1] else after).append(resolved)
            elif committed is not None:
                late.append(f"the `{hook}` hook `{node.name}` ({path}, line {node.lineno}) commits after the response is built")
        elif _sets_commit_on_teardown(node):
            late.append(
                f"{path} sets SQLALCHEMY_COMMIT_ON_TEARDOWN (line {getattr(node, 'lineno', 0)}), which Flask-SQLAlchemy 3 "
                "ignores and 2.x applies after the response is built"
            )
    setups = tuple(_app_setups(tree, imports, module))
    if not (providers or aliases or after or success or late or editable or setups):
        return None
    return BoundaryFacts(providers, aliases, tuple(after), tuple(success), tuple(late), editable, setups)


def build_boundary_index(facts: Mapping[str, BoundaryFacts | None]) -> BoundaryIndex:
    providers: set[Ref] = set()
    editable: dict[Ref, str] = {}
    aliases: dict[Ref, tuple[Ref, bool]] = {}
    after: set[Ref] = set()
    success: set[Ref] = set()
    late: list[str] = []
    setups: dict[Ref, list[tuple[str, int, str, str, str]]] = {}
    for path, fact in sorted(facts.items()):
        if fact is None:
            continue
        module = module_name(path)
        providers.update((module, name) for name in fact.providers)
        editable.update({(module, name): path for name in fact.editable})
        for alias, provider, function_scope in fact.aliases:
            aliases[(module, alias)] = (provider, function_scope)
        after.update(fact.after_hooks)
        success.update(fact.success_hooks)
        for db, *where in fact.app_setups:
            setups.setdefault(db, []).append((path, *where))  # type: ignore[arg-type]
        late.extend(fact.late)
    frozen = {db: tuple(found) for db, found in setups.items()}
    return BoundaryIndex(editable, frozenset(providers), aliases, frozenset(after), frozenset(success), frozen, tuple(late))


def commits_on_exit(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Whether a generator dependency commits the session it yields on every normal exit: a
    ``session.commit()`` after the one ``yield session`` with only plain statements between them
    (in its block, or the ``else``/``finally`` of the ``try`` around it), or a
    ``with ... begin()`` around it.  Nothing past a ``with`` that closes the session or a
    ``try`` with a ``finally`` counts, and nothing past an ``if`` or a loop."""
    found = _yield_path(function.body)
    if found is None:
        return False
    path, session = found
    if any(isinstance(c, (ast.If, ast.For, ast.AsyncFor, ast.While, ast.Match)) for _, _, c in path):
        return False  # a yield that may not happen, or happen again
    closed = False  # a with/finally between the yield and here may have closed the session
    for body, index, container in reversed(path):
        if not closed and _commits_in(body[index + 1 :], session):
            return True
        if isinstance(container, (ast.With, ast.AsyncWith)):
            if _begins(container, session):
                return True
            closed = True
        elif isinstance(container, ast.Try):
            if body is not container.body:
                return False  # the yield is in an else or finally block
            if not closed and (_commits_in(container.orelse, session) or _commits_in(container.finalbody, session)):
                return True
            closed = closed or bool(container.finalbody)
    return False


def _commit_insertion(function: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[int, str] | None:
    """(line of the one ``yield <session>``, the session's name) where a commit can follow it so
    that it runs on every normal exit and never after an error: the yield is in no ``if``,
    loop or handler, and is a statement of its own (an error raised into it skips the commit)."""
    found = _yield_path(function.body)
    if found is None:
        return None
    path, session = found
    for body, _, container in path:
        if container is not None and not isinstance(container, (ast.With, ast.AsyncWith, ast.Try)):
            return None
        if isinstance(container, ast.Try) and body is not container.body:
            return None
    body, index, _ = path[-1]
    return body[index].lineno, session


Step = tuple[list[ast.stmt], int, "ast.AST | None"]  # a block, the index in it, the statement owning it


def _yield_path(body: list[ast.stmt]) -> tuple[list[Step], str] | None:
    """The blocks down to the one ``yield <name>`` statement, with that name; None unless exactly one."""
    yields = [n for n in _own_nodes(body) if isinstance(n, (ast.Yield, ast.YieldFrom))]
    if len(yields) != 1:
        return None
    return _path_to(yields[0], body, [], None)


def _path_to(target: ast.AST, body: list[ast.stmt], path: list[Step], container: ast.AST | None) -> tuple[list[Step], str] | None:
    for index, statement in enumerate(body):
        if isinstance(statement, ast.Expr) and statement.value is target:
            if isinstance(target, ast.Yield) and isinstance(target.value, ast.Name):
                return [*path, (body, index, container)], target.value.id
            return None
        if not any(node is target for node in walk_ast(statement)):
            continue
        for field in ("body", "orelse", "finalbody"):
            inner = getattr(statement, field, None)
            if isinstance(inner, list) and inner and isinstance(inner[0], ast.stmt):
                found = _path_to(target, inner, [*path, (body, index, container)], statement)
                if found is not None:
                    return found
        for handler in getattr(statement, "handlers", []):
            found = _path_to(target, handler.body, [*path, (body, index, container)], statement)
            if found is not None:
                return None  # a yield in an except handler: not on the normal path
        return None
    return None


def _commits_in(statements: Sequence[ast.stmt], session: str) -> bool:
    """A ``session.commit()`` statement with only plain statements (which can only go on or
    raise) before it."""
    for statement in statements:
        if _is_commit_of(statement, session):
            return True
        if not isinstance(statement, (ast.Expr, ast.Assign, ast.AnnAssign, ast.AugAssign, ast.Pass)):
            return False
    return False


def _is_commit_of(statement: ast.stmt, session: str) -> bool:
    if not isinstance(statement, ast.Expr):
        return False
    value = statement.value.value if isinstance(statement.value, ast.Await) else statement.value
    return (
        isinstance(value, ast.Call)
        and isinstance(value.func, ast.Attribute)
        and value.func.attr == "commit"
        and _ast_dotted(value.func.value) == session
        and not value.args
    )


def _begins(statement: ast.With | ast.AsyncWith, session: str) -> bool:
    """``with SessionLocal.begin() as session`` / ``with session.begin()``: commits on normal exit."""
    for item in statement.items:
        call = item.context_expr
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr == "begin":
            named = isinstance(item.optional_vars, ast.Name) and item.optional_vars.id == session
            if named or _ast_dotted(call.func.value) == session:
                return True
    return False


def _ast_aliases(tree: ast.Module, module: str, imports: Mapping[str, Ref]) -> Iterator[tuple[str, Ref, bool]]:
    """``SessionDep = Annotated[Session, Depends(get_db, scope="function")]``: alias, provider, scope."""
    for node in tree.body:
        target, value = None, None
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            target, value = node.targets[0].id, node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            target, value = node.target.id, node.value
        elif type(node).__name__ == "TypeAlias":
            target, value = node.name.id, node.value  # type: ignore[attr-defined]
        if target is None or not isinstance(value, ast.Subscript) or _ast_dotted(value.value) not in ("Annotated", "typing.Annotated"):
            continue
        elements = value.slice.elts if isinstance(value.slice, ast.Tuple) else []
        for extra in elements[1:]:
            depends = _ast_depends(extra)
            if depends is not None:
                provider = _resolve(depends[0], imports, module)
                if provider is not None:
                    yield target, provider, depends[1]


def _ast_depends(node: ast.expr) -> tuple[str, bool] | None:
    if not (isinstance(node, ast.Call) and (_ast_dotted(node.func) or "").rsplit(".", 1)[-1] in ("Depends", "Security")):
        return None
    provider = _ast_dotted(node.args[0]) if node.args else None
    if provider is None:
        return None
    scope = next((k.value for k in node.keywords if k.arg == "scope"), None)
    return provider, isinstance(scope, ast.Constant) and scope.value == "function"


def _hook_kind(function: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
    for decorator in function.decorator_list:
        if isinstance(decorator, ast.Attribute) and decorator.attr in (*AFTER_HOOKS, *LATE_HOOKS):
            return decorator.attr
    return None


def _app_setups(tree: ast.Module, imports: Mapping[str, Ref], module: str) -> Iterator[tuple[Ref, int, str, str, str]]:
    """``db.init_app(app)`` / ``db = SQLAlchemy(app)`` statements of the module's body or of a
    top-level function's (an app factory): (db, line, app, db, a hook name the module does not use)."""
    name: str | None = None  # the hook's name, once a setup is found
    bodies = [tree.body, *(n.body for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)))]
    for body in bodies:
        for statement in body:
            value = statement.value if isinstance(statement, (ast.Expr, ast.Assign)) else None
            if not (isinstance(value, ast.Call) and len(value.args) == 1 and isinstance(value.args[0], ast.Name)):
                continue
            app = value.args[0].id
            if isinstance(statement, ast.Expr) and isinstance(value.func, ast.Attribute) and value.func.attr == "init_app":
                db = _ast_dotted(value.func.value)
            elif isinstance(statement, ast.Assign) and (_ast_dotted(value.func) or "").rsplit(".", 1)[-1] == "SQLAlchemy":
                target = statement.targets[0]
                db = target.id if len(statement.targets) == 1 and isinstance(target, ast.Name) else None
            else:
                continue
            resolved = _resolve(db, imports, module) if db and "." not in db else None
            if resolved is not None and name is None:
                used = {n.id for n in walk_ast(tree) if isinstance(n, ast.Name)}
                used |= {n.name for n in walk_ast(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
                name = next((n for n in ("commit_session", "commit_db_session") if n not in used), "")
            if resolved is not None and name:
                yield resolved, statement.end_lineno or statement.lineno, app, db, name  # type: ignore[misc]


def _hook_commit(function: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[str, bool] | None:
    """(``X`` of ``X.session.commit()``, whether only below status 400) for a hook that commits
    at the top of its body, or under ``if response.status_code < 400:``, before anything else."""
    response = function.args.args[0].arg if function.args.args else None
    for statement in function.body:
        receiver = _session_commit(statement)
        if receiver is not None:
            return receiver, False
        if isinstance(statement, ast.If) and len(statement.body) == 1 and _below_400(statement.test, response):
            receiver = _session_commit(statement.body[0])
            if receiver is not None and all(_session_commit(s, "rollback") == receiver for s in statement.orelse):
                return receiver, True
        if not isinstance(statement, (ast.Expr, ast.Assign, ast.AnnAssign, ast.Pass)):
            return None
    return None


def _session_commit(statement: ast.stmt, method: str = "commit") -> str | None:
    if isinstance(statement, ast.Expr):
        value = statement.value
        if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr == method:
            receiver = _ast_dotted(value.func.value) or ""
            if receiver.endswith(".session"):
                return receiver[: -len(".session")]
    return None


def _below_400(test: ast.expr, response: str | None) -> bool:
    """``response.status_code < 400``."""
    return (
        isinstance(test, ast.Compare)
        and len(test.ops) == 1
        and isinstance(test.ops[0], ast.Lt)
        and _ast_dotted(test.left) == f"{response}.status_code"
        and isinstance(test.comparators[0], ast.Constant)
        and test.comparators[0].value == 400
    )


def _sets_commit_on_teardown(node: ast.AST) -> bool:
    def named(target: ast.AST) -> bool:
        if isinstance(target, ast.Name):
            return target.id == "SQLALCHEMY_COMMIT_ON_TEARDOWN"
        if isinstance(target, ast.Subscript) and isinstance(target.slice, ast.Constant):
            return target.slice.value == "SQLALCHEMY_COMMIT_ON_TEARDOWN"
        return False

    if isinstance(node, ast.Assign):
        return any(named(t) for t in node.targets) and not (isinstance(node.value, ast.Constant) and not node.value.value)
    if isinstance(node, ast.AnnAssign):
        return named(node.target)
    if isinstance(node, ast.keyword):
        return node.arg == "SQLALCHEMY_COMMIT_ON_TEARDOWN"
    return False


def _ast_imports(tree: ast.Module, package: str) -> dict[str, Ref]:
    """Top-level import bindings: name -> (module, name); a bound module is (module, "")."""
    table: dict[str, Ref] = {}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            source = _absolute(node.module or "", node.level, package)
            if source is None:
                continue
            for alias in node.names:
                table[alias.asname or alias.name] = (source, alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    table[alias.asname] = (alias.name, "")
    return table


def _absolute(module: str, level: int, package: str) -> str | None:
    if not level:
        return module
    parts = package.split(".") if package else []
    if level - 1 > len(parts):
        return None
    base = parts[: len(parts) - (level - 1)]
    return ".".join([*base, *([module] if module else [])])


def _resolve(dotted: str, imports: Mapping[str, Ref], module: str) -> Ref | None:
    """Where the object ``dotted`` names in a module is defined: (module, name)."""
    first, _, rest = dotted.partition(".")
    if first not in imports:
        return None if rest else (module, first)
    source, name = imports[first]
    if not rest:
        return (source, name) if name else None
    full = ".".join(p for p in (source, name, rest) if p)
    owner, _, last = full.rpartition(".")
    return (owner, last)


def _ast_dotted(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _ast_dotted(node.value)
        return None if base is None else f"{base}.{node.attr}"
    return None


def _own_nodes(body: list[ast.stmt]) -> Iterator[ast.AST]:
    pending: list[ast.AST] = list(body)
    while pending:
        node = pending.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
                pending.append(child)


# -- the route module (libcst) --------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class BoundaryEdit:
    """A request to ``finalize``: make the dependency ``function`` of ``path`` commit after its yield."""

    path: str
    function: str
    route_path: str = ""  # the route module asking for it


@dataclasses.dataclass(frozen=True)
class HookEdit:
    """A request to ``finalize``: add the committing ``after_request`` hook after the statement
    of ``path`` that sets up ``db`` for ``app``."""

    path: str
    app: str
    db: str
    name: str
    route_path: str = ""


@dataclasses.dataclass(frozen=True)
class UnitOfWork:
    committer: str  # what commits at the boundary, for the finding
    edit: BoundaryEdit | HookEdit | None  # the edit that needs, if nothing commits there yet
    below_400: bool = False  # the boundary commits only responses below 400


@dataclasses.dataclass(frozen=True)
class Verdict:
    """What the boundary says about one commit: ``remove`` it, and the finding's text."""

    remove: bool
    message: str


class BoundaryCheck:
    """Asks the boundary index about the commits of one route module."""

    def __init__(self, index: BoundaryIndex, module: cst.Module, module_name_: str, package: Sequence[str]) -> None:
        self.index = index
        self.module_name = module_name_
        self.imports = _cst_imports(module, ".".join(package))
        self.web = frozenset(n for n, (source, _) in self.imports.items() if source.split(".", 1)[0] in WEB_MODULES)

    def verdict(
        self, commit: SessionCall, function: cst.FunctionDef, line: cst.SimpleStatementLine, meta: Metadata
    ) -> Verdict | None:
        """None when nothing at the boundary commits this commit's session."""
        who = self._committer(commit, function)
        if who is None:
            if commit.session_name.endswith(".session") and self.index.late:
                return Verdict(False, f"not removed: {self.index.late[0]}, so the route's commit is what saves its writes")
            return None
        committer, provider, in_time, below_400 = who
        if not in_time:
            return Verdict(
                False,
                f"not removed: {committer} commits the session after the route too, but FastAPI runs that code "
                "after the response is sent (the default dependency scope: a commit failing there answers 200 and "
                "loses the rows), so this commit is what reports a failure; declare "
                f'`Depends({provider}, scope="function")` and it is redundant',
            )
        held = _after_commit(line, function, meta, _Known(_plain_parameters(function), self.web, below_400=below_400))
        if held is not None:
            return Verdict(False, f"not removed: {committer} commits the session after the route too, but {held}")
        return Verdict(
            True,
            f"removed a redundant commit: {committer} commits the session after the route, before the response "
            "is sent, and nothing after this commit reads the database; the writes stay in the route",
        )

    def _committer(self, commit: SessionCall, function: cst.FunctionDef) -> tuple[str, str, bool, bool] | None:
        """(what commits at the boundary, the dependency's name, whether before the response is
        sent, whether only below status 400)."""
        session = commit.session_name
        if not session:
            return None
        if session.endswith(".session"):
            hook = self._hook(session)
            return None if hook is None else (hook[0], "", True, hook[1])
        if "." in session:
            return None
        params = function.params
        for param in (*params.posonly_params, *params.params, *params.kwonly_params):
            if param.name.value == session:
                return self._param_committer(param)
        return None

    def _param_committer(self, param: cst.Param) -> tuple[str, str, bool, bool] | None:
        found = self._provider(param)
        if found is None or self.index.find(found[2], self.index.providers) is None:
            return None
        return found[0], found[1], found[3], False

    def _provider(self, param: cst.Param) -> tuple[str, str, Ref, bool] | None:
        """(description, name as written, where it is defined, scope="function") of the
        dependency that gives ``param``: ``Depends(get_db)`` or an alias of one."""
        candidates: list[cst.BaseExpression] = []
        if param.default is not None:
            candidates.append(param.default)
        annotation = param.annotation.annotation if param.annotation is not None else None
        if isinstance(annotation, cst.Subscript) and dotted_name(annotation.value) in ("Annotated", "typing.Annotated"):
            candidates.extend(e.slice.value for e in annotation.slice[1:] if isinstance(e.slice, cst.Index))
        for candidate in candidates:
            depends = _cst_depends(candidate)
            if depends is not None:
                provider = self._resolve(depends[0])
                return None if provider is None else (f"the dependency `{depends[0]}`", depends[0], provider, depends[1])
        alias_name = dotted_name(annotation) if annotation is not None else None
        alias = self._resolve(alias_name) if alias_name else None
        found = self.index.find(alias, self.index.aliases) if alias is not None else None
        if found is None:
            return None
        provider, function_scope = self.index.aliases[found]
        return f"the dependency `{provider[1]}` (through `{alias_name}`)", provider[1], provider, function_scope

    # -- the unit-of-work strategy ----------------------------------------------------------

    def unit_of_work(
        self, commit: SessionCall, function: cst.FunctionDef, line: cst.SimpleStatementLine, meta: Metadata
    ) -> UnitOfWork | str:
        """What commits this commit's session at the boundary (and the dependency edit that
        needs), or why the commit cannot move there."""
        boundary = self._uow_boundary(commit, function)
        if isinstance(boundary, str):
            return f"not moved: unit-of-work: {boundary}"
        known = _Known(_plain_parameters(function), self.web, reads=True, below_400=boundary.below_400)
        held = _after_commit(line, function, meta, known)
        if held is not None:
            return f"not moved: unit-of-work: {held}, and with the commit at the boundary an error there would roll the writes back"
        return boundary

    def _uow_boundary(self, commit: SessionCall, function: cst.FunctionDef) -> UnitOfWork | str:
        session = commit.session_name
        if session.endswith(".session"):
            hook = self._hook(session)
            if hook is not None:
                return UnitOfWork(hook[0], None, hook[1])
            return self._new_hook(session)
        params = function.params
        param = next((p for p in (*params.posonly_params, *params.params, *params.kwonly_params) if p.name.value == session), None)
        found = self._provider(param) if param is not None and "." not in session else None
        if found is None:
            return f"`{session}` comes from no dependency of the scanned tree, so there is no boundary to commit at"
        description, name, ref, function_scope = found
        if not function_scope:
            return (
                f"FastAPI runs the code after `{name}`'s yield after the response is sent (the default "
                f'dependency scope), where a failing commit answers 200 and loses the rows; declare `Depends({name}, scope="function")`'
            )
        if self.index.find(ref, self.index.providers) is not None:
            return UnitOfWork(description, None)
        editable = self.index.find(ref, self.index.editable)
        if editable is None:
            return f"{description} yields the session more than once, or inside an `if`, a loop or a handler, so no commit can follow it safely"
        return UnitOfWork(description, BoundaryEdit(self.index.editable[editable], editable[1]))

    def _new_hook(self, session: str) -> UnitOfWork | str:
        """The hook to add where the one app gets ``session``'s extension, or why there is none."""
        owner = self._resolve(session[: -len(".session")])
        found = self.index.find(owner, self.index.app_setups) if owner is not None else None
        setups = self.index.app_setups[found] if found is not None else ()
        if len(setups) != 1:
            where = "no" if not setups else f"{len(setups)}"
            return (
                f"no `after_request` hook commits `{session}`, and {where} app setups (`db.init_app(app)`, "
                "`SQLAlchemy(app)`) were found to add one to; add it (docs/unit-of-work.md shows one) and run again"
            )
        if self.index.late:
            return f"{self.index.late[0]}: a second boundary commit would be added"
        path, _, app, db, name = setups[0]
        edit = HookEdit(path, app, db, name)
        return UnitOfWork("an `after_request` hook (on responses below 400)", edit, True)

    def _hook(self, session: str) -> tuple[str, bool] | None:
        """The ``after_request`` hook that commits ``session`` (``db.session``), described, and
        whether it commits only responses below 400."""
        owner = self._resolve(session[: -len(".session")])
        if owner is not None and self.index.find(owner, self.index.after_hooks) is not None:
            return "an `after_request` hook", False
        if owner is not None and self.index.find(owner, self.index.success_hooks) is not None:
            return "an `after_request` hook (on responses below 400)", True
        return None

    def _resolve(self, dotted: str) -> Ref | None:
        return _resolve(dotted, self.imports, self.module_name)


def without_statement(body: Sequence[cst.BaseStatement], index: int) -> list[cst.BaseStatement]:
    """``body`` without its statement ``index``; the comments above it and its blank line (when
    the next statement has none) go to the next statement."""
    removed, rest = body[index], [*body[: index], *body[index + 1 :]]
    if index < len(rest):
        following = rest[index]
        comments = [line for line in removed.leading_lines if line.comment is not None]
        blank = [line for line in removed.leading_lines[:1] if line.comment is None]
        own = list(following.leading_lines)
        lines = [*(blank if not own or own[0].comment is not None else []), *comments, *own]
        rest[index] = following.with_changes(leading_lines=lines)
    return rest


def _cst_depends(node: cst.BaseExpression) -> tuple[str, bool] | None:
    if not isinstance(node, cst.Call) or (dotted_name(node.func) or "").rsplit(".", 1)[-1] not in ("Depends", "Security"):
        return None
    positional = [a for a in node.args if a.keyword is None]
    provider = dotted_name(positional[0].value) if positional else None
    if provider is None:
        return None
    scope = next((a.value for a in node.args if a.keyword is not None and a.keyword.value == "scope"), None)
    function_scope = isinstance(scope, cst.SimpleString) and scope.evaluated_value == "function"
    return provider, function_scope


def _cst_imports(module: cst.Module, package: str) -> dict[str, Ref]:
    table: dict[str, Ref] = {}
    for statement in module.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if isinstance(small, cst.ImportFrom) and not isinstance(small.names, cst.ImportStar):
                name = dotted_name(small.module) if small.module is not None else ""
                source = _absolute(name or "", len(small.relative), package)
                if source is None:
                    continue
                for alias in small.names:
                    table[str(alias.evaluated_alias or alias.evaluated_name)] = (source, alias.evaluated_name)
            elif isinstance(small, cst.Import):
                for alias in small.names:
                    if alias.asname is not None:
                        table[str(alias.evaluated_alias)] = (alias.evaluated_name, "")
    return table


def _plain_parameters(function: cst.FunctionDef) -> frozenset[str]:
    """Parameters that hold plain request values (URL parts, numbers, strings), not objects a
    commit would refresh: unannotated ones (Flask's URL converters) and those annotated with a
    plain type, without a default that is a call (``Depends(...)``)."""
    params = function.params
    plain = set()
    for param in (*params.posonly_params, *params.params, *params.kwonly_params):
        if param.default is not None and isinstance(param.default, cst.Call):
            continue
        annotation = param.annotation.annotation if param.annotation is not None else None
        if annotation is None or dotted_name(annotation) in PLAIN_TYPES:
            plain.add(param.name.value)
    return frozenset(plain) - {"self", "cls"}


@dataclasses.dataclass(frozen=True)
class _Known:
    plain: frozenset[str]  # parameters holding plain request values
    web: frozenset[str]  # names the module imports from a web framework
    reads: bool = False  # reading any name and attribute is allowed (after a flush, not a commit)
    below_400: bool = False  # the boundary commits only responses below 400: returns must say 2xx/3xx


def _after_commit(line: cst.SimpleStatementLine, function: cst.FunctionDef, meta: Metadata, known: _Known) -> str | None:
    """Why the route may observe the commit after it (it reads, loops, catches), or None."""
    node: cst.CSTNode = line
    while node is not function:
        block = meta.parent(node)
        owner = meta.parent(block) if block is not None else None
        if not isinstance(block, cst.IndentedBlock) or owner is None:
            return "the commit is not a statement of an indented block"
        if isinstance(owner, (cst.For, cst.While)):
            return "the commit is inside a loop"
        in_try_else = isinstance(owner, cst.Else) and isinstance(meta.parent(owner), (cst.Try, cst.TryStar))
        if in_try_else or isinstance(owner, (cst.Try, cst.ExceptHandler, cst.Finally, cst.TryStar, cst.ExceptStarHandler)):
            return "the commit is inside a `try` statement, whose handlers would no longer see its errors"
        if isinstance(owner, (cst.With, cst.Match, cst.MatchCase)):
            return "the commit is inside a `with` or `match` statement"
        index = next(i for i, s in enumerate(block.body) if s is node)
        for statement in block.body[index + 1 :]:
            if not _inert_statement(statement, known):
                position = meta.position(statement).start.line
                if known.below_400 and _inert_statement(statement, dataclasses.replace(known, below_400=False)):
                    return f"the route answers a status the hook does not commit (line {position})"
                what = "may fail or write" if known.reads else "may read what the commit refreshed"
                return f"the route goes on after it (line {position}) with code that {what}"
        node = owner if isinstance(owner, cst.FunctionDef) else _statement_of(owner, meta)
    return None


def _statement_of(node: cst.CSTNode, meta: Metadata) -> cst.CSTNode:
    """The statement an ``else``/``elif`` part belongs to (the ``if`` in its block)."""
    while not isinstance(meta.parent(node), cst.IndentedBlock) and not isinstance(node, cst.FunctionDef):
        parent = meta.parent(node)
        if parent is None:
            return node
        node = parent
    return node


def _inert_statement(statement: cst.BaseStatement, known: _Known) -> bool:
    if not isinstance(statement, cst.SimpleStatementLine):
        return False
    for small in statement.body:
        if isinstance(small, cst.Pass):
            continue
        if isinstance(small, cst.Return):
            if small.value is not None and not _inert(small.value, known):
                return False
            if known.below_400 and small.value is not None and not _status_below_400(small.value):
                return False
            continue
        if isinstance(small, cst.Expr) and isinstance(small.value, cst.Call) and _inert(small.value, known):
            continue
        named = isinstance(small, cst.Assign) and all(isinstance(t.target, cst.Name) for t in small.targets)
        if named and known.reads and _inert(small.value, known):  # type: ignore[union-attr]
            continue  # a local computed from what the unit of work wrote
        return False
    return True


def _inert(node: cst.BaseExpression, known: _Known) -> bool:
    """An expression that reads no database state: literals, plain parameters, calls of the
    web framework's helpers (``jsonify``, ``redirect(url_for(...))``, ``Response``) on those."""
    if isinstance(node, (cst.Integer, cst.Float, cst.Imaginary, cst.SimpleString, cst.Ellipsis)):
        return True
    if isinstance(node, cst.Name):
        return known.reads or node.value in ("None", "True", "False") or node.value in known.plain
    if isinstance(node, cst.ConcatenatedString):
        return _inert(node.left, known) and _inert(node.right, known)
    if isinstance(node, cst.FormattedString):
        return all(_inert(p.expression, known) for p in node.parts if isinstance(p, cst.FormattedStringExpression))
    if isinstance(node, (cst.Tuple, cst.List, cst.Set)):
        return all(_inert(e.value, known) for e in node.elements)
    if isinstance(node, cst.Dict):
        return all(
            isinstance(e, cst.DictElement) and _inert(e.key, known) and _inert(e.value, known) for e in node.elements
        )
    if isinstance(node, cst.UnaryOperation):
        return _inert(node.expression, known)
    if isinstance(node, cst.BinaryOperation):
        return _inert(node.left, known) and _inert(node.right, known)
    if isinstance(node, cst.Attribute):
        return _is_web_name(node, known) or (known.reads and _inert(node.value, known))
    if isinstance(node, cst.Subscript) and known.reads:
        indexes = [e.slice.value for e in node.slice if isinstance(e.slice, cst.Index)]
        return len(indexes) == len(node.slice) and _inert(node.value, known) and all(_inert(i, known) for i in indexes)
    if isinstance(node, cst.Call):
        return _inert_callee(node.func, known) and all(_inert(a.value, known) for a in node.args)
    return False


def _inert_callee(func: cst.BaseExpression, known: _Known) -> bool:
    """A web framework helper, a builtin on plain values, a log call; with ``reads``, a method
    that turns an object into data (``item.to_dict()``, ``user.model_dump()``)."""
    if _is_web_name(func, known) or dotted_name(func) in PLAIN_BUILTINS:
        return True
    if not isinstance(func, cst.Attribute):
        return False
    method = func.attr.value
    if dotted_name(func.value) in LOGGERS and method in LOG_METHODS:
        return True
    return known.reads and method.startswith(READERS) and _inert(func.value, known)


def _is_web_name(node: cst.BaseExpression, known: _Known) -> bool:
    name = dotted_name(node)
    return name is not None and name.split(".", 1)[0] in known.web


# -- finalize: the dependency edits of the unit-of-work strategy ------------------------------------


def commit_after_yield(source: str, function: str, render: Callable[..., str]) -> str | None:
    """``source`` with a commit after the yield of the dependency ``function`` (None when it
    already commits, or no longer has the shape the index saw)."""
    tree = ast.parse(source)
    target = next((n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == function), None)
    if target is not None and commits_on_exit(target):
        return None
    insertion = _commit_insertion(target) if target is not None else None
    if insertion is None:
        raise ValueError(f"route-commit: the dependency `{function}` no longer has the shape a commit can follow")
    line, session = insertion
    statement = cst.parse_statement(render("boundary_commit.py.j2", session=session, is_async=isinstance(target, ast.AsyncFunctionDef)))
    return _insert_after(source, line, [statement])


def add_after_request_hook(source: str, edit: HookEdit, render: Callable[..., str]) -> str:
    """``source`` with the committing hook after the statement that sets up the app's ``db``."""
    hook = cst.parse_module(render("boundary_hook.py.j2", app=edit.app, db=edit.db, name=edit.name))
    if len(hook.body) != 1 or not isinstance(hook.body[0], cst.FunctionDef):
        raise ValueError("boundary_hook.py.j2 must render exactly one function")
    lines = [line for _, line, app, db, _ in _app_setups(ast.parse(source), {}, "") if (app, db) == (edit.app, edit.db)]
    if len(lines) != 1:  # found again in the text as it is now (other codemods may have moved it)
        raise ValueError(f"route-commit: {edit.path} no longer sets up `{edit.db}` for `{edit.app}` once")
    function = hook.body[0].with_changes(leading_lines=[cst.EmptyLine(indent=False)])
    return _insert_after(source, lines[0], [function], blank_after=True)


def _insert_after(source: str, line: int, statements: Sequence[cst.BaseStatement], *, blank_after: bool = False) -> str:
    """``source`` with ``statements`` after the statement line that ends on ``line``."""
    module = cst.parse_module(source)
    wrapper = cst.metadata.MetadataWrapper(module, unsafe_skip_copy=True)
    lines = wrapper.resolve(cst.metadata.PositionProvider)

    def inserted(original: Sequence[cst.BaseStatement], updated: Sequence[cst.BaseStatement]) -> list[cst.BaseStatement] | None:
        for index, child in enumerate(original):
            if isinstance(child, cst.SimpleStatementLine) and lines[child].end.line == line:
                body = list(updated)
                after = body[index + 1 :]
                if blank_after and after and not after[0].leading_lines:
                    after[0] = after[0].with_changes(leading_lines=[cst.EmptyLine(indent=False)])
                return [*body[: index + 1], *statements, *after]
        return None

    class _Insert(cst.CSTTransformer):
        def leave_IndentedBlock(self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock) -> cst.IndentedBlock:
            body = inserted(original_node.body, updated_node.body)
            return updated_node if body is None else updated_node.with_changes(body=body)

        def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
            body = inserted(original_node.body, updated_node.body)
            return updated_node if body is None else updated_node.with_changes(body=body)

    return wrapper.module.visit(_Insert()).code


def _status_below_400(value: cst.BaseExpression) -> bool:
    """A return value whose status, if it sets one, is a literal below 400 (``body, 201``,
    ``Response(status=204)``, ``redirect(url, code=302)``)."""
    statuses: list[cst.BaseExpression] = []
    if isinstance(value, cst.Tuple) and len(value.elements) > 1:
        statuses.append(value.elements[1].value)
        value = value.elements[0].value
    callee = (dotted_name(value.func) or "").rsplit(".", 1)[-1] if isinstance(value, cst.Call) else ""
    if isinstance(value, cst.Call) and (callee.endswith("Response") or callee in ("make_response", "redirect")):
        keywords = ("code",) if callee == "redirect" else ("status", "status_code")
        statuses += [a.value for a in value.args if a.keyword is not None and a.keyword.value in keywords]
    return all(isinstance(s, cst.Integer) and int(s.value) < 400 for s in statuses)


# How a finding names a boundary edit: "(its commit after the yield is added to app/db.py)".
EDIT_WORDS = {BoundaryEdit: "its commit after the yield is added to", HookEdit: "it is added to"}
