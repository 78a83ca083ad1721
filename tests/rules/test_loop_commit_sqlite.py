"""loop-commit on a real SQLite database: the batched loop leaves the same rows with one COMMIT.

Each case runs the original function and the one loop-commit produced from it, each on a
fresh database, counts the COMMITs the engine sees, and compares the rows left behind.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import queue
import threading
import textwrap
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import ForeignKey, create_engine, event, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship, sessionmaker

from codemods.rules.loop_commit import LoopCommit
from codemods.engine.pipeline import CHANGED
from tests.rules.helpers import run_codemod


class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(unique=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"))
    batch: Mapped[int] = mapped_column(default=0)
    children: Mapped[list[Item]] = relationship()


NAMESPACE = {"Item": Item, "Session": Session, "select": select}
ROWS = [{"name": f"item-{i}"} for i in range(6)]


@dataclasses.dataclass
class Run:
    result: Any
    rows: list[tuple[Any, ...]]
    commits: int


def rewritten(source: str, **options: Any) -> str:
    outcome = run_codemod(LoopCommit, source, options=options)
    assert outcome.status == CHANGED, outcome.findings
    return outcome.new_source.decode()


def load(source: str, name: str) -> Callable[..., Any]:
    namespace = dict(NAMESPACE)
    exec(compile(textwrap.dedent(source), f"<{name}>", "exec"), namespace)
    return namespace[name]


def counting_engine(url: str = "sqlite://") -> tuple[Engine, list[int]]:
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    commits: list[int] = []
    event.listen(engine, "commit", lambda connection: commits.append(1))
    return engine, commits


def table(engine: Engine) -> list[tuple[Any, ...]]:
    with Session(engine) as session:
        return [(i.id, i.name, i.parent_id, i.batch) for i in session.scalars(select(Item).order_by(Item.id))]


def run_sync(source: str, name: str, *args: Any, autoflush: bool = True) -> Run:
    engine, commits = counting_engine()
    function = load(source, name)
    with sessionmaker(engine, autoflush=autoflush)() as session:
        result = function(session, *args)
    return Run(result, table(engine), len(commits))


def assert_same_rows_one_commit(source: str, name: str, *args: Any, original_commits: int, **options: Any) -> None:
    before = run_sync(source, name, *copy.deepcopy(args))
    after = run_sync(rewritten(source, **options), name, *copy.deepcopy(args))
    assert before.commits == original_commits
    assert after.commits == 1
    assert after.rows == before.rows
    assert after.result == before.result
    assert before.rows, "the case must write something to compare"


def test_for_loop() -> None:
    source = """
        def import_rows(session, rows):
            created = 0
            for row in rows:
                session.add(Item(name=row["name"]))
                session.commit()
                created += 1
            return created
        """
    assert_same_rows_one_commit(source, "import_rows", ROWS, original_commits=len(ROWS))


def test_continue_before_the_commit_and_for_else() -> None:
    source = """
        def import_rows(session, rows):
            skipped = []
            for row in rows:
                if row["name"].endswith(("1", "4")):
                    skipped.append(row["name"])
                    continue
                session.add(Item(name=row["name"]))
                session.commit()
            else:
                skipped.append("done")
            return skipped
        """
    assert_same_rows_one_commit(source, "import_rows", ROWS, original_commits=len(ROWS) - 2)


def declined_source(source: str) -> str:
    """The source loop-commit leaves as it is (with a finding): what runs after the codemod."""
    outcome = run_codemod(LoopCommit, source)
    assert outcome.status != CHANGED, outcome.new_source
    assert outcome.findings and not any(f.fixable for f in outcome.findings)
    return textwrap.dedent(source)


def names_in(engine: Engine) -> list[str]:
    with Session(engine) as session:
        return list(session.scalars(select(Item.name).order_by(Item.id)))


def test_queue_consumer_still_commits_every_item_as_it_arrives(tmp_path) -> None:
    """A thread feeds the consumer one item at a time and waits for each to be committed."""
    source = """
        def consume(session, inbox):
            while True:
                name = inbox.get()
                if name is None:
                    break
                session.add(Item(name=name))
                session.commit()
        """
    engine, _ = counting_engine(f"sqlite:///{tmp_path / 'queue.db'}")
    committed = threading.Event()
    inbox: queue.Queue[str | None] = queue.Queue()
    seen: list[list[str]] = []

    def feed() -> None:
        for index in range(4):
            inbox.put(f"item-{index}")
            assert committed.wait(timeout=10), "the consumer did not commit the item it received"
            committed.clear()
            seen.append(names_in(engine))
        inbox.put(None)

    feeder = threading.Thread(target=feed)
    with Session(engine) as session:
        event.listen(session, "after_commit", lambda _: committed.set())
        feeder.start()
        load(declined_source(source), "consume")(session, inbox)
    feeder.join(timeout=10)
    assert seen == [[f"item-{i}" for i in range(n)] for n in range(1, 5)]


class FakePayments:
    """A payment API that fails on its third charge, like a card declined half-way."""

    def __init__(self) -> None:
        self.charged: list[str] = []

    def charge(self, name: str) -> None:
        if len(self.charged) == 2:
            raise RuntimeError("card declined")
        self.charged.append(name)


def test_payment_loop_keeps_every_charge_recorded_when_it_fails_half_way() -> None:
    source = """
        def settle(session, payments):
            for item in session.scalars(select(Item).order_by(Item.id)).all():
                payments.charge(item.name)
                item.batch = 1
                session.commit()
        """
    engine, commits = counting_engine()
    with Session(engine) as session:
        session.add_all([Item(name=f"order-{i}") for i in range(4)])
        session.commit()
    payments = FakePayments()
    with Session(engine) as session, pytest.raises(RuntimeError, match="declined"):
        load(declined_source(source), "settle")(session, payments)
    paid = [name for _, name, _, batch in table(engine) if batch == 1]
    assert paid == payments.charged == ["order-0", "order-1"]
    assert len(commits) == 1 + 2  # the setup, then one per charge, in order


def test_bulk_chunks_still_commit_chunk_by_chunk() -> None:
    source = """
        def load_chunks(session, chunks):
            for chunk in chunks:
                session.bulk_insert_mappings(Item, chunk)
                session.commit()
        """
    chunks = [[{"name": f"c{c}-{i}"} for i in range(3)] for c in range(3)]
    run = run_sync(declined_source(source), "load_chunks", chunks)
    assert run.commits == 3
    assert [row[1] for row in run.rows] == [row["name"] for chunk in chunks for row in chunk]


def test_nested_loops_updating_loaded_rows() -> None:
    source = """
        def renumber(session, batches):
            for number, names in enumerate(batches, start=1):
                for name in names:
                    session.add(Item(name=name, batch=number))
                    session.commit()
        """
    batches = [["a", "b"], ["c"], ["d", "e", "f"]]
    assert_same_rows_one_commit(source, "renumber", batches, original_commits=6)


def test_flush_mode_keeps_generated_ids_for_later_iterations() -> None:
    source = """
        def chain(session, rows):
            previous = None
            for row in rows:
                node = Item(name=row["name"], parent_id=previous.id if previous else None)
                session.add(node)
                session.commit()
                previous = node
            return previous.id
        """
    # commit mode refuses this loop (the ids would be None); flush mode keeps them per iteration
    assert not any(f.fixable for f in run_codemod(LoopCommit, source).findings)
    assert_same_rows_one_commit(source, "chain", ROWS, original_commits=len(ROWS), mode="flush")
    parents = [row[2] for row in run_sync(rewritten(source, mode="flush"), "chain", ROWS).rows]
    assert parents == [None, 1, 2, 3, 4, 5]


def test_flush_mode_refresh_after_the_flush_returns_the_same_ids() -> None:
    source = """
        def create_items(session, rows):
            created = []
            for row in rows:
                item = Item(name=row["name"])
                session.add(item)
                session.commit()
                session.refresh(item)
                created.append(item.id)
            return created
        """
    assert_same_rows_one_commit(source, "create_items", ROWS, original_commits=len(ROWS), mode="flush")


UPSERT = """
    def upsert(session, rows):
        for row in rows:
            item = session.scalar(select(Item).where(Item.name == row["name"]))
            if item is None:
                session.add(Item(name=row["name"], batch=row["batch"]))
            else:
                item.batch = row["batch"]
            session.commit()
    """
UPSERT_ROWS = [{"name": "a", "batch": 1}, {"name": "b", "batch": 1}, {"name": "a", "batch": 2}]


def test_flush_mode_keeps_earlier_rows_visible_without_autoflush() -> None:
    before = run_sync(UPSERT, "upsert", UPSERT_ROWS, autoflush=False)
    after = run_sync(rewritten(UPSERT, mode="flush"), "upsert", UPSERT_ROWS, autoflush=False)
    assert (before.commits, after.commits) == (3, 1)
    assert after.rows == before.rows == [(1, "a", None, 2), (2, "b", None, 1)]


def test_why_commit_mode_declines_reads_in_the_loop() -> None:
    """Batched without a flush, the upsert misses its own earlier row when autoflush is off."""
    assert not any(f.fixable for f in run_codemod(LoopCommit, UPSERT).findings)
    batched_without_flush = """
        def upsert(session, rows):
            for row in rows:
                item = session.scalar(select(Item).where(Item.name == row["name"]))
                if item is None:
                    session.add(Item(name=row["name"], batch=row["batch"]))
                else:
                    item.batch = row["batch"]
            session.commit()
        """
    with pytest.raises(IntegrityError, match="UNIQUE constraint failed"):
        run_sync(batched_without_flush, "upsert", UPSERT_ROWS, autoflush=False)


@pytest.mark.parametrize("mode", ["commit", "flush"])
def test_why_collections_read_in_the_loop_are_declined(mode: str) -> None:
    """Batched, the collection loaded in the first iteration is never reloaded: the cap is missed."""
    source = """
        def fill(session, names):
            parent = Item(name="parent")
            session.add(parent)
            session.commit()
            for name in names:
                if len(parent.children) >= 2:
                    break
                session.add(Item(name=name, parent_id=parent.id))
                session.commit()
        """
    assert not any(f.fixable for f in run_codemod(LoopCommit, source, options={"mode": mode}).findings)
    batched = source.replace("                session.commit()\n", "                session.flush()\n")
    batched = batched.rstrip() + "\n            session.commit()\n"
    assert batched.count("session.flush()") == 1 and batched.count("session.commit()") == 2
    names = ["a", "b", "c", "d"]
    assert len(run_sync(source, "fill", names).rows) == 3
    assert len(run_sync(batched, "fill", names).rows) == 5


# -- async: AsyncSession over aiosqlite ---------------------------------------------------------


async def _run_async(source: str, name: str, rows: list[dict[str, Any]]) -> Run:
    # sqlalchemy[asyncio] (greenlet) and aiosqlite: test extras, never skipped
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

    engine = create_async_engine("sqlite+aiosqlite://")
    commits: list[int] = []
    event.listen(engine.sync_engine, "commit", lambda connection: commits.append(1))
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    commits.clear()  # the schema's own transaction
    function = load(source, name)
    async with async_sessionmaker(engine)() as session:
        result = await function(session, rows)
    async with engine.connect() as connection:
        found = (await connection.execute(select(Item.id, Item.name).order_by(Item.id))).all()
    await engine.dispose()
    return Run(result, [tuple(r) for r in found], len(commits))


async def _records(rows: list[dict[str, Any]]):
    for row in rows:
        await asyncio.sleep(0)
        yield row


def test_async_for_with_awaited_commit() -> None:
    source = """
        async def ingest(session, rows):
            count = 0
            async for record in stream(rows):
                session.add(Item(name=record["name"]))
                await session.commit()
                count += 1
            return count
        """
    NAMESPACE["stream"] = _records
    try:
        before = asyncio.run(_run_async(source, "ingest", ROWS))
        after = asyncio.run(_run_async(rewritten(source), "ingest", ROWS))
    finally:
        del NAMESPACE["stream"]
    assert (before.commits, after.commits) == (len(ROWS), 1)
    assert after.rows == before.rows and after.result == before.result == len(ROWS)
