"""The ``query-in-loop`` codemod: report N+1 queries and unbounded ``.all()`` in route handlers (no rewrite)."""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, ClassVar

import libcst as cst

from codemods.analysis import precheck
from codemods.analysis.precheck import SyntaxFacts, matches_any, walk_ast
from codemods.analysis.metadata import Metadata
from codemods.analysis.names import shared_name_facts
from codemods.analysis.nodes import dotted_name
from codemods.analysis.routes import DEFAULT_ROUTE_DECORATORS, DEFAULT_VIEW_BASES, find_route, router_prefixes
from codemods.analysis.sessions import (
    DEFAULT_SESSION_FACTORIES,
    DEFAULT_SESSION_NAMES,
    FACTORY_MAKERS,
    SCOPED_MAKERS,
    SessionMatcher,
    SessionScope,
    matches,
)
from codemods.base import Codemod, FileContext, Option
from codemods.speedups import traversal

# Session methods that read rows.  ``execute`` reads unless given an insert/update/delete.
_READ_METHODS = (
    "query", "execute", "scalars", "scalar", "get", "get_one", "get_or_404", "first_or_404", "one_or_404",
)  # fmt: skip
_STATEMENT_METHODS = ("execute", "scalars", "scalar")
_WRITE_STATEMENTS = ("insert", "update", "delete")
# Methods after which a query returns a bounded number of rows.
_BOUNDING_METHODS = (
    "limit", "slice", "paginate", "first", "one", "one_or_none", "scalar", "scalar_one", "scalar_one_or_none",
    "get", "fetchmany", "first_or_404", "one_or_404", "get_or_404",
)  # fmt: skip
# Loader options that load a relationship with the query, and options after which an access
# loads nothing (raise, noload).
_EAGER_OPTIONS = (
    "selectinload", "joinedload", "subqueryload", "immediateload", "contains_eager", "raiseload", "noload", "defaultload",
)  # fmt: skip
# lazy= values of a relationship whose access on each object runs a query of its own.
_LAZY_PER_OBJECT = ("select", "dynamic", "True")


@dataclasses.dataclass(frozen=True)
class ModelIndex:
    """Relationships of the model classes of the scanned tree: class name -> attribute -> lazy=.

    A class name defined twice with different relationships maps to None (cannot tell).
    """

    models: Mapping[str, Mapping[str, str] | None]

    def lazy(self, model: str, attribute: str) -> bool:
        """Whether reading ``model.attribute`` on each object runs a query (when the index can tell)."""
        relationships = self.models.get(model)
        return relationships is not None and relationships.get(attribute) in _LAZY_PER_OBJECT


@dataclasses.dataclass
class _Query:
    """What an expression that gives rows is built from."""

    model: str | None  # ``Job`` of ``Job.query...`` / ``select(Job)`` / ``session.query(Job)``
    methods: set[str]  # every method called along the chain (and the select statement's)
    eager: set[str]  # relationships its loader options load ("*" for all)
    line_node: cst.CSTNode


@dataclasses.dataclass
class _Loop:
    query: _Query
    node: cst.CSTNode  # the for statement or comprehension
    targets: frozenset[str]  # names the loop binds to each row
    reported: set[str] = dataclasses.field(default_factory=set)


@dataclasses.dataclass
class _Frame:
    """A function (or the module) being walked."""

    node: cst.CSTNode
    sessions: SessionScope
    values: dict[str, list[cst.BaseExpression]]  # name -> every value assigned to it in this scope
    route: str | None  # the route's label, for a route handler
    loops: list[_Loop] = dataclasses.field(default_factory=list)


class QueryInLoop(Codemod):
    """Report queries run once per row of another query (N+1), and unbounded ``.all()`` in routes.

    What it does:
        Reports, without changing any code (every finding is ``fixable: false``):

        - a query inside a ``for`` loop (or comprehension) over query results: a session's
          ``query()``, ``get()``, ``execute()`` / ``scalars()`` of anything but an insert,
          update or delete, Flask-SQLAlchemy's ``Model.query...`` and ``db.get_or_404()``;
        - a lazy relationship read on the loop variable (``job.applications``) when the model
          index built from every file of the scanned tree knows the relationship is lazy
          (``lazy="select"``, the default, or ``"dynamic"``) and the loop's query does not load
          it (``selectinload(Job.applications)``, ``joinedload``, ...);
        - in a route handler (a Flask, FastAPI or Starlette route decorator, or the HTTP-verb
          method of a class-based view), ``.all()`` on a query with no ``.limit()``,
          ``.paginate()`` or similar bound.

        Iterated queries are recognised where they are written and through a local variable
        (``jobs = Job.query.all()``, then ``for job in jobs:``).  Sessions are recognised as in
        every auditfix codemod (options ``session-names`` and ``session-factories``), routes by
        ``route-decorators`` and ``view-bases``.

    Why is this bad?
        A query per row turns one round trip into N+1: a page listing 200 jobs with their
        application counts runs 201 queries, and the time grows with the data, unnoticed in
        development with ten rows.  An unbounded ``.all()`` in a request handler loads the whole
        table into memory on every request, and its response grows with the table.

    Example:
        ```python
        @bp.get("/jobs")
        def list_jobs():
            jobs = Job.query.all()
            return [
                {"title": job.title, "applicants": Application.query.filter_by(job_id=job.id).count()}
                for job in jobs
            ]
        ```

    Use instead:
        ```python
        @bp.get("/jobs")
        def list_jobs():
            counts = dict(
                db.session.query(Application.job_id, func.count()).group_by(Application.job_id).all()
            )
            jobs = Job.query.order_by(Job.id).limit(100).all()
            return [{"title": job.title, "applicants": counts.get(job.id, 0)} for job in jobs]
        ```

    Fix safety:
        Nothing is rewritten: the right fix (a join, an eager-loading option, one ``IN`` query
        before the loop, pagination and its page size) depends on the data and the API, so each
        finding says what runs per row, or which query is unbounded, and a person decides.  Git
        mode makes no branch for this codemod; ``auditfix scan`` and every report show its
        findings.

    Limitations:
        Queries in functions the loop calls, and loops over results passed in as parameters,
        are not seen.  Lazy loads are only reported for relationships the model index knows
        (classes named the same in two modules with different relationships are skipped) and
        on the loop variable itself, not on objects reached from it.  A ``.all()`` whose query
        is bounded by its filter (one customer's orders) is still reported as unbounded.
    """

    name: ClassVar[str] = "query-in-loop"
    summary: ClassVar[str] = "Report N+1 queries (a query per row of another query) and unbounded `.all()` in routes"
    safety: ClassVar[str] = "Findings only: no code is changed."
    fixes: ClassVar[bool] = False
    # Every finding needs a query: a ``query`` attribute, or an ``execute``/``scalars`` call.
    markers: ClassVar[tuple[bytes, ...]] = (b"query", b"execute", b"scalars")
    index_markers: ClassVar[tuple[bytes, ...]] = (b"relationship(",)
    options: ClassVar[tuple[Option, ...]] = (
        Option(
            "session-names", list(DEFAULT_SESSION_NAMES), "expressions that are database sessions", list, item_kind=str
        ),
        Option(
            "session-factories",
            list(DEFAULT_SESSION_FACTORIES),
            "calls and annotations that give a database session",
            list,
            item_kind=str,
        ),
        Option(
            "route-decorators", list(DEFAULT_ROUTE_DECORATORS), "decorator names that make a route", list, item_kind=str
        ),
        Option("view-bases", list(DEFAULT_VIEW_BASES), "base classes of class-based views", list, item_kind=str),
    )

    @classmethod
    def may_change(cls, facts: SyntaxFacts, options: Mapping[str, Any]) -> bool:
        return _may_report(cls.precheck_summary(facts, options), None)

    @classmethod
    def may_change_file(
        cls, facts: SyntaxFacts, options: Mapping[str, Any], *, path: str, source: bytes, index: Any
    ) -> bool:
        return cls.may_change_summary(cls.precheck_summary(facts, options), options, path=path, source=source, index=index)

    @classmethod
    def precheck_summary(cls, facts: SyntaxFacts, options: Mapping[str, Any]) -> bool | frozenset[str]:
        """True when the rule may report whatever the model index says, else the attributes read
        on the variable of a loop over what may be a query (it may report if one of them is a lazy
        relationship of the index); False when it cannot report."""
        route = cls._has_route(facts, options)
        if not (facts.loop_spans or facts.comprehension or route):
            return False
        if facts.tree is None:
            return True
        sessions = _SessionNames(
            options.get("session-names", DEFAULT_SESSION_NAMES), options.get("session-factories", DEFAULT_SESSION_FACTORIES)
        )
        return _report_needs(facts, route, sessions) or False

    @classmethod
    def may_change_summary(
        cls, summary: Any, options: Mapping[str, Any], *, path: str, source: bytes, index: Any
    ) -> bool:
        relationships = index.models.values() if isinstance(index, ModelIndex) else ()
        lazy = frozenset(a for r in relationships if r for a, how in r.items() if how in _LAZY_PER_OBJECT)
        return _may_report(summary, lazy)

    @staticmethod
    def _has_route(facts: SyntaxFacts, options: Mapping[str, Any]) -> bool:
        decorators = options.get("route-decorators", DEFAULT_ROUTE_DECORATORS)
        bases = options.get("view-bases", DEFAULT_VIEW_BASES)
        return matches_any(facts.decorator_names, decorators) or matches_any(facts.base_names, bases)

    @classmethod
    def index_file(cls, path: str, source: bytes) -> dict[str, dict[str, str]] | None:
        tree = precheck.parse_shared(source)
        return _relationships(tree) if tree is not None else None

    @classmethod
    def build_index(cls, facts: Mapping[str, Any], options: Mapping[str, Any]) -> ModelIndex:
        models: dict[str, dict[str, str] | None] = {}
        for _, classes in sorted(facts.items()):
            for model, relationships in (classes or {}).items():
                if model not in models:
                    models[model] = dict(relationships)
                    continue
                known = models[model]
                if known is None:
                    continue
                for attribute, lazy in relationships.items():
                    if known.get(attribute, lazy) != lazy:
                        models[model] = None  # two classes of that name disagree
                        break
                    known[attribute] = lazy
        return ModelIndex(models)

    def visit_Module(self, node: cst.Module) -> bool:
        matcher = SessionMatcher(self.option("session-names"), self.option("session-factories")).for_module(node)
        index = self.file.index if isinstance(self.file.index, ModelIndex) else ModelIndex({})
        finder = _Finder(self, node, matcher, index)
        node.visit(finder)
        return False  # findings only


class _Finder(traversal.Visitor):
    # Whitespace and punctuation are no call, attribute, loop body or statement: on_visit and
    # on_leave only dispatch there.
    IGNORES_TRIVIA = True

    def __init__(self, codemod: QueryInLoop, module: cst.Module, matcher: SessionMatcher, index: ModelIndex) -> None:
        self.codemod = codemod
        self.module = module
        self.matcher = matcher
        self.index = index
        self.decorators = codemod.option("route-decorators")
        self.view_bases = codemod.option("view-bases")
        self.prefixes = router_prefixes(module)
        # Scopes and qualified names only if a decorator looks like a test double (see find_route).
        facts = shared_name_facts(codemod.file.source) if codemod.file.shortcuts and codemod.file.source else None
        self.meta = Metadata(module, _package_of(codemod.file), facts)
        self.frames = [_Frame(module, matcher.scope_sessions(module), _assigned_values(module), None)]
        self.classes: list[cst.ClassDef | None] = [None]
        self.pending: dict[int, _Loop] = {}  # id(loop body or comprehension element) -> its loop
        self.open: list[tuple[cst.CSTNode, _Loop]] = []
        self.reported: set[int] = set()
        # Statements without a loop or an .all() call (at module level and in functions and
        # classes) hold no finding: they are not entered, and their functions not analysed.
        source = codemod.file.source if codemod.file.shortcuts else b""
        self.skipped = precheck.statements_without(source, module, _may_hold_a_finding) or set()

    @property
    def frame(self) -> _Frame:
        return self.frames[-1]

    # -- scopes -------------------------------------------------------------------------------------

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self.classes.append(node)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self.classes.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        route = find_route(node, self.classes[-1], self.decorators, self.view_bases, self.prefixes, self.meta)
        label = f"{route.qualified_name} ({route.label})" if route is not None else None
        sessions = self.matcher.scope_sessions(node, self.frame.sessions)
        self.frames.append(_Frame(node, sessions, _assigned_values(node.body), label))
        self.classes.append(None)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.frames.pop()
        self.classes.pop()

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False  # runs whenever it is called, not once per row

    # -- loops --------------------------------------------------------------------------------------

    def visit_For(self, node: cst.For) -> None:
        query = self._query(node.iter)
        if query is not None:
            self.pending[id(node.body)] = _Loop(query, node, frozenset(_names(node.target)))

    def visit_ListComp(self, node: cst.ListComp) -> None:
        self._comprehension(node, [node.elt])

    def visit_SetComp(self, node: cst.SetComp) -> None:
        self._comprehension(node, [node.elt])

    def visit_GeneratorExp(self, node: cst.GeneratorExp) -> None:
        self._comprehension(node, [node.elt])

    def visit_DictComp(self, node: cst.DictComp) -> None:
        self._comprehension(node, [node.key, node.value])

    def _comprehension(self, node: cst.CSTNode, parts: Sequence[cst.CSTNode]) -> None:
        for_in = node.for_in  # type: ignore[attr-defined]
        query = self._query(for_in.iter)
        if query is None:
            return
        loop = _Loop(query, node, frozenset(_names(for_in.target)))
        for part in [*parts, *for_in.ifs]:
            self.pending[id(part)] = loop
        if for_in.inner_for_in is not None:
            self.pending[id(for_in.inner_for_in)] = loop

    def on_visit(self, node: cst.CSTNode) -> bool:
        if id(node) in self.skipped:
            return False
        loop = self.pending.pop(id(node), None)
        if loop is not None:
            self.open.append((node, loop))
            self.frame.loops.append(loop)
        if isinstance(node, cst.Call):
            self._call(node)
        elif isinstance(node, cst.Attribute):
            self._attribute(node)
        return super().on_visit(node)

    def on_leave(self, original_node: cst.CSTNode) -> None:
        if id(original_node) in self.skipped:
            return  # never visited: its visit_* did not run either
        super().on_leave(original_node)
        if self.open and self.open[-1][0] is original_node:
            _, loop = self.open.pop()
            self.frame.loops.remove(loop)

    # -- what is reported ------------------------------------------------------------------------------

    def _call(self, node: cst.Call) -> None:
        loops = self.frame.loops
        if loops and self._is_read(node):
            self._n_plus_one(node, f"{_spelled(self.module, node.func)}()", loops[-1])
        if self.frame.route is not None and _method(node) == "all" and not node.args:
            query = self._query(node)
            if query is not None and not query.methods & set(_BOUNDING_METHODS):
                what = f"every {query.model} row" if query.model else "every row of the query"
                self._report(
                    node,
                    f"{self.frame.route}: unbounded .all() loads {what} on each request; "
                    "add .limit() or pagination",
                )

    def _attribute(self, node: cst.Attribute) -> None:
        loops = self.frame.loops
        if not loops:
            return
        if node.attr.value == "query" and _is_model(node.value):
            self._n_plus_one(node, f"{_spelled(self.module, node)}", loops[-1])
            return
        owner = node.value
        if not isinstance(owner, cst.Name):
            return
        for loop in reversed(loops):
            if owner.value not in loop.targets:
                continue
            model, attribute = loop.query.model, node.attr.value
            if model is None or not self.index.lazy(model, attribute):
                return
            if attribute in loop.query.eager or "*" in loop.query.eager or attribute in loop.reported:
                return
            loop.reported.add(attribute)
            self._report(
                node,
                f"N+1 query: {owner.value}.{attribute} lazy-loads {model}.{attribute} once per row of the query "
                f"at line {self._line(loop.query.line_node)}; load it with the query "
                f"(selectinload({model}.{attribute}))",
            )
            return

    def _n_plus_one(self, node: cst.CSTNode, what: str, loop: _Loop) -> None:
        self._report(
            node,
            f"N+1 query: {what} runs once per row of the query at line {self._line(loop.query.line_node)}; "
            "query all rows at once before the loop (a join, an IN filter or an eager load)",
        )

    def _report(self, node: cst.CSTNode, message: str) -> None:
        if id(node) not in self.reported:
            self.reported.add(id(node))
            self.codemod.report(node, message, fixable=False)

    def _line(self, node: cst.CSTNode) -> str:
        return self.codemod.line_mark(node)

    # -- queries ----------------------------------------------------------------------------------------

    def _is_read(self, call: cst.Call) -> bool:
        if not isinstance(call.func, cst.Attribute) or call.func.attr.value not in _READ_METHODS:
            return False
        receiver = call.func.value
        if not self.matcher.is_session(receiver, self.frame.sessions):
            return False
        if self.codemod.names.refers_to(receiver, ("flask.session",)):
            return False  # Flask's cookie session, a dict
        if call.func.attr.value in _STATEMENT_METHODS and call.args:
            return not self._is_write(call.args[0].value)
        return True

    def _is_write(self, statement: cst.BaseExpression, depth: int = 0) -> bool:
        root = _chain_root(statement)
        if isinstance(root, cst.Name) and depth < 3:
            values = self.frame.values.get(root.value, [])
            return bool(values) and all(self._is_write(v, depth + 1) for v in values)
        if isinstance(root, cst.Call) and dotted_name(root.func) in ("text", "sqlalchemy.text") and root.args:
            text = root.args[0].value
            if isinstance(text, cst.SimpleString):
                return str(text.evaluated_value).lstrip().lower().startswith(_WRITE_STATEMENTS)
        return isinstance(root, cst.Call) and (dotted_name(root.func) or "").rsplit(".", 1)[-1] in _WRITE_STATEMENTS

    def _query(self, expr: cst.BaseExpression, depth: int = 0, later: frozenset[str] = frozenset()) -> _Query | None:
        """The query ``expr`` gives rows of, if it is one (directly or through a local variable).

        ``later``: the methods called on the result of ``expr`` (``result.scalars()`` of ``result =
        session.execute(...)``)."""
        methods: set[str] = set()
        eager: set[str] = set()
        node: cst.BaseExpression = expr
        while True:
            if isinstance(node, cst.Await):
                node = node.expression
            elif isinstance(node, (cst.Call)) and isinstance(node.func, cst.Attribute):
                method = node.func.attr.value
                methods.add(method)
                if method == "options":
                    eager |= _eager_loaded(node)
                receiver = node.func.value
                if method == "query" and self.matcher.is_session(receiver, self.frame.sessions):
                    return _Query(_model_argument(node), methods, eager, expr)
                if method in ("scalars", "execute") and self.matcher.is_session(receiver, self.frame.sessions):
                    statement = self._select(node.args[0].value if node.args else None, depth)
                    if statement is None:
                        return None
                    if method == "execute" and "scalars" not in methods | later:
                        statement.model = None  # rows, not model objects
                    statement.methods |= methods
                    statement.eager |= eager
                    statement.line_node = expr
                    return statement
                node = receiver
            elif isinstance(node, cst.Attribute) and node.attr.value == "query" and _is_model(node.value):
                return _Query(dotted_name(node.value), methods, eager, expr)
            elif isinstance(node, cst.Name) and depth < 3:
                for value in self.frame.values.get(node.value, []):
                    found = self._query(value, depth + 1, later | methods)
                    if found is not None:
                        found.methods |= methods
                        found.eager |= eager
                        found.line_node = value
                        return found
                return None
            else:
                return None

    def _select(self, statement: cst.BaseExpression | None, depth: int) -> _Query | None:
        """``select(Model)...`` (or a local variable bound to one)."""
        methods: set[str] = set()
        eager: set[str] = set()
        node = statement
        while isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
            methods.add(node.func.attr.value)
            if node.func.attr.value == "options":
                eager |= _eager_loaded(node)
            node = node.func.value
        if isinstance(node, cst.Name) and depth < 3:
            for value in self.frame.values.get(node.value, []):
                found = self._select(value, depth + 1)
                if found is not None:
                    found.methods |= methods
                    found.eager |= eager
                    return found
            return None
        if isinstance(node, cst.Call) and (dotted_name(node.func) or "").rsplit(".", 1)[-1] == "select":
            return _Query(_model_argument(node), methods, eager, node)
        return None


# -- small facts about expressions -----------------------------------------------------------------


def _package_of(file: FileContext) -> tuple[str, ...]:
    parts = file.module_name.split(".") if file.module_name else []
    return tuple(parts if file.is_package_init else parts[:-1])


def _method(call: cst.Call) -> str | None:
    return call.func.attr.value if isinstance(call.func, cst.Attribute) else None


def _chain_root(expr: cst.BaseExpression) -> cst.BaseExpression:
    """``insert(T)`` of ``insert(T).values(...).returning(...)``."""
    while isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute):
        expr = expr.func.value
    return expr


def _is_model(node: cst.BaseExpression) -> bool:
    """``Candidate`` in ``Candidate.query``: Flask-SQLAlchemy's query property on a model class."""
    name = dotted_name(node)
    return name is not None and name.rsplit(".", 1)[-1][:1].isupper()


def _model_argument(call: cst.Call) -> str | None:
    """``Job`` of ``select(Job)`` / ``session.query(Job)``; None for columns (``select(Job.id)``)."""
    if len(call.args) != 1 or call.args[0].keyword is not None:
        return None  # nothing, several entities, or keywords
    value = call.args[0].value
    return value.value if isinstance(value, cst.Name) and value.value[:1].isupper() else None


def _eager_loaded(options: cst.Call) -> set[str]:
    """Relationship names the loader options of ``.options(...)`` load (``"*"`` for a wildcard)."""
    loaded: set[str] = set()
    for arg in options.args:
        node: cst.BaseExpression = arg.value
        while isinstance(node, cst.Call):
            name = (dotted_name(node.func) or "").rsplit(".", 1)[-1]
            if name in _EAGER_OPTIONS:
                for inner in node.args:
                    value = inner.value
                    if isinstance(value, cst.Attribute):
                        loaded.add(value.attr.value)
                    elif isinstance(value, cst.SimpleString) and isinstance(value.evaluated_value, str):
                        loaded.add(value.evaluated_value.rsplit(".", 1)[-1])
            node = node.func.value if isinstance(node.func, cst.Attribute) else node.func
    return loaded


def _names(target: cst.BaseExpression) -> Iterator[str]:
    if isinstance(target, cst.Name):
        yield target.value
    elif isinstance(target, (cst.Tuple, cst.List)):
        for element in target.elements:
            yield from _names(element.value)


def _spelled(module: cst.Module, node: cst.CSTNode) -> str:
    return " ".join(module.code_for_node(node).split())


def _assigned_values(node: cst.CSTNode) -> dict[str, list[cst.BaseExpression]]:
    """Name -> the values assigned to it in ``node``, not looking into nested functions or classes."""
    values: dict[str, list[cst.BaseExpression]] = {}

    class _Assignments(traversal.Visitor):
        def visit_Assign(self, assign: cst.Assign) -> None:
            for target in assign.targets:
                if isinstance(target.target, cst.Name):
                    values.setdefault(target.target.value, []).append(assign.value)

        def visit_AnnAssign(self, assign: cst.AnnAssign) -> None:
            if isinstance(assign.target, cst.Name) and assign.value is not None:
                values.setdefault(assign.target.value, []).append(assign.value)

        def visit_FunctionDef(self, _: cst.FunctionDef) -> bool:
            return False

        def visit_ClassDef(self, _: cst.ClassDef) -> bool:
            return False

    if isinstance(node, cst.Module):
        for statement in node.body:
            statement.visit(_Assignments())
    else:
        node.visit(_Assignments())
    return values


# -- the syntax pre-check ------------------------------------------------------------------------------


def _may_report(needs: bool | frozenset[str], lazy: frozenset[str] | None) -> bool:
    """Whether the rule may report, from :func:`_report_needs`'s answer and ``lazy`` (the lazy
    relationship names of the model index, None for any name)."""
    if isinstance(needs, bool):
        return needs
    return bool(needs if lazy is None else needs & lazy)


def _report_needs(facts: SyntaxFacts, route: bool, sessions: _SessionNames) -> bool | frozenset[str]:
    """What the rule needs to report anything in ``facts.tree`` (CPython's tree of the file): True
    when there is a read of what may be a session or a model's ``.query`` inside a ``for`` loop
    or a comprehension over what may be a query, or, when the module has a route, an ``.all()``
    call on one; else the attributes read on the variable of such a loop (one of them must be a
    lazy relationship).

    A necessary condition only, read from the whole module (the rule itself looks in the loop's
    own function, with sessions and routes recognised): a query is a chain of method calls that
    reaches a model's ``query`` attribute, a ``query`` call on what may be a session, an
    ``execute``/``scalars`` call on one when the module calls some ``select``, or a name
    assigned one of these anywhere in the module."""
    selects = False
    values: dict[str, list[ast.expr]] = {}
    loops: list[tuple[ast.expr, list[ast.AST], ast.expr]] = []  # (iterable, what runs per row, target)
    unbounded: list[ast.expr] = []
    for node in facts.nodes(*_PRECHECKED):
        kind = type(node)
        if kind is ast.Call:
            if _last_name(node.func) == "select":  # type: ignore[attr-defined]
                selects = True
            elif route and _is_unbounded_all(node):  # type: ignore[arg-type]
                unbounded.append(node)  # type: ignore[arg-type]
        elif kind is ast.Assign:
            for target in node.targets:  # type: ignore[attr-defined]
                if type(target) is ast.Name:
                    values.setdefault(target.id, []).append(node.value)  # type: ignore[attr-defined]
                sessions.bind(target, node.value)  # type: ignore[attr-defined]
        elif kind is ast.AnnAssign:
            if type(node.target) is ast.Name and node.value is not None:  # type: ignore[attr-defined]
                values.setdefault(node.target.id, []).append(node.value)  # type: ignore[attr-defined]
            sessions.bind(node.target, None)  # type: ignore[attr-defined]
        elif kind is ast.NamedExpr:
            sessions.bind(node.target, node.value)  # type: ignore[attr-defined]
        elif kind in (ast.For, ast.AsyncFor):
            loops.append((node.iter, list(node.body), node.target))  # type: ignore[attr-defined]
        elif kind in (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp):
            first, *inner = node.generators  # type: ignore[attr-defined]
            parts = [node.key, node.value] if kind is ast.DictComp else [node.elt]  # type: ignore[attr-defined]
            loops.append((first.iter, [*parts, *first.ifs, *inner], first.target))
        elif kind is ast.arguments:
            sessions.parameters(node)  # type: ignore[arg-type]
        elif kind in (ast.With, ast.AsyncWith):
            for item in node.items:  # type: ignore[attr-defined]
                if item.optional_vars is not None:
                    sessions.bind(item.optional_vars, None)
    if not loops and not unbounded:
        return False
    sessions.resolve()
    queries: set[str] = set()  # names that may be bound to a query, to a fixed point
    while True:
        found = {
            name for name, assigned in values.items()
            if name not in queries and any(_query_root(value, selects, queries, sessions) for value in assigned)
        }  # fmt: skip
        if not found:
            break
        queries |= found
    if any(_query_root(call, selects, queries, sessions) for call in unbounded):
        return True
    attributes: set[str] = set()
    for iterable, per_row, target in loops:
        if _query_root(iterable, selects, queries, sessions):
            needs = _per_row_needs(per_row, _target_names(target), sessions)
            if needs is True:
                return True
            attributes |= needs  # type: ignore[operator]
    return frozenset(attributes)


_PRECHECKED = (
    ast.Call, ast.Assign, ast.AnnAssign, ast.NamedExpr, ast.For, ast.AsyncFor, ast.ListComp, ast.SetComp, ast.GeneratorExp,
    ast.DictComp, ast.arguments, ast.With, ast.AsyncWith,
)  # fmt: skip


def _may_hold_a_finding(node: ast.AST) -> bool:
    """Every finding is inside a loop or comprehension, or is an ``.all()`` call."""
    return isinstance(node, (ast.For, ast.AsyncFor, ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)) or (
        type(node) is ast.Call and _is_unbounded_all(node)  # type: ignore[arg-type]
    )


def _per_row_needs(per_row: list[ast.AST], targets: set[str], sessions: _SessionNames) -> bool | set[str]:
    """True when what runs per row may query (a read method of what may be a session, a model's
    ``.query``), else the attributes it reads on the loop variable (it queries if one of them
    is a lazy relationship)."""
    attributes: set[str] = set()
    for part in per_row:
        for node in walk_ast(part):
            if type(node) is ast.Attribute:
                attribute = node.attr  # type: ignore[attr-defined]
                owner = node.value  # type: ignore[attr-defined]
                if attribute == "query" and _is_model_ast(owner):
                    return True
                if attribute in _READ_METHODS and sessions.may_be(owner):
                    return True
                if type(owner) is ast.Name and owner.id in targets:
                    attributes.add(attribute)
    return attributes


def _target_names(target: ast.expr) -> set[str]:
    if isinstance(target, ast.Name):
        return {target.id}
    if isinstance(target, (ast.Tuple, ast.List)):
        return {name for element in target.elts for name in _target_names(element)}
    return set()


def _is_unbounded_all(call: ast.Call) -> bool:
    return type(call.func) is ast.Attribute and call.func.attr == "all" and not call.args and not call.keywords


def _query_root(expr: ast.expr, selects: bool, queries: set[str], sessions: _SessionNames) -> bool:
    """Whether ``expr`` may give the rows of a query (see _Finder._query, which this follows)."""
    node = expr
    while True:
        if isinstance(node, ast.Await):
            node = node.value
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            method = node.func.attr
            if (method == "query" or (method in ("execute", "scalars") and selects)) and sessions.may_be(node.func.value):
                return True
            node = node.func.value
        elif isinstance(node, ast.Attribute):
            return node.attr == "query" and _is_model_ast(node.value)
        elif isinstance(node, ast.Name):
            return node.id in queries
        else:
            return False


def _dotted_ast(node: ast.expr) -> str | None:
    """``a.b.c`` of a chain of names and attributes (what ``dotted_name`` gives for libcst's)."""
    parts: list[str] = []
    while type(node) is ast.Attribute:
        parts.append(node.attr)  # type: ignore[attr-defined]
        node = node.value  # type: ignore[attr-defined]
    if type(node) is not ast.Name:
        return None
    parts.append(node.id)  # type: ignore[attr-defined]
    return ".".join(reversed(parts))


def _is_model_ast(node: ast.expr) -> bool:
    """``_is_model`` of the libcst node of ``node``."""
    name = _dotted_ast(node)
    return name is not None and name.rsplit(".", 1)[-1][:1].isupper()


class _SessionNames:
    """The dotted names that may be database sessions somewhere in a module, for the pre-check:
    a superset of what ``SessionMatcher.is_session`` accepts in any scope of it (the configured
    names, and every name bound where the matcher may take the binding for a session's)."""

    def __init__(self, names: Sequence[str], factories: Sequence[str]) -> None:
        self.names = set(names)
        self.factories = [*factories, *SCOPED_MAKERS]
        self._bound: list[tuple[str, ast.expr | None]] = []  # (dotted name, value; None: may be one)

    def bind(self, target: ast.expr, value: ast.expr | None) -> None:
        """``target = value`` (``value`` None: a binding whose type or value may make a session)."""
        name = _dotted_ast(target)
        if name is not None:  # an unpacking binds nothing the matcher takes for a session
            self._bound.append((name, value))

    def parameters(self, arguments: ast.arguments) -> None:
        """Parameters with an annotation or a default (the matcher types no others)."""
        every = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
        defaults = [*([None] * (len(arguments.posonlyargs) + len(arguments.args) - len(arguments.defaults))),
                    *arguments.defaults, *arguments.kw_defaults]  # fmt: skip
        for argument, default in zip(every, defaults):
            if argument.annotation is not None:
                self._bound.append((argument.arg, None))
            elif default is not None:
                self._bound.append((argument.arg, default))

    def resolve(self) -> None:
        """Settle which bound names may be sessions (module factories first: ``SessionLocal =
        sessionmaker(...)``, ``db_session = scoped_session(...)`` anywhere in the module)."""
        makers = (*FACTORY_MAKERS, *SCOPED_MAKERS)
        for name, value in self._bound:
            if type(value) is ast.Call and matches(_dotted_ast(value.func), makers):  # type: ignore[attr-defined]
                self.factories.append(name)
                self.names.add(name)
        self.names.update(name for name, value in self._bound if value is None or self._may_give(value))

    def _may_give(self, value: ast.expr) -> bool:
        """Whether ``value`` may be a session source (``is_session_value``, or a session's name)."""
        if type(value) is ast.Await:
            return self._may_give(value.value)  # type: ignore[attr-defined]
        if type(value) is ast.Call:
            func = value.func  # type: ignore[attr-defined]
            if type(func) is ast.Call:
                return True  # sessionmaker(...)()
            callee = _dotted_ast(func)
            return matches(callee, ("next", "Depends", "Security", *self.factories))
        return _dotted_ast(value) in self.names

    def may_be(self, node: ast.expr) -> bool:
        return _dotted_ast(node) in self.names


# -- the model index ---------------------------------------------------------------------------------


def _relationships(tree: ast.Module) -> dict[str, dict[str, str]]:
    """Class name -> relationship attribute -> its lazy= value, from ``relationship(...)`` calls in
    class bodies (``db.relationship``, ``Mapped[...] = relationship(...)``), backrefs included."""
    models: dict[str, dict[str, str]] = {}
    for node in walk_ast(tree):
        if not isinstance(node, ast.ClassDef):
            continue
        for statement in node.body:
            value = statement.value if isinstance(statement, (ast.Assign, ast.AnnAssign)) else None
            if not isinstance(value, ast.Call) or _last_name(value.func) != "relationship":
                continue
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]  # type: ignore[union-attr]
            for target in targets:
                if isinstance(target, ast.Name):
                    models.setdefault(node.name, {})[target.id] = _lazy(value)
            backref = _backref(value)
            if backref is not None:
                name, lazy = backref
                models.setdefault(name[0], {})[name[1]] = lazy
    return models


def _last_name(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _lazy(call: ast.Call) -> str:
    for keyword in call.keywords:
        if keyword.arg == "lazy" and isinstance(keyword.value, ast.Constant):
            return str(keyword.value.value)
        if keyword.arg == "lazy":
            return "unknown"
    return "select"


def _backref(call: ast.Call) -> tuple[tuple[str, str], str] | None:
    """((target class, attribute), lazy) of ``relationship("Target", backref="attr")``."""
    target = call.args[0] if call.args else None
    model = target.value if isinstance(target, ast.Constant) and isinstance(target.value, str) else (
        target.id if isinstance(target, ast.Name) else None
    )
    for keyword in call.keywords:
        if keyword.arg != "backref" or model is None:
            continue
        value = keyword.value
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            return (model.rsplit(".", 1)[-1], value.value), "select"
        if isinstance(value, ast.Call) and value.args and isinstance(value.args[0], ast.Constant):
            return (model.rsplit(".", 1)[-1], str(value.args[0].value)), _lazy(value)
    return None
