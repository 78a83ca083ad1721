"""What ``route-commit`` needs to know about a route before moving its database work.

Three questions, answered from libcst metadata (scopes, qualified names, positions,
parents), never from text:

* which functions are routes (:func:`find_route`), and how to describe them;
* which statements around a commit can move (:func:`extract_run`): the longest run of
  consecutive statements of one block that ends with the commit and neither leaves the
  route (``return``, ``raise``, ...) nor touches the HTTP layer (Flask's ``request``,
  FastAPI's ``Request`` values, ...);
* how values flow into and out of that run (:func:`analyse_flow`): the parameters of the
  service function, the names it returns, and the module-level imports it needs.

Every "no" comes back as a :class:`Decline` with a reason the user can act on.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Mapping, Sequence

import libcst as cst
from libcst.metadata import (
    Access,
    Assignment,
    BuiltinAssignment,
    FunctionScope,
    GlobalScope,
    ImportAssignment,
    Scope,
)

from codemods.analysis.dataflow import (
    defined_before,
    effects,
    live_after,
    local_names,
)
from codemods.analysis.metadata import Metadata, position_key
from codemods.analysis.nodes import NESTED_SCOPES, dotted_name, node_types
from codemods.analysis.routes import HTTP_METHODS, Route
from codemods.analysis.sessions import (
    SessionCall,
    SessionMatcher,
    SessionScope,
    method_calls,
)
from codemods.rules.route_commit.request_values import (
    INSIDE,
    Hoisted,
    RequestValue,
    RequestValues,
    inside_values,
    order_parameters,
)
from codemods.speedups import traversal
from codemods.speedups.walk import children, children_but_trivia, walk

_COMPREHENSIONS = (cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)
_LOOPS = (cst.For, cst.While)
# What _Mobility asks of every node of a statement (see nodes.node_types).
_NESTED_SCOPE_TYPES = node_types(*NESTED_SCOPES)
_LOOP_TYPES = node_types(*_LOOPS)
_RETURNS = node_types(cst.Return)
_YIELDS_AND_RAISES = node_types(cst.Yield, cst.Raise)
_BREAKS = node_types(cst.Break, cst.Continue)
_ATTRIBUTES = node_types(cst.Attribute)
_ARGS = node_types(cst.Arg)
_NAMES_AND_ATTRIBUTES = node_types(cst.Name, cst.Attribute)


@dataclasses.dataclass(frozen=True)
class Decline:
    """Why a commit stays where it is."""

    node: cst.CSTNode  # where to report it (a node of the original tree)
    reason: str


@dataclasses.dataclass(frozen=True)
class ImportItem:
    """One name a generated module imports: ``from <dots><module> import <obj> as <asname>``."""

    module: str
    obj: str | None  # None: ``import module [as asname]``
    asname: str | None
    level: int = 0  # leading dots of a relative import

    @property
    def bound_name(self) -> str:
        if self.asname:
            return self.asname
        return self.obj if self.obj is not None else self.module.split(".")[0]

    @property
    def signature(self) -> str:
        """Equal for two imports that bind the same object under the same name."""
        return f"{'.' * self.level}{self.module}|{self.obj or ''}|{self.bound_name}"

    def code(self) -> str:
        alias = f" as {self.asname}" if self.asname else ""
        if self.obj is None:
            return f"import {self.module}{alias}"
        return f"from {'.' * self.level}{self.module} import {self.obj}{alias}"


@dataclasses.dataclass(frozen=True)
class Parameter:
    name: str
    annotation: cst.BaseExpression | None
    annotation_imports: tuple[ImportItem, ...] = ()
    argument: cst.BaseExpression | None = None  # what the route passes, if not its own ``name``


@dataclasses.dataclass(frozen=True)
class Run:
    """The statements that move: ``block.body[start:end]``, ending with the commit."""

    block: cst.IndentedBlock
    start: int
    end: int
    commit: SessionCall
    held_by: str = ""  # why the statement before the run stays in the route ("" if none does)
    values: tuple[Hoisted, ...] = ()  # request values the route evaluates and passes in
    moved: tuple[cst.BaseStatement, ...] = ()  # the statements as the service has them, if they differ
    note: str = ""  # what a request value the route passes held back, if anything

    @property
    def statements(self) -> Sequence[cst.BaseStatement]:
        return self.block.body[self.start : self.end]

    @property
    def body(self) -> Sequence[cst.BaseStatement]:
        """The service's statements: ``statements`` reading the passed values by name."""
        return self.moved or self.statements


@dataclasses.dataclass(frozen=True)
class Flow:
    """How the run talks to the rest of the route."""

    parameters: tuple[Parameter, ...]
    returns: tuple[str, ...]
    imports: tuple[ImportItem, ...]  # as the route module spells them
    logger_name: str | None  # the route module's logger, if the run logs
    is_async: bool


# -- routes --------------------------------------------------------------------------------


# -- commits -------------------------------------------------------------------------------


def find_commits(route: Route, matcher: SessionMatcher, scope: SessionScope) -> tuple[list[SessionCall], list[Decline]]:
    """The route's commits, and those that cannot move at all (inside lambdas, nested functions);
    ``scope``: the sessions the route's body sees (``matcher.scope_sessions`` of the function)."""
    function = route.function
    calls = method_calls(function.body, ("commit",))  # one walk: its session calls are the commits
    commits = [call for call in calls if matcher.is_session(call.session, scope)]
    helpers = matcher.helper_calls(function.body)
    if helpers:
        commits = sorted([*commits, *helpers], key=lambda c: _source_index(function.body, c.call))
    declines: list[Decline] = []
    known = {id(c.call) for c in commits}
    for call in calls:
        if id(call.call) in known or matcher.is_session(call.session, scope):
            continue
        reason = matcher.unknown_session(call, function)
        if reason is not None:
            declines.append(Decline(call.call, f"not moved: session of unknown type: {reason}; add it to session-names"))
    for nested, kind in _nested_scopes(function.body):
        inner = matcher.scope_sessions(nested, scope)
        for call in [*matcher.session_calls(nested.body, inner, ("commit",)), *matcher.helper_calls(nested.body)]:
            declines.append(Decline(call.call, f"not moved: the commit is inside a {kind} in the route"))
    return commits, declines


def _source_index(root: cst.CSTNode, target: cst.CSTNode) -> int:
    """Where ``target`` comes in a pre-order walk of ``root`` (source order)."""
    pending = [root]
    index = 0
    while pending:
        node = pending.pop()
        if node is target:
            return index
        index += 1
        pending.extend(reversed(children(node)))
    return index


def _nested_scopes(node: cst.CSTNode) -> list[tuple[cst.FunctionDef | cst.Lambda, str]]:
    finder = _NestedScopes()
    walk(node, finder)
    return finder.found


# Helper visitors are module-level classes: one defined per call would be new to the speed-ups each time.
class _NestedScopes(traversal.Visitor):
    def __init__(self) -> None:
        self.found: list[tuple[cst.FunctionDef | cst.Lambda, str]] = []

    def visit_FunctionDef(self, inner: cst.FunctionDef) -> bool:
        self.found.append((inner, "nested function"))
        return False

    def visit_Lambda(self, inner: cst.Lambda) -> bool:
        self.found.append((inner, "lambda"))
        return False

    def visit_ClassDef(self, _: cst.ClassDef) -> bool:
        return False


def commit_statement(commit: SessionCall, meta: Metadata) -> tuple[cst.SimpleStatementLine, cst.IndentedBlock] | Decline:
    """The statement line holding the commit and its block, or why the commit is not a statement."""
    node: cst.CSTNode = commit.call
    parent = meta.parent(node)
    if isinstance(parent, cst.Await):
        node, parent = parent, meta.parent(parent)
    if not isinstance(parent, cst.Expr):
        ancestor = parent
        while ancestor is not None and not isinstance(ancestor, cst.BaseStatement):
            if isinstance(ancestor, _COMPREHENSIONS):
                return Decline(commit.call, "not moved: the commit is inside a comprehension")
            ancestor = meta.parent(ancestor)
        return Decline(commit.call, "not moved: the commit's result is used, so it is not a statement of its own")
    line = meta.parent(parent)
    if isinstance(line, cst.SimpleStatementSuite):
        return Decline(commit.call, "not moved: the commit is in a one-line block (`if x: db.commit()`)")
    assert isinstance(line, cst.SimpleStatementLine)
    if line.body[-1] is not parent:
        return Decline(commit.call, "not moved: the commit shares its line with statements after it")
    block = meta.parent(line)
    if not isinstance(block, cst.IndentedBlock):
        return Decline(commit.call, "not moved: the commit is not inside a function body")
    return line, block


# -- which statements move ------------------------------------------------------------------


class _Mobility(traversal.Visitor):
    """Why a statement must stay in the route (first reason found), or None."""

    # Whitespace and punctuation are no name, attribute, request value, scope or loop: on_visit
    # and on_leave change nothing there.
    IGNORES_TRIVIA = True

    def __init__(
        self, meta: Metadata, http_names: Sequence[str], http_locals: frozenset[str], values: RequestValues | None
    ) -> None:
        self.meta = meta
        self.http_names = http_names
        self.http_locals = http_locals
        self.values = values
        self.reason: str | None = None
        self._loops = 0
        self._nested = 0
        # Names that are not expressions: an attribute's or a keyword argument's name.  libcst
        # gives them no qualified names; the name facts would read them as variables.
        self._not_variables: set[int] = set()

    def _stop(self, reason: str) -> bool:
        if self.reason is None:
            self.reason = reason
        return False

    def on_visit(self, node: cst.CSTNode) -> bool:
        if self.reason is not None:
            return False
        kind = type(node)
        if kind in _NESTED_SCOPE_TYPES:
            self._nested += 1
        elif kind in _LOOP_TYPES:
            self._loops += 1
        if not self._nested:
            if kind in _RETURNS:
                return self._stop("return")
            if kind in _YIELDS_AND_RAISES:
                return self._stop(kind.__name__.lower())
            if kind in _BREAKS and not self._loops:
                return self._stop(kind.__name__.lower())
        if kind in _ATTRIBUTES:
            self._not_variables.add(id(node.attr))
            if node.attr.value in HTTP_METHODS and not isinstance(self.values and self.values.match(node), RequestValue):
                return self._stop(f"calls `{node.attr.value}`, which answers HTTP itself")
        elif kind in _ARGS and node.keyword is not None:
            self._not_variables.add(id(node.keyword))
        if self.values is not None and id(node) not in self._not_variables:
            found = self.values.classify(node)
            if isinstance(found, RequestValue):
                return False  # the route evaluates it and passes the value (request_values)
            if found == "form" and isinstance(node, cst.Name):
                return self._stop(f"uses the form object `{node.value}`: a service takes its fields' values")
            if found == INSIDE:
                return True
        if kind in _NAMES_AND_ATTRIBUTES and id(node) not in self._not_variables:
            http = http_name(node, self.meta, self.http_names, self.http_locals)
            if http is not None:
                return self._stop(f"uses {http}")
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        kind = type(original_node)
        if kind in _NESTED_SCOPE_TYPES:
            self._nested -= 1
        elif kind in _LOOP_TYPES:
            self._loops -= 1


def http_name(
    node: cst.Name | cst.Attribute, meta: Metadata, http_names: Sequence[str], http_locals: frozenset[str]
) -> str | None:
    """The HTTP-layer object ``node`` refers to (``flask.request``, a ``Request`` parameter), if any."""
    fast = meta.refers_to_any(node, http_names)
    qualified_names = fast if fast is not None else {q.name for q in meta.qualified_names(node)}
    for qualified in qualified_names:
        for name in http_names:
            if qualified == name or qualified.startswith(name + "."):
                return f"`{name}`"
    if isinstance(node, cst.Name) and node.value in http_locals:
        scope = meta.scope(node)
        if scope is not None and _is_access(node, scope):
            return f"`{node.value}`"
    return None


def _is_access(node: cst.Name, scope: Scope) -> bool:
    return any(access.node is node for access in scope.accesses[node.value])


def http_parameters(route: Route, meta: Metadata, http_names: Sequence[str]) -> frozenset[str]:
    """Route parameters that hold HTTP-layer values: ``request: Request``, the view's ``self``."""
    names = set()
    if route.view_instance is not None:
        names.add(route.view_instance)
    params = route.function.params
    for param in (*params.posonly_params, *params.params, *params.kwonly_params):
        if param.annotation is None:
            continue
        for node in _names_in(param.annotation.annotation):
            if http_name(node, meta, http_names, frozenset()) is not None:
                names.add(param.name.value)
    return frozenset(names)


def _names_in(node: cst.CSTNode) -> list[cst.Name]:
    names = _Names()
    walk(node, names)
    return names.found


class _Names(traversal.Visitor):
    def __init__(self) -> None:
        self.found: list[cst.Name] = []

    def visit_Name(self, name: cst.Name) -> None:
        self.found.append(name)


def extract_run(
    line: cst.SimpleStatementLine,
    block: cst.IndentedBlock,
    lower: int,
    commit: SessionCall,
    meta: Metadata,
    http_names: Sequence[str],
    http_locals: frozenset[str],
    values: RequestValues | None = None,
) -> Run | Decline:
    """The longest run of movable statements of ``block`` ending with the commit's ``line``.

    ``lower`` is the first index the run may start at (after an earlier commit of the block);
    ``values`` are the request values the route can pass in (they do not hold a statement back).
    """
    end = next(i for i, statement in enumerate(block.body) if statement is line) + 1
    if lower == 0 and _is_docstring(block, meta):
        lower = 1  # the route's docstring stays with the route
    reason = _why_stays(line, meta, http_names, http_locals, values)
    if reason is not None:
        return Decline(commit.call, f"not moved: the commit itself {reason}, which belongs to the HTTP layer")
    start = end - 1
    while start > lower:
        held_by = _why_stays(block.body[start - 1], meta, http_names, http_locals, values)
        if held_by is not None:
            return Run(block, start, end, commit, held_by)
        start -= 1
    return Run(block, start, end, commit)


def keep_handler_values(run: Run, function: cst.FunctionDef, meta: Metadata) -> Run:
    """Shrink ``run`` so that names the route may read after a caught exception are assigned there.

    Inside a ``try`` (or a ``with``, whose context manager may suppress errors), the moved code
    may raise and the route go on (in a handler, a ``finally`` or after the statement).  The service then returns nothing, so a name the moved code assigned
    would keep its old value (or none) where the original saw the new one: statements that
    assign names read later stay in the route.
    """
    if not _inside_try_body(run.block, function, meta):
        return run
    end = meta.position(run.statements[-1]).end
    read_later = {
        name.value for name in _names_in(function.body) if position_key(meta.position(name).start) >= position_key(end)
    }
    function_scope = meta.scope(function.body)
    assert function_scope is not None
    start = run.start
    for index in range(run.start, run.end):
        where = meta.position(run.block.body[index])
        for assignment in function_scope.assignments:
            if assignment.name in read_later and isinstance(assignment, Assignment):
                if meta.within(assignment.node, where, where):
                    start = index + 1
    return dataclasses.replace(run, start=min(start, run.end - 1))


def _inside_try_body(block: cst.CSTNode, function: cst.FunctionDef, meta: Metadata) -> bool:
    child: cst.CSTNode = block
    current = meta.parent(block)
    while current is not None and current is not function:
        # a context manager may swallow the exception too (``contextlib.suppress``)
        if isinstance(current, (cst.Try, cst.TryStar, cst.With)) and child is current.body:
            return True
        child, current = current, meta.parent(current)
    return False


def _is_docstring(block: cst.IndentedBlock, meta: Metadata) -> bool:
    owner = meta.parent(block)
    if not isinstance(owner, (cst.FunctionDef, cst.ClassDef)) or not block.body:
        return False
    first = block.body[0]
    return (
        isinstance(first, cst.SimpleStatementLine)
        and isinstance(first.body[0], cst.Expr)
        and isinstance(first.body[0].value, (cst.SimpleString, cst.ConcatenatedString))
    )


def _why_stays(
    statement: cst.CSTNode,
    meta: Metadata,
    http_names: Sequence[str],
    http_locals: frozenset[str],
    values: RequestValues | None = None,
) -> str | None:
    mobility = _Mobility(meta, http_names, http_locals, values)
    walk(statement, mobility)
    return mobility.reason


# -- data flow -----------------------------------------------------------------------------


def analyse_flow(
    route: Route,
    run: Run,
    meta: Metadata,
    module: cst.Module,
    sessions: frozenset[str] = frozenset(),
    alias_types: Mapping[str, tuple[str, str]] | None = None,
) -> Flow | Decline:
    """Parameters, return values, imports and async-ness of the service function for ``run``.

    ``sessions`` are the route's names that hold database sessions: they come first.
    """
    function = route.function
    deleted = _deleted_names(run.statements)
    if deleted:
        return Decline(run.commit.call, f"not moved: `{deleted[0]}` is deleted in the statements that would move")
    order = _first_uses(run.body)  # the names of the moved code, in source order
    interface = _local_interface(function, run, order, meta)
    if isinstance(interface, Decline):
        return interface
    parameters, returns = interface
    module_names = _module_names(function, run, meta)
    if isinstance(module_names, Decline):
        return module_names
    imported = _module_imports(module_names, module, meta, run.commit.call)
    if isinstance(imported, Decline):
        return imported
    imports, logger_name = imported
    passed = {value.name: Parameter(value.name, None, argument=value.expression) for value in run.values}
    ordered = order_parameters(_signature_order(order, [*parameters, *passed], sessions), run.values)
    params = tuple(passed.get(name) or _parameter(function, name, meta, alias_types or {}) for name in ordered)
    return Flow(params, tuple(returns), tuple(imports), logger_name, _needs_async(function, run.statements))


def _local_interface(
    function: cst.FunctionDef, run: Run, order: Sequence[str], meta: Metadata
) -> tuple[list[str], list[str]] | Decline:
    """The route's locals the moved code reads (parameters) and those it hands back (returns).

    A parameter is a name some path of the moved code reads before assigning it; the route must
    have bound it on every path to the call, or the call itself could fail where the original
    code did not read it.  A return is a name the moved code may assign that the rest of the
    route may read; if the moved code does not assign it on every path, its old value goes in
    too, which again needs it bound at the call.  Names the moved code assigns before reading
    (its loop and branch variables) are neither.
    """
    local = local_names(function)
    moved = effects(run.body, local)
    exposed = moved.exposed - {value.name for value in run.values}  # passed by the route: see analyse_flow
    bound_at_call = defined_before(function, run.block, run.start, local)
    live = live_after(function, run.block, run.end, local, meta.parents())
    for name in _in_source_order(order, exposed):
        if name not in bound_at_call:
            return Decline(
                run.commit.call,
                f"not moved: `{name}` is read by the moved statements but may be unassigned when they start",
            )
    parameters = set(exposed)
    returns = _in_source_order(order, moved.assigned & live)
    for name in returns:
        if name in moved.definite:
            continue
        if name not in bound_at_call:
            return Decline(run.commit.call, f"not moved: `{name}` is used after the commit but only assigned on some paths")
        parameters.add(name)  # not assigned on every path: the old value goes in and comes back
    return sorted(parameters), returns


def _module_names(function: cst.FunctionDef, run: Run, meta: Metadata) -> dict[str, set[Assignment]] | Decline:
    """The module-level bindings the moved code reads, by name; or why a name cannot be read there."""
    first, last = meta.position(run.statements[0]), meta.position(run.statements[-1])
    function_scope = meta.scope(function.body)
    assert isinstance(function_scope, FunctionScope)
    module_names: dict[str, set[Assignment]] = {}
    passed = inside_values(run.values)  # the route evaluates these: their names stay with it
    for access in _accesses_under(run.statements, meta):
        if id(access.node) in passed:
            continue
        name = access.node.value
        referents = [r for r in access.referents if not isinstance(r, BuiltinAssignment)]
        if not referents and name.startswith("__") and name.endswith("__") and name != "__debug__":
            return Decline(run.commit.call, f"not moved: `{name}` would mean the service module there")
        if not access.referents and not function_scope.assignments[name]:
            return Decline(run.commit.call, f"not moved: `{name}` is not defined in this module (a star import?)")
        for referent in referents:
            if not isinstance(referent, Assignment) or referent.scope is function_scope:
                continue  # the route's own locals: see _local_interface
            if isinstance(referent.scope, GlobalScope):
                module_names.setdefault(name, set()).add(referent)
            elif not meta.within(referent.node, first, last):
                return Decline(
                    run.commit.call, f"not moved: `{name}` is a local of the function around the route (an app factory?)"
                )
    return module_names


def _accesses_under(statements: Sequence[cst.BaseStatement], meta: Metadata) -> list[Access]:
    """Every access to a plain name inside ``statements`` (nested scopes included), in source order."""
    first, last = meta.position(statements[0]), meta.position(statements[-1])
    found: dict[int, Access] = {}
    scopes: dict[int, Scope] = {}  # each scope's accesses are read once (the route's holds every statement)
    for statement in statements:
        for scope in _scopes_under(statement, meta):
            if id(scope) in scopes:
                continue
            scopes[id(scope)] = scope
            for access in scope.accesses:
                if isinstance(access.node, cst.Name) and meta.within(access.node, first, last):
                    found.setdefault(id(access), access)
    return sorted(found.values(), key=lambda a: position_key(meta.position(a.node).start))


def _module_imports(
    module_names: dict[str, set[Assignment]], module: cst.Module, meta: Metadata, commit: cst.Call
) -> tuple[list[ImportItem], str | None] | Decline:
    """The imports the service copies for the module names the moved code reads, and the logger."""
    imports: list[ImportItem] = []
    logger_name: str | None = None
    for name, referents in module_names.items():
        if len(referents) > 1:
            return Decline(commit, f"not moved: `{name}` is bound more than once at module level")
        (referent,) = referents
        if isinstance(referent, ImportAssignment):
            if not _at_module_top(referent.node, meta):
                return Decline(commit, f"not moved: `{name}` is imported conditionally (under `if` or `try`)")
            item = import_item(referent.node, name)
            if item is None:
                return Decline(commit, f"not moved: cannot copy the import of `{name}`")
            imports.append(item)
        elif is_logger_assignment(referent.node, module, meta):
            logger_name = name
        else:
            return Decline(
                commit,
                f"not moved: `{name}` is defined in this module; importing it into the service would be an import cycle",
            )
    return imports, logger_name


def _signature_order(first_uses: Sequence[str], names: Iterable[str], sessions: frozenset[str]) -> list[str]:
    """Sessions first, then the other values in the order the moved code first uses them."""
    order = _in_source_order(first_uses, names)
    return sorted(order, key=lambda n: (n not in sessions, order.index(n)))


def _first_uses(statements: Sequence[cst.BaseStatement]) -> list[str]:
    """The plain names in ``statements``, each once, in the order they first occur."""
    order: dict[str, None] = {}
    for statement in statements:
        for name in _walk_names(statement):
            order.setdefault(name, None)
    return list(order)


def _in_source_order(first_uses: Sequence[str], names: Iterable[str]) -> list[str]:
    """``names`` in the order of ``first_uses`` (:func:`_first_uses`), those it lacks last, sorted."""
    wanted = set(names)
    return [*(name for name in first_uses if name in wanted), *sorted(wanted - set(first_uses))]


def _walk_names(node: cst.CSTNode) -> Iterator[str]:
    """The plain names in ``node``, in source order."""
    pending = [node]
    while pending:
        current = pending.pop()
        if isinstance(current, cst.Name):
            yield current.value
        pending.extend(reversed(children_but_trivia(current)))


def _scopes_under(node: cst.CSTNode, meta: Metadata) -> list[Scope]:
    scopes = _Scopes(meta)
    walk(node, scopes)
    return list(scopes.found.values())


class _Scopes(traversal.Visitor):
    # A scope a whitespace or punctuation node is in is also that of a node beside or above it
    # (each scope holds a body, an element or an expression): skipping them finds the same scopes.
    IGNORES_TRIVIA = True

    def __init__(self, meta: Metadata) -> None:
        self.meta = meta
        self.found: dict[int, Scope] = {}

    def on_visit(self, inner: cst.CSTNode) -> bool:
        scope = self.meta.scope(inner)
        if scope is not None:
            self.found.setdefault(id(scope), scope)
        return True


def _deleted_names(statements: Iterable[cst.CSTNode]) -> list[str]:
    deletes = _Deletes()
    for statement in statements:
        walk(statement, deletes)
    return deletes.found


class _Deletes(traversal.Visitor):
    def __init__(self) -> None:
        self.found: list[str] = []

    def visit_Del(self, node: cst.Del) -> None:
        targets = node.target.elements if isinstance(node.target, (cst.Tuple, cst.List)) else [node.target]
        for target in targets:
            value = target.value if isinstance(target, cst.Element) else target
            if isinstance(value, cst.Name):
                self.found.append(value.value)

    def visit_FunctionDef(self, _: cst.FunctionDef) -> bool:
        return False

    def visit_Lambda(self, _: cst.Lambda) -> bool:
        return False


def _at_module_top(statement: cst.CSTNode, meta: Metadata) -> bool:
    line = meta.parent(statement)
    return line is not None and isinstance(meta.parent(line), cst.Module)


def import_item(statement: cst.CSTNode, name: str) -> ImportItem | None:
    """The part of an import statement that binds ``name``."""
    if isinstance(statement, cst.Import):
        for alias in statement.names:
            module = alias.evaluated_name
            if (alias.evaluated_alias or module.split(".")[0]) == name:
                return ImportItem(module, None, alias.evaluated_alias)
        return None
    if isinstance(statement, cst.ImportFrom) and not isinstance(statement.names, cst.ImportStar):
        module = dotted_name(statement.module) if statement.module is not None else ""
        if module is None:
            return None
        for alias in statement.names:
            if (alias.evaluated_alias or alias.evaluated_name) == name:
                return ImportItem(module, alias.evaluated_name, alias.evaluated_alias, len(statement.relative))
    return None


def is_logger_assignment(node: cst.CSTNode, module: cst.Module, meta: Metadata) -> bool:
    """``logger = logging.getLogger(__name__)`` (or ``getLogger(__name__)``) at module level."""
    current: cst.CSTNode | None = node
    while current is not None and not isinstance(current, (cst.Assign, cst.AnnAssign)):
        current = meta.parent(current)
    if current is None or not isinstance(current.value, cst.Call):
        return False
    callee = dotted_name(current.value.func) or ""
    args = current.value.args
    return (
        callee.rsplit(".", 1)[-1] == "getLogger"
        and len(args) == 1
        and isinstance(args[0].value, cst.Name)
        and args[0].value.value == "__name__"
    )


def _parameter(
    function: cst.FunctionDef, name: str, meta: Metadata, alias_types: Mapping[str, tuple[str, str]]
) -> Parameter:
    """The service parameter for the route's ``name``, annotated with what the route knows of it."""
    params = function.params
    for param in (*params.posonly_params, *params.params, *params.kwonly_params):
        if param.name.value != name or param.annotation is None:
            continue
        annotation = _unwrap_annotated(param.annotation.annotation)
        target = alias_types.get(dotted_name(annotation) or "")
        if target is not None:  # ``db: SessionDep``: the service takes the plain session
            return Parameter(name, cst.Name(target[1]), (ImportItem(target[0], target[1], None),))
        imports = _annotation_imports(annotation, meta)
        if imports is None:
            return Parameter(name, None)
        return Parameter(name, annotation, imports)
    model = _assigned_model(function, name)
    if model is not None:
        imports = _annotation_imports(model, meta)
        if imports:
            return Parameter(name, cst.Name(model.value), imports)
    return Parameter(name, None)


_LOOKUPS = ("get", "get_or_404", "get_one", "one_or_404")
_QUERY_ENDS = ("get", "get_or_404", "first_or_404", "one", "one_or_404")


def _assigned_model(function: cst.FunctionDef, name: str) -> cst.Name | None:
    """The model class every assignment of ``name`` in the route gives, if they agree:
    ``Order(...)``, ``db.get(Order, id)``, ``Order.query.get_or_404(id)``."""
    models: list[cst.Name] = []
    for node in _walk_nodes(function.body):
        if isinstance(node, (cst.AugAssign, cst.For, cst.NamedExpr)) and name in _unpacked_names(node.target):
            return None
        if isinstance(node, cst.WithItem) and node.asname is not None and name in _unpacked_names(node.asname.name):
            return None
        if not isinstance(node, cst.Assign):
            continue
        if not any(isinstance(t.target, cst.Name) and t.target.value == name for t in node.targets):
            if any(name in _unpacked_names(t.target) for t in node.targets):
                return None  # ``a, order = ...``: some other value
            continue
        model = _model_of(node.value)
        if model is None:
            return None
        models.append(model)
    if not models or len({m.value for m in models}) != 1:
        return None
    return models[0]


def _unpacked_names(target: cst.BaseExpression) -> set[str]:
    """The plain names an assignment target binds (``x``, ``a, (b, *c)``), not ``x.attr`` or ``x[i]``."""
    if isinstance(target, cst.Name):
        return {target.value}
    if isinstance(target, (cst.Tuple, cst.List)):
        return {n for e in target.elements for n in _unpacked_names(e.value)}
    if isinstance(target, cst.StarredElement):
        return _unpacked_names(target.value)
    return set()


def _model_of(value: cst.BaseExpression) -> cst.Name | None:
    if isinstance(value, cst.Await):
        value = value.expression
    if not isinstance(value, cst.Call):
        return None
    func = value.func
    if isinstance(func, cst.Name):
        return func if func.value[:1].isupper() else None
    if not isinstance(func, cst.Attribute):
        return None
    if func.attr.value in _LOOKUPS and value.args and isinstance(value.args[0].value, cst.Name):
        first = value.args[0].value
        if first.value[:1].isupper() and value.args[0].keyword is None:
            return first
    if func.attr.value in _QUERY_ENDS:
        receiver = func.value
        while isinstance(receiver, cst.Call) and isinstance(receiver.func, cst.Attribute):
            receiver = receiver.func.value
        if isinstance(receiver, cst.Attribute) and receiver.attr.value == "query" and isinstance(receiver.value, cst.Name):
            model = receiver.value
            return model if model.value[:1].isupper() else None
    return None


def _walk_nodes(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    pending = [node]
    while pending:
        current = pending.pop()
        if isinstance(current, (cst.FunctionDef, cst.Lambda, cst.ClassDef)) and current is not node:
            continue
        yield current
        pending.extend(reversed(children_but_trivia(current)))


def _unwrap_annotated(annotation: cst.BaseExpression) -> cst.BaseExpression:
    """``Annotated[Session, Depends(get_db)]`` -> ``Session``: the dependency stays in the route."""
    if isinstance(annotation, cst.Subscript) and (dotted_name(annotation.value) or "").endswith("Annotated"):
        first = annotation.slice[0].slice
        if isinstance(first, cst.Index):
            return first.value
    return annotation


def _annotation_imports(annotation: cst.BaseExpression, meta: Metadata) -> tuple[ImportItem, ...] | None:
    """The imports an annotation needs, or None if it cannot be copied (strings, local classes)."""
    if any(isinstance(n, cst.SimpleString) for n in _all_nodes(annotation)):
        return None
    items = []
    for node in _names_in(annotation):
        parent = meta.parent(node)
        if isinstance(parent, cst.Attribute) and parent.attr is node:
            continue
        scope = meta.scope(node)
        if scope is None:
            return None
        referents = [r for a in scope.accesses[node.value] if a.node is node for r in a.referents]
        if any(isinstance(r, BuiltinAssignment) for r in referents):
            continue
        if len(referents) != 1 or not isinstance(referents[0], ImportAssignment):
            return None
        if not _at_module_top(referents[0].node, meta):
            return None  # ``if TYPE_CHECKING:`` imports would run in the service
        item = import_item(referents[0].node, node.value)
        if item is None:
            return None
        items.append(item)
    return tuple(items)


def _all_nodes(node: cst.CSTNode) -> list[cst.CSTNode]:
    every = _All()
    walk(node, every)
    return every.found


class _All(traversal.Visitor):
    def __init__(self) -> None:
        self.found: list[cst.CSTNode] = []

    def on_visit(self, inner: cst.CSTNode) -> bool:
        self.found.append(inner)
        return True


def _needs_async(function: cst.FunctionDef, statements: Sequence[cst.BaseStatement]) -> bool:
    if function.asynchronous is None:
        return False
    awaits = _Awaits()
    for statement in statements:
        walk(statement, awaits)
    return awaits.found


class _Awaits(traversal.Visitor):
    IGNORES_TRIVIA = True  # whitespace and punctuation hold no await, loop or scope

    def __init__(self) -> None:
        self.found = False

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
            return False
        if isinstance(node, cst.Await) or (isinstance(node, (cst.For, cst.With)) and node.asynchronous):
            self.found = True
        if isinstance(node, cst.CompFor) and node.asynchronous is not None:
            self.found = True
        return not self.found


def has_global_or_nonlocal(function: cst.FunctionDef) -> bool:
    declarations = _Declarations()
    walk(function.body, declarations)
    return declarations.found


class _Declarations(traversal.Visitor):
    def __init__(self) -> None:
        self.found = False

    def visit_Global(self, _: cst.Global) -> None:
        self.found = True

    def visit_Nonlocal(self, _: cst.Nonlocal) -> None:
        self.found = True
