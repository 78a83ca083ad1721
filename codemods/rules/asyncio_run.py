"""The ``asyncio-run`` codemod: ``asyncio.run(main())`` instead of driving the thread's event loop by hand."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar

import libcst as cst

from codemods.speedups import traversal
from codemods.base import Codemod, FileContext
from codemods.analysis.nodes import dotted_name
from codemods.analysis.sessions import bound_names
from codemods.speedups.positions import TreePositions, positions_of

_GET_EVENT_LOOP = ("asyncio.get_event_loop", "asyncio.events.get_event_loop")
_ASYNCIO_MODULES = ("asyncio", "asyncio.events")
# asyncio functions that return a future or a task, not a coroutine: asyncio.run refuses them.
_FUTURE_FACTORIES = tuple(
    f"asyncio.{name}"
    for name in ("gather", "ensure_future", "shield", "create_task", "wrap_future", "run_coroutine_threadsafe")
)
_SCOPES = (cst.FunctionDef, cst.Lambda, cst.ClassDef)
# What runs its body more than once (or later) relative to the statement around it.
_REPEATING = (cst.For, cst.While, cst.ListComp, cst.SetComp, cst.DictComp, cst.GeneratorExp)


class AsyncioRun(Codemod):
    """Run a coroutine with ``asyncio.run()`` instead of the thread's event loop.

    What it does:
        In synchronous code (a function that is not ``async def``, or module level),
        ``asyncio.get_event_loop().run_until_complete(main())`` and

        ```python
        loop = asyncio.get_event_loop()
        result = loop.run_until_complete(main())
        loop.close()
        ```

        become ``asyncio.run(main())``.  The loop variable may be closed after the run (on the
        next lines, or in the ``finally:`` of a ``try`` around it); that ``loop.close()`` goes
        too, since ``asyncio.run`` closes its loop, and a ``try``/``finally`` left with nothing
        to do is unwrapped.  Comments above the removed lines stay.

        Inside a coroutine (``async def``), where a loop is always running,
        ``asyncio.get_event_loop()`` becomes ``asyncio.get_running_loop()``.

        Every other use is left as it is, with a finding that says why: the loop runs forever,
        runs a second coroutine, is passed to other code or used for anything but one
        ``run_until_complete``; ``run_until_complete`` is given a future
        (``asyncio.gather(...)``) or something that is not a call; several runs in one
        function or in a loop share the thread's loop; or the call is in a lambda or a
        function nested in a coroutine, where it cannot be told whether a loop is running.

    Why is this bad?
        ``asyncio.get_event_loop()`` without a running loop is deprecated: it warns
        (``DeprecationWarning: There is no current event loop``) since Python 3.10 and 3.12,
        and raises ``RuntimeError`` from Python 3.14 on.  A loop closed after one run makes
        the next call of the same code fail with "Event loop is closed", and a loop that is
        never closed leaks its selector and executor threads.  ``asyncio.run`` creates a new
        loop, runs the coroutine, finishes async generators and the default executor, and
        closes it.  In a coroutine, ``asyncio.get_running_loop()`` says what is meant and
        cannot create a second loop by accident.

    Example:
        ```python
        def sync_catalogue():
            loop = asyncio.get_event_loop()
            try:
                return loop.run_until_complete(fetch_catalogue())
            finally:
                loop.close()


        async def checksum(path):
            loop = asyncio.get_event_loop()
            return await loop.run_in_executor(None, digest, path)
        ```

    Use instead:
        ```python
        def sync_catalogue():
            return asyncio.run(fetch_catalogue())


        async def checksum(path):
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(None, digest, path)
        ```

    Fix safety:
        The coroutine runs to the same result.  What changes: each ``asyncio.run`` uses a
        new event loop and closes it, also when the original left the thread's loop open, so
        calling the code twice works where a closed loop made the second call fail; tasks the
        coroutine left running are cancelled at its end instead of staying on the open loop;
        and after the run the thread has no current loop, so code that later calls
        ``asyncio.get_event_loop()`` outside a coroutine to reuse that loop (this codemod
        rewrites or reports such calls in the scanned code) gets a new loop or an error.
        Inside a coroutine ``get_running_loop()`` returns the same loop ``get_event_loop()``
        returned.

    Limitations:
        Only the forms above are rewritten: a loop stored on an object or in a global used
        elsewhere, a loop from ``asyncio.new_event_loop()``, or a ``run_until_complete``
        inside a ``for``/``while`` is reported, not changed.  Whether the argument of
        ``run_until_complete`` is a coroutine is known only for ``async def`` functions of the
        same module and asyncio's own future-returning functions; another call is assumed to
        return a coroutine.  State bound to one loop and kept between calls of the same
        function (an ``aiohttp`` session cached in a global) is not detected: with
        ``asyncio.run`` each call has its own loop.
    """

    name: ClassVar[str] = "asyncio-run"
    summary: ClassVar[str] = (
        "Replace `asyncio.get_event_loop().run_until_complete(...)` with `asyncio.run(...)`, "
        "and `get_event_loop()` in coroutines with `get_running_loop()`"
    )
    safety: ClassVar[str] = (
        "Each asyncio.run uses a new event loop and closes it afterwards: tasks left running are "
        "cancelled, and later get_event_loop() calls outside a coroutine no longer find that loop."
    )
    markers: ClassVar[tuple[bytes, ...]] = (b"get_event_loop",)

    def __init__(self, file: FileContext) -> None:
        super().__init__(file)
        self._plan = _Plan()

    def visit_Module(self, node: cst.Module) -> bool:
        planner = _Planner(self, node)
        self._plan = planner.plan()
        for target, message, fixable in self._plan.reports:
            self.report(target, message, fixable=fixable)
        if self._plan.changes():
            for module, obj, asname in planner.from_imports:
                self.remove_import(module, obj, asname)
        return self._plan.changes()

    # -- rewriting ------------------------------------------------------------------------------

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.BaseExpression:
        replacement = self._plan.running.get(id(original_node))
        if replacement is not None:
            return updated_node.with_changes(func=replacement)
        run = self._plan.runs.get(id(original_node))
        if run is not None:
            argument = updated_node.args[0].with_changes(comma=cst.MaybeSentinel.DEFAULT)
            return updated_node.with_changes(func=run, args=[argument])
        return updated_node

    def leave_SimpleStatementLine(
        self, original_node: cst.SimpleStatementLine, updated_node: cst.SimpleStatementLine
    ) -> cst.SimpleStatementLine | cst.RemovalSentinel:
        dropped = self._plan.dropped
        if not any(id(small) in dropped for small in original_node.body):
            return updated_node
        kept = [new for old, new in zip(original_node.body, updated_node.body, strict=True) if id(old) not in dropped]
        if not kept:
            return cst.RemoveFromParent()
        kept[-1] = kept[-1].with_changes(semicolon=cst.MaybeSentinel.DEFAULT)
        return updated_node.with_changes(body=kept)

    def leave_Try(self, original_node: cst.Try, updated_node: cst.Try) -> cst.BaseStatement | cst.FlattenSentinel:
        final = original_node.finalbody
        if final is None or not all(_only_dropped(s, self._plan.dropped) for s in final.body.body):
            return updated_node
        if original_node.handlers or original_node.orelse is not None:
            return updated_node.with_changes(finalbody=None)
        body = list(updated_node.body.body)  # a try with nothing left but its body: unwrapped
        body[0] = body[0].with_changes(leading_lines=[*updated_node.leading_lines, *body[0].leading_lines])
        return cst.FlattenSentinel(body)

    def on_leave(self, original_node: Any, updated_node: Any) -> Any:
        result = super().on_leave(original_node, updated_node)
        lines = self._plan.carried.get(id(original_node))
        if lines is None:
            return result
        if isinstance(result, cst.FlattenSentinel):
            nodes = list(result.nodes)
            nodes[0] = nodes[0].with_changes(leading_lines=[*lines, *nodes[0].leading_lines])
            return cst.FlattenSentinel(nodes)
        return result.with_changes(leading_lines=[*lines, *result.leading_lines])


def _only_dropped(statement: cst.BaseStatement, dropped: set[int]) -> bool:
    return isinstance(statement, cst.SimpleStatementLine) and all(id(s) in dropped for s in statement.body)


# -- planning --------------------------------------------------------------------------------------


@dataclasses.dataclass
class _Plan:
    running: dict[int, cst.BaseExpression] = dataclasses.field(default_factory=dict)  # call -> get_running_loop
    runs: dict[int, cst.BaseExpression] = dataclasses.field(default_factory=dict)  # run_until_complete call -> run
    dropped: set[int] = dataclasses.field(default_factory=set)  # small statements removed
    carried: dict[int, list[cst.EmptyLine]] = dataclasses.field(default_factory=dict)  # statement -> lines it gets
    reports: list[tuple[cst.CSTNode, str, bool]] = dataclasses.field(default_factory=list)

    def changes(self) -> bool:
        return bool(self.running or self.runs)


@dataclasses.dataclass(frozen=True)
class _Found:
    """One ``get_event_loop()`` call and the nodes around it, outermost first."""

    call: cst.Call
    ancestors: tuple[cst.CSTNode, ...]

    @property
    def parent(self) -> cst.CSTNode:
        return self.ancestors[-1]

    def scope_index(self) -> int:
        for index in range(len(self.ancestors) - 1, -1, -1):
            if isinstance(self.ancestors[index], _SCOPES):
                return index
        return 0

    @property
    def scope(self) -> cst.CSTNode:
        return self.ancestors[self.scope_index()]


@dataclasses.dataclass(frozen=True)
class _Run:
    """A ``run_until_complete`` that may become ``asyncio.run``."""

    found: _Found
    call: cst.Call  # the run_until_complete call
    ancestors: tuple[cst.CSTNode, ...]  # of ``call``
    binding: _Binding | None  # None for the one-line form


@dataclasses.dataclass(frozen=True)
class _Binding:
    name: str
    assign: cst.Assign
    line: cst.SimpleStatementLine
    block: cst.Module | cst.IndentedBlock
    index: int  # of ``line`` in ``block.body``
    close: cst.Expr | None


class _Decline(Exception):
    def __init__(self, node: cst.CSTNode, reason: str) -> None:
        super().__init__(reason)
        self.node, self.reason = node, reason


class _Planner:
    def __init__(self, codemod: AsyncioRun, module: cst.Module) -> None:
        self.codemod = codemod
        self.names = codemod.names
        self.module = module
        self.result = _Plan()
        self.from_imports: list[tuple[str, str, str | None]] = []  # ``from asyncio import get_event_loop [as x]``
        self._positions: TreePositions | None = None
        self._asyncio: str | None | bool = False  # False: not looked up yet
        self._imports_running_loop = False  # ``from asyncio import get_running_loop``

    def plan(self) -> _Plan:
        aliases = self._scan_imports()
        found = [f for f in _find_calls(self.module, aliases) if self.names.refers_to(f.call.func, _GET_EVENT_LOOP)]
        runs: list[_Run] = []
        for item in found:
            try:
                run = self._classify(item)
            except _Decline as decline:
                self._decline(decline.node, decline.reason)
                continue
            if run is not None:
                runs.append(run)
        by_scope: dict[int, list[_Run]] = {}
        for run in runs:
            by_scope.setdefault(id(run.found.scope), []).append(run)
        for group in by_scope.values():
            if len(group) > 1:
                lines = ", ".join(str(self._line(r.call)) for r in group)
                for run in group:
                    self._decline(
                        run.found.call,
                        f"{len(group)} runs in {_scope_label(run.found.scope)} (lines {lines}) share the thread's "
                        "event loop; asyncio.run would give each its own",
                    )
                continue
            try:
                self._rewrite(group[0])
            except _Decline as decline:
                self._decline(decline.node, decline.reason)
        return self.result

    # -- what each call is ------------------------------------------------------------------------

    def _classify(self, found: _Found) -> _Run | None:
        scope = found.scope
        parent = found.parent
        is_run = _is_run_receiver(found.call, found.ancestors)
        if isinstance(scope, cst.FunctionDef) and scope.asynchronous is not None:
            inner = found.ancestors[found.scope_index() + 1 :]
            if any(isinstance(node, cst.GeneratorExp) for node in inner):
                raise _Decline(found.call, "in a generator expression, which may run after its coroutine")
            if is_run:
                raise _Decline(
                    found.call, "run_until_complete() inside a coroutine fails: its loop is already running; await it"
                )
            self.result.running[id(found.call)] = self._running_loop_spelling(found.call)
            self.result.reports.append((found.call, "asyncio.get_event_loop() in a coroutine → asyncio.get_running_loop()", True))
            return None
        if isinstance(scope, cst.Lambda):
            raise _Decline(found.call, "in a lambda: whether an event loop runs when it is called cannot be told")
        if _inside_coroutine(found.ancestors):
            raise _Decline(
                found.call, "in a function nested in a coroutine: whether an event loop runs when it is called cannot be told"
            )
        if is_run:
            run_call = found.ancestors[-2]
            assert isinstance(run_call, cst.Call)
            return _Run(found, run_call, found.ancestors[:-2], None)
        if isinstance(parent, cst.Assign) and parent.value is found.call:
            return self._bound_run(found, parent)
        raise _Decline(found.call, f"{_describe_use(found)} outside a coroutine is not a run_until_complete() call")

    def _bound_run(self, found: _Found, assign: cst.Assign) -> _Run:
        if isinstance(found.scope, cst.ClassDef):
            raise _Decline(found.call, "the loop is a class attribute")
        if len(assign.targets) != 1 or not isinstance(assign.targets[0].target, cst.Name):
            raise _Decline(found.call, "the loop is not assigned to a plain variable")
        name = assign.targets[0].target.value
        line, block = found.ancestors[-2], found.ancestors[-3]
        if not isinstance(line, cst.SimpleStatementLine) or not isinstance(block, (cst.Module, cst.IndentedBlock)):
            raise _Decline(found.call, "the loop is assigned on the line of its block's header")
        index = next(i for i, statement in enumerate(block.body) if statement is line)
        uses = list(_name_uses(found.scope if isinstance(found.scope, cst.FunctionDef) else self.module, name, assign))
        runs = [u for u in uses if _method_of(u) == "run_until_complete"]
        closes = [u for u in uses if _method_of(u) == "close" and _is_statement(u)]
        others = [u for u in uses if u not in runs and u not in closes]
        if others:
            raise _Decline(found.call, self._other_use(others[0], name))
        if not runs:
            raise _Decline(found.call, f"{name} is assigned but never runs a coroutine")
        if len(runs) > 1:
            raise _Decline(
                found.call,
                f"a second {name}.run_until_complete() at line {self._line(runs[1].call)} runs on the same loop",
            )
        if len(closes) > 1:
            raise _Decline(found.call, f"{name}.close() is called more than once (line {self._line(closes[1].call)})")
        nested = next((u for u in runs + closes if _nested_scope(u.ancestors, found.scope)), None)
        if nested is not None:
            raise _Decline(found.call, f"the loop is used in another function at line {self._line(nested.node)}")
        run = runs[0]
        position = _statement_in(run.ancestors, block)
        if position is None or not (position > index or _later_on_line(line, assign, run.ancestors)):
            raise _Decline(found.call, f"{name}.run_until_complete() at line {self._line(run.call)} is not after the assignment in its block")
        close = closes[0].ancestors[-3] if closes else None
        if close is not None and not _closes_after(closes[0].ancestors, run.ancestors, block, position):
            raise _Decline(found.call, f"{name}.close() at line {self._line(close)} does not simply follow the run")
        assert close is None or isinstance(close, cst.Expr)
        return _Run(found, run.call, run.ancestors, _Binding(name, assign, line, block, index, close))

    def _other_use(self, use: _Use, name: str) -> str:
        method = _method_of(use)
        line = self._line(use.node)
        if method == "run_forever":
            return f"{name}.run_forever() at line {line}: asyncio.run runs one coroutine, not a loop that runs forever"
        if method is not None:
            return f"{name}.{method}() at line {line} uses the loop beyond one run_until_complete()"
        parent = use.ancestors[-1]
        if isinstance(parent, cst.Arg):
            call = use.ancestors[-2]
            callee = dotted_name(call.func) if isinstance(call, cst.Call) else None
            return f"the loop is passed to {callee or 'a call'}() at line {line}"
        if isinstance(parent, (cst.AssignTarget, cst.Param, cst.NameItem, cst.Del, cst.For, cst.AugAssign, cst.AsName)):
            return f"{name} is bound again at line {line}"
        return f"the loop is used at line {line} beyond one run_until_complete()"

    # -- the rewrite --------------------------------------------------------------------------------

    def _rewrite(self, run: _Run) -> None:
        call = run.call
        repeating = next((n for n in run.ancestors[run.found.scope_index() :] if isinstance(n, _REPEATING)), None)
        if repeating is not None:
            raise _Decline(
                run.found.call,
                f"the run repeats in the loop at line {self._line(repeating)} on one event loop; asyncio.run would give "
                "each iteration its own",
            )
        self._check_argument(call, run.found.call)
        asyncio_name = self._asyncio_name()
        if asyncio_name is None:
            raise _Decline(run.found.call, "the name asyncio is bound to something else in this module")
        self.result.runs[id(call)] = cst.Attribute(cst.Name(asyncio_name), cst.Name("run"))
        argument = self.module.code_for_node(call.args[0].value)
        self.result.reports.append((run.found.call, f"run_until_complete({_short(argument)}) → asyncio.run()", True))
        binding = run.binding
        if binding is None:
            return
        self.result.dropped.add(id(binding.assign))
        if len(binding.line.body) == 1 and binding.index + 1 < len(binding.block.body):
            self.result.carried[id(binding.block.body[binding.index + 1])] = list(binding.line.leading_lines)
        if binding.close is not None:
            self.result.dropped.add(id(binding.close))

    def _check_argument(self, call: cst.Call, report_at: cst.CSTNode) -> None:
        args = call.args
        if len(args) != 1 or args[0].keyword is not None or args[0].star:
            raise _Decline(report_at, "run_until_complete() is not given exactly one coroutine")
        value = args[0].value
        if not isinstance(value, cst.Call):
            raise _Decline(report_at, "run_until_complete() is not given a call: asyncio.run needs a coroutine")
        future = self.names.refers_to(value.func, _FUTURE_FACTORIES)
        if future:
            raise _Decline(
                report_at, f"run_until_complete({min(future)}(...)) runs a future: asyncio.run needs a coroutine"
            )
        callee = dotted_name(value.func)
        definition = _module_function(self.module, callee) if callee is not None else None
        if definition is not None and definition.asynchronous is None:
            raise _Decline(report_at, f"{callee}() is not an async def: asyncio.run needs a coroutine")

    # -- names ----------------------------------------------------------------------------------------

    def _scan_imports(self) -> set[str]:
        """Local names of ``from asyncio import get_event_loop [as x]`` anywhere in the module."""
        aliases: set[str] = set()
        for node in _all_import_froms(self.module):
            module = dotted_name(node.module) if node.module is not None and not node.relative else None
            if module not in _ASYNCIO_MODULES or isinstance(node.names, cst.ImportStar):
                continue
            for alias in node.names:
                if dotted_name(alias.name) == "get_running_loop" and alias.asname is None:
                    self._imports_running_loop = True
                if dotted_name(alias.name) == "get_event_loop":
                    asname = alias.asname.name.value if alias.asname is not None else None  # type: ignore[union-attr]
                    aliases.add(asname or "get_event_loop")
                    self.from_imports.append((module, "get_event_loop", asname))
        return aliases

    def _asyncio_name(self) -> str | None:
        """The module's name for asyncio (``import asyncio [as aio]``), added if it has none."""
        if self._asyncio is False:
            self._asyncio = _imported_asyncio(self.module)
            if self._asyncio is None and not self.names.bound_anywhere("asyncio"):
                self.codemod.add_import("asyncio")
                self._asyncio = "asyncio"
        return self._asyncio  # type: ignore[return-value]

    def _running_loop_spelling(self, call: cst.Call) -> cst.BaseExpression:
        func = call.func
        if isinstance(func, cst.Attribute):
            return func.with_changes(attr=cst.Name("get_running_loop"))
        if self._imports_running_loop or not self.names.bound_anywhere("get_running_loop"):
            self.codemod.add_import("asyncio", "get_running_loop")
            return cst.Name("get_running_loop")
        asyncio_name = self._asyncio_name()
        if asyncio_name is None:
            raise _Decline(call, "the names get_running_loop and asyncio are bound to other things here")
        return cst.Attribute(cst.Name(asyncio_name), cst.Name("get_running_loop"))

    # -- reporting ------------------------------------------------------------------------------------

    def _decline(self, node: cst.CSTNode, reason: str) -> None:
        self.result.reports.append((node, f"asyncio.get_event_loop() not rewritten: {reason}", False))

    def _line(self, node: cst.CSTNode) -> int:
        if self._positions is None:
            self._positions = positions_of(self.module)
        return self._positions.start(node).line


# -- finding the calls and the loop's uses -----------------------------------------------------------


class _CallFinder(traversal.Visitor):
    def __init__(self, aliases: set[str]) -> None:
        self.aliases = aliases
        self.stack: list[cst.CSTNode] = []
        self.found: list[_Found] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, cst.Call) and _may_be_get_event_loop(node.func, self.aliases):
            self.found.append(_Found(node, tuple(self.stack)))
        self.stack.append(node)
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        self.stack.pop()


def _find_calls(module: cst.Module, aliases: set[str]) -> list[_Found]:
    finder = _CallFinder(aliases)
    module.visit(finder)
    return finder.found


def _may_be_get_event_loop(func: cst.BaseExpression, aliases: set[str]) -> bool:
    if isinstance(func, cst.Attribute):
        return func.attr.value == "get_event_loop"
    return isinstance(func, cst.Name) and func.value in aliases


@dataclasses.dataclass(frozen=True)
class _Use:
    node: cst.Name
    ancestors: tuple[cst.CSTNode, ...]

    @property
    def call(self) -> cst.CSTNode:
        """The call ``loop.m(...)`` for a method use, else the name."""
        if len(self.ancestors) >= 2 and isinstance(self.ancestors[-2], cst.Call):
            return self.ancestors[-2]
        return self.node


class _NameFinder(traversal.Visitor):
    def __init__(self, name: str, skip: cst.CSTNode) -> None:
        self.name = name
        self.skip = skip
        self.stack: list[cst.CSTNode] = []
        self.uses: list[_Use] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        if node is self.skip:
            return False
        if self.stack and isinstance(node, (cst.FunctionDef, cst.Lambda)) and _binds_locally(node, self.name):
            return False  # its own variable of that name
        if isinstance(node, cst.Name) and node.value == self.name:
            self.uses.append(_Use(node, tuple(self.stack)))
        self.stack.append(node)
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        if self.stack and self.stack[-1] is original_node:
            self.stack.pop()


def _name_uses(scope: cst.CSTNode, name: str, binding: cst.Assign) -> Iterator[_Use]:
    """Every occurrence of ``name`` in ``scope`` (nested functions included) but the binding's target.

    The ancestors of a use in a method call ``loop.m(...)`` end with the Call's parent, the Call and
    the Attribute.
    """
    finder = _NameFinder(name, binding.targets[0].target)
    scope.visit(finder)
    yield from finder.uses


def _binds_locally(function: cst.FunctionDef | cst.Lambda, name: str) -> bool:
    """Whether ``name`` is a local variable of ``function`` (a parameter, or assigned without ``global``)."""
    params = function.params
    every = [*params.posonly_params, *params.params, *params.kwonly_params]
    every += [p for p in (params.star_arg, params.star_kwarg) if isinstance(p, cst.Param)]
    if any(p.name.value == name for p in every):
        return True
    if isinstance(function, cst.Lambda):
        return False
    declared = _declared_global(function)
    return name not in declared and name in bound_names(function.body)


def _declared_global(function: cst.FunctionDef) -> set[str]:
    names: set[str] = set()

    class _Declarations(traversal.Visitor):
        def visit_Global(self, node: cst.Global) -> None:
            names.update(item.name.value for item in node.names)

        def visit_Nonlocal(self, node: cst.Nonlocal) -> None:
            names.update(item.name.value for item in node.names)

        def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
            return node is function

    function.visit(_Declarations())
    return names


def _method_of(use: _Use) -> str | None:
    """``m`` when the use is ``loop.m(...)``."""
    if len(use.ancestors) < 2:
        return None
    attribute, call = use.ancestors[-1], use.ancestors[-2]
    if isinstance(attribute, cst.Attribute) and attribute.value is use.node and isinstance(call, cst.Call):
        if call.func is attribute:
            return attribute.attr.value
    return None


def _is_statement(use: _Use) -> bool:
    """``loop.close()`` as a whole statement, with no arguments."""
    call = use.ancestors[-2]
    return (
        isinstance(call, cst.Call)
        and not call.args
        and len(use.ancestors) >= 4
        and isinstance(use.ancestors[-3], cst.Expr)
        and isinstance(use.ancestors[-4], cst.SimpleStatementLine)
    )


def _is_run_receiver(call: cst.Call, ancestors: Sequence[cst.CSTNode]) -> bool:
    """``<call>.run_until_complete(...)``."""
    if len(ancestors) < 2:
        return False
    attribute, outer = ancestors[-1], ancestors[-2]
    return (
        isinstance(attribute, cst.Attribute)
        and attribute.value is call
        and attribute.attr.value == "run_until_complete"
        and isinstance(outer, cst.Call)
        and outer.func is attribute
    )


def _index(nodes: Sequence[cst.CSTNode], node: cst.CSTNode) -> int | None:
    """The position of ``node`` itself in ``nodes`` (nodes compare by identity here)."""
    return next((i for i, n in enumerate(nodes) if n is node), None)


def _nested_scope(ancestors: Sequence[cst.CSTNode], scope: cst.CSTNode) -> bool:
    """Whether a function, lambda or class lies between ``scope`` and the node with these ancestors."""
    start = _index(ancestors, scope)
    inner = ancestors[(start or 0) + 1 :]
    return any(isinstance(n, _SCOPES) for n in inner)


def _inside_coroutine(ancestors: Sequence[cst.CSTNode]) -> bool:
    return any(isinstance(n, cst.FunctionDef) and n.asynchronous is not None for n in ancestors)


def _statement_in(ancestors: Sequence[cst.CSTNode], block: cst.CSTNode) -> int | None:
    """The index in ``block.body`` of the statement that holds a node with these ancestors."""
    for position, node in enumerate(ancestors):
        if node is block and position + 1 < len(ancestors):
            statement = ancestors[position + 1]
            return next(i for i, s in enumerate(block.body) if s is statement)  # type: ignore[attr-defined]
    return None


def _later_on_line(line: cst.SimpleStatementLine, assign: cst.Assign, ancestors: Sequence[cst.CSTNode]) -> bool:
    """Whether the node with these ancestors is in a small statement after ``assign`` on ``line``."""
    holding = [i for i, small in enumerate(line.body) if _index(ancestors, small) is not None]
    return bool(holding) and holding[0] > next(i for i, small in enumerate(line.body) if small is assign)


def _closes_after(
    close: Sequence[cst.CSTNode], run: Sequence[cst.CSTNode], block: cst.CSTNode, run_position: int
) -> bool:
    """``loop.close()`` after the run: later in the binding's block or in the run's block, or in the
    ``finally:`` of a ``try`` around the run."""
    close_line = close[-4]
    close_block = close[-5]
    if close_block is block:
        return _statement_in(close, block) > run_position  # type: ignore[operator]
    shared = _index(run, close_block)
    if shared is not None and shared + 1 < len(run):
        body = close_block.body  # type: ignore[attr-defined]
        positions = {id(s): i for i, s in enumerate(body)}
        return positions[id(close_line)] > positions[id(run[shared + 1])]
    finally_node = close[-6] if len(close) >= 6 else None
    if isinstance(finally_node, cst.Finally):
        try_node = close[-7]
        return isinstance(try_node, cst.Try) and _index(run, try_node) is not None and try_node.finalbody is finally_node
    return False


def _describe_use(found: _Found) -> str:
    parent = found.parent
    if isinstance(parent, cst.Attribute) and parent.value is found.call:
        return f"asyncio.get_event_loop().{parent.attr.value}"
    return "asyncio.get_event_loop()"


def _scope_label(scope: cst.CSTNode) -> str:
    if isinstance(scope, cst.FunctionDef):
        return f"{scope.name.value}()"
    if isinstance(scope, cst.ClassDef):
        return f"class {scope.name.value}"
    return "the module"


def _short(code: str) -> str:
    code = " ".join(code.split())
    return code if len(code) <= 40 else code[:37] + "..."


def _module_function(module: cst.Module, name: str) -> cst.FunctionDef | None:
    for statement in module.body:
        if isinstance(statement, cst.FunctionDef) and statement.name.value == name:
            return statement
    return None


def _all_import_froms(module: cst.Module) -> list[cst.ImportFrom]:
    found: list[cst.ImportFrom] = []

    class _Imports(traversal.Visitor):
        def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
            found.append(node)

    module.visit(_Imports())
    return found


def _imported_asyncio(module: cst.Module) -> str | None:
    """The name a top-level ``import asyncio [as x]`` binds."""
    for statement in module.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if isinstance(small, cst.Import):
                for alias in small.names:
                    if dotted_name(alias.name) == "asyncio":
                        return alias.asname.name.value if alias.asname is not None else "asyncio"  # type: ignore[union-attr]
    return None
