"""Recognise calls on a database session (``session.commit()``, ``await db.rollback()``, ...).

Shared by ``loop-commit`` and ``route-commit``.  Pure libcst, no metadata providers: the
codemods walk their functions and ask this module what is a session.

API
---
``SessionMatcher(names=DEFAULT_SESSION_NAMES, factories=DEFAULT_SESSION_FACTORIES)``
    Built from a codemod's ``session-names`` / ``session-factories`` options.
    ``matcher.for_module(module)`` returns a matcher that also knows the module's own
    factories (``SessionLocal = sessionmaker(...)``, ``async_session = async_sessionmaker(...)``)
    and scoped sessions (``db_session = scoped_session(...)``).

``matcher.scope_sessions(node, outer=None) -> SessionScope``
    What one scope (a ``FunctionDef``, ``Lambda`` or ``Module``) binds: ``sessions`` are names
    bound to a factory call or a parameter annotated as a session; ``others`` are names bound to
    anything else (``conn = sqlite3.connect()``, ``repo = git.Repo(".")``, ``db = get_db()``),
    which hide a configured name of the same spelling.  Pass the enclosing scope as ``outer``
    so closures see their parent's sessions.

``matcher.is_session(expr, scope) -> bool``
    Whether an expression (``db.session``, ``self.session``, ``s``) is a session in ``scope``.

``matcher.session_call(node, scope, methods=("commit",)) -> SessionCall | None``
    ``node`` is a statement line, ``Expr``, ``Await`` or ``Call``: matches ``X.commit()`` and
    ``await X.commit()`` where ``X`` is a session.

``matcher.session_calls(node, scope, methods=None) -> list[SessionCall]``
    Every call of ``methods`` (any method when None) on a session inside ``node``, in source
    order, not looking into nested functions, classes or lambdas.

``method_calls(node, methods)`` is the same without the session test (any receiver),
``bound_names(node)`` the dotted names (``x``, ``self.session``) a block assigns, again not
looking into nested scopes, and ``bindings(node)`` the same as (name, binding node) pairs.

What counts as a session
------------------------
* a configured name: ``db.session``, ``session``, ``self.session``, ``self.db``, ``db`` by
  default, unless the scope rebinds that name to something that is not a session;
* a name bound to a factory call: ``Session(engine)``, ``SessionLocal()``, ``get_session()``,
  ``sessionmaker(...)()``, ``scoped_session(...)``, ``next(get_session())``,
  ``await get_session()``, also as the target of ``with`` / ``async with``
  (``with Session(engine) as s``, ``with SessionLocal.begin() as s``);
* a parameter or annotated assignment whose annotation is a session type (``Session``,
  ``AsyncSession``, ``scoped_session``, any configured factory), also inside ``Optional[...]``,
  ``Union[..., None]``, ``X | None``, ``Annotated[X, Depends(...)]`` and string annotations.

A configured factory without a dot matches the last part of a dotted name (``Session``
matches ``orm.Session``); with dots it must match the end of the dotted name.  Configured
names match exactly.  ``git.Repo`` objects, ``sqlite3``/DB-API connections and other
``.commit()`` receivers are never sessions unless configured (add ``sqlite3.connect`` to the
factories, or ``conn`` to the names).  The ``Session`` of HTTP clients, TensorFlow and AWS
libraries (:data:`FOREIGN_MODULES`, also when imported from them) never is.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence

import libcst as cst

from codemods.analysis.nodes import NESTED_SCOPES, dotted_name, node_types
from codemods.speedups import traversal
from codemods.speedups.walk import walk

DEFAULT_SESSION_NAMES: tuple[str, ...] = ("db.session", "session", "self.session", "self.db", "db")
DEFAULT_SESSION_FACTORIES: tuple[str, ...] = (
    "Session",
    "AsyncSession",
    "SessionLocal",
    "AsyncSessionLocal",
    "get_session",
)
# Types that annotate a session parameter, besides the configured factories.
SESSION_TYPES: tuple[str, ...] = ("Session", "AsyncSession", "scoped_session", "async_scoped_session")
# Libraries whose ``Session`` is not a database session (HTTP clients, TensorFlow, AWS): names
# imported from them never count, whatever is configured.  Flask's cookie ``session`` is left to
# the codemods (route-commit names it in its finding).
FOREIGN_MODULES: tuple[str, ...] = (
    "requests", "httpx", "aiohttp", "urllib3", "http", "tensorflow", "onnxruntime", "boto3", "botocore", "aioboto3",
)  # fmt: skip
# Calls that return a session factory (so ``sessionmaker(...)()`` is a session).
FACTORY_MAKERS: tuple[str, ...] = ("sessionmaker", "async_sessionmaker")
# Calls that return an object proxying a session (used directly: ``db_session.commit()``).
SCOPED_MAKERS: tuple[str, ...] = ("scoped_session", "async_scoped_session")

WRAPPING_TYPES = ("Optional", "Union")


# The call finders ask these of every node (see nodes.node_types).
_NESTED_SCOPE_TYPES = node_types(*NESTED_SCOPES)
_AWAITS = node_types(cst.Await)
_CALLS = node_types(cst.Call)


@dataclasses.dataclass(frozen=True)
class SessionCall:
    """One ``<session>.<method>(...)`` call, possibly awaited."""

    call: cst.Call
    session: cst.BaseExpression  # the receiver, e.g. the ``db.session`` of ``db.session.commit()``
    session_name: str  # the receiver as a dotted name ("db.session"), "" if it is not one
    method: str
    awaited: bool


@dataclasses.dataclass(frozen=True)
class SessionScope:
    """The names one scope (and those around it) binds to sessions and to other things."""

    sessions: frozenset[str] = frozenset()
    others: frozenset[str] = frozenset()


def matches(dotted: str | None, patterns: Iterable[str]) -> bool:
    """Whether ``dotted`` is one of ``patterns`` or ends with ``.<pattern>``."""
    if dotted is None:
        return False
    return any(dotted == p or dotted.endswith("." + p) for p in patterns)


class SessionMatcher:
    """Decides which expressions are database sessions, from configured names and factories."""

    def __init__(
        self,
        names: Sequence[str] = DEFAULT_SESSION_NAMES,
        factories: Sequence[str] = DEFAULT_SESSION_FACTORIES,
        foreign: Collection[str] = (),
        *,
        types: Collection[str] = (),
        providers: Collection[str] = (),
        helpers: Collection[str] = (),
    ) -> None:
        self.names = frozenset(names)
        self.factories = tuple(factories)
        # first parts of dotted names that belong to FOREIGN_MODULES (``requests``, ``tf``, ``Session``)
        self.foreign = frozenset((*FOREIGN_MODULES, *foreign))
        self.types = tuple(types)  # session type aliases: ``SessionDep``, ``deps.SessionDep``
        self.providers = frozenset(providers)  # ``Depends(get_db)`` gives a session
        self.helpers = frozenset(helpers)  # ``store.session_commit()`` commits a session
        self.alias_types: dict[str, tuple[str, str]] = {}  # alias as spelled here -> (module, type name)

    # -- building ---------------------------------------------------------------------------

    def for_module(
        self, module: cst.Module, index: SessionIndex | None = None, module_name: str = "", is_package: bool = False
    ) -> SessionMatcher:
        """This matcher plus the factories and scoped sessions ``module`` defines at top level,
        minus what it imports from :data:`FOREIGN_MODULES` (``from requests import Session``);
        with the whole-tree ``index``, also the session aliases, module sessions, ``Depends``
        providers and commit helpers it defines or imports (``module_name`` is its dotted name)."""
        factories: list[str] = []
        names: list[str] = []
        foreign = _foreign_imports(module)
        for target, value in _module_assignments(module):
            callee = _callee(value)
            if matches(callee, FACTORY_MAKERS):
                factories.append(target)
            elif matches(callee, SCOPED_MAKERS):
                factories.append(target)
                names.append(target)
        types, providers, helpers = _module_aliases(module, (*SESSION_TYPES, *self.factories, *factories)), [], []
        alias_types: dict[str, tuple[str, str]] = {}
        if index is not None:
            for prefix, facts in _visible_facts(module, index, module_name, is_package):
                types.extend(prefix + n for n in facts.aliases)
                for alias, *target in facts.alias_types:
                    alias_types[prefix + alias] = (target[0], target[1])
                names.extend(prefix + n for n in facts.sessions)
                factories.extend(prefix + n for n in facts.factories)
                providers.extend(prefix + n for n in facts.providers)
                helpers.extend(prefix + n for n in facts.helpers)
        if not (factories or foreign or types or names or providers or helpers):
            return self
        matcher = SessionMatcher(
            (*self.names, *names),
            (*self.factories, *factories),
            foreign,
            types=(*self.types, *types),
            providers=(*self.providers, *providers),
            helpers=(*self.helpers, *helpers),
        )
        matcher.alias_types = {**self.alias_types, **alias_types}
        return matcher

    def scope_sessions(self, node: cst.CSTNode, outer: SessionScope | None = None) -> SessionScope:
        """The session and non-session names ``node`` binds, layered over ``outer``."""
        sessions: set[str] = set()
        others: set[str] = set()
        for name, kind, _ in self._bindings(node):
            (sessions if kind else others).add(name)
        sessions -= others  # a name also bound to something else is not trusted
        base = outer or SessionScope()
        return SessionScope(
            sessions=frozenset((base.sessions - others) | sessions),
            others=frozenset((base.others - sessions) | others),
        )

    # -- questions --------------------------------------------------------------------------

    def is_session(self, expr: cst.BaseExpression, scope: SessionScope | None = None) -> bool:
        name = dotted_name(expr)
        if name is None or self._is_foreign(name):
            return False
        scope = scope or SessionScope()
        if name in scope.others:
            return False
        return name in scope.sessions or name in self.names

    def session_call(
        self, node: cst.CSTNode, scope: SessionScope | None = None, methods: Collection[str] = ("commit",)
    ) -> SessionCall | None:
        """The session call ``node`` consists of, if it is ``X.m(...)`` or ``await X.m(...)``."""
        if isinstance(node, cst.SimpleStatementLine) and len(node.body) == 1:
            node = node.body[0]
        if isinstance(node, cst.Expr):
            node = node.value
        call = _as_method_call(node, methods)
        if call is None or not self.is_session(call.session, scope):
            return None
        return call

    def session_calls(
        self, node: cst.CSTNode, scope: SessionScope | None = None, methods: Collection[str] | None = None
    ) -> list[SessionCall]:
        return [c for c in method_calls(node, methods) if self.is_session(c.session, scope)]

    def is_session_value(self, value: cst.BaseExpression) -> bool:
        """Whether evaluating ``value`` gives a session (``Session(engine)``, ``await get_session()``)."""
        if isinstance(value, cst.Await):
            return self.is_session_value(value.expression)
        if not isinstance(value, cst.Call):
            return False
        callee = _callee(value)
        if callee == "next" and value.args:
            return self.is_session_value(value.args[0].value)
        if callee is not None and self._is_foreign(callee):
            return False  # requests.Session(), tf.Session()
        if matches(callee, (*self.factories, *SCOPED_MAKERS)):
            return True
        if matches(callee, ("Depends", "Security")) and value.args and self.providers:
            provider = value.args[0].value
            provided = _callee(provider) if isinstance(provider, cst.Call) else dotted_name(provider)
            return provided in self.providers  # Depends(get_db), Depends(SessionProvider())
        return isinstance(value.func, cst.Call) and matches(_callee(value.func), (*FACTORY_MAKERS, *self.factories))

    def is_session_type(self, annotation: cst.BaseExpression) -> bool:
        if any(
            matches(name, (*SESSION_TYPES, *self.factories)) and not self._is_foreign(name)
            for name in _annotation_names(annotation)
        ):
            return True
        if self.types and any(name in self.types for name in _annotation_names(annotation)):
            return True
        return self._depends_on_provider(annotation)

    def _depends_on_provider(self, annotation: cst.BaseExpression) -> bool:
        """``Annotated[Any, Depends(get_db)]``: the provider decides, whatever the type says."""
        if not (self.providers and isinstance(annotation, cst.Subscript)):
            return False
        if not matches(dotted_name(annotation.value), ("Annotated",)):
            return False
        extras = [e.slice.value for e in annotation.slice[1:] if isinstance(e.slice, cst.Index)]
        return any(self.is_session_value(extra) for extra in extras)

    def unknown_session(self, call: SessionCall, function: cst.FunctionDef) -> str | None:
        """Why ``call`` (a ``.commit()`` that is no known session's) looks like a database
        commit whose session auditfix cannot type, or None if it does not."""
        root = call.session_name.split(".", 1)[0]
        if not root:
            return None
        params = function.params
        for param in (*params.posonly_params, *params.params, *params.kwonly_params):
            if param.name.value != root:
                continue
            empty = cst.Module([])
            if param.default is not None and matches(_callee(param.default), ("Depends", "Security")):
                return f"`{root}` comes from `{empty.code_for_node(param.default)}`, which does not say it gives a session"
            annotation = param.annotation.annotation if param.annotation is not None else None
            if annotation is not None and _names_a_dependency(annotation):
                return f"`{root}` is annotated `{empty.code_for_node(annotation)}`, which auditfix cannot resolve to a session type"
            return None
        if call.session_name.endswith(".session") and call.session_name.count(".") == 1:
            return f"`{call.session_name}` is not defined in a module auditfix could read"
        return None

    def helper_calls(self, node: cst.CSTNode) -> list[SessionCall]:
        """Calls of the project's commit helpers in ``node`` (``store.session_commit()``,
        ``save_and_commit(db, x)``), outside nested scopes, as commits of the helper."""
        if not self.helpers:
            return []
        finder = _HelperFinder(self.helpers)
        walk(node, finder)
        return finder.calls

    def _is_foreign(self, dotted: str) -> bool:
        return dotted.split(".", 1)[0] in self.foreign

    # -- internals --------------------------------------------------------------------------

    def _bindings(self, node: cst.CSTNode) -> Iterator[tuple[str, bool, cst.CSTNode]]:
        """(dotted name, is a session) for every binding in the scope ``node`` opens."""
        if isinstance(node, (cst.FunctionDef, cst.Lambda)):
            yield from self._parameter_bindings(node.params)
        body = node.body if isinstance(node, (cst.FunctionDef, cst.Module)) else ()
        collector = _BindingCollector(self)
        if isinstance(body, cst.CSTNode):
            walk(body, collector)
        else:
            for statement in body:
                walk(statement, collector)
        yield from collector.bindings

    def _parameter_bindings(self, params: cst.Parameters) -> Iterator[tuple[str, bool, cst.CSTNode]]:
        every = [*params.posonly_params, *params.params, *params.kwonly_params]
        for param in every:
            if param.annotation is not None:
                yield param.name.value, self.is_session_type(param.annotation.annotation), param
            elif param.default is not None and self.is_session_value(param.default):
                yield param.name.value, True, param
            # Without annotation the parameter keeps whatever its configured name says.


class _BindingCollector(traversal.Visitor):
    """Collects the bindings of one scope, without entering nested scopes."""

    def __init__(self, matcher: SessionMatcher) -> None:
        self.matcher = matcher
        self.bindings: list[tuple[str, bool, cst.CSTNode]] = []

    def _bind(self, target: cst.BaseExpression, value: cst.BaseExpression | None) -> None:
        name = dotted_name(target)
        if name is not None:
            self.bindings.append((name, value is not None and self._is_session_source(value), target))
            return
        for element in _unpacked(target):
            self._bind(element, None)

    def _is_session_source(self, value: cst.BaseExpression) -> bool:
        # ``s = self.session`` aliases a configured session; ``db = request.db`` is unknown.
        return self.matcher.is_session_value(value) or dotted_name(value) in self.matcher.names

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        self.bindings.append((node.name.value, False, node))
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        self.bindings.append((node.name.value, False, node))
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._bind(target.target, node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        name = dotted_name(node.target)
        if name is None:
            return
        if self.matcher.is_session_type(node.annotation.annotation):
            self.bindings.append((name, True, node.target))
        else:
            self._bind(node.target, node.value)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._bind(node.target, None)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._bind(node.target, node.value)

    def visit_For(self, node: cst.For) -> None:
        self._bind(node.target, None)

    def visit_CompFor(self, node: cst.CompFor) -> None:
        self._bind(node.target, None)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is None:
            return
        target = node.asname.name
        name = dotted_name(target)
        if name is None:
            self._bind(target, None)
            return
        item = node.item
        is_session = self.matcher.is_session_value(item) or _is_factory_begin(item, self.matcher)
        self.bindings.append((name, is_session, target))

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        if node.name is not None:
            self._bind(node.name.name, None)

    def visit_Import(self, node: cst.Import) -> None:
        for alias in node.names:
            self.bindings.append((_imported_name(alias), False, alias))

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if isinstance(node.names, cst.ImportStar):
            return
        foreign = _is_foreign_module(node)
        for alias in node.names:
            bound = alias.asname.name if alias.asname is not None else alias.name
            name = dotted_name(bound)  # type: ignore[arg-type]
            if name is not None and (foreign or name not in self.matcher.names):
                # ``from app.extensions import db`` keeps db a session; other imports are not ones.
                self.bindings.append((name, False, alias))


class _HelperFinder(traversal.Visitor):
    def __init__(self, helpers: frozenset[str]) -> None:
        self.helpers = helpers
        self.calls: list[SessionCall] = []
        self._awaited: set[int] = set()
        self._depth = 0

    def on_visit(self, node: cst.CSTNode) -> bool:
        kind = type(node)
        if kind in _NESTED_SCOPE_TYPES and self._depth > 0:
            return False
        self._depth += 1
        if kind in _AWAITS and type(node.expression) in _CALLS:
            self._awaited.add(id(node.expression))
        if kind in _CALLS:
            name = dotted_name(node.func)
            if name is not None and name in self.helpers:
                self.calls.append(SessionCall(node, node.func, name, "commit", id(node) in self._awaited))
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        self._depth -= 1


def _names_a_dependency(annotation: cst.BaseExpression) -> bool:
    """``Annotated[X, Depends(...)]``, or an alias named like one (``SessionDep``, ``DB``)."""
    if isinstance(annotation, cst.Subscript) and matches(dotted_name(annotation.value), ("Annotated",)):
        return True
    name = (dotted_name(annotation) or "").rsplit(".", 1)[-1]
    return name.endswith(("Dep", "Session", "DB", "Db")) or name == "Database"


def _module_aliases(module: cst.Module, types: Sequence[str]) -> list[str]:
    """Top-level ``SessionDep = Annotated[Session, Depends(get_db)]`` (and aliases of those)."""
    found: list[str] = []
    assignments = list(_module_assignments(module))
    changed = True
    while changed:
        changed = False
        for target, value in assignments:
            if target in found or "." in target:
                continue
            names = list(_annotation_names(value)) if isinstance(value, (cst.Subscript, cst.Name, cst.Attribute, cst.BinaryOperation)) else []
            if any(matches(name, (*types, *found)) for name in names):
                found.append(target)
                changed = True
    return found


def _visible_facts(
    module: cst.Module, index: SessionIndex, module_name: str, is_package: bool
) -> Iterator[tuple[str, SessionFacts]]:
    """(prefix, facts): the module's own facts (prefix ""), each ``from m import x`` of a fact as
    (``x`` is picked out), each imported module with facts (prefix ``m.``)."""
    own = index.modules.get(module_name)
    if own is not None:
        yield "", own
    package = module_name.split(".") if is_package else module_name.split(".")[:-1]
    for statement in module.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if isinstance(small, cst.Import):
                for alias in small.names:
                    imported = dotted_name(alias.name) or ""
                    facts = index.lookup(imported)
                    if facts is not None:
                        bound = dotted_name(alias.asname.name) if alias.asname is not None else imported  # type: ignore[arg-type]
                        yield f"{bound}.", facts
            elif isinstance(small, cst.ImportFrom) and not isinstance(small.names, cst.ImportStar):
                source = _resolved_module(small, package)
                if source is None:
                    continue
                yield from _from_import_facts(small, source, index)


def _resolved_module(node: cst.ImportFrom, package: Sequence[str]) -> str | None:
    module = dotted_name(node.module) if node.module is not None else ""
    if module is None:
        return None
    level = len(node.relative)
    if not level:
        return module
    if level - 1 > len(package):
        return None
    base = list(package[: len(package) - (level - 1)])
    return ".".join([*base, *([module] if module else [])])


def _from_import_facts(node: cst.ImportFrom, source: str, index: SessionIndex) -> Iterator[tuple[str, SessionFacts]]:
    facts = index.lookup(source) if source else None
    for alias in node.names:  # type: ignore[union-attr]
        name = alias.evaluated_name
        bound = alias.evaluated_alias or name
        if facts is not None:
            picked = SessionFacts(
                frozenset(bound for n in facts.aliases if n == name),
                frozenset(bound + s[len(name) :] for s in facts.sessions if s == name or s.startswith(name + ".")),
                frozenset(bound for n in facts.factories if n == name),
                frozenset(bound for n in facts.providers if n == name),
                frozenset(bound for n in facts.helpers if n == name),
                tuple((bound, module, type_name) for alias, module, type_name in facts.alias_types if alias == name),
            )
            if picked:
                yield "", picked
        submodule = index.lookup(f"{source}.{name}" if source else name)
        if submodule is not None:
            yield f"{bound}.", submodule


def method_calls(node: cst.CSTNode, methods: Collection[str] | None = None) -> list[SessionCall]:
    """Every ``X.m(...)`` call (m in ``methods``, any when None) in ``node``, outside nested scopes."""
    finder = _CallFinder(methods)
    walk(node, finder)
    return finder.calls


def bound_names(node: cst.CSTNode) -> set[str]:
    """The dotted names ``node`` assigns (targets, ``for``, ``with ... as``, ``del``, walrus)."""
    return {name for name, _ in bindings(node)}


def bindings(node: cst.CSTNode) -> list[tuple[str, cst.CSTNode]]:
    """(dotted name, the node binding it) for every assignment in ``node``, in source order."""
    collector = _BindingCollector(SessionMatcher((), ()))
    walk(node, collector)
    found = [(name, where) for name, _, where in collector.bindings]
    found += _deleted_names(node)
    return found


class _CallFinder(traversal.Visitor):
    # Whitespace and punctuation hold no call or scope, and its depth count comes back level.
    IGNORES_TRIVIA = True

    def __init__(self, methods: Collection[str] | None) -> None:
        self.methods = methods
        self.calls: list[SessionCall] = []
        self._awaited: set[int] = set()
        self._depth = 0

    def on_visit(self, node: cst.CSTNode) -> bool:
        kind = type(node)
        if kind in _NESTED_SCOPE_TYPES and self._depth > 0:
            return False
        self._depth += 1
        if kind in _AWAITS and type(node.expression) in _CALLS:
            self._awaited.add(id(node.expression))
        if kind in _CALLS:
            found = _as_method_call(node, self.methods, awaited=id(node) in self._awaited)
            if found is not None:
                self.calls.append(found)
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        self._depth -= 1


def _as_method_call(node: cst.CSTNode, methods: Collection[str] | None, *, awaited: bool = False) -> SessionCall | None:
    if isinstance(node, cst.Await):
        return _as_method_call(node.expression, methods, awaited=True)
    if not isinstance(node, cst.Call) or not isinstance(node.func, cst.Attribute):
        return None
    method = node.func.attr.value
    if methods is not None and method not in methods:
        return None
    receiver = node.func.value
    return SessionCall(node, receiver, dotted_name(receiver) or "", method, awaited)


def _callee(value: cst.BaseExpression) -> str | None:
    return dotted_name(value.func) if isinstance(value, cst.Call) else None


def _is_factory_begin(item: cst.BaseExpression, matcher: SessionMatcher) -> bool:
    """``SessionLocal.begin()``: a sessionmaker's context manager that yields a new session."""
    return (
        isinstance(item, cst.Call)
        and isinstance(item.func, cst.Attribute)
        and item.func.attr.value == "begin"
        and matches(dotted_name(item.func.value), matcher.factories)
    )


def _annotation_names(annotation: cst.BaseExpression) -> Iterator[str]:
    """The type names an annotation allows: ``Optional[Session]`` gives ``Session``."""
    if isinstance(annotation, cst.SimpleString):
        try:
            inner = cst.parse_expression(annotation.evaluated_value)  # type: ignore[arg-type]
        except (cst.ParserSyntaxError, TypeError):
            return
        yield from _annotation_names(inner)
        return
    if isinstance(annotation, cst.BinaryOperation) and isinstance(annotation.operator, cst.BitOr):
        yield from _annotation_names(annotation.left)
        yield from _annotation_names(annotation.right)
        return
    if isinstance(annotation, cst.Subscript):
        base = dotted_name(annotation.value)
        elements = [e.slice.value for e in annotation.slice if isinstance(e.slice, cst.Index)]
        if matches(base, WRAPPING_TYPES):
            for element in elements:
                yield from _annotation_names(element)
        elif matches(base, ("Annotated",)) and elements:
            yield from _annotation_names(elements[0])
        elif base is not None:
            yield base  # scoped_session[Session]
        return
    name = dotted_name(annotation)
    if name is not None:
        yield name


def _unpacked(target: cst.BaseExpression) -> Iterator[cst.BaseExpression]:
    if isinstance(target, (cst.Tuple, cst.List)):
        for element in target.elements:
            yield element.value
    elif isinstance(target, cst.StarredElement):
        yield target.value


def _imported_name(alias: cst.ImportAlias) -> str:
    if alias.asname is not None:
        return dotted_name(alias.asname.name) or ""  # type: ignore[arg-type]
    return (dotted_name(alias.name) or "").split(".")[0]


def _deleted_names(node: cst.CSTNode) -> list[tuple[str, cst.CSTNode]]:
    names: list[tuple[str, cst.CSTNode]] = []

    class _Deletes(traversal.Visitor):
        def visit_Del(self, del_node: cst.Del) -> None:
            for target in [del_node.target, *_unpacked(del_node.target)]:
                name = dotted_name(target)
                if name is not None:
                    names.append((name, del_node))

        def visit_FunctionDef(self, _: cst.FunctionDef) -> bool:
            return False

        def visit_ClassDef(self, _: cst.ClassDef) -> bool:
            return False

        def visit_Lambda(self, _: cst.Lambda) -> bool:
            return False

    walk(node, _Deletes())
    return names


def _is_foreign_module(node: cst.ImportFrom) -> bool:
    module = dotted_name(node.module) if node.module is not None and not node.relative else None
    return module is not None and module.split(".", 1)[0] in FOREIGN_MODULES


def _foreign_imports(module: cst.Module) -> set[str]:
    """Names the module's top-level imports bind to :data:`FOREIGN_MODULES` (``tf``, ``Session``)."""
    names: set[str] = set()
    for statement in module.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if isinstance(small, cst.Import):
                for alias in small.names:
                    imported = dotted_name(alias.name) or ""  # type: ignore[arg-type]
                    if alias.asname is not None and imported.split(".", 1)[0] in FOREIGN_MODULES:
                        names.add(dotted_name(alias.asname.name) or "")  # type: ignore[arg-type]
            elif (
                isinstance(small, cst.ImportFrom)
                and _is_foreign_module(small)
                and not isinstance(small.names, cst.ImportStar)
            ):
                for alias in small.names:
                    bound = alias.asname.name if alias.asname is not None else alias.name
                    names.add(dotted_name(bound) or "")  # type: ignore[arg-type]
    names.discard("")
    return names


def _module_assignments(module: cst.Module) -> Iterator[tuple[str, cst.BaseExpression]]:
    for statement in module.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if isinstance(small, cst.Assign):
                for target in small.targets:
                    name = dotted_name(target.target)
                    if name is not None:
                        yield name, small.value
            elif isinstance(small, cst.AnnAssign) and small.value is not None:
                name = dotted_name(small.target)
                if name is not None:
                    yield name, small.value


# -- what the whole-tree index (session_index.py) records of each module -----------------------


# What a commit helper's name contains (the syntax pre-check looks for calls of such names).
HELPER_NAME_PARTS = ("commit", "save")
# Text one of which a module defining a session, an alias, a provider or a commit helper contains.
INDEX_MARKERS: tuple[bytes, ...] = (b"ession", b"SQLAlchemy", b"commit")
# ``db = SQLAlchemy()``: ``db.session`` is a session (Flask-SQLAlchemy).
EXTENSION_MAKERS = ("SQLAlchemy",)
GENERATOR_TYPES = ("Generator", "Iterator", "Iterable", "AsyncGenerator", "AsyncIterator", "AsyncIterable")


@dataclasses.dataclass(frozen=True)
class SessionFacts:
    """What one module defines at top level that other modules use as sessions."""

    aliases: frozenset[str] = frozenset()  # session types: ``SessionDep = Annotated[Session, Depends(...)]``
    sessions: frozenset[str] = frozenset()  # ``session = scoped_session(...)``; ``db.session`` of ``db = SQLAlchemy()``
    factories: frozenset[str] = frozenset()  # ``SessionLocal = sessionmaker(...)``
    providers: frozenset[str] = frozenset()  # what ``Depends(...)`` turns into a session: ``get_db``, ``Provider``
    helpers: frozenset[str] = frozenset()  # functions that commit the session they get, or the module's
    # alias -> (module, name) of the session type it stands for, as absolute imports spell it
    alias_types: tuple[tuple[str, str, str], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.aliases or self.sessions or self.factories or self.providers or self.helpers)


@dataclasses.dataclass(frozen=True)
class SessionIndex:
    """Every module's :class:`SessionFacts`, by dotted module name (``app.api.deps``)."""

    modules: Mapping[str, SessionFacts] = dataclasses.field(default_factory=dict)

    def lookup(self, module: str) -> SessionFacts | None:
        """The facts of ``module``, also when the scanned folder is above the import root
        (``src/app/deps.py`` answers ``app.deps``) if only one module fits."""
        found = self.modules.get(module)
        if found is not None or not module:
            return found
        ends = [facts for name, facts in self.modules.items() if name.endswith("." + module)]
        return ends[0] if len(ends) == 1 else None
