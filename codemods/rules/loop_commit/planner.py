"""loop-commit's planner: which commit in a loop can move after which loop, and why not."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterator, Sequence

import libcst as cst

from codemods.analysis.loggers import LOG_RECEIVERS
from codemods.analysis.nodes import dotted_name
from codemods.analysis.sessions import (
    SessionCall,
    SessionMatcher,
    SessionScope,
    bindings,
    method_calls,
)
from codemods.rules.loop_commit import hazards
from codemods.rules.loop_commit.hazards import walk as _walk

Loop = cst.For | cst.While

# Session methods that end, restart or nest the transaction: batching would change what they do.
_TRANSACTION_METHODS = ("rollback", "close", "begin", "begin_nested", "invalidate", "reset")
# Methods that isolate each item, on a session or on the transaction objects it hands out.
_ISOLATION_METHODS = ("rollback", "begin_nested")
# Session methods that reload or detach state the per-iteration commit would have refreshed.
_STATE_METHODS = ("refresh", "expire", "expire_all", "expunge", "expunge_all")
# Session methods that read the database (merge and get look rows up by primary key).
_READ_METHODS = (
    "query", "execute", "get", "get_one", "scalar", "scalars", "scalar_one", "merge", "stream", "stream_scalars",
)  # fmt: skip
# ``session.execute(insert(...))`` writes; any other execute may read.
_WRITE_STATEMENTS = ("insert", "update", "delete")
_ADD_METHODS = ("add", "add_all", "merge")
# Calls that only record something in a local container, a counter or a log.
_CONTAINER_METHODS = ("append", "add", "extend", "insert", "appendleft", "update", "setdefault", "discard")
_LOG_METHODS = ("debug", "info", "warning", "warn", "error", "exception", "critical", "log")
_PURE_BUILTINS = ("len", "str", "int", "float", "bool", "abs", "round", "min", "max", "repr")



# -- planning: which commit moves where ------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Tail:
    """A commit that ends a loop body: in it, or right after an inner loop it already left."""

    statement: cst.Expr  # the original commit statement
    line: cst.SimpleStatementLine | cst.SimpleStatementSuite  # the original line holding it
    call: SessionCall
    levels: int  # loops it has already left


@dataclasses.dataclass(frozen=True)
class Move:
    tail: _Tail
    target: Loop  # the outermost loop the commit goes after
    levels: int


class _Scope:
    """The module or a function: its sessions and the objects it adds, computed on first use.

    Most loops never commit, so most functions never need either.
    """

    def __init__(self, matcher: SessionMatcher, node: cst.Module | cst.FunctionDef, outer: _Scope | None) -> None:
        self.matcher = matcher
        self.node = node
        self.outer = outer

    @functools.cached_property
    def sessions(self) -> SessionScope:
        return self.matcher.scope_sessions(self.node, self.outer.sessions if self.outer else None)

    @functools.cached_property
    def added(self) -> frozenset[str]:
        body = self.node if isinstance(self.node, cst.Module) else self.node.body
        return frozenset(_added_names(self.matcher, body, self.sessions))


def _added_names(matcher: SessionMatcher, body: cst.CSTNode, scope: SessionScope) -> set[str]:
    """Names of the objects ``body`` passes to ``session.add`` / ``add_all`` / ``merge``."""
    names: set[str] = set()
    for call in matcher.session_calls(body, scope, _ADD_METHODS):
        for arg in call.call.args:
            value = arg.value
            values = [e.value for e in value.elements] if isinstance(value, (cst.List, cst.Tuple)) else [value]
            names |= {v.value for v in values if isinstance(v, cst.Name)}
    return names


def _looks_like_commit(node: cst.CSTNode) -> bool:
    """``X.commit()`` or ``await X.commit()`` as a statement, whatever X is.

    A session's commit takes no arguments; ``X.commit("message")`` is a version-control commit.
    """
    value = node.value if isinstance(node, cst.Expr) else node
    if isinstance(value, cst.Await):
        value = value.expression
    return (
        isinstance(value, cst.Call)
        and not value.args
        and isinstance(value.func, cst.Attribute)
        and value.func.attr.value == "commit"
    )


@dataclasses.dataclass(frozen=True)
class _Unit:
    """One statement of a loop body: a small statement (with its line) or a compound statement."""

    node: cst.CSTNode
    line: cst.SimpleStatementLine | cst.SimpleStatementSuite | None


class Planner:
    """Walks the statements of the original tree once and decides where every commit in a loop goes.

    Only statements are walked (expressions are looked at on demand), by hand rather than with a
    libcst visitor: on a large module this walk is the codemod's main cost.
    """

    def __init__(
        self,
        matcher: SessionMatcher,
        *,
        flush: bool,
        line_of: Callable[[cst.CSTNode], str],
        line_number: Callable[[cst.CSTNode], int],
        effect_calls: Sequence[str] = tuple(hazards.DEFAULT_EFFECT_CALLS),
        chunk_words: Sequence[str] = tuple(hazards.DEFAULT_CHUNK_WORDS),
    ) -> None:
        self.matcher = matcher
        self.flush = flush
        self.effect_calls = tuple(effect_calls)
        self.chunk_words = frozenset(w.lower() for w in chunk_words)
        self.line_of = line_of  # a node's line for a message (Codemod.line_mark)
        self.line_number = line_number  # a node's line as a number, to compare lines
        self.declines: list[tuple[cst.CSTNode, str]] = []
        self._scopes: list[_Scope] = []
        self._frame: list[cst.CSTNode] = []  # the compound statements around the current one, in its function
        self._exits: dict[int, tuple[Loop, _Tail]] = {}  # id(loop) -> the commit that now follows it
        self._handled: set[int] = set()  # commits whose fate is decided (moved or declined with a reason)
        self._in_loops: list[tuple[cst.Expr, list[cst.CSTNode], _Scope]] = []

    def plan(self, module: cst.Module) -> None:
        self._scopes.append(_Scope(self.matcher, module, None))
        self._statements(module.body)
        for statement, enclosing, scope in self._in_loops:
            if id(statement) not in self._handled:
                self._decline(statement, self._nested_reason(statement, enclosing, scope))

    def moves(self) -> list[Move]:
        return [Move(tail, loop, tail.levels) for loop, tail in self._exits.values()]

    @property
    def scope(self) -> SessionScope:
        return self._scopes[-1].sessions

    # -- the walk -----------------------------------------------------------------------------

    def _statements(self, statements: Sequence[cst.BaseStatement | cst.BaseSmallStatement]) -> None:
        for statement in statements:
            if isinstance(statement, cst.SimpleStatementLine):
                self._statements(statement.body)
            elif isinstance(statement, cst.Expr):
                self._expression_statement(statement)
            elif isinstance(statement, cst.FunctionDef):
                self._function(statement)
            elif isinstance(statement, cst.ClassDef):
                outer, self._frame = self._frame, []
                self._suite(statement.body)
                self._frame = outer
            elif isinstance(statement, cst.BaseCompoundStatement):
                self._compound(statement)

    def _suite(self, suite: cst.BaseSuite) -> None:
        self._statements(suite.body)

    def _function(self, function: cst.FunctionDef) -> None:
        outer, self._frame = self._frame, []
        self._scopes.append(_Scope(self.matcher, function, self._scopes[-1]))
        self._suite(function.body)
        self._scopes.pop()
        self._frame = outer

    def _compound(self, statement: cst.BaseCompoundStatement) -> None:
        self._frame.append(statement)
        if isinstance(statement, cst.Match):
            for case in statement.cases:
                self._suite(case.body)
        else:
            self._suite(statement.body)
        if isinstance(statement, (cst.Try, cst.TryStar)):
            for handler in statement.handlers:
                self._suite(handler.body)
        orelse = getattr(statement, "orelse", None)
        if isinstance(orelse, cst.If):  # elif
            self._compound(orelse)
        elif isinstance(orelse, cst.Else):
            self._else(statement, orelse)
        finalbody = getattr(statement, "finalbody", None)
        if finalbody is not None:
            self._suite(finalbody.body)
        self._frame.pop()
        if isinstance(statement, (cst.For, cst.While)):
            self._plan_loop(statement)

    def _else(self, statement: cst.BaseCompoundStatement, orelse: cst.Else) -> None:
        """A loop's ``else:`` runs once, not per iteration: the frame records that."""
        is_loop = isinstance(statement, (cst.For, cst.While))
        if is_loop:
            self._frame.append(orelse)
        self._suite(orelse.body)
        if is_loop:
            self._frame.pop()

    def _expression_statement(self, node: cst.Expr) -> None:
        if _innermost_loop(self._frame) is not None and self._commit(node) is not None:
            self._in_loops.append((node, list(self._frame), self._scopes[-1]))

    # -- the decision -------------------------------------------------------------------------

    def _commit(self, node: cst.CSTNode, scope: SessionScope | None = None) -> SessionCall | None:
        if not _looks_like_commit(node):  # the common case, decided without the scope's sessions
            return None
        return self.matcher.session_call(node, scope or self.scope, ("commit",))

    def _plan_loop(self, loop: Loop) -> None:
        units = list(_units(loop.body))
        tail_index, tail = self._find_tail(units)
        if tail is None:
            self._decline_direct_commits(loop, units)
            return
        self._handled.add(id(tail.statement))
        reason = self._unsafe(loop, tail, units, tail_index)
        if reason is not None:
            self._decline(tail.statement, self._decline_message(tail, loop, reason))
            # One finding per loop: its other direct commits are covered by this reason.
            self._handled.update(id(u.node) for u in units if isinstance(u.node, cst.Expr) and self._commit(u.node))
            return
        for inner_id, (_, inner_tail) in list(self._exits.items()):
            if inner_tail.statement is tail.statement:
                del self._exits[inner_id]
        self._exits[id(loop)] = (loop, dataclasses.replace(tail, levels=tail.levels + 1))

    def _find_tail(self, units: list[_Unit]) -> tuple[int, _Tail | None]:
        """The commit the body ends with, skipping the bookkeeping statements after it."""
        for index in range(len(units) - 1, -1, -1):
            unit = units[index]
            if isinstance(unit.node, cst.Expr) and unit.line is not None:
                call = self._commit(unit.node)
                if call is not None:
                    return index, _Tail(unit.node, unit.line, call, 0)
            if isinstance(unit.node, (cst.For, cst.While)) and id(unit.node) in self._exits:
                return index, self._exits[id(unit.node)][1]
            if not self._bookkeeping()(unit.node):
                return index, None
        return -1, None

    def _decline_direct_commits(self, loop: Loop, units: list[_Unit]) -> None:
        """Commits followed by work: the loop's own hazard, if it has one, is the better reason."""
        hazard = hazards.unbounded_reason(loop, self.line_of) or self._effects(loop)
        for index, unit in enumerate(units):
            if hazard is not None and isinstance(unit.node, cst.Expr) and self._commit(unit.node) is not None:
                self._handled.add(id(unit.node))
                self._decline(unit.node, f"not batched, {hazard}")
                continue
            if isinstance(unit.node, cst.Expr) and self._commit(unit.node) is not None:
                after = next(u for u in units[index + 1 :] if not self._bookkeeping()(u.node))
                self._handled.add(id(unit.node))
                self._decline(unit.node, f"not batched, {_describe(after.node)} at line "
                              f"{self.line_of(after.node)} runs after the commit in every iteration")  # fmt: skip

    def _decline_message(self, tail: _Tail, loop: Loop, reason: str) -> str:
        if tail.levels == 0:
            return f"not batched, {reason}"
        return f"kept after the inner loop, not moved out of the loop at line {self.line_of(loop)}: {reason}"

    def _bookkeeping(self, objects: frozenset[str] = frozenset()) -> _Bookkeeping:
        return _Bookkeeping(self.matcher, self._scopes[-1], objects, flushed=self.flush)

    def _decline(self, node: cst.CSTNode, message: str) -> None:
        self.declines.append((node, message))

    # -- the safety rules ---------------------------------------------------------------------

    def _unsafe(self, loop: Loop, tail: _Tail, units: list[_Unit], tail_index: int) -> str | None:
        """Why moving ``tail`` out of ``loop`` could change what gets committed, or None."""
        body = loop.body
        for check in (
            lambda: hazards.unbounded_reason(loop, self.line_of),
            lambda: self._effects(loop),
            lambda: self._early_exit(body),
            lambda: self._else_exit(loop),
            lambda: self._transaction_calls(loop, tail),
            lambda: self._rebinding(loop, tail),
            lambda: self._only_commits(units, tail_index),
            lambda: None if self.flush else self._reads(loop),
            lambda: None if self.flush else self._carried_objects(loop, units, tail_index),
            lambda: self._stale_collections(loop),
            lambda: self._after_commit(units, tail_index, loop),
            lambda: hazards.chunk_reason(
                loop, self.chunk_words, self._is_session, self.line_of, by_name=tail.levels == 0
            ),
        ):
            reason = check()
            if reason is not None:
                return reason
        return None

    def _is_session(self, expr: cst.BaseExpression) -> bool:
        return self.matcher.is_session(expr, self.scope)

    def _effects(self, loop: Loop) -> str | None:
        parts: list[cst.CSTNode] = [loop.body, loop.test] if isinstance(loop, cst.While) else [loop.body]
        for part in parts:
            reason = hazards.effect_reason(part, self.effect_calls, self._is_session, self.line_of)
            if reason is not None:
                return reason
        return None

    def _early_exit(self, body: cst.CSTNode) -> str | None:
        for node in _walk(body):
            if isinstance(node, cst.Return):
                return f"return at line {self.line_of(node)} would skip the commit after the loop"
            if isinstance(node, cst.Raise):
                return f"raise at line {self.line_of(node)} would skip the commit after the loop"
            if isinstance(node, cst.Yield):
                return f"yield at line {self.line_of(node)}: the generator may never resume to commit"
        return None

    def _else_exit(self, loop: Loop) -> str | None:
        """The else clause runs right before the moved commit: it must not jump past it."""
        if loop.orelse is None:
            return None
        jumps = [n for n in _walk(loop.orelse.body) if isinstance(n, (cst.Return, cst.Raise, cst.Yield))]
        # break / continue of an enclosing loop (not of a loop inside the else clause)
        jumps += [n for n in _walk(loop.orelse.body, skip_loops=True) if isinstance(n, (cst.Break, cst.Continue))]
        if not jumps:
            return None
        first = min(jumps, key=self.line_number)
        return f"{_describe(first)} in the else clause at line {self.line_of(first)} would skip the commit"

    def _transaction_calls(self, loop: Loop, tail: _Tail) -> str | None:
        parts: list[cst.CSTNode] = [loop.body]
        if isinstance(loop, cst.While):
            parts.append(loop.test)
        for part in parts:
            # A rollback or savepoint on anything (``savepoint.rollback()``) is per-item isolation.
            for call in method_calls(part, _ISOLATION_METHODS):
                where = self.line_of(call.call)
                if call.method == "rollback":
                    return f"per-item rollback at line {where}"
                return f"{call.session_name or 'a'}.{call.method}() at line {where}"
            for call in self.matcher.session_calls(part, self.scope):
                where = self.line_of(call.call)
                if call.method in _TRANSACTION_METHODS:
                    return f"{call.session_name}.{call.method}() at line {where}"
                if call.method in _STATE_METHODS and not self.flush:
                    return (
                        f"{call.session_name}.{call.method}() at line {where} relies on the per-item commit "
                        '(mode = "flush" keeps the rows current)'
                    )
                if call.method == "commit" and call.call is not tail.call.call:
                    return f"another commit at line {where}"
        return None

    def _rebinding(self, loop: Loop, tail: _Tail) -> str | None:
        name = tail.call.session_name
        prefixes = {".".join(name.split(".")[: i + 1]) for i in range(name.count(".") + 1)}
        bound = bindings(loop.body)
        if isinstance(loop, cst.For):
            bound += [(n, loop.target) for n in _target_names(loop.target)]
        for bound_name, where in bound:
            if bound_name in prefixes:
                return f"{bound_name} is rebound in the loop at line {self.line_of(where)} (a session per iteration)"
        return None

    def _only_commits(self, units: list[_Unit], tail_index: int) -> str | None:
        direct = units[tail_index].line is not None  # a commit of this body, not one after an inner loop
        if direct and all(self._bookkeeping()(u.node) for u in units[:tail_index]):
            return "the loop body does nothing but commit"
        return None

    def _reads(self, loop: Loop) -> str | None:
        parts: list[cst.CSTNode] = [loop.body]
        if isinstance(loop, cst.While):
            parts.append(loop.test)
        for part in parts:
            for call in self.matcher.session_calls(part, self.scope, _READ_METHODS):
                if call.method == "execute" and _is_write_statement(call.call):
                    continue
                return _read_reason(f"{call.session_name}.{call.method}()", self.line_of(call.call))
            for node in _walk(part):
                if isinstance(node, cst.Attribute) and node.attr.value == "query" and _is_model_name(node.value):
                    return _read_reason(f"{dotted_name(node)}", self.line_of(node))
        return None

    def _carried_objects(self, loop: Loop, units: list[_Unit], tail_index: int) -> str | None:
        """An object added to the session and used after a commit point needs a flush (e.g. its id).

        The original commits at the end of every iteration, so an object added in one iteration
        (or before the loop) has its database-generated values in the next.  Reads of such an
        object are fine only after the statement of this iteration that creates it.  The unit
        holding the commit (an inner loop it already left) was checked at that loop's level.
        """
        added = self._scopes[-1].added | _added_names(self.matcher, loop.body, self.scope)
        if not added:
            return None
        aliases, containers = _carriers(loop.body, added)
        containers = {c for c in containers if not self.matcher.is_session(cst.Name(c), self.scope)}
        parts: list[cst.CSTNode] = [loop.body, loop.test] if isinstance(loop, cst.While) else [loop.body]
        for node in (n for part in parts for n in _walk(part)):
            name = _read_name(node)
            carried = name is not None and (name in aliases or name in containers)
            if carried and not _is_subscript_target(node, loop.body):
                return _carry_reason(name, self.line_of(node))
        if isinstance(loop, cst.While):
            for node in _walk(loop.test):
                if _attribute_owner(node) in added:
                    return _carry_reason(_attribute_owner(node) or "", self.line_of(node))
        bound = set(_target_names(loop.target)) if isinstance(loop, cst.For) else set()
        for unit in units[:tail_index]:
            stores = _stored_attributes(unit.node)
            for node in _walk(unit.node):
                owner = _attribute_owner(node)
                if owner in added and owner not in bound and id(node) not in stores:
                    return _carry_reason(owner, self.line_of(node))
            bound |= _top_level_assigned(unit.node)
        return None

    def _stale_collections(self, loop: Loop) -> str | None:
        """A collection of an object that outlives the iteration (``len(job.applications)``).

        The per-iteration commit expires every object, so the next iteration reloads the
        collection with the rows just committed; without it (and a flush does not expire) the
        collection loaded in the first iteration is read again, without them.
        """
        fresh = {name for name, _ in bindings(loop.body)} | {"self", "cls"}
        if isinstance(loop, cst.For):
            fresh |= set(_target_names(loop.target))
        parts: list[cst.CSTNode] = [loop.body, loop.test] if isinstance(loop, cst.While) else [loop.body]
        for node in (n for part in parts for n in _walk(part)):
            collection = _collection_read(node)
            if collection is not None and _attribute_owner(collection) not in fresh:
                return (
                    f"{dotted_name(collection)} at line {self.line_of(node)} would no longer be reloaded "
                    "after each commit"
                )
        return None

    def _after_commit(self, units: list[_Unit], tail_index: int, loop: Loop) -> str | None:
        added = self._scopes[-1].added | _added_names(self.matcher, loop.body, self.scope)
        for unit in units[tail_index + 1 :]:
            if not self._bookkeeping(added)(unit.node):
                return (
                    f"{_describe(unit.node)} at line {self.line_of(unit.node)} runs after the commit in every iteration"
                )
        return None

    def _nested_reason(self, statement: cst.Expr, enclosing: list[cst.CSTNode], lazy_scope: _Scope) -> str:
        """Why a commit inside an ``if``/``try``/``with`` of a loop body is not moved."""
        scope = lazy_scope.sessions
        index = _innermost_loop(enclosing)
        assert index is not None
        loop = enclosing[index]
        assert isinstance(loop, (cst.For, cst.While))
        for call in method_calls(loop.body, ("rollback",)):
            return f"not batched, per-item rollback at line {self.line_of(call.call)}"
        inner = enclosing[index + 1] if index + 1 < len(enclosing) else None
        if isinstance(inner, (cst.For, cst.While)):  # in the else clause of an inner loop
            return f"not batched, the commit is in the else clause of the loop at line {self.line_of(inner)}"
        if isinstance(inner, (cst.If, cst.Match)):
            return "not batched, the commit is conditional"
        if isinstance(inner, cst.With):
            call = self._commit(statement, scope)
            if call is not None and any(_binds(item, call.session_name) for item in inner.items):
                return f"not batched, a new session per iteration (with at line {self.line_of(inner)})"
            return "not batched, the commit is inside a with block"
        if isinstance(inner, (cst.Try, cst.TryStar)):
            return "not batched, the commit is inside a try statement"
        return "not batched, the commit is not the last statement of the loop"


def _innermost_loop(frame: list[cst.CSTNode]) -> int | None:
    """The index of the innermost loop whose body (not its else clause) holds the statement."""
    for index in range(len(frame) - 1, -1, -1):
        node = frame[index]
        in_else = index + 1 < len(frame) and isinstance(frame[index + 1], cst.Else)
        if isinstance(node, (cst.For, cst.While)) and not in_else:
            return index
    return None


def _binds(item: cst.WithItem, name: str) -> bool:
    return item.asname is not None and dotted_name(item.asname.name) == name  # type: ignore[arg-type]


def _read_reason(what: str, line: str) -> str:
    return (
        f"{what} at line {line} reads the database: without autoflush it would miss earlier "
        f'iterations\' rows (mode = "flush" keeps them visible)'
    )


def _carry_reason(name: str, line: str) -> str:
    return (
        f"{name} at line {line} uses an object added in an earlier iteration, which has no "
        f'database-generated values without a flush (mode = "flush" keeps them)'
    )


# -- small syntax helpers --------------------------------------------------------------------


def _units(body: cst.BaseSuite) -> Iterator[_Unit]:
    if isinstance(body, cst.SimpleStatementSuite):
        for small in body.body:
            yield _Unit(small, body)
        return
    assert isinstance(body, cst.IndentedBlock)
    for statement in body.body:
        if isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                yield _Unit(small, statement)
        else:
            yield _Unit(statement, None)


def _describe(node: cst.CSTNode) -> str:
    keywords = {
        cst.Return: "return", cst.Raise: "raise", cst.Yield: "yield", cst.Break: "break",
        cst.Continue: "continue", cst.If: "an if statement", cst.For: "a for loop", cst.While: "a while loop",
        cst.Try: "a try statement", cst.With: "a with block", cst.Assign: "an assignment",
        cst.AugAssign: "an assignment", cst.AnnAssign: "an assignment",
    }  # fmt: skip
    for kind, text in keywords.items():
        if isinstance(node, kind):
            return text
    if isinstance(node, cst.Expr) and isinstance(node.value, (cst.Call, cst.Await)):
        call = node.value.expression if isinstance(node.value, cst.Await) else node.value
        if isinstance(call, cst.Call):
            return f"{dotted_name(call.func) or 'a call'}()"
    return "a statement"


def _is_write_statement(call: cst.Call) -> bool:
    """``execute(insert(T).values(...))`` or ``execute(text("UPDATE ..."))``: no rows are read."""
    if not call.args:
        return False
    statement = call.args[0].value
    while isinstance(statement, cst.Call) and isinstance(statement.func, cst.Attribute):
        statement = statement.func.value  # insert(T).values(...).returning(...)
    if (
        isinstance(statement, cst.Call)
        and dotted_name(statement.func) in ("text", "sqlalchemy.text")
        and statement.args
    ):
        statement = statement.args[0].value
    if isinstance(statement, cst.SimpleString):
        sql = str(statement.evaluated_value).lstrip().lower()
        return sql.startswith(_WRITE_STATEMENTS) and " returning " not in f" {sql} "
    return isinstance(statement, cst.Call) and dotted_name(statement.func) in _WRITE_STATEMENTS


def _is_model_name(node: cst.BaseExpression) -> bool:
    """``Candidate`` in ``Candidate.query``: Flask-SQLAlchemy's query property on a model class."""
    name = dotted_name(node)
    return name is not None and name.rsplit(".", 1)[-1][:1].isupper()


def _carriers(body: cst.CSTNode, added: set[str]) -> tuple[set[str], set[str]]:
    """Names that keep an added object past its iteration: aliases (``prev = obj``) and containers."""
    aliases: set[str] = set()
    containers: set[str] = set()
    for node in _walk(body):
        if isinstance(node, cst.Assign) and isinstance(node.value, cst.Name) and node.value.value in added:
            for target in node.targets:
                if isinstance(target.target, cst.Name):
                    aliases.add(target.target.value)
                elif isinstance(target.target, cst.Subscript) and isinstance(target.target.value, cst.Name):
                    containers.add(target.target.value.value)
    for call in method_calls(body, _CONTAINER_METHODS):
        if isinstance(call.session, cst.Name) and any(
            isinstance(a.value, cst.Name) and a.value.value in added | aliases for a in call.call.args
        ):
            containers.add(call.session.value)
    return aliases - added, containers


def _read_name(node: cst.CSTNode) -> str | None:
    """The name a carried object is read through: ``prev.id``, ``objs[-1]``, ``for o in objs``."""
    if isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name):
        if node.attr.value in _CONTAINER_METHODS:
            return None  # objs.append(obj) records, it does not read
        return node.value.value
    if isinstance(node, cst.Subscript) and isinstance(node.value, cst.Name):
        return node.value.value
    if isinstance(node, (cst.For, cst.CompFor)) and isinstance(node.iter, cst.Name):
        return node.iter.value
    if isinstance(node, cst.Arg) and isinstance(node.value, cst.Name):
        return node.value.value
    return None


def _target_names(target: cst.BaseExpression) -> list[str]:
    name = dotted_name(target)
    if name is not None:
        return [name]
    if isinstance(target, (cst.Tuple, cst.List)):
        return [n for element in target.elements for n in _target_names(element.value)]
    if isinstance(target, cst.StarredElement):
        return _target_names(target.value)
    return []


def _attribute_owner(node: cst.CSTNode) -> str | None:
    """``obj`` for ``obj.attr``."""
    if isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name):
        return node.value.value
    return None


def _stored_attributes(node: cst.CSTNode) -> set[int]:
    """``obj.status = "done"`` writes an attribute; it reads nothing the commit would have set."""
    return {
        id(target.target)
        for n in _walk(node)
        if isinstance(n, cst.Assign)
        for target in n.targets
        if isinstance(target.target, cst.Attribute)
    }


def _is_subscript_target(node: cst.CSTNode, body: cst.CSTNode) -> bool:
    """``objs[key] = obj`` stores into a container; it does not read it."""
    if not isinstance(node, cst.Subscript):
        return False
    return any(isinstance(n, cst.Assign) and any(t.target is node for t in n.targets) for n in _walk(body))


def _collection_read(node: cst.CSTNode) -> cst.Attribute | None:
    """``obj.items`` when ``node`` counts, iterates or searches it: ``len(obj.items)``,
    ``for i in obj.items``, ``x in obj.items``."""
    candidate: cst.BaseExpression | None = None
    if isinstance(node, cst.Call) and dotted_name(node.func) == "len" and len(node.args) == 1:
        candidate = node.args[0].value
    elif isinstance(node, (cst.For, cst.CompFor)):
        candidate = node.iter
    elif isinstance(node, cst.ComparisonTarget) and isinstance(node.operator, (cst.In, cst.NotIn)):
        candidate = node.comparator
    if isinstance(candidate, cst.Attribute) and isinstance(candidate.value, cst.Name):
        return candidate
    return None


def _top_level_assigned(node: cst.CSTNode) -> set[str]:
    """Names a statement of the loop body assigns unconditionally."""
    if isinstance(node, cst.Assign):
        return {t.target.value for t in node.targets if isinstance(t.target, cst.Name)}
    if isinstance(node, cst.AnnAssign) and isinstance(node.target, cst.Name) and node.value is not None:
        return {node.target.value}
    return set()


@dataclasses.dataclass(frozen=True)
class _Bookkeeping:
    """Decides which statements only count, collect or log: they cannot depend on a commit.

    ``objects`` are names of objects added to the session: in commit mode their attributes
    (an id only the commit would have generated) must not be read, nor their repr logged.
    ``flushed``: flush mode, where a flush takes the commit's place, so attributes may be read
    and ``session.refresh(obj)`` may follow it.
    """

    matcher: SessionMatcher
    scope: _Scope
    objects: frozenset[str] = frozenset()
    flushed: bool = False

    def __call__(self, node: cst.CSTNode) -> bool:
        if isinstance(node, (cst.Pass, cst.Continue, cst.Break)):
            return True
        if isinstance(node, cst.AugAssign):
            return isinstance(node.target, cst.Name) and self.plain(node.value)
        if isinstance(node, cst.Assign):
            return all(isinstance(t.target, cst.Name) for t in node.targets) and self.plain(node.value)
        if isinstance(node, cst.AnnAssign):
            return isinstance(node.target, cst.Name) and node.value is not None and self.plain(node.value)
        if isinstance(node, cst.If):
            # ``if count >= limit: break``
            branches: list[cst.CSTNode] = [node.body] if node.orelse is None else [node.body, node.orelse]
            return self.plain(node.test) and all(self._block(branch) for branch in branches)
        if isinstance(node, cst.Expr) and isinstance(node.value, cst.Call):
            return self._call(node.value)
        return False

    def _block(self, node: cst.CSTNode) -> bool:
        if isinstance(node, cst.If):  # elif
            return self(node)
        if isinstance(node, cst.Else):
            node = node.body
        return isinstance(node, cst.BaseSuite) and all(self(unit.node) for unit in _units(node))

    def _call(self, call: cst.Call) -> bool:
        args_plain = all(self.plain(a.value) for a in call.args)
        if dotted_name(call.func) == "print":
            return args_plain
        if not isinstance(call.func, cst.Attribute):
            return False
        receiver = call.func.value
        method = call.func.attr.value
        if dotted_name(receiver) in LOG_RECEIVERS and method in _LOG_METHODS:
            return args_plain
        if self.matcher.is_session(receiver, self.scope.sessions):
            return self.flushed and method == "refresh" and args_plain
        if method in _CONTAINER_METHODS and isinstance(receiver, cst.Name):
            # collecting the objects themselves is fine: after the loop they are committed
            return all(dataclasses.replace(self, objects=frozenset()).plain(a.value) for a in call.args)
        return False

    def plain(self, expr: cst.BaseExpression) -> bool:
        """Names, literals and arithmetic on them: nothing that reads the database or calls out."""
        if isinstance(expr, cst.Name):
            return self.flushed or expr.value not in self.objects
        if isinstance(expr, (cst.Integer, cst.Float, cst.Imaginary, cst.SimpleString)):
            return True
        if isinstance(expr, cst.Attribute):
            # obj.id: set by a flush; in commit mode only by the commit that no longer runs here
            return self.flushed and self.plain(expr.value)
        if isinstance(expr, cst.ConcatenatedString):
            return self.plain(expr.left) and self.plain(expr.right)
        if isinstance(expr, cst.FormattedString):
            parts = [p.expression for p in expr.parts if isinstance(p, cst.FormattedStringExpression)]
            return all(self.plain(part) for part in parts)
        if isinstance(expr, cst.UnaryOperation):
            return self.plain(expr.expression)
        if isinstance(expr, (cst.BinaryOperation, cst.BooleanOperation)):
            return self.plain(expr.left) and self.plain(expr.right)
        if isinstance(expr, cst.Comparison):
            return self.plain(expr.left) and all(self.plain(c.comparator) for c in expr.comparisons)
        if isinstance(expr, (cst.Tuple, cst.List, cst.Set)):
            return all(self.plain(e.value) for e in expr.elements)
        if isinstance(expr, cst.Subscript):
            indexes = [e.slice for e in expr.slice]
            return self.plain(expr.value) and all(isinstance(i, cst.Index) and self.plain(i.value) for i in indexes)
        if isinstance(expr, cst.Call):
            return dotted_name(expr.func) in _PURE_BUILTINS and all(self.plain(a.value) for a in expr.args)
        return False
