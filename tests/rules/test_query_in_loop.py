"""query-in-loop: findings only, for N+1 queries and unbounded ``.all()`` in route handlers."""

from __future__ import annotations

import json
import textwrap

import pytest
from typer.testing import CliRunner

import cli
from codemods.rules.query_in_loop import QueryInLoop
from codemods.engine.pipeline import FILTERED, FileOutcome, transform_source
from tests.rules.helpers import assert_noop, declined, make_plan

MODELS = """\
from sqlalchemy import ForeignKey
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from .extensions import db


class Base(DeclarativeBase):
    pass


class Job(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    applications = db.relationship("Application", back_populates="job")
    tags = db.relationship("Tag", lazy="selectin")
    notes = db.relationship("Note", lazy="dynamic")
    owner = db.relationship("User", backref="jobs")


class Application(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    job = db.relationship("Job", back_populates="applications", lazy="joined")


class Order(Base):
    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(primary_key=True)
    lines: Mapped[list["OrderLine"]] = relationship(back_populates="order")
    customer: Mapped["Customer"] = relationship(lazy="raise")
"""
OTHER_FILES = {"app/models.py": MODELS}


def findings(source: str) -> list[str]:
    """The messages; the code never changes and nothing is fixable."""
    found = assert_noop(QueryInLoop, source, path="app/routes.py", other_files=OTHER_FILES)
    assert declined(found) == [f.message for f in found]
    return [f"{f.line}: {f.message}" for f in found]


# -- N+1: a query per row of another query --------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        pytest.param(
            """
            def count_applicants():
                counts = {}
                for job in Job.query.filter_by(is_open=True).all():
                    counts[job.id] = Application.query.filter_by(job_id=job.id).count()
                return counts
            """,
            [
                "5: N+1 query: Application.query runs once per row of the query at line 4; query all rows at once "
                "before the loop (a join, an IN filter or an eager load)"
            ],
            id="model-query-per-row-of-model-query",
        ),
        pytest.param(
            """
            from sqlalchemy import select

            def order_totals(session):
                orders = session.scalars(select(Order).where(Order.status == "open")).all()
                totals = []
                for order in orders:
                    customer = session.get(Customer, order.customer_id)
                    totals.append((customer.email, order.total))
                return totals
            """,
            [
                "8: N+1 query: session.get() runs once per row of the query at line 5; query all rows at once "
                "before the loop (a join, an IN filter or an eager load)"
            ],
            id="session-get-per-row-of-a-select-through-a-variable",
        ),
        pytest.param(
            """
            from sqlalchemy import select

            async def line_counts(db: AsyncSession):
                result = await db.execute(select(Order))
                return {
                    order.id: (await db.execute(select(OrderLine).where(OrderLine.order_id == order.id))).all()
                    for order in result.scalars()
                }
            """,
            [
                "7: N+1 query: db.execute() runs once per row of the query at line 5; query all rows at once "
                "before the loop (a join, an IN filter or an eager load)"
            ],
            id="async-execute-in-a-comprehension",
        ),
        pytest.param(
            """
            def stale_jobs():
                for job in db.session.query(Job).all():
                    for application in job.applications:
                        print(application.id)
                    owner = job.owner
                    open_notes = job.notes.filter_by(done=False).count()
            """,
            [
                "4: N+1 query: job.applications lazy-loads Job.applications once per row of the query at line 3; "
                "load it with the query (selectinload(Job.applications))",
                "6: N+1 query: job.owner lazy-loads Job.owner once per row of the query at line 3; "
                "load it with the query (selectinload(Job.owner))",
                "7: N+1 query: job.notes lazy-loads Job.notes once per row of the query at line 3; "
                "load it with the query (selectinload(Job.notes))",
            ],
            id="lazy-relationships-on-the-loop-variable-default-backref-and-dynamic",
        ),
        pytest.param(
            """
            from sqlalchemy import select

            def order_lines(session):
                for order in session.scalars(select(Order)):
                    yield order.id, len(order.lines), len(order.lines)
            """,
            [
                "6: N+1 query: order.lines lazy-loads Order.lines once per row of the query at line 5; "
                "load it with the query (selectinload(Order.lines))"
            ],
            id="mapped-relationship-reported-once-per-loop",
        ),
    ],
)
def test_n_plus_one(source: str, expected: list[str]) -> None:
    assert findings(source) == expected


def test_only_the_statements_with_a_loop_are_analysed_and_nothing_else_changes() -> None:
    # The methods and statements without a loop are skipped (see _Finder.skipped); a class body
    # inside a loop still runs per row.
    source = """
    class Report:
        title = "jobs"

        def header(self):
            return self.title

        def rows(self, session):
            total = 0
            for job in session.query(Job):
                class Row:
                    owner = job.owner
                total += 1
            return total

        def footer(self):
            return Job.query.count()
    """
    assert findings(source) == [
        (
            "12: N+1 query: job.owner lazy-loads Job.owner once per row of the query at line 10; "
            "load it with the query (selectinload(Job.owner))"
        )
    ]


@pytest.mark.parametrize(
    "source",
    [
        # Loaded with the query, loaded eagerly by the model, or raising instead of querying.
        """
        from sqlalchemy import select
        from sqlalchemy.orm import selectinload

        def order_lines(session):
            stmt = select(Order).options(selectinload(Order.lines))
            for order in session.scalars(stmt):
                print(len(order.lines), order.customer)
        """,
        """
        def tagged():
            for job in Job.query.options(db.joinedload(Job.applications)).all():
                print(job.tags, job.applications)
        """,
        # A query once, before the loop; a loop over plain data; a write per row (not a read).
        """
        def totals(session, ids):
            jobs = {job.id: job for job in session.query(Job).filter(Job.id.in_(ids))}
            for job_id in ids:
                print(jobs[job_id])
        """,
        """
        from sqlalchemy import update

        def close_all(session):
            for job in session.scalars(select(Job)):
                session.execute(update(Job).where(Job.id == job.id).values(is_open=False))
        """,
        # Rows of several entities are no model objects; a lambda runs when it is called.
        """
        def pairs(session):
            for job, application in session.execute(select(Job, Application).join(Job.applications)):
                print(job.applications)
            sorter = lambda job: Application.query.filter_by(job_id=job.id).count()
        """,
        # Flask's cookie session is a dict.
        """
        from flask import session

        def flags():
            for job in Job.query.all():
                print(session.get(f"seen-{job.id}"))
        """,
        # A relationship the index does not know, on a model it does not know.
        """
        def unknown(session):
            for invoice in session.query(Invoice):
                print(invoice.lines)
        """,
    ],
)
def test_no_findings(source: str) -> None:
    assert findings(source) == []


# -- unbounded .all() in a route handler --------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        pytest.param(
            """
            from flask import Blueprint, jsonify

            bp = Blueprint("jobs", __name__, url_prefix="/jobs")

            @bp.get("")
            def list_jobs():
                jobs = Job.query.filter_by(is_open=True).order_by(Job.title).all()
                return jsonify([j.to_dict() for j in jobs])
            """,
            ["8: list_jobs (GET /jobs): unbounded .all() loads every Job row on each request; add .limit() or pagination"],
            id="flask-model-query",
        ),
        pytest.param(
            """
            from fastapi import APIRouter, Depends
            from sqlalchemy import select

            router = APIRouter(prefix="/items")

            @router.get("")
            def list_items(status: str | None = None, db: Session = Depends(get_db)):
                query = select(Item).order_by(Item.sku)
                if status:
                    query = query.where(Item.status == status)
                return db.scalars(query).all()
            """,
            ["12: list_items (GET /items): unbounded .all() loads every Item row on each request; add .limit() or pagination"],
            id="fastapi-select-built-in-a-variable",
        ),
        pytest.param(
            """
            from flask.views import MethodView

            class ApplicationAPI(MethodView):
                def get(self):
                    return [a.to_dict() for a in db.session.query(Application).all()]
            """,
            [
                "6: ApplicationAPI.get (GET): unbounded .all() loads every Application row on each request; "
                "add .limit() or pagination"
            ],
            id="class-based-view",
        ),
    ],
)
def test_unbounded_all_in_routes(source: str, expected: list[str]) -> None:
    assert findings(source) == expected


@pytest.mark.parametrize(
    "source",
    [
        # Bounded: limit, pagination, one row.
        """
        @router.get("/recent")
        def recent(db: Session = Depends(get_db)):
            return db.scalars(select(Item).order_by(Item.id.desc()).limit(20)).all()
        """,
        """
        @bp.get("/jobs")
        def jobs(page: int):
            return Job.query.order_by(Job.id).paginate(page=page, per_page=20).items
        """,
        # Not a route: a service may load everything on purpose.
        """
        def export_all(session):
            return session.query(Job).all()
        """,
        # .all() of something that is no query.
        """
        @router.get("/flags")
        def flags():
            return feature_flags.all()
        """,
    ],
)
def test_no_unbounded_findings(source: str) -> None:
    assert findings(source) == []


# -- the pre-filter and the syntax pre-check: a file is parsed only where a finding is possible -------


def outcome(source: str) -> FileOutcome:
    source = textwrap.dedent(source)
    plan = make_plan(QueryInLoop, {"app/routes.py": source, **OTHER_FILES})
    return transform_source("app/routes.py", source.encode(), plan)


@pytest.mark.parametrize(
    "source",
    [
        # No query anywhere: the text has none of the markers (dict.get and .all() of other objects).
        """
        def flags(rows, cache):
            for row in rows:
                print(row.get("id"), cache.get(row), registry.all())
        """,
        # A query, but no loop over one and no route.
        """
        def load(session):
            return session.query(Job).all()
        """,
        # A loop over a query that runs nothing per row: no read, no .query, no lazy relationship.
        """
        def titles(session):
            return [job.title for job in session.query(Job)]
        """,
        # execute() of text statements: no select() anywhere, so no rows of a model.
        """
        def purge(connection, tables):
            for name in connection.execute(text("SELECT name FROM t")):
                connection.execute(text(f"DELETE FROM {name}"))
        """,
        # .all() of a query outside any route module.
        """
        def export_all(session):
            rows = session.query(Job).all()
            return rows
        """,
        # A loop over a query whose rows only meet dictionaries' get(): no session is read per row.
        """
        import json

        def migrate(session):
            for chart in session.query(Chart):
                params = json.loads(chart.params)
                chart.params = json.dumps({"width": params.get("width"), "unit": params.get("unit")})
        """,
        # query() of something that is no session: the loop is not over a query.
        """
        def search(api, cache):
            for hit in api.query("jobs"):
                print(cache.get(hit))
        """,
    ],
)
def test_files_without_a_possible_finding_are_never_parsed(source: str) -> None:
    assert outcome(source).status == FILTERED


@pytest.mark.parametrize(
    "source",
    [
        pytest.param("def f(s: Session):\n    {loop}", id="annotated-parameter"),
        pytest.param("SessionLocal = sessionmaker(bind=engine)\n\ndef f():\n    s = SessionLocal()\n    {loop}", id="module-factory"),
        pytest.param("s = scoped_session(sessionmaker(bind=engine))\n\ndef f():\n    {loop}", id="scoped-session"),
        pytest.param("def f():\n    s = sessionmaker(bind=engine)()\n    {loop}", id="factory-called-at-once"),
        pytest.param("def f():\n    with Session(engine) as s:\n        {loop}", id="with-as"),
        pytest.param("def f():\n    s = db.session\n    {loop}", id="alias-of-a-configured-name"),
        pytest.param("async def f():\n    s = await get_session()\n    {loop}", id="awaited-factory"),
        pytest.param("def f(s=Session()):\n    {loop}", id="parameter-default"),
    ],
)
def test_the_pre_check_lets_every_kind_of_session_through(source: str) -> None:
    loop = "for job in s.query(Job):\n        print(s.get(Application, job.id))"
    source = source.replace("{loop}", loop.replace("\n", "\n" + "    " * source.count("with ")))
    assert outcome(source).status != FILTERED
    assert [f.split(": ", 1)[1].split(" runs")[0] for f in findings(source)] == ["N+1 query: s.get()"]


def test_the_pre_check_follows_names_bound_to_queries() -> None:
    source = """
    def count(session):
        base = session.query(Job)
        jobs = base.filter_by(is_open=True)
        for job in jobs:
            print(session.get(Application, job.id))
    """
    assert findings(source) == [
        "6: N+1 query: session.get() runs once per row of the query at line 4; query all rows at once "
        "before the loop (a join, an IN filter or an eager load)"
    ]


# -- shown by scan in every format ------------------------------------------------------------------

PROJECT = {
    "app/models.py": MODELS,
    "app/routes.py": textwrap.dedent(
        """
        @bp.get("/jobs")
        def list_jobs():
            jobs = Job.query.all()
            return [{"n": Application.query.filter_by(job_id=j.id).count()} for j in jobs]
        """
    ),
}


@pytest.fixture
def project(tmp_path):
    for path, code in PROJECT.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(code)
    return tmp_path


def scan(folder, output_format: str) -> str:
    result = CliRunner().invoke(
        cli.app, ["scan", str(folder), "--select", "query-in-loop", "--format", output_format, "--no-cache", "--no-progress"]
    )
    assert result.exit_code == 1, result.output
    return result.stdout


def test_scan_text_lists_the_findings_as_not_fixed(project) -> None:
    lines = scan(project, "text").splitlines()
    assert lines == [
        "app/routes.py:4:12: query-in-loop: list_jobs (GET /jobs): unbounded .all() loads every Job row on each request; "
        "add .limit() or pagination [not fixed]",
        "app/routes.py:5:19: query-in-loop: N+1 query: Application.query runs once per row of the query at line 4; "
        "query all rows at once before the loop (a join, an IN filter or an eager load) [not fixed]",
    ]


def test_scan_json_and_sarif_mark_them_unfixable_warnings(project) -> None:
    report = json.loads(scan(project, "json"))
    assert [f["fixable"] for f in report["findings"]] == [False, False]
    assert report["summary"]["findings_per_codemod"] == {"query-in-loop": 2}
    sarif = json.loads(scan(project, "sarif"))
    results = sarif["runs"][0]["results"]
    assert [(r["ruleId"], r["level"], r["properties"]["fixable"]) for r in results] == [("query-in-loop", "warning", False)] * 2


def test_scan_markdown_and_html_call_them_findings_to_fix_by_hand(project) -> None:
    markdown = scan(project, "markdown")
    assert "2 findings to fix by hand (this codemod reports, it does not rewrite)." in markdown
    assert "`app/routes.py:5:19` to fix by hand: N+1 query: Application.query" in markdown
    html = scan(project, "html")
    assert html.count(">to fix by hand</span>") == 2
