"""Exact positions of nodes, without libcst's PositionProvider.

Findings only need the start line and column of a handful of nodes, but resolving
``PositionProvider`` costs a full code generation in which every token is split on
newlines and two ``CodePosition`` plus one ``CodeRange`` are allocated for every
node of the module. ``start_positions`` runs the same code generation (so it agrees
with ``PositionProvider`` on every rule about where a node starts) but only records
the *token index* at which each node starts. The few requested indexes are then
turned into line/column in a single pass over the joined tokens.  ``TreePositions`` also
records where each node ends, for callers that need whole ranges (route-commit).
"""

from __future__ import annotations

from collections.abc import Iterable

import libcst as cst
from libcst.metadata import CodePosition, CodeRange, MetadataWrapper, PositionProvider

from codemods.speedups import ENABLED, codegen

if ENABLED:
    from libcst._nodes.internal import CodegenState
else:  # libcst's PositionProvider answers instead (see TreePositions); the state is never built
    CodegenState = object  # type: ignore[assignment,misc]

# Joins tokens so that a token ending in "\r" and the next one starting with "\n"
# stay two newlines, as libcst counts newlines token by token.
_TOKEN_SEPARATOR = "\0"


class _StartIndexCodegenState(CodegenState):
    """Records, per node id, the index of the token where PositionProvider starts it.

    Mirrors ``PositionProvidingCodegenState``: the whitespace-inclusive start is kept
    only when no syntactic start was recorded, a syntactic start always wins, and a
    ``start_node`` hoists the start already recorded for that child.
    """

    __slots__ = ("_open", "ends", "starts")

    def __init__(self, module: cst.Module) -> None:
        super().__init__(default_indent=module.default_indent, default_newline=module.default_newline)
        self.starts: dict[int, int] = {}
        self.ends: dict[int, int] = {}
        self._open: list[int] = []

    def before_codegen(self, node: cst.CSTNode) -> None:
        self._open.append(len(self.tokens))

    def after_codegen(self, node: cst.CSTNode) -> None:
        start = self._open.pop()
        self.starts.setdefault(id(node), start)
        self.ends.setdefault(id(node), len(self.tokens))

    def pop_trailing_newline(self) -> None:
        # PositionProvider drops the token but keeps the line/column it advanced to;
        # keeping the token keeps every recorded index pointing at that same place.
        pass

    def record_syntactic_position(
        self,
        node: cst.CSTNode,
        *,
        start_node: cst.CSTNode | None = None,
        end_node: cst.CSTNode | None = None,
    ) -> _SyntacticPosition:
        return _SyntacticPosition(self, node, start_node, end_node)


class _AllButTriviaState(_StartIndexCodegenState):
    """``_StartIndexCodegenState`` that records a trivia node (whitespace, comments, punctuation:
    ``unchanged.TRIVIA``, two thirds of a module's nodes) only when it is ``wanted``: the code
    generator's shortcuts for them (:func:`codegen.register_trivia_selective_state`) serve it as a
    plain state, emitting the same tokens.  A node's record depends on another's only where its
    start or end is hoisted from a ``start_node``/``end_node`` (``from a import (b)`` ends at its
    right parenthesis): that node is made wanted when the record opens, before it is generated.
    Every other node's start and end are the same token indexes; TreePositions answers for a
    trivia node that was not recorded from a full recording, made when one is asked about."""

    __slots__ = ("wanted",)

    def __init__(self, module: cst.Module) -> None:
        super().__init__(module)
        self.wanted: set[int] = set()

    def record_syntactic_position(
        self,
        node: cst.CSTNode,
        *,
        start_node: cst.CSTNode | None = None,
        end_node: cst.CSTNode | None = None,
    ) -> _SyntacticPosition:
        if start_node is not None:
            self.wanted.add(id(start_node))
        if end_node is not None:
            self.wanted.add(id(end_node))
        return _SyntacticPosition(self, node, start_node, end_node)


codegen.register_trivia_selective_state(_AllButTriviaState)


class _SyntacticPosition:
    """``_StartIndexCodegenState.record_syntactic_position``'s context: a plain object rather than
    a generator, since the code generator opens one for most nodes."""

    __slots__ = ("end_node", "node", "start", "start_node", "state")

    def __init__(
        self, state: _StartIndexCodegenState, node: cst.CSTNode, start_node: cst.CSTNode | None, end_node: cst.CSTNode | None
    ) -> None:
        self.state, self.node, self.start_node, self.end_node = state, node, start_node, end_node

    def __enter__(self) -> None:
        self.start = len(self.state.tokens)

    def __exit__(self, *exc_info: object) -> None:
        state = self.state
        state.starts[id(self.node)] = state.starts[id(self.start_node)] if self.start_node is not None else self.start
        state.ends[id(self.node)] = state.ends[id(self.end_node)] if self.end_node is not None else len(state.tokens)


class _NothingRecorded:
    """What libcst's plain code generation records of syntactic positions: nothing."""

    __slots__ = ()

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc_info: object) -> None:
        return None


_NOTHING_RECORDED = _NothingRecorded()


def _record_nothing(
    self: object, node: cst.CSTNode, *, start_node: cst.CSTNode | None = None, end_node: cst.CSTNode | None = None
) -> _NothingRecorded:
    """libcst's ``CodegenState.record_syntactic_position`` is a generator context that only
    yields; the code generator enters one for most nodes of every ``Module.code``.  This one
    does the same nothing, without a generator (about a third of the cost of ``.code``)."""
    return _NOTHING_RECORDED


if ENABLED:
    CodegenState.record_syntactic_position = _record_nothing  # type: ignore[method-assign,assignment]


def start_positions(module: cst.Module, nodes: Iterable[cst.CSTNode]) -> dict[cst.CSTNode, CodePosition]:
    """Return ``PositionProvider``'s start (1-based line, 0-based column) for each node.

    Equal to ``MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    [node].start`` for every node of ``module``, at a fraction of its cost when only a
    few nodes are wanted: the code generation records the starts of those nodes alone (and of
    the children their starts are hoisted from), unless :func:`positions_of` already holds
    every node's.  Raises ``KeyError`` for a node that is not part of ``module``.
    """
    if not ENABLED:
        return TreePositions(module).starts(nodes)
    wanted = list(dict.fromkeys(nodes))
    if not wanted:
        return {}
    if _last_positions and _last_positions[0].module is module:
        return _last_positions[0].starts(wanted)
    state = _WantedStartsState(module, {id(node) for node in wanted})
    module._codegen(state)
    try:
        indexes = {node: state.starts[id(node)] for node in wanted}
    except KeyError as missing:
        raise KeyError(f"node is not part of the module: {missing}") from None
    at_index = _positions_at_token_indexes(state.tokens, sorted(set(indexes.values())))
    return {node: at_index[index] for node, index in indexes.items()}


class _WantedStartsState(CodegenState):
    """``_StartIndexCodegenState`` for a few nodes: the same starts, recorded for the nodes in
    ``wanted`` only.  A wanted node whose start is hoisted from a ``start_node`` (an indented
    block's first statement, generated inside the block's own position record) makes that child
    wanted before the child is generated, so its start is there when the block's is taken."""

    __slots__ = ("_open", "starts", "wanted")

    def __init__(self, module: cst.Module, wanted: set[int]) -> None:
        super().__init__(default_indent=module.default_indent, default_newline=module.default_newline)
        self.wanted = wanted
        self.starts: dict[int, int] = {}
        self._open: dict[int, int] = {}  # a node cannot contain itself: one open record per node

    def before_codegen(self, node: cst.CSTNode) -> None:
        if id(node) in self.wanted:
            self._open[id(node)] = len(self.tokens)

    def after_codegen(self, node: cst.CSTNode) -> None:
        if id(node) in self.wanted:
            self.starts.setdefault(id(node), self._open.pop(id(node)))

    def pop_trailing_newline(self) -> None:
        pass  # as in _StartIndexCodegenState: the recorded indexes keep their meaning

    def record_syntactic_position(
        self,
        node: cst.CSTNode,
        *,
        start_node: cst.CSTNode | None = None,
        end_node: cst.CSTNode | None = None,
    ) -> _WantedStart | _NothingRecorded:
        if id(node) not in self.wanted:
            return _NOTHING_RECORDED
        if start_node is not None:
            self.wanted.add(id(start_node))
        return _WantedStart(self, node, start_node)


codegen.register_selective_state(_WantedStartsState)


class _WantedStart:
    """``_WantedStartsState.record_syntactic_position``'s context: ``_SyntacticPosition``'s
    start without the end."""

    __slots__ = ("node", "start", "start_node", "state")

    def __init__(self, state: _WantedStartsState, node: cst.CSTNode, start_node: cst.CSTNode | None) -> None:
        self.state, self.node, self.start_node = state, node, start_node

    def __enter__(self) -> None:
        self.start = len(self.state.tokens)

    def __exit__(self, *exc_info: object) -> None:
        starts = self.state.starts
        starts[id(self.node)] = starts[id(self.start_node)] if self.start_node is not None else self.start


def _positions_at_token_indexes(tokens: list[str], indexes: list[int]) -> dict[int, CodePosition]:
    """Line/column reached after the tokens before each index, counted as libcst does.

    ``\\r\\n``, ``\\r`` and ``\\n`` inside one token are one newline each; the column is
    the number of characters after the last newline. ``indexes`` must be sorted.
    """
    positions: dict[int, CodePosition] = {}
    line, column, previous = 1, 0, 0
    for index in indexes:
        chunk = _TOKEN_SEPARATOR.join(tokens[previous:index])
        separators = max(index - previous - 1, 0)
        if chunk.count(_TOKEN_SEPARATOR) != separators:
            return _positions_token_by_token(tokens, indexes)
        newlines = chunk.count("\n") + chunk.count("\r") - chunk.count("\r\n")
        if newlines:
            line += newlines
            tail = chunk[max(chunk.rfind("\n"), chunk.rfind("\r")) + 1 :]
            column = len(tail) - tail.count(_TOKEN_SEPARATOR)
        else:
            column += len(chunk) - separators
        positions[index] = CodePosition(line, column)
        previous = index
    return positions


def _positions_token_by_token(tokens: list[str], indexes: list[int]) -> dict[int, CodePosition]:
    """Exact fallback for code that contains the separator (libcst parses NUL inside strings)."""
    lines, columns = _position_table(tokens[: indexes[-1]])
    return {index: CodePosition(lines[index], columns[index]) for index in indexes}


def _position_table(tokens: list[str]) -> tuple[list[int], list[int]]:
    """Line and column before each token, and after the last one, counted as libcst does:
    ``\\r\\n``, ``\\r`` and ``\\n`` inside one token are one newline each (so a token ending
    in ``\\r`` and the next starting with ``\\n`` make two), and a newline resets the column."""
    lines, columns = [1] * (len(tokens) + 1), [0] * (len(tokens) + 1)
    line, column = 1, 0
    for index, token in enumerate(tokens):
        lines[index], columns[index] = line, column
        if "\n" in token or "\r" in token:
            line += token.count("\n") + token.count("\r") - token.count("\r\n")
            column = len(token) - max(token.rfind("\n"), token.rfind("\r")) - 1
        else:
            column += len(token)
    lines[-1], columns[-1] = line, column
    return lines, columns


class TreePositions:
    """Positions of any nodes of one module, from one code generation.

    For callers that learn which nodes they need one at a time (a codemod's messages naming
    other lines, then its findings; route-commit's flow analysis): the token indexes of every
    node are recorded once, and each question costs only the conversion of its indexes.
    ``range`` gives what ``PositionProvider`` gives (start and end); it builds a table of the
    position before every token on first use, so that each later answer is a lookup.
    """

    def __init__(self, module: cst.Module) -> None:
        self.module = module
        if not ENABLED:
            self._plain = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
            return
        self._state: _StartIndexCodegenState = _AllButTriviaState(module)
        self._complete = False  # does self._state hold every node's record?
        try:
            module._codegen(self._state)
        except KeyError:  # a hoisted record of a node left unrecorded: a form not foreseen
            self._record_all()
        self._lines: list[int] = []
        self._columns: list[int] = []

    def _record_all(self) -> bool:
        """Record every node, trivia included (once, when a node was not found): False if done."""
        if self._complete:
            return False
        self._state = _StartIndexCodegenState(self.module)
        self.module._codegen(self._state)
        self._lines, self._columns, self._complete = [], [], True
        return True

    def range(self, node: cst.CSTNode) -> CodeRange:
        """``PositionProvider``'s range of ``node``; KeyError for a node of another module."""
        if not ENABLED:
            return self._plain_range(node)
        try:
            start, end = self._state.starts[id(node)], self._state.ends[id(node)]
        except KeyError:
            if self._record_all():
                return self.range(node)
            raise KeyError(f"node is not part of the module: {node!r:.80}") from None
        if not self._lines:
            self._lines, self._columns = _position_table(self._state.tokens)
        lines, columns = self._lines, self._columns
        return CodeRange(CodePosition(lines[start], columns[start]), CodePosition(lines[end], columns[end]))

    def start(self, node: cst.CSTNode) -> CodePosition:
        return self.starts([node])[node]

    def starts(self, nodes: Iterable[cst.CSTNode]) -> dict[cst.CSTNode, CodePosition]:
        wanted = list(dict.fromkeys(nodes))
        if not ENABLED:
            return {node: self._plain_range(node).start for node in wanted}
        if not wanted:
            return {}
        try:
            indexes = {node: self._state.starts[id(node)] for node in wanted}
        except KeyError as missing:
            if self._record_all():
                return self.starts(wanted)
            raise KeyError(f"node is not part of the module: {missing}") from None
        at_index = _positions_at_token_indexes(self._state.tokens, sorted(set(indexes.values())))
        return {node: at_index[index] for node, index in indexes.items()}


    def _plain_range(self, node: cst.CSTNode) -> CodeRange:
        try:
            return self._plain[node]
        except KeyError:
            raise KeyError(f"node is not part of the module: {node!r:.80}") from None


_last_positions: list[TreePositions] = []


def positions_of(module: cst.Module) -> TreePositions:
    """The TreePositions of ``module``, shared by the codemods and findings of one tree."""
    if not _last_positions or _last_positions[0].module is not module:
        _last_positions[:] = [TreePositions(module)]
    return _last_positions[0]
