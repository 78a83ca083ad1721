"""loop-commit: a commit in every iteration of a loop moves to after the loop."""

from __future__ import annotations

import pytest

from codemods.rules.loop_commit import LoopCommit
from tests.rules.helpers import assert_noop, assert_rewrite, declined, run_codemod

FLUSH = {"mode": "flush"}


def rewrite(before: str, after: str, **kwargs):
    return assert_rewrite(LoopCommit, before, after, **kwargs)


def noop(source: str, **kwargs):
    return assert_noop(LoopCommit, source, **kwargs)


def decline_reasons(source: str, **kwargs) -> list[str]:
    return declined(noop(source, **kwargs))


# -- rewrites -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "after"),
    [
        pytest.param(
            """
            def import_rows(rows):
                for row in rows:
                    session.add(Candidate(**row))
                    session.commit()
                return len(rows)
            """,
            """
            def import_rows(rows):
                for row in rows:
                    session.add(Candidate(**row))
                session.commit()
                return len(rows)
            """,
            id="for-loop",
        ),
        pytest.param(
            """
            async def ingest(session: AsyncSession, stream):
                async for record in stream:
                    session.add(Order(**record))
                    await session.commit()
            """,
            """
            async def ingest(session: AsyncSession, stream):
                async for record in stream:
                    session.add(Order(**record))
                await session.commit()
            """,
            id="async-for-awaited-commit",
        ),
        pytest.param(
            """
            def drain(queue):
                while queue:
                    db.session.add(Event(payload=queue.pop()))
                    db.session.commit()
            """,
            """
            def drain(queue):
                while queue:
                    db.session.add(Event(payload=queue.pop()))
                db.session.commit()
            """,
            id="while-loop-flask-sqlalchemy",
        ),
        pytest.param(
            """
            def import_rows(rows):
                for row in rows:
                    session.add(Candidate(**row))
                    session.commit()
                else:
                    logger.info("all rows read")
                done()
            """,
            """
            def import_rows(rows):
                for row in rows:
                    session.add(Candidate(**row))
                else:
                    logger.info("all rows read")
                session.commit()
                done()
            """,
            id="for-else-commit-after-else",
        ),
        pytest.param(
            """
            def import_rows(rows):
                created = 0
                for row in rows:
                    if not row:
                        continue
                    session.add(Candidate(**row))
                    session.commit()
                    created += 1
                    names.append(row["name"])
                    logger.info("imported %d", created)
                return created
            """,
            """
            def import_rows(rows):
                created = 0
                for row in rows:
                    if not row:
                        continue
                    session.add(Candidate(**row))
                    created += 1
                    names.append(row["name"])
                    logger.info("imported %d", created)
                session.commit()
                return created
            """,
            id="bookkeeping-after-the-commit-stays-continue-before-it",
        ),
        pytest.param(
            """
            def match(jobs, candidates):
                for job in jobs:
                    for candidate in candidates:
                        db.session.add(Application(candidate_id=candidate.id, job_id=job.id))
                        db.session.commit()
                        created += 1
                print("done")
            """,
            """
            def match(jobs, candidates):
                for job in jobs:
                    for candidate in candidates:
                        db.session.add(Application(candidate_id=candidate.id, job_id=job.id))
                        created += 1
                db.session.commit()
                print("done")
            """,
            id="nested-loops-moved-out-of-both",
        ),
        pytest.param(
            """
            def match(jobs, candidates):
                for job in jobs:
                    if job.closed:
                        return
                    for candidate in candidates:
                        db.session.add(Application(candidate_id=candidate.id, job_id=job.id))
                        db.session.commit()
            """,
            """
            def match(jobs, candidates):
                for job in jobs:
                    if job.closed:
                        return
                    for candidate in candidates:
                        db.session.add(Application(candidate_id=candidate.id, job_id=job.id))
                    db.session.commit()
            """,
            id="nested-loops-stops-where-outer-is-unsafe",
        ),
        pytest.param(
            """
            def import_rows(rows):
                for row in rows:
                    session.add(Candidate(**row))

                    # persist the row
                    session.commit()  # one transaction per row
                    # counting
                    count += 1
                return count
            """,
            """
            def import_rows(rows):
                for row in rows:
                    session.add(Candidate(**row))
                    # counting
                    count += 1

                # persist the row
                session.commit()  # one transaction per row
                return count
            """,
            id="comments-travel-with-the-commit",
        ),
        pytest.param(
            """
            class Importer:
                def run(self, rows):
                    for row in rows:
                        self.session.add(Candidate(**row))
                        self.session.commit()
            """,
            """
            class Importer:
                def run(self, rows):
                    for row in rows:
                        self.session.add(Candidate(**row))
                    self.session.commit()
            """,
            id="self-session",
        ),
        pytest.param(
            """
            def run(engine, rows):
                with Session(engine) as s:
                    for row in rows:
                        s.add(Candidate(**row))
                        s.commit()
            """,
            """
            def run(engine, rows):
                with Session(engine) as s:
                    for row in rows:
                        s.add(Candidate(**row))
                    s.commit()
            """,
            id="with-session-around-the-loop",
        ),
        pytest.param(
            """
            async def run(rows):
                async with AsyncSessionLocal() as s:
                    for row in rows:
                        s.add(Candidate(**row))
                        await s.commit()
            """,
            """
            async def run(rows):
                async with AsyncSessionLocal() as s:
                    for row in rows:
                        s.add(Candidate(**row))
                    await s.commit()
            """,
            id="async-with-session-around-the-loop",
        ),
        pytest.param(
            """
            def run(db: Annotated[Session, Depends(get_db)], rows):
                for row in rows: db.add(Item(**row)); db.commit()
            """,
            """
            def run(db: Annotated[Session, Depends(get_db)], rows):
                for row in rows: db.add(Item(**row))
                db.commit()
            """,
            id="one-line-loop-body",
        ),
        pytest.param(
            """
            def run(rows):
                for row in rows:
                    session.add(Item(**row)); session.commit()
            """,
            """
            def run(rows):
                for row in rows:
                    session.add(Item(**row))
                session.commit()
            """,
            id="commit-after-a-semicolon",
        ),
        pytest.param(
            """
            for row in ROWS:
                session.add(Item(**row))
                session.commit()
            """,
            """
            for row in ROWS:
                session.add(Item(**row))
            session.commit()
            """,
            id="module-level-script",
        ),
        pytest.param(
            """
            async def import_orders(session: AsyncSession, payloads):
                orders = []
                for payload in payloads:
                    order = Order(ref=payload.ref)
                    order.lines = [Line(sku=line.sku) for line in payload.lines]
                    session.add(order)
                    await session.commit()
                    orders.append(order)
                return [order.id for order in orders]
            """,
            """
            async def import_orders(session: AsyncSession, payloads):
                orders = []
                for payload in payloads:
                    order = Order(ref=payload.ref)
                    order.lines = [Line(sku=line.sku) for line in payload.lines]
                    session.add(order)
                    orders.append(order)
                await session.commit()
                return [order.id for order in orders]
            """,
            id="objects-used-after-the-loop-get-their-ids-from-the-moved-commit",
        ),
        pytest.param(
            """
            def run(rows):
                for row in rows:
                    session.execute(insert(Item).values(**row))
                    session.commit()
            """,
            """
            def run(rows):
                for row in rows:
                    session.execute(insert(Item).values(**row))
                session.commit()
            """,
            id="execute-of-an-insert-is-a-write",
        ),
        pytest.param(
            """
            def run(rows):
                for row in rows:
                    db.session.execute(text("UPDATE items SET seen = 1 WHERE id = :id"), row)
                    db.session.commit()
            """,
            """
            def run(rows):
                for row in rows:
                    db.session.execute(text("UPDATE items SET seen = 1 WHERE id = :id"), row)
                db.session.commit()
            """,
            id="execute-of-textual-update-is-a-write",
        ),
        pytest.param(
            """
            def import_some(rows, limit):
                done = 0
                for row in rows:
                    session.add(Item(**row))
                    session.commit()
                    done += 1
                    if done >= limit:
                        break
                    elif done % 100 == 0:
                        logger.info("%d rows", done)
            """,
            """
            def import_some(rows, limit):
                done = 0
                for row in rows:
                    session.add(Item(**row))
                    done += 1
                    if done >= limit:
                        break
                    elif done % 100 == 0:
                        logger.info("%d rows", done)
                session.commit()
            """,
            id="plain-if-with-break-after-the-commit",
        ),
        pytest.param(
            """
            def touch(job, candidates):
                for candidate in candidates:
                    job.last_seen = candidate.name
                    session.commit()
                session.add(job)
            """,
            """
            def touch(job, candidates):
                for candidate in candidates:
                    job.last_seen = candidate.name
                session.commit()
                session.add(job)
            """,
            id="attribute-stores-on-an-added-object-are-not-reads",
        ),
        pytest.param(
            """
            def deactivate(session: Session):
                for user in session.scalars(select(User).where(User.active)).all():
                    user.active = False
                    session.commit()
            """,
            """
            def deactivate(session: Session):
                for user in session.scalars(select(User).where(User.active)).all():
                    user.active = False
                session.commit()
            """,
            id="iterating-a-query-of-the-same-session",
        ),
    ],
)
def test_rewrite(before: str, after: str) -> None:
    rewrite(before, after)


@pytest.mark.parametrize(
    ("before", "after"),
    [
        pytest.param(
            """
            def import_rows(rows):
                for row in rows:
                    # save it
                    session.add(Candidate(**row))
                    session.commit()  # per row
                    count += 1
            """,
            """
            def import_rows(rows):
                for row in rows:
                    # save it
                    session.add(Candidate(**row))
                    session.flush()
                    count += 1
                session.commit()  # per row
            """,
            id="flush-in-place-commit-after",
        ),
        pytest.param(
            """
            async def upsert(session: AsyncSession, records):
                for record in records:
                    item = await session.scalar(select(Item).where(Item.sku == record["sku"]))
                    if item is None:
                        session.add(Item(**record))
                    await session.commit()
            """,
            """
            async def upsert(session: AsyncSession, records):
                for record in records:
                    item = await session.scalar(select(Item).where(Item.sku == record["sku"]))
                    if item is None:
                        session.add(Item(**record))
                    await session.flush()
                await session.commit()
            """,
            id="flush-mode-allows-reads-in-the-loop",
        ),
        pytest.param(
            """
            def chain(rows):
                previous = None
                for row in rows:
                    node = Node(parent_id=previous.id if previous else None)
                    session.add(node)
                    session.commit()
                    previous = node
            """,
            """
            def chain(rows):
                previous = None
                for row in rows:
                    node = Node(parent_id=previous.id if previous else None)
                    session.add(node)
                    session.flush()
                    previous = node
                session.commit()
            """,
            id="flush-mode-keeps-generated-ids",
        ),
        pytest.param(
            """
            def match(jobs, candidates):
                for job in jobs:
                    for candidate in candidates:
                        session.add(Application(candidate=candidate, job=job)); session.commit()
            """,
            """
            def match(jobs, candidates):
                for job in jobs:
                    for candidate in candidates:
                        session.add(Application(candidate=candidate, job=job)); session.flush()
                session.commit()
            """,
            id="flush-mode-nested-loops",
        ),
        pytest.param(
            """
            def create_items(db: Session, payloads):
                created = []
                for payload in payloads:
                    item = Item(**payload.model_dump())
                    db.add(item)
                    db.commit()
                    db.refresh(item)
                    created.append(item.id)
                return created
            """,
            """
            def create_items(db: Session, payloads):
                created = []
                for payload in payloads:
                    item = Item(**payload.model_dump())
                    db.add(item)
                    db.flush()
                    db.refresh(item)
                    created.append(item.id)
                db.commit()
                return created
            """,
            id="flush-mode-refresh-and-generated-id-after-the-flush",
        ),
    ],
)
def test_rewrite_flush_mode(before: str, after: str) -> None:
    rewrite(before, after, options=FLUSH)


def test_configured_sqlite3_connection_is_a_session() -> None:
    rewrite(
        """
        def store(conn, rows):
            cursor = conn.cursor()
            for row in rows:
                cursor.execute("insert into t values (?)", row)
                conn.commit()
        """,
        """
        def store(conn, rows):
            cursor = conn.cursor()
            for row in rows:
                cursor.execute("insert into t values (?)", row)
            conn.commit()
        """,
        options={"session-names": ["conn"]},
    )


def test_the_fixable_finding_names_the_commit_line_and_target_loop() -> None:
    outcome = rewrite(
        """
        def match(jobs, candidates):
            for job in jobs:
                for candidate in candidates:
                    db.session.add(Application(candidate_id=candidate.id, job_id=job.id))
                    db.session.commit()
        """,
        """
        def match(jobs, candidates):
            for job in jobs:
                for candidate in candidates:
                    db.session.add(Application(candidate_id=candidate.id, job_id=job.id))
            db.session.commit()
        """,
    )
    [finding] = outcome.findings
    assert (finding.line, finding.fixable) == (6, True)
    assert finding.message == "one commit after 2 nested loops instead of one per iteration"


# -- declined: the rewrite could lose or change committed work ---------------------------------------


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        # -- loops that may never end: the commit after them would never run --
        pytest.param(
            """
            def drain(queue):
                while True:
                    item = queue.get()
                    if item is None:
                        break
                    db.add(Event(payload=item))
                    db.commit()
            """,
            "not batched, while True only ends at a break (a sentinel): until then nothing would be committed",
            id="while-true-with-break",
        ),
        pytest.param(
            """
            def worker(inbox):
                while 1:
                    session.add(Event(payload=inbox.get()))
                    session.commit()
            """,
            "not batched, while 1 may never end: the commit after it would never run",
            id="while-1-worker",
        ),
        pytest.param(
            """
            def consume(stop, inbox):
                while not stop.is_set():
                    payload = inbox.get(timeout=1)
                    session.add(Event(payload=payload))
                    session.commit()
            """,
            "not batched, while not stop.is_set(): the body does not change stop, so the loop may only end "
            "when another thread or a signal says so, and a crash would lose everything since it started",
            id="while-event-not-set",
        ),
        pytest.param(
            """
            class Worker:
                def run(self):
                    while self.running:
                        job = self.inbox.get()
                        self.session.add(Result(job=job))
                        self.session.commit()
            """,
            "not batched, while self.running: the body does not change self.running, so the loop may only "
            "end when another thread or a signal says so, and a crash would lose everything since it started",
            id="while-flag-attribute",
        ),
        pytest.param(
            """
            def consume(inbox):
                for payload in iter(inbox.get, None):
                    session.add(Event(payload=payload))
                    session.commit()
            """,
            "not batched, iter() at line 3 may never end: the commit after the loop would never run",
            id="iter-with-a-sentinel",
        ),
        pytest.param(
            """
            def poll(feed):
                while feed.open:
                    session.add(Event(payload=feed.read()))
                    session.commit()
                    time.sleep(5)
            """,
            "not batched, the loop polls (time.sleep() at line 6) and may never end: the commit after it "
            "would never run",
            id="polling-loop",
        ),
        pytest.param(
            """
            class Worker:
                def run(self):
                    while not self._stop.is_set():
                        item = self.inbox.get()
                        self.handle(item)
                        self.session.add(Result(item=item))
                        self.session.commit()
            """,
            "not batched, while not self._stop.is_set(): the body does not change self._stop, so the loop may "
            "only end when another thread or a signal says so, and a crash would lose everything since it started",
            id="worker-method-event",
        ),
        # -- effects outside the database: the per-item commit records each one --
        pytest.param(
            """
            def settle(orders):
                for order in orders:
                    payments.charge(order.card, order.amount)
                    order.paid = True
                    db.session.commit()
            """,
            "not batched, payments.charge() at line 4 is a payment call with an effect outside the database: "
            "the per-item commit records each one, so a crash half-way would leave effects without their rows "
            "and a retry would repeat them",
            id="payment-per-item",
        ),
        pytest.param(
            """
            def notify(users):
                for user in users:
                    requests.post(WEBHOOK, json={"id": user.id})
                    user.notified = True
                    session.commit()
            """,
            "not batched, requests.post() at line 4 is a network call with an effect outside the database: "
            "the per-item commit records each one, so a crash half-way would leave effects without their rows "
            "and a retry would repeat them",
            id="http-call-per-item",
        ),
        pytest.param(
            """
            def welcome(users):
                for user in users:
                    mail.send(Message(recipients=[user.email]))
                    user.welcomed = True
                    db.session.commit()
            """,
            "not batched, mail.send() at line 4 is a messaging call with an effect outside the database: "
            "the per-item commit records each one, so a crash half-way would leave effects without their rows "
            "and a retry would repeat them",
            id="mail-per-item",
        ),
        pytest.param(
            """
            def schedule(reports):
                for report in reports:
                    report.queued = True
                    db.session.commit()
                    render_report.delay(report.id)
            """,
            "not batched, render_report.delay() at line 6 is a task call with an effect outside the database: "
            "the per-item commit records each one, so a crash half-way would leave effects without their rows "
            "and a retry would repeat them",
            id="task-after-the-commit",
        ),
        pytest.param(
            """
            def export(rows, path):
                for row in rows:
                    open(path, "a").write(row.line)
                    row.exported = True
                    session.commit()
            """,
            "not batched, open.write() at line 4 is a file call with an effect outside the database: "
            "the per-item commit records each one, so a crash half-way would leave effects without their rows "
            "and a retry would repeat them",
            id="file-write-per-item",
        ),
        pytest.param(
            """
            def remind(users):
                for user in users:
                    send_email(user.email, "reminder")
                    user.reminded = True
                    session.commit()
            """,
            "not batched, send_email() at line 4 is a messaging call with an effect outside the database: "
            "the per-item commit records each one, so a crash half-way would leave effects without their rows "
            "and a retry would repeat them",
            id="bare-send-function",
        ),
        pytest.param(
            """
            def settle(orders):
                for order in orders:
                    stripe.Charge.create(amount=order.amount, source=order.token)
                    order.paid = True
                    db.session.commit()
            """,
            "not batched, stripe.Charge.create() at line 4 is a payment call with an effect outside the database: "
            "the per-item commit records each one, so a crash half-way would leave effects without their rows "
            "and a retry would repeat them",
            id="stripe-charge",
        ),
        # -- a commit per chunk is deliberate --
        pytest.param(
            """
            def load(chunks):
                for chunk in chunks:
                    session.bulk_save_objects(chunk)
                    session.commit()
            """,
            "not batched, the commit closes a chunk (session.bulk_save_objects() at line 4): one transaction "
            "per chunk is deliberate, merging them would make one unbounded transaction",
            id="bulk-save-per-chunk",
        ),
        pytest.param(
            """
            def load(rows):
                for batch in batched(rows, 500):
                    session.add_all([Item(**row) for row in batch])
                    session.commit()
            """,
            "not batched, the commit closes a chunk (the loop iterates over batch (line 3)): one transaction "
            "per chunk is deliberate, merging them would make one unbounded transaction",
            id="iterating-batches",
        ),
        pytest.param(
            """
            def load(rows):
                for start in range(0, len(rows), 1000):
                    session.execute(insert(Item), rows[start : start + 1000])
                    session.commit()
            """,
            "not batched, the commit closes a chunk (session.execute() of many rows at line 4): one transaction "
            "per chunk is deliberate, merging them would make one unbounded transaction",
            id="executemany-per-slice",
        ),
        pytest.param(
            """
            def close_jobs(job_ids):
                closed = []
                for job_id in job_ids:
                    job = db.session.get(Job, job_id)
                    if job.has_offer:
                        return closed
                    job.is_open = False
                    db.session.commit()
                return closed
            """,
            "not batched, return at line 7 would skip the commit after the loop",
            id="return-in-body",
        ),
        pytest.param(
            """
            def import_rows(rows):
                for row in rows:
                    if not row:
                        raise ValueError(row)
                    session.add(Item(**row))
                    session.commit()
            """,
            "not batched, raise at line 5 would skip the commit after the loop",
            id="raise-in-body",
        ),
        pytest.param(
            """
            def import_rows(rows):
                for row in rows:
                    item = Item(**row)
                    session.add(item)
                    yield row
                    session.commit()
            """,
            "not batched, yield at line 6: the generator may never resume to commit",
            id="yield-in-body",
        ),
        pytest.param(
            """
            def import_rows(rows):
                for row in rows:
                    session.add(Item(**row))
                    session.commit()
                else:
                    raise Incomplete()
            """,
            "not batched, raise in the else clause at line 7 would skip the commit",
            id="raise-in-else-clause",
        ),
        pytest.param(
            """
            def import_batches(batches):
                for batch in batches:
                    for row in batch:
                        session.add(Item(**row))
                        session.commit()
                    else:
                        continue
                    log_incomplete(batch)
            """,
            "not batched, continue in the else clause at line 8 would skip the commit",
            id="continue-of-outer-loop-in-else-clause",
        ),
        pytest.param(
            """
            def archive(ids):
                for candidate_id in ids:
                    try:
                        db.session.get(Candidate, candidate_id).status = "archived"
                    except Exception:
                        db.session.rollback()
                        continue
                    db.session.commit()
            """,
            "not batched, per-item rollback at line 7",
            id="per-item-rollback",
        ),
        pytest.param(
            """
            def run(rows):
                for row in rows:
                    with session.begin_nested():
                        session.add(Item(**row))
                    session.commit()
            """,
            "not batched, session.begin_nested() at line 4",
            id="savepoint-per-item",
        ),
        pytest.param(
            """
            def run(rows):
                for row in rows:
                    savepoint = session.begin_nested()
                    try:
                        session.add(Item(**row))
                    except IntegrityError:
                        savepoint.rollback()
                    session.commit()
            """,
            "not batched, session.begin_nested() at line 4",
            id="savepoint-object-per-item",
        ),
        pytest.param(
            """
            def run(rows, savepoint):
                for row in rows:
                    try:
                        session.add(Item(**row))
                    except IntegrityError:
                        savepoint.rollback()
                    session.commit()
            """,
            "not batched, per-item rollback at line 7",
            id="rollback-of-a-transaction-object",
        ),
        pytest.param(
            """
            def run(rows):
                for row in rows:
                    session.add(Item(**row))
                    session.close()
                    session.commit()
            """,
            "not batched, session.close() at line 5",
            id="close-in-body",
        ),
        pytest.param(
            """
            def run(rows):
                for row in rows:
                    item = Item(**row)
                    session.add(item)
                    session.refresh(item)
                    session.commit()
            """,
            "not batched, session.refresh() at line 6 relies on the per-item commit "
            '(mode = "flush" keeps the rows current)',
            id="refresh-in-body",
        ),
        pytest.param(
            """
            def run(rows):
                for row in rows:
                    session.add(Header(**row))
                    session.commit()
                    session.add(Line(**row))
                    session.commit()
            """,
            "not batched, another commit at line 5",
            id="two-commits-per-iteration",
        ),
        pytest.param(
            """
            def run(engine, rows):
                for row in rows:
                    session = Session(engine)
                    session.add(Item(**row))
                    session.commit()
            """,
            "not batched, session is rebound in the loop at line 4 (a session per iteration)",
            id="session-rebound-in-the-loop",
        ),
        pytest.param(
            """
            def run(engine, rows):
                for row in rows:
                    with Session(engine) as s:
                        s.add(Item(**row))
                        s.commit()
            """,
            "not batched, a new session per iteration (with at line 4)",
            id="with-session-inside-the-loop",
        ),
        pytest.param(
            """
            def run(rows):
                for i, row in enumerate(rows):
                    session.add(Item(**row))
                    if i % 100 == 0:
                        session.commit()
                session.commit()
            """,
            "not batched, the commit is conditional",
            id="conditional-commit-is-already-batching",
        ),
        pytest.param(
            """
            def run(rows):
                for row in rows:
                    try:
                        session.add(Item(**row))
                        session.commit()
                    finally:
                        cleanup()
            """,
            "not batched, the commit is inside a try statement",
            id="commit-inside-try",
        ),
        pytest.param(
            """
            def run(rows):
                for row in rows:
                    with lock:
                        session.add(Item(**row))
                        session.commit()
            """,
            "not batched, the commit is inside a with block",
            id="commit-inside-with",
        ),
        pytest.param(
            """
            def run(rows):
                for row in rows:
                    match row:
                        case {"kind": "item"}:
                            session.add(Item(**row))
                            session.commit()
                        case _:
                            pass
            """,
            "not batched, the commit is conditional",
            id="commit-in-a-match-case",
        ),
        pytest.param(
            """
            def run(rows):
                for row in rows:
                    item = Item(**row)
                    session.add(item)
                    session.commit()
                    notify(item)
            """,
            "not batched, notify() at line 7 is a notification call with an effect outside the database: the "
            "per-item commit records each one, so a crash half-way would leave effects without their rows and a "
            "retry would repeat them",
            id="call-after-the-commit-may-depend-on-it",
        ),
        pytest.param(
            """
            def run(rows):
                for row in rows:
                    item = Item(**row)
                    session.add(item)
                    session.commit()
                    logger.info("saved %s", item)
            """,
            "not batched, logger.info() at line 7 runs after the commit in every iteration",
            id="logging-a-new-object-after-the-commit",
        ),
        pytest.param(
            """
            def run(rows):
                for row in rows:
                    session.commit()
            """,
            "not batched, the loop body does nothing but commit",
            id="loop-only-commits",
        ),
        pytest.param(
            """
            def run(batches):
                for batch in batches:
                    for row in batch:
                        session.add(Item(**row))
                    else:
                        session.commit()
            """,
            "not batched, the commit is in the else clause of the loop at line 4",
            id="commit-in-the-else-clause-of-an-inner-loop",
        ),
        pytest.param(
            """
            def run(rows):
                for row in rows:
                    session.execute(text("SELECT 1 FROM items WHERE id = :id"), row)
                    session.commit()
            """,
            "not batched, session.execute() at line 4 reads the database: without autoflush it would "
            'miss earlier iterations\' rows (mode = "flush" keeps them visible)',
            id="execute-of-textual-select-is-a-read",
        ),
        pytest.param(
            """
            def upsert(db: Session, records):
                for record in records:
                    item = db.scalar(select(Item).where(Item.sku == record["sku"]))
                    if item is None:
                        db.add(Item(**record))
                    db.commit()
            """,
            "not batched, db.scalar() at line 4 reads the database: without autoflush it would "
            'miss earlier iterations\' rows (mode = "flush" keeps them visible)',
            id="read-in-the-loop-commit-mode",
        ),
        pytest.param(
            """
            def stages(queue):
                while queue:
                    application = Application.query.get(queue.pop())
                    application.stage = "done"
                    db.session.commit()
            """,
            "not batched, Application.query at line 4 reads the database: without autoflush it "
            'would miss earlier iterations\' rows (mode = "flush" keeps them visible)',
            id="flask-sqlalchemy-model-query",
        ),
        pytest.param(
            """
            def process(db: Session):
                while db.scalar(select(func.count()).where(Job.done.is_(False))):
                    job = db.scalar(select(Job).where(Job.done.is_(False)))
                    job.done = True
                    db.commit()
            """,
            "not batched, db.scalar() at line 4 reads the database: without autoflush it would "
            'miss earlier iterations\' rows (mode = "flush" keeps them visible)',
            id="while-condition-reads-the-database",
        ),
        pytest.param(
            """
            def chain(rows):
                previous = None
                for row in rows:
                    node = Node(parent_id=previous.id if previous else None)
                    session.add(node)
                    session.commit()
                    previous = node
            """,
            "not batched, previous at line 5 uses an object added in an earlier iteration, "
            'which has no database-generated values without a flush (mode = "flush" keeps them)',
            id="generated-id-of-an-earlier-iteration",
        ),
        pytest.param(
            """
            def run(rows):
                created = []
                for row in rows:
                    parent_id = created[-1].id if created else None
                    item = Item(parent_id=parent_id, **row)
                    session.add(item)
                    session.commit()
                    created.append(item)
            """,
            "not batched, created at line 5 uses an object added in an earlier iteration, "
            'which has no database-generated values without a flush (mode = "flush" keeps them)',
            id="generated-id-through-a-container",
        ),
        pytest.param(
            """
            def run(order, lines):
                session.add(order)
                for line in lines:
                    session.add(Line(order_id=order.id, **line))
                    session.commit()
            """,
            "not batched, order at line 5 uses an object added in an earlier iteration, "
            'which has no database-generated values without a flush (mode = "flush" keeps them)',
            id="generated-id-of-an-object-added-before-the-loop",
        ),
        pytest.param(
            """
            def fill(job, candidates):
                for candidate in candidates:
                    if len(job.applications) >= job.openings:
                        break
                    db.session.add(Application(job_id=job.id, candidate_id=candidate.id))
                    db.session.commit()
            """,
            "not batched, job.applications at line 4 would no longer be reloaded after each commit",
            id="collection-the-commit-would-reload",
        ),
    ],
)
def test_declined(source: str, reason: str) -> None:
    assert decline_reasons(source) == [reason]


def test_nested_decline_says_where_the_commit_stopped() -> None:
    outcome = run_codemod(
        LoopCommit,
        """
        def match(jobs, candidates):
            for job in jobs:
                if job.closed:
                    return
                for candidate in candidates:
                    db.session.add(Application(candidate_id=candidate.id, job_id=job.id))
                    db.session.commit()
        """,
    )
    assert declined(outcome.findings) == [
        "kept after the inner loop, not moved out of the loop at line 3: "
        "return at line 5 would skip the commit after the loop"
    ]


def test_flush_mode_still_declines_per_item_rollback() -> None:
    source = """
        def run(rows):
            for row in rows:
                session.add(Item(**row))
                if invalid(row):
                    session.rollback()
                    continue
                session.commit()
        """
    assert decline_reasons(source, options=FLUSH) == ["not batched, per-item rollback at line 6"]


# -- no-op: not a database session commit -----------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        pytest.param(
            """
            def tag_all(repo, paths):
                for path in paths:
                    repo.index.add([path])
                    repo.index.commit(f"add {path}")
            """,
            id="git-index-commit",
        ),
        pytest.param(
            """
            def snapshot(paths):
                repo = git.Repo(".")
                for path in paths:
                    repo.git.add(path)
                    repo.commit()
            """,
            id="git-repo-commit",
        ),
        pytest.param(
            """
            def store(rows):
                db = sqlite3.connect("app.db")
                for row in rows:
                    db.execute("insert into t values (?)", row)
                    db.commit()
            """,
            id="sqlite3-connection-named-db",
        ),
        pytest.param(
            """
            def store(conn, rows):
                for row in rows:
                    conn.execute("insert into t values (?)", row)
                    conn.commit()
            """,
            id="connection-not-configured",
        ),
        pytest.param(
            """
            def store(rows):
                db = get_db()
                for row in rows:
                    db.execute("insert into t values (?)", row)
                    db.commit()
            """,
            id="configured-name-bound-to-an-unknown-call",
        ),
        pytest.param(
            """
            def snapshot(db, paths):
                for path in paths:
                    db.add(path)
                    db.commit(f"snapshot {path}")
            """,
            id="commit-with-a-message-is-version-control",
        ),
    ],
)
def test_not_a_session_commit(source: str) -> None:
    assert noop(source) == []


# -- no-op: nothing to batch -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        pytest.param(
            """
            def import_rows(rows):
                for row in rows:
                    session.add(Item(**row))
                session.commit()
            """,
            id="commit-already-after-the-loop",
        ),
        pytest.param(
            """
            def save(item):
                session.add(item)
                session.commit()
            """,
            id="commit-outside-any-loop",
        ),
        pytest.param(
            """
            def run(rows):
                for row in rows:
                    def save():
                        session.add(Item(**row))
                        session.commit()
                    callbacks.append(save)
            """,
            id="commit-in-a-function-defined-in-the-loop",
        ),
    ],
)
def test_nothing_to_batch(source: str) -> None:
    assert noop(source) == []


def test_generated_id_read_after_the_commit_is_declined_in_commit_mode() -> None:
    source = """
        def create_items(db: Session, payloads):
            created = []
            for payload in payloads:
                item = Item(**payload)
                db.add(item)
                db.commit()
                created.append(item.id)
            return created
        """
    assert decline_reasons(source) == [
        "not batched, created.append() at line 8 runs after the commit in every iteration"
    ]


def test_commit_not_last_in_the_body_is_reported() -> None:
    source = """
        def run(rows):
            for row in rows:
                item = Item(**row)
                session.add(item)
                session.commit()
                index_for_search(item.id)
        """
    assert decline_reasons(source) == [
        "not batched, index_for_search() at line 7 runs after the commit in every iteration"
    ]


# -- positions in the user's file -----------------------------------------------------------------


def test_line_references_in_messages_survive_earlier_codemods() -> None:
    from codemods.engine.config import default_options
    from codemods.engine.pipeline import Plan, transform_source
    from codemods.rules.print_to_logging import PrintToLogging
    from codemods.engine.templating import TemplateSet

    source = (
        "def run(rows):\n"
        '    print("start")\n'
        "    for row in rows:\n"
        "        session.add(row)\n"
        "        if invalid(row):\n"
        "            session.rollback()\n"
        "        session.commit()\n"
    )
    codemods = (PrintToLogging, LoopCommit)
    plan = Plan(codemods, {c.name: default_options(c) for c in codemods}, {}, TemplateSet())
    outcome = transform_source("app/module.py", source.encode(), plan)
    [finding] = [f for f in outcome.findings if f.codemod == LoopCommit.name]
    assert (finding.line, finding.message) == (7, "not batched, per-item rollback at line 6")


# -- known gaps ---------------------------------------------------------------------------------------


@pytest.mark.xfail(
    strict=True,
    reason="a collection of the loop's own target is reloaded per iteration only if the iterable repeats "
    "an object; targets are assumed distinct",
)
def test_relationship_read_that_the_commit_would_refresh_is_declined() -> None:
    source = """
        def number_children(parents):
            for parent in parents:
                session.add(Child(parent_id=parent.id, position=len(parent.children)))
                session.commit()
        """
    assert decline_reasons(source)


def test_a_session_alias_defined_in_another_module_is_a_session() -> None:
    # FastAPI's SessionDep = Annotated[Session, Depends(get_db)] lives in deps.py: the whole-tree
    # index makes `session: SessionDep` a session here too.
    deps = (
        "from typing import Annotated\nfrom fastapi import Depends\nfrom sqlmodel import Session\n\n"
        "def get_db():\n    with Session(engine) as s:\n        yield s\n\n"
        "SessionDep = Annotated[Session, Depends(get_db)]\n"
    )
    source = """\
    from app.api.deps import SessionDep


    def import_items(store: SessionDep, rows):
        for row in rows:
            store.add(Item(**row))
            store.commit()
    """
    assert noop(source) == []  # without the other module: not known as a session
    outcome = run_codemod(LoopCommit, source, path="app/api/items.py", other_files={"app/api/deps.py": deps})
    assert "        store.add(Item(**row))\n    store.commit()\n" in outcome.new_source.decode()


def test_effect_calls_are_configurable() -> None:
    source = """
        def sync(accounts):
            for account in accounts:
                ledger_client.push(account.balance)
                account.synced = True
                session.commit()
        """
    assert "ledger_client.push() at line 4 is a call with an effect outside" in decline_reasons(
        source, options={"effect-calls": ["ledger_client.*"]}
    )[0]
    rewrite(source, source.replace("        session.commit()\n", "").rstrip() + "\n            session.commit()\n")


def test_a_drained_queue_and_a_counted_while_loop_are_still_batched() -> None:
    rewrite(
        """
        def drain(pending, remaining):
            while pending and remaining > 0:
                session.add(Event(payload=pending.pop()))
                session.commit()
                remaining -= 1
        """,
        """
        def drain(pending, remaining):
            while pending and remaining > 0:
                session.add(Event(payload=pending.pop()))
                remaining -= 1
            session.commit()
        """,
    )
