"""The ``loop-commit`` codemod: commit once after a loop instead of once per iteration."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import libcst as cst
from libcst.metadata import MetadataWrapper

from codemods.base import Codemod, FileContext, Option
from codemods.analysis import precheck
from codemods.analysis.sessions import INDEX_MARKERS as SESSION_INDEX_MARKERS
from codemods.analysis.sessions import (
    SessionFacts,
    SessionIndex,
    DEFAULT_SESSION_FACTORIES,
    DEFAULT_SESSION_NAMES,
    SessionMatcher,
)
from codemods.analysis.session_index import build_session_index, session_facts
from codemods.speedups.positions import positions_of
from codemods.analysis.precheck import SyntaxFacts
from codemods.rules.loop_commit.hazards import DEFAULT_CHUNK_WORDS, DEFAULT_EFFECT_CALLS

if TYPE_CHECKING:
    from codemods.rules.loop_commit.planner import Move


class LoopCommit(Codemod):
    """Move a commit made in every iteration of a loop to after the loop.

    What it does:
        When the last statement of a ``for``, ``async for`` or ``while`` body is
        ``X.commit()`` (or ``await X.commit()``) on a database session, and the loop is safe
        to batch, the commit is moved right after the loop (after its ``else:`` clause), with
        the comments on and above its line.  In nested loops it moves out as far as it stays
        safe.  Statements that only count, collect or log (``created += 1``,
        ``ids.append(row_id)``, ``logger.info("saved %s", n)``, ``continue``) may follow the
        commit in the body; they stay where they are.

        With ``mode = "flush"`` the body keeps an ``X.flush()`` where the commit was, so
        database-generated ids and rows of earlier iterations stay visible inside the loop.

        Sessions are recognised as in every auditfix codemod (options ``session-names`` and
        ``session-factories``): ``db.session``, ``session``, ``self.session``, ``self.db``,
        ``db``, names bound to ``Session(...)``, ``SessionLocal()``, ``sessionmaker(...)()``,
        ``get_session()`` or ``with``/``async with`` such a call, and parameters annotated
        ``Session`` / ``AsyncSession`` (also in ``Optional``, ``| None``, ``Annotated``).
        ``git`` commits, ``sqlite3`` connections and other ``.commit()`` calls are left alone.

        The per-item commit is a checkpoint, and the loop is left as it is with a finding, when
        the loop may never end (``while True`` / ``while 1``, a ``while`` whose condition is an
        event, flag or attribute the body does not change such as ``while not stop.is_set()``,
        a polling loop that sleeps, ``for x in iter(queue.get, None)``): the commit after it would
        never run; when the body has an effect outside the database (network, mail, queue, task,
        payment, notification, subprocess or file calls: ``requests.*``, ``*.send*``,
        ``*.delay``, ``*.publish``, ``*.charge*``, ``open(...).write``; option ``effect-calls``):
        a crash half-way would leave cards charged or mails sent with no row saying so; and when
        the commit closes a deliberate chunk (``bulk_save_objects``/``bulk_insert_mappings``,
        ``execute(insert(...), rows)``, a loop over chunks, batches or pages, option
        ``chunk-words``, or over ``range(0, n, size)``): merging them makes one unbounded
        transaction.

        The loop is also left as it is, with a finding that says why, when its body has a ``return``,
        ``raise`` or ``yield`` (the work of earlier iterations would never be committed),
        rolls back, closes or begins transactions in the body (deliberate per-item
        isolation), commits conditionally or more than once per iteration, rebinds the session
        or opens a new one per iteration, refreshes or expires objects, counts or iterates a
        collection of an object that outlives the iteration (``len(job.applications)``: the
        commit's expiry reloaded it every time), or runs statements after the commit that may
        depend on it.  In the default ``commit`` mode it also declines
        when the loop reads through the session (``query``, ``get``, ``execute(select(...))``,
        ``merge``, ``Model.query``): with ``autoflush=False`` those reads would miss the rows of
        earlier iterations; and when an object added in one iteration is used in a later one
        (its generated id only exists after a flush).  Use ``mode = "flush"`` for those loops.

    Why is this bad?
        Each ``commit()`` is a transaction: a round trip, a write to the database log and,
        with the default ``expire_on_commit``, a reload of every object the loop touches next.
        Committing per item makes bulk work one to two orders of magnitude slower, and a
        failure half-way leaves half of the batch in the database.

    Example:
        ```python
        for row in rows:
            session.add(Candidate(**row))
            session.commit()
            created += 1
        ```

    Use instead:
        ```python
        for row in rows:
            session.add(Candidate(**row))
            created += 1
        session.commit()
        ```

    Fix safety:
        The database ends in the same state when the loop completes.  What changes: the batch
        is all or nothing (an exception in iteration *k* no longer leaves iterations 1..*k*-1
        committed), other connections see the rows only when the loop ends, and when the loop
        runs zero times the commit after it still runs, committing work pending from before
        the loop (a commit with nothing pending does nothing).  Work skipped by a ``continue``
        before the commit is committed after the loop, as the next iteration's commit did.
        Iterating a query result of the same session is fine: the original expired those
        objects on every commit, the batched loop keeps them loaded.

    Limitations:
        Only a commit written in the loop body, as its last statement (bar counting and
        logging statements), is moved; a commit inside ``if``, ``try`` or ``with`` is reported,
        not moved, and a commit inside a helper the loop calls is not seen.  Reads hidden in
        called functions or lazy-loaded relationships are not detected: in ``commit`` mode a
        loop whose body calls helpers that query the same session relies on ``autoflush``
        (SQLAlchemy's default) to see earlier iterations.  Collections are only checked on
        objects bound outside the loop: when the iterable holds the same object twice, a
        collection it read in its first iteration is not reloaded the second time.  A second
        commit right after the loop is not merged with the moved one.
    """

    name: ClassVar[str] = "loop-commit"
    summary: ClassVar[str] = "Commit once after a loop instead of once per iteration"
    safety: ClassVar[str] = (
        "The loop's work becomes one transaction: all or nothing if an iteration raises, visible to "
        "other connections only after the loop, and committed even when the loop runs zero times."
    )
    markers: ClassVar[tuple[bytes, ...]] = (b".commit(",)
    options: ClassVar[tuple[Option, ...]] = (
        Option(
            "mode",
            "commit",
            'what stays in the loop body: nothing ("commit") or a flush per iteration ("flush")',
            str,
            choices=("commit", "flush"),
        ),
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
            "effect-calls",
            list(DEFAULT_EFFECT_CALLS),
            "calls with an effect outside the database (network, mail, queues, tasks, payments, subprocesses, "
            "files; fnmatch patterns on the called name): a loop making one keeps its per-item commit",
            list,
            item_kind=str,
        ),
        Option(
            "chunk-words",
            list(DEFAULT_CHUNK_WORDS),
            "words in a loop variable or iterable name that say the loop commits chunk by chunk",
            list,
            item_kind=str,
        ),
    )

    @classmethod
    def may_change(cls, facts: SyntaxFacts, options: Mapping[str, Any]) -> bool:
        return facts.commit_in_loop()  # a .commit() call on a line of some for or while loop

    # -- the whole-tree index: session aliases, module sessions and factories of other modules --

    index_markers = SESSION_INDEX_MARKERS

    @classmethod
    def index_file(cls, path: str, source: bytes) -> SessionFacts | None:
        tree = precheck.parse_shared(source)
        return session_facts(tree) if tree is not None else None

    @classmethod
    def build_index(cls, facts: Mapping[str, Any], options: Mapping[str, Any]) -> SessionIndex:
        return build_session_index(facts)

    def __init__(self, file: FileContext) -> None:
        super().__init__(file)
        self._moves: dict[int, Move] = {}  # id(original commit statement) -> its move
        self._after: dict[int, list[Move]] = {}  # id(original target loop) -> commits placed after it
        self._wrapper: MetadataWrapper | None = None

    @contextlib.contextmanager
    def resolve(self, wrapper: MetadataWrapper) -> Iterator[None]:
        """Keep the wrapper's tree, to compute positions only if two lines must be compared (the
        first jump of an else clause); a message's lines are marks (``line_mark``) that the
        findings' positioning resolves.  positions_of shares those positions with the findings.
        """
        self._wrapper = wrapper
        with super().resolve(wrapper):
            yield

    def visit_Module(self, node: cst.Module) -> bool:
        index = self.file.index if isinstance(self.file.index, SessionIndex) else None
        matcher = SessionMatcher(self.option("session-names"), self.option("session-factories")).for_module(
            node, index, self.file.module_name, self.file.is_package_init
        )
        # The planner is imported only for a file the syntax pre-check lets through: a run asks
        # the pre-check of files loop-commit never rewrites (a pre-commit run on a route file).
        from codemods.rules.loop_commit.planner import Planner

        planner = Planner(
            matcher,
            flush=self.option("mode") == "flush",
            line_of=self.line_mark,
            line_number=self._line_number,
            effect_calls=self.option("effect-calls"),
            chunk_words=self.option("chunk-words"),
        )
        planner.plan(node)
        for node_, message in planner.declines:
            self.report(node_, message, fixable=False)
        for move in planner.moves():
            self._moves[id(move.tail.statement)] = move
            self._after.setdefault(id(move.target), []).append(move)
            self.report(move.tail.statement, self._describe(move))
        return bool(self._moves)

    def _line_number(self, node: cst.CSTNode) -> int:
        assert self._wrapper is not None, "only called while the wrapper visits this codemod"
        return positions_of(self._wrapper.module).start(node).line

    def _describe(self, move: Move) -> str:
        where = "the loop" if move.levels == 1 else f"{move.levels} nested loops"
        if self.option("mode") == "flush":
            return f"flush per iteration, one commit after {where}"
        return f"one commit after {where} instead of one per iteration"

    # -- rewriting --------------------------------------------------------------------------

    def leave_IndentedBlock(
        self, original_node: cst.IndentedBlock, updated_node: cst.IndentedBlock
    ) -> cst.IndentedBlock:
        if not self._moves:
            return updated_node
        return updated_node.with_changes(body=self._rewrite_statements(original_node.body, updated_node.body))

    def leave_Module(self, original_node: cst.Module, updated_node: cst.Module) -> cst.Module:
        if not self._moves:
            return updated_node
        return updated_node.with_changes(body=self._rewrite_statements(original_node.body, updated_node.body))

    def leave_SimpleStatementSuite(
        self, original_node: cst.SimpleStatementSuite, updated_node: cst.SimpleStatementSuite
    ) -> cst.SimpleStatementSuite:
        if not any(id(small) in self._moves for small in original_node.body):
            return updated_node
        return updated_node.with_changes(body=self._rewrite_small(original_node.body, updated_node.body))

    def _rewrite_statements(
        self, originals: Sequence[cst.BaseStatement], updated: Sequence[cst.BaseStatement]
    ) -> list[cst.BaseStatement]:
        body: list[cst.BaseStatement] = []
        for original, statement in zip(originals, updated, strict=True):
            if isinstance(original, cst.SimpleStatementLine) and isinstance(statement, cst.SimpleStatementLine):
                body.extend(self._rewrite_line(original, statement))
            else:
                body.append(statement)
            for move in self._after.get(id(original), ()):
                body.append(self._moved_commit(move))
        return body

    def _rewrite_line(
        self, original: cst.SimpleStatementLine, updated: cst.SimpleStatementLine
    ) -> list[cst.SimpleStatementLine]:
        if not any(id(small) in self._moves for small in original.body):
            return [updated]
        small = self._rewrite_small(original.body, updated.body)
        if not small:
            return []  # the whole line moved, comments included
        if len(original.body) == 1:  # flush mode: the flush stays, the comments go with the commit
            blank_lines = [line for line in updated.leading_lines if line.comment is None]
            return [updated.with_changes(body=small, leading_lines=blank_lines, trailing_whitespace=_NEWLINE)]
        return [updated.with_changes(body=small)]

    def _rewrite_small(
        self, originals: Sequence[cst.BaseSmallStatement], updated: Sequence[cst.BaseSmallStatement]
    ) -> list[cst.BaseSmallStatement]:
        body: list[cst.BaseSmallStatement] = []
        for original, small in zip(originals, updated, strict=True):
            if id(original) not in self._moves:
                body.append(small)
            elif self.option("mode") == "flush":
                body.append(_flush_instead(small))
            elif len(originals) > 1 and small is updated[-1] and body:
                body[-1] = body[-1].with_changes(semicolon=small.semicolon)
        return body

    def _moved_commit(self, move: Move) -> cst.SimpleStatementLine:
        statement = move.tail.statement
        line = move.tail.line
        if isinstance(line, cst.SimpleStatementLine) and len(line.body) == 1:
            return line  # the original line, with its comments
        return cst.SimpleStatementLine(body=[statement.with_changes(semicolon=cst.MaybeSentinel.DEFAULT)])


_NEWLINE = cst.TrailingWhitespace()


def _flush_instead(statement: cst.BaseSmallStatement) -> cst.BaseSmallStatement:
    """``X.flush()`` (awaited like the commit was) in place of ``X.commit()``."""
    assert isinstance(statement, cst.Expr)
    value = statement.value
    call = value.expression if isinstance(value, cst.Await) else value
    assert isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute)
    flush = call.with_changes(func=call.func.with_changes(attr=cst.Name("flush")))
    new_value = value.with_changes(expression=flush) if isinstance(value, cst.Await) else flush
    return statement.with_changes(value=new_value)
