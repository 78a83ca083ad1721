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
from collections.abc import Collection, Iterable, Iterator, Sequence

import libcst as cst

from codemods.analysis.nodes import NESTED_SCOPES, dotted_name
from codemods.speedups import traversal

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

_WRAPPING_TYPES = ("Optional", "Union")


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
    ) -> None:
        self.names = frozenset(names)
        self.factories = tuple(factories)
        # first parts of dotted names that belong to FOREIGN_MODULES (``requests``, ``tf``, ``Session``)
        self.foreign = frozenset((*FOREIGN_MODULES, *foreign))

    # -- building ---------------------------------------------------------------------------

    def for_module(self, module: cst.Module) -> SessionMatcher:
        """This matcher plus the factories and scoped sessions ``module`` defines at top level,
        minus what it imports from :data:`FOREIGN_MODULES` (``from requests import Session``)."""
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
        if not factories and not foreign:
            return self
        return SessionMatcher((*self.names, *names), (*self.factories, *factories), foreign)

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
        return isinstance(value.func, cst.Call) and matches(_callee(value.func), (*FACTORY_MAKERS, *self.factories))

    def is_session_type(self, annotation: cst.BaseExpression) -> bool:
        return any(
            matches(name, (*SESSION_TYPES, *self.factories)) and not self._is_foreign(name)
            for name in _annotation_names(annotation)
        )

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
            body.visit(collector)
        else:
            for statement in body:
                statement.visit(collector)
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


def method_calls(node: cst.CSTNode, methods: Collection[str] | None = None) -> list[SessionCall]:
    """Every ``X.m(...)`` call (m in ``methods``, any when None) in ``node``, outside nested scopes."""
    finder = _CallFinder(methods)
    node.visit(finder)
    return finder.calls


def bound_names(node: cst.CSTNode) -> set[str]:
    """The dotted names ``node`` assigns (targets, ``for``, ``with ... as``, ``del``, walrus)."""
    return {name for name, _ in bindings(node)}


def bindings(node: cst.CSTNode) -> list[tuple[str, cst.CSTNode]]:
    """(dotted name, the node binding it) for every assignment in ``node``, in source order."""
    collector = _BindingCollector(SessionMatcher((), ()))
    node.visit(collector)
    found = [(name, where) for name, _, where in collector.bindings]
    found += _deleted_names(node)
    return found


class _CallFinder(traversal.Visitor):
    def __init__(self, methods: Collection[str] | None) -> None:
        self.methods = methods
        self.calls: list[SessionCall] = []
        self._awaited: set[int] = set()
        self._depth = 0

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, NESTED_SCOPES) and self._depth > 0:
            return False
        self._depth += 1
        if isinstance(node, cst.Await) and isinstance(node.expression, cst.Call):
            self._awaited.add(id(node.expression))
        if isinstance(node, cst.Call):
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
        if matches(base, _WRAPPING_TYPES):
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

    node.visit(_Deletes())
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
