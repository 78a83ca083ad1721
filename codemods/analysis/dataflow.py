"""Which local names a piece of a function reads before assigning, and which it assigns for sure.

Three questions about a function's local variables, answered on libcst statements without
metadata (route-commit asks them before moving statements into another function):

* :func:`effects` -- for a list of statements: the names some path reads before the statements
  assign them (``exposed``), the names some path assigns (``assigned``), and the names every
  path that completes normally assigns (``definite``);
* :func:`defined_before` -- the names certainly bound when a given statement starts running;
* :func:`live_after` -- the names the rest of the function may read as they are after a given
  statement (before reassigning them).

Every answer errs on one side: ``exposed`` and ``live_after`` may contain too many names,
``definite`` and ``defined_before`` too few (a loop may run zero times, a handler may run after
any statement of its ``try``).  Callers that pass values in only when they are certainly bound,
and hand back every value that may be read, are then exact or decline, never wrong.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Sequence

import libcst as cst

from codemods.analysis.nodes import node_types
from codemods.speedups.walk import children, children_but_trivia

_COMPREHENSIONS = (cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)
_LOOPS = (cst.For, cst.While)
_TRIES = (cst.Try, cst.TryStar)
# What the hot walks below ask of every node, as sets of classes (see nodes.node_types).
_NAMED_EXPRS = node_types(cst.NamedExpr)
_BOOLEAN_OPERATIONS = node_types(cst.BooleanOperation)
_IF_EXPS = node_types(cst.IfExp)
_WALRUS_BARRIERS = node_types(*_COMPREHENSIONS, cst.Lambda, cst.FunctionDef, cst.ClassDef, cst.BaseSuite)
_NAMES = node_types(cst.Name)
_VALUE_HOLDERS = node_types(cst.Attribute, cst.Arg)
_COMPREHENSION_TYPES = node_types(*_COMPREHENSIONS)
_FUNCTIONS = node_types(cst.Lambda, cst.FunctionDef)
_IMPORT_NAMES = node_types(cst.ImportAlias, cst.AsName)


@dataclasses.dataclass(frozen=True)
class Effects:
    """What running some statements does to the function's local names."""

    exposed: frozenset[str]  # read on some path before these statements assign them
    assigned: frozenset[str]  # assigned on some path
    definite: frozenset[str]  # assigned on every path that reaches the end


class _Unreachable(frozenset[str]):
    """The state after ``return``/``raise``/``break``/``continue``: no path reaches it, so it
    takes no part in the meet of the paths that join after a branch."""


_NOWHERE = _Unreachable()


def _meet(*states: frozenset[str]) -> frozenset[str]:
    reachable = [s for s in states if not isinstance(s, _Unreachable)]
    if not reachable:
        return _NOWHERE
    result = frozenset(reachable[0])
    for state in reachable[1:]:
        result &= state
    return result


def _plus(state: frozenset[str], names: Iterable[str]) -> frozenset[str]:
    return state if isinstance(state, _Unreachable) else state | frozenset(names)


def local_names(function: cst.FunctionDef) -> frozenset[str]:
    """The names ``function`` binds (parameters included): Python makes them local everywhere in it."""
    names = set(parameter_names(function.params))
    walker = _Walker(frozenset())
    walker.block(function.body, frozenset())
    return frozenset(names | walker.bound)


def parameter_names(params: cst.Parameters) -> list[str]:
    every = [*params.posonly_params, *params.params, *params.kwonly_params]
    if isinstance(params.star_arg, cst.Param):
        every.append(params.star_arg)
    if params.star_kwarg is not None:
        every.append(params.star_kwarg)
    return [p.name.value for p in every]


def effects(statements: Sequence[cst.BaseStatement], local: frozenset[str]) -> Effects:
    """The :class:`Effects` of running ``statements`` on the function's ``local`` names."""
    walker = _Walker(local)
    after = walker.statements(statements, frozenset())
    definite = frozenset(local) if isinstance(after, _Unreachable) else after
    return Effects(frozenset(walker.exposed), frozenset(walker.assigned), definite & local)


def defined_before(function: cst.FunctionDef, block: cst.BaseSuite, index: int, local: frozenset[str]) -> frozenset[str]:
    """The local names bound on every path from the start of ``function`` to ``block.body[index]``."""
    walker = _Walker(local)
    walker.probe = (block, index)
    walker.block(function.body, frozenset(parameter_names(function.params)))
    if walker.probed is None or isinstance(walker.probed, _Unreachable):
        return frozenset()
    return walker.probed


def live_after(
    function: cst.FunctionDef,
    block: cst.BaseSuite,
    end: int,
    local: frozenset[str],
    parent_of: dict[cst.CSTNode, cst.CSTNode] | None = None,
) -> frozenset[str]:
    """The local names that code running after ``block.body[end - 1]`` may read before assigning.

    The continuation is the rest of the block, then of each enclosing block up to the function;
    a loop on the way runs again (its whole statement counts), a ``try`` on the way may run its
    handlers, ``else`` and ``finally``.  Nested functions and lambdas anywhere in the function
    may run later: every local name they read counts.  ``parent_of``: the parents of the nodes
    of ``function``, or of a tree holding it (its module's, computed once), else computed here.
    """
    parents = parent_of if parent_of is not None else _parents(function)
    live: set[str] = set(_closure_reads(function, local))
    killed: frozenset[str] = frozenset()
    suite: cst.CSTNode = block
    rest: Sequence[cst.BaseStatement] = list(block.body[end:])
    while True:
        found = effects(rest, local)
        live |= found.exposed - killed
        killed = killed | found.definite
        statement, suite, rest, again = _enclosing(suite, parents, function)
        if statement is None:
            return frozenset(live)
        if again is not None:
            live |= effects([again], local).exposed - killed


def _enclosing(
    suite: cst.CSTNode, parents: dict[cst.CSTNode, cst.CSTNode], function: cst.FunctionDef
) -> tuple[cst.CSTNode | None, cst.CSTNode, Sequence[cst.BaseStatement], cst.BaseStatement | None]:
    """The compound statement around ``suite``, the block holding it, the statements after it in
    that block, and a loop or ``try`` passed on the way whose other parts may run next."""
    again: cst.BaseStatement | None = None
    child, node = suite, parents.get(suite)
    while node is not None and node is not function:
        if (isinstance(node, _LOOPS) and child is node.body) or (isinstance(node, _TRIES) and again is None):
            again = node  # a loop's body runs again; a try's handlers, else and finally may run
        parent = parents.get(node)
        if isinstance(parent, cst.IndentedBlock) and isinstance(node, cst.BaseStatement):
            index = next(i for i, s in enumerate(parent.body) if s is node)
            return node, parent, list(parent.body[index + 1 :]), again
        child, node = node, parent
    return None, suite, [], again


def _parents(root: cst.CSTNode) -> dict[cst.CSTNode, cst.CSTNode]:
    parents: dict[cst.CSTNode, cst.CSTNode] = {}
    pending = [root]
    while pending:
        node = pending.pop()
        for child in children(node):
            parents[child] = node
            pending.append(child)
    return parents


def _closure_reads(function: cst.FunctionDef, local: frozenset[str]) -> set[str]:
    """Local names that nested functions and lambdas of ``function`` read (they may run at any time)."""
    found: set[str] = set()
    pending: list[cst.CSTNode] = [function.body]
    while pending:
        node = pending.pop()
        if isinstance(node, (cst.FunctionDef, cst.Lambda)):
            walker = _Walker(local)
            walker.nested_function(node, frozenset())
            found |= walker.exposed
            continue
        pending.extend(children_but_trivia(node))
    return found


class _Walker:
    """Walks statements in execution order, keeping the names certainly bound so far."""

    def __init__(self, local: frozenset[str]) -> None:
        self.local = local
        self.exposed: set[str] = set()
        self.assigned: set[str] = set()
        self.probe: tuple[cst.CSTNode, int] | None = None
        self.probed: frozenset[str] | None = None
        self.bound: set[str] = set()  # every name bound, local or not (for local_names)
        self._walruses = 0  # ``:=`` targets seen by read()

    # -- statements ---------------------------------------------------------------------------

    def block(self, suite: cst.BaseSuite, state: frozenset[str]) -> frozenset[str]:
        body = suite.body
        if isinstance(suite, cst.SimpleStatementSuite):
            return self.smalls(body, state)  # type: ignore[arg-type]
        return self.statements(body, state, suite)  # type: ignore[arg-type]

    def statements(
        self, body: Sequence[cst.BaseStatement], state: frozenset[str], suite: cst.CSTNode | None = None
    ) -> frozenset[str]:
        for index, statement in enumerate(body):
            self._probe(suite, index, state)
            state = self.statement(statement, state)
        self._probe(suite, len(body), state)
        return state

    def _probe(self, suite: cst.CSTNode | None, index: int, state: frozenset[str]) -> None:
        if self.probe is not None and suite is self.probe[0] and index == self.probe[1]:
            self.probed = state if self.probed is None else _meet(self.probed, state)

    def statement(self, node: cst.BaseStatement, state: frozenset[str]) -> frozenset[str]:
        if isinstance(node, cst.SimpleStatementLine):
            return self.smalls(node.body, state)
        handler = getattr(self, f"_{type(node).__name__}", None)
        if handler is None:  # a statement kind this walker does not know: read everything it names
            self.read(node, state)
            return state
        return handler(node, state)

    def _If(self, node: cst.If, state: frozenset[str]) -> frozenset[str]:
        state = self.read(node.test, state)
        body = self.block(node.body, state)
        if node.orelse is None:
            return _meet(body, state)
        if isinstance(node.orelse, cst.If):
            return _meet(body, self._If(node.orelse, state))
        return _meet(body, self.block(node.orelse.body, state))

    def _For(self, node: cst.For, state: frozenset[str]) -> frozenset[str]:
        state = self.read(node.iter, state)
        # Every iteration starts from the state before the loop: a later iteration only has more
        # names bound, so it can expose no read that the first does not.
        inner = self.bind_target(node.target, state)
        self.block(node.body, inner)
        if node.orelse is not None:
            self.block(node.orelse.body, state)
        return state  # the loop may run zero times, or leave by ``break``

    def _While(self, node: cst.While, state: frozenset[str]) -> frozenset[str]:
        state = self.read(node.test, state)
        self.block(node.body, state)
        if node.orelse is not None:
            self.block(node.orelse.body, state)
        return state

    def _Try(self, node: cst.Try | cst.TryStar, state: frozenset[str]) -> frozenset[str]:
        body = self.block(node.body, state)
        ends = [self.block(node.orelse.body, body) if node.orelse is not None else body]
        for handler in node.handlers:
            # a handler may start after any statement of the body: only the names bound before it
            if handler.type is not None:
                self.read(handler.type, state)
            if handler.name is None:
                ends.append(self.block(handler.body, state))
                continue
            # ``except E as e`` unbinds ``e`` when the handler ends
            caught = _target_names(handler.name.name)
            end = self.block(handler.body, self.bind(caught, state))
            ends.append(end if isinstance(end, _Unreachable) else end - frozenset(caught))
        normal = _meet(*ends)
        if node.finalbody is None:
            return normal
        self.block(node.finalbody.body, state)  # also after an exception: only what was bound before
        return self.block(node.finalbody.body, normal) if not isinstance(normal, _Unreachable) else normal

    _TryStar = _Try

    def _With(self, node: cst.With, state: frozenset[str]) -> frozenset[str]:
        for item in node.items:
            state = self.read(item.item, state)
            if item.asname is not None:
                state = self.bind_target(item.asname.name, state)
        # a context manager may suppress an exception: names of the body are not certain after it
        body = self.block(node.body, state)
        return _meet(body, state) if not isinstance(body, _Unreachable) else state

    def _Match(self, node: cst.Match, state: frozenset[str]) -> frozenset[str]:
        state = self.read(node.subject, state)
        for case in node.cases:
            captured = _pattern_captures(case.pattern)
            self.read_pattern_values(case.pattern, state)
            inner = self.bind(captured, state)
            if case.guard is not None:
                self.read(case.guard, inner)
            self.block(case.body, inner)
        return state  # no case may match

    def _FunctionDef(self, node: cst.FunctionDef, state: frozenset[str]) -> frozenset[str]:
        for decorator in node.decorators:
            self.read(decorator.decorator, state)
        self.nested_function(node, state)
        return self.bind([node.name.value], state)

    def _ClassDef(self, node: cst.ClassDef, state: frozenset[str]) -> frozenset[str]:
        for decorator in node.decorators:
            self.read(decorator.decorator, state)
        for arg in (*node.bases, *node.keywords):
            self.read(arg.value, state)
        # the class body runs now; its own assignments are class attributes, not locals
        self.read(node.body, state)
        return self.bind([node.name.value], state)

    def nested_function(self, node: cst.FunctionDef | cst.Lambda, state: frozenset[str]) -> None:
        """Defaults run now; the body may run at any later time, so every read of it counts."""
        params = node.params
        for param in (*params.posonly_params, *params.params, *params.kwonly_params):
            if param.default is not None:
                self.read(param.default, state)
        inner = local_names(node) if isinstance(node, cst.FunctionDef) else frozenset(parameter_names(params))
        for name in _reads(node.body, inner):
            if name in self.local and name not in state:
                self.exposed.add(name)

    # -- small statements ---------------------------------------------------------------------

    def smalls(self, body: Sequence[cst.BaseSmallStatement], state: frozenset[str]) -> frozenset[str]:
        for small in body:
            state = self.small(small, state)
        return state

    def small(self, node: cst.BaseSmallStatement, state: frozenset[str]) -> frozenset[str]:
        handler = getattr(self, f"_{type(node).__name__}", None)
        if handler is not None:
            return handler(node, state)
        state = self.read(node, state)
        if isinstance(node, (cst.Return, cst.Raise, cst.Break, cst.Continue)):
            return _NOWHERE
        return state

    def _Assign(self, node: cst.Assign, state: frozenset[str]) -> frozenset[str]:
        state = self.read(node.value, state)
        for target in node.targets:
            self.read_target(target.target, state)
        for target in node.targets:
            state = self.bind_target(target.target, state)
        return state

    def _AnnAssign(self, node: cst.AnnAssign, state: frozenset[str]) -> frozenset[str]:
        if node.value is None:
            self.bound.update(_target_names(node.target))  # ``x: int`` makes x local, binds nothing
            return state
        state = self.read(node.value, state)
        self.read_target(node.target, state)
        return self.bind_target(node.target, state)

    def _AugAssign(self, node: cst.AugAssign, state: frozenset[str]) -> frozenset[str]:
        self.read(node.target, state)
        state = self.read(node.value, state)
        return self.bind_target(node.target, state)

    def _Import(self, node: cst.Import | cst.ImportFrom, state: frozenset[str]) -> frozenset[str]:
        if isinstance(node.names, cst.ImportStar):
            return state
        return self.bind([a.evaluated_alias or a.evaluated_name.split(".")[0] for a in node.names], state)

    _ImportFrom = _Import

    def _Del(self, node: cst.Del, state: frozenset[str]) -> frozenset[str]:
        self.read(node.target, state)
        names = _target_names(node.target)
        self.assigned.update(n for n in names if n in self.local)
        return state if isinstance(state, _Unreachable) else state - frozenset(names)

    # -- expressions --------------------------------------------------------------------------

    def read(self, node: cst.CSTNode, state: frozenset[str]) -> frozenset[str]:
        """Record the reads of ``node``; the state after it (``:=`` targets that always run)."""
        walruses = self._walruses
        for name in _reads(node, frozenset(), self._walrus):
            if name in self.local and name not in state:
                self.exposed.add(name)
        if walruses == self._walruses:
            return state  # _reads reports every ``:=`` that _certain_walrus could find: none here
        return self.bind(_certain_walrus(node), state)

    def _walrus(self, name: str) -> None:
        self._walruses += 1
        self.bound.add(name)
        if name in self.local:
            self.assigned.add(name)

    def read_target(self, target: cst.BaseExpression, state: frozenset[str]) -> None:
        """``x.a = v`` and ``x[i] = v`` read ``x`` (and ``i``); a plain name is only written."""
        for part in _target_parts(target):
            if not isinstance(part, cst.Name):
                self.read(part, state)

    def read_pattern_values(self, pattern: cst.MatchPattern, state: frozenset[str]) -> None:
        for node in _walk(pattern):
            if isinstance(node, cst.MatchValue):
                self.read(node.value, state)
            elif isinstance(node, cst.MatchClass):
                self.read(node.cls, state)

    def bind_target(self, target: cst.BaseExpression, state: frozenset[str]) -> frozenset[str]:
        return self.bind(_target_names(target), state)

    def bind(self, names: Iterable[str], state: frozenset[str]) -> frozenset[str]:
        names = list(names)
        self.bound.update(names)
        mine = [n for n in names if n in self.local]
        self.assigned.update(mine)
        return _plus(state, mine)


def _target_parts(target: cst.BaseExpression) -> Iterator[cst.BaseExpression]:
    if isinstance(target, (cst.Tuple, cst.List)):
        for element in target.elements:
            yield from _target_parts(element.value)
    elif isinstance(target, cst.StarredElement):
        yield from _target_parts(target.value)
    else:
        yield target


def _target_names(target: cst.BaseExpression) -> list[str]:
    return [p.value for p in _target_parts(target) if isinstance(p, cst.Name)]


def _pattern_captures(pattern: cst.MatchPattern) -> list[str]:
    names = []
    for node in _walk(pattern):
        if isinstance(node, (cst.MatchAs, cst.MatchStar)) and node.name is not None:
            names.append(node.name.value)
        elif isinstance(node, cst.MatchMapping) and node.rest is not None:
            names.append(node.rest.value)
    return names


def _certain_walrus(node: cst.CSTNode) -> list[str]:
    """Targets of ``:=`` in ``node`` that bind whenever ``node`` is evaluated to the end (not on
    the right of ``and``/``or``, in a branch of ``x if c else y``, or in a comprehension or lambda)."""
    names: list[str] = []
    pending = [node]
    while pending:
        current = pending.pop()
        kind = type(current)
        if kind in _NAMED_EXPRS:
            names.extend(_target_names(current.target))
            pending.append(current.value)
        elif kind in _BOOLEAN_OPERATIONS:
            pending.append(current.left)
        elif kind in _IF_EXPS:
            pending.append(current.test)
        elif kind in _WALRUS_BARRIERS:
            continue
        else:
            pending.extend(children_but_trivia(current))
    return names


def _walk(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    pending = [node]
    while pending:
        current = pending.pop()
        yield current
        pending.extend(reversed(children(current)))


def _reads(node: cst.CSTNode, bound: frozenset[str], on_walrus: object = None) -> Iterator[str]:
    """The variable names ``node`` reads, in source order, except those ``bound`` inside it.

    Attribute names and keyword names are not variables; comprehensions, lambdas and nested
    functions bind their own names; the target of ``:=`` is reported to ``on_walrus`` instead.
    """
    kind = type(node)
    if kind in _NAMES:
        if node.value not in bound:
            yield node.value
    elif kind in _VALUE_HOLDERS:
        yield from _reads(node.value, bound, on_walrus)
    elif kind in _NAMED_EXPRS:
        yield from _reads(node.value, bound, on_walrus)
        if callable(on_walrus):
            for name in _target_names(node.target):
                on_walrus(name)
    elif kind in _COMPREHENSION_TYPES:
        yield from _comprehension_reads(node, bound, on_walrus)
    elif kind in _FUNCTIONS:
        yield from _function_reads(node, bound, on_walrus)
    elif kind not in _IMPORT_NAMES:
        for child in children_but_trivia(node):
            yield from _reads(child, bound, on_walrus)


def _function_reads(node: cst.Lambda | cst.FunctionDef, bound: frozenset[str], on_walrus: object) -> Iterator[str]:
    if isinstance(node, cst.FunctionDef):
        yield from _reads(node.body, bound | local_names(node), on_walrus)
        return
    for param in (*node.params.posonly_params, *node.params.params, *node.params.kwonly_params):
        if param.default is not None:
            yield from _reads(param.default, bound, on_walrus)
    yield from _reads(node.body, bound | frozenset(parameter_names(node.params)), on_walrus)


def _comprehension_reads(
    node: cst.ListComp | cst.SetComp | cst.DictComp | cst.GeneratorExp, bound: frozenset[str], on_walrus: object
) -> Iterator[str]:
    inner = bound
    generator: cst.CompFor | None = node.for_in
    first = True
    while generator is not None:
        # the first iterable runs in the enclosing scope; the rest see the comprehension's names
        yield from _reads(generator.iter, bound if first else inner, on_walrus)
        first = False
        inner = inner | frozenset(_target_names(generator.target))
        for condition in generator.ifs:
            yield from _reads(condition.test, inner, on_walrus)
        generator = generator.inner_for_in
    if isinstance(node, cst.DictComp):
        yield from _reads(node.key, inner, on_walrus)
        yield from _reads(node.value, inner, on_walrus)
    else:
        yield from _reads(node.elt, inner, on_walrus)
