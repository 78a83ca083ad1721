"""route-commit behaviour proof: real apps, rewritten, give the same responses and rows.

Each test writes a small app package to a temporary folder twice, rewrites the second copy
the way the engine does (whole-tree index, every file through the pipeline, then
``RouteCommit.finalize`` writing the service modules), imports each copy in turn and drives
it through the framework's test client on SQLite.  The responses and the database rows must
be identical, and the rewritten copy must really have moved its commits.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import os
import sqlite3
import sys
import textwrap
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from codemods.engine.config import default_options
from codemods.engine.pipeline import CHANGED, transform_source
from codemods.engine.style import tidy
from codemods.rules.route_commit import RouteCommit
from tests.rules.helpers import make_plan


def write_tree(root: Path, files: Mapping[str, str]) -> None:
    for path, content in files.items():
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(content))


def rewrite_tree(files: Mapping[str, str], options: Mapping[str, Any] | None = None) -> dict[str, str]:
    """The app after route-commit, as the engine would write it (path -> content)."""
    sources = {path: textwrap.dedent(content) for path, content in files.items()}
    plan = dataclasses.replace(make_plan(RouteCommit, sources, options), tidy=True)  # as the engine: isort, long lines
    result = dict(sources)
    extras = []
    for path, source in sorted(sources.items()):
        outcome = transform_source(path, source.encode(), plan)
        assert outcome.status in (CHANGED, "unchanged", "filtered"), f"{path}: {outcome.status} {outcome.message}"
        if outcome.status == CHANGED:
            result[path] = outcome.new_source.decode()
            extras.extend((path, extra) for _, extra in outcome.extras)
    merged = {**default_options(RouteCommit), **(options or {})}
    finalized = RouteCommit.finalize(extras, result.get, merged, plan.templates)
    for generated in finalized.files:
        old = result.get(generated.path)
        new = tidy(old.encode() if old is not None else None, generated.content.encode(), plan.style)
        result[generated.path] = new.decode()
    return result


@contextmanager
def imported(root: Path, package: str) -> Iterator[Any]:
    """Import ``package`` from ``root``; forget it afterwards so the other copy can be imported."""
    sys.path.insert(0, str(root))
    try:
        yield importlib.import_module(package)
    finally:
        sys.path.remove(str(root))
        for name in [n for n in sys.modules if n == package or n.startswith(package + ".")]:
            del sys.modules[name]


def table_rows(database: Path) -> dict[str, list[tuple[Any, ...]]]:
    with sqlite3.connect(database) as connection:
        tables = [r[0] for r in connection.execute("select name from sqlite_master where type='table' order by name")]
        return {t: connection.execute(f"select * from {t} order by 1").fetchall() for t in tables}


@functools.cache
def rewritten_app(package: str) -> dict[str, str]:
    return rewrite_tree(APPS[package])


def run_both(tmp_path: Path, package: str, scenario: Callable[[Any, Path], list[Any]]) -> tuple[dict[str, str], list[Any]]:
    """Run ``scenario(package_module, database)`` on the original and the rewritten app; compare."""
    files = APPS[package]
    rewritten = rewritten_app(package)
    results = []
    for name, tree in (("original", {p: textwrap.dedent(c) for p, c in files.items()}), ("rewritten", rewritten)):
        root = tmp_path / name
        write_tree(root, tree)
        database = root / "app.db"
        os.environ["ROUTE_COMMIT_TEST_DB"] = str(database)
        with imported(root, package) as module:
            responses = scenario(module, database)
        results.append((responses, table_rows(database)))
    original, after = results
    assert after[0] == original[0], "responses differ after the rewrite"
    assert after[1] == original[1], "database rows differ after the rewrite"
    return rewritten, original[0]


# -- Flask + Flask-SQLAlchemy --------------------------------------------------------------------


FLASK_APP = {
    "shopflask/__init__.py": """\
        import os

        from flask import Flask

        from .extensions import db


        def create_app():
            app = Flask(__name__)
            app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.environ["ROUTE_COMMIT_TEST_DB"]
            db.init_app(app)
            from .routes.candidate_routes import bp
            from .views import register_views

            app.register_blueprint(bp)
            register_views(app)
            with app.app_context():
                db.create_all()
            return app
        """,
    "shopflask/extensions.py": """\
        from flask_sqlalchemy import SQLAlchemy

        db = SQLAlchemy()
        """,
    "shopflask/models.py": """\
        from .extensions import db


        class Candidate(db.Model):
            id = db.Column(db.Integer, primary_key=True)
            email = db.Column(db.String, unique=True, nullable=False)
            status = db.Column(db.String, default="new")
            password = db.Column(db.String)


        class AuditLog(db.Model):
            id = db.Column(db.Integer, primary_key=True)
            message = db.Column(db.String)
        """,
    "shopflask/routes/__init__.py": "",
    "shopflask/routes/candidate_routes.py": """\
        import logging

        from flask import Blueprint, abort, jsonify, request
        from sqlalchemy.exc import IntegrityError

        from ..extensions import db
        from ..models import AuditLog, Candidate

        logger = logging.getLogger(__name__)
        bp = Blueprint("candidates", __name__, url_prefix="/candidates")


        @bp.post("")
        def create_candidate():
            data = request.get_json()
            if not data.get("email"):
                return jsonify(error="email is required"), 400
            candidate = Candidate(email=data["email"].lower())
            db.session.add(candidate)
            try:
                db.session.commit()
            except IntegrityError:
                db.session.rollback()
                return jsonify(error="duplicate"), 409
            audit = AuditLog(message=f"created {candidate.id}")
            db.session.add(audit)
            db.session.commit()
            return jsonify(id=candidate.id, audit=audit.id), 201


        @bp.post("/<int:candidate_id>/status")
        def update_status(candidate_id):
            new_status = request.json.get("status")
            if new_status not in ("new", "hired", "rejected"):
                abort(400)
            candidate = db.get_or_404(Candidate, candidate_id)
            logger.info("status of %s -> %s", candidate_id, new_status)
            candidate.status = new_status
            db.session.commit()
            return jsonify(id=candidate.id, status=candidate.status)


        @bp.post("/<int:candidate_id>/password")
        def reset_password(candidate_id):
            password = request.json["password"]
            candidate = db.session.get(Candidate, candidate_id)
            if candidate is None:
                return jsonify(error="not found"), 404
            candidate.password = password[::-1]
            if request.args.get("notify"):
                audit = AuditLog(message=f"password of {candidate_id}")
                db.session.add(audit)
                db.session.commit()
            db.session.commit()
            return "", 204


        @bp.route("/<int:candidate_id>/delete", methods=["POST"])
        def delete_candidate(candidate_id):
            candidate = db.session.get(Candidate, candidate_id)
            if candidate is None:
                return jsonify(error="not found"), 404
            db.session.delete(candidate)
            db.session.commit()
            return "", 204
        """,
    "shopflask/views.py": """\
        from flask import jsonify, request
        from flask.views import MethodView

        from .extensions import db
        from .models import AuditLog


        class AuditAPI(MethodView):
            def post(self):
                message = request.json["message"]
                entry = AuditLog(message=message)
                db.session.add(entry)
                db.session.commit()
                return jsonify(id=entry.id), 201

            def delete(self, entry_id):
                entry = db.get_or_404(AuditLog, entry_id)
                db.session.delete(entry)
                db.session.commit()
                return "", 204


        def register_views(app):
            view = AuditAPI.as_view("audit")
            app.add_url_rule("/audit", view_func=view, methods=["POST"])
            app.add_url_rule("/audit/<int:entry_id>", view_func=view, methods=["DELETE"])
        """,
}


def flask_scenario(package: Any, database: Path) -> list[Any]:
    client = package.create_app().test_client()
    calls = [
        ("post", "/candidates", {"email": "Ada@Example.com"}),
        ("post", "/candidates", {"email": "ada@example.com"}),
        ("post", "/candidates", {}),
        ("post", "/candidates", {"email": "bob@example.com"}),
        ("post", "/candidates/1/status", {"status": "hired"}),
        ("post", "/candidates/1/status", {"status": "bogus"}),
        ("post", "/candidates/99/status", {"status": "hired"}),
        ("post", "/candidates/1/password?notify=1", {"password": "secret"}),
        ("post", "/candidates/2/password", {"password": "hunter2"}),
        ("post", "/candidates/42/password", {"password": "x"}),
        ("post", "/candidates/2/delete", None),
        ("post", "/candidates/2/delete", None),
        ("post", "/audit", {"message": "hello"}),
        ("delete", "/audit/1", None),
        ("delete", "/audit/1", None),
    ]
    responses = []
    for method, url, body in calls:
        response = getattr(client, method)(url, json=body)
        responses.append((method, url, response.status_code, response.get_data(as_text=True)))
    return responses


def test_flask_app_behaves_the_same_after_the_rewrite(tmp_path: Path) -> None:
    rewritten, responses = run_both(tmp_path, "shopflask", flask_scenario)
    routes = rewritten["shopflask/routes/candidate_routes.py"]
    # the commit alone in its try block stays (a service that only commits is no unit of work)
    assert "    try:\n        db.session.commit()\n" in routes
    assert "audit = candidate_service.create_candidate(candidate)" in routes
    # the 404 lookup stays in the route; the write moves
    assert "candidate = db.get_or_404(Candidate, candidate_id)" in routes
    assert "candidate_service.update_status(candidate_id, new_status, candidate)" in routes
    assert "candidate_service.delete_candidate(candidate)" in routes
    assert "candidate_service.reset_password(" in routes
    service = rewritten["shopflask/services/candidate_service.py"]
    assert "logger = logging.getLogger(__name__)" in service
    assert "_2" not in service
    assert "audit_log_service.post_audit(message)" in rewritten["shopflask/views.py"]
    assert "shopflask/services/__init__.py" in rewritten
    statuses = [r[2] for r in responses]
    assert statuses == [201, 409, 400, 201, 200, 400, 404, 204, 204, 404, 204, 404, 201, 204, 404]


# -- FastAPI + SQLAlchemy, sync and async -------------------------------------------------------------


FASTAPI_APP = {
    "shopapi/__init__.py": "",
    "shopapi/database.py": """\
        import os

        from sqlalchemy import create_engine
        from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
        from sqlalchemy.orm import sessionmaker

        PATH = os.environ["ROUTE_COMMIT_TEST_DB"]
        engine = create_engine(f"sqlite:///{PATH}")
        SessionLocal = sessionmaker(engine)
        async_engine = create_async_engine(f"sqlite+aiosqlite:///{PATH}")
        AsyncSessionLocal = async_sessionmaker(async_engine, expire_on_commit=False)


        def get_db():
            with SessionLocal() as session:
                yield session


        async def get_async_db():
            async with AsyncSessionLocal() as session:
                yield session
        """,
    "shopapi/models.py": """\
        from sqlalchemy import ForeignKey, String
        from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


        class Base(DeclarativeBase):
            pass


        class Item(Base):
            __tablename__ = "items"
            id: Mapped[int] = mapped_column(primary_key=True)
            name: Mapped[str] = mapped_column(String, unique=True)
            quantity: Mapped[int] = mapped_column(default=0)
            archived: Mapped[bool] = mapped_column(default=False)
            touched_by: Mapped[str | None] = mapped_column(default=None)


        class Order(Base):
            __tablename__ = "orders"
            id: Mapped[int] = mapped_column(primary_key=True)
            item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
            quantity: Mapped[int]
            status: Mapped[str] = mapped_column(default="open")
        """,
    "shopapi/schemas.py": """\
        from pydantic import BaseModel


        class ItemIn(BaseModel):
            name: str
            quantity: int = 0


        class OrderIn(BaseModel):
            item_id: int
            quantity: int
        """,
    "shopapi/main.py": """\
        from fastapi import FastAPI

        from .database import engine
        from .models import Base
        from .routers import items, orders

        Base.metadata.create_all(engine)
        app = FastAPI()
        app.include_router(items.router)
        app.include_router(orders.router)
        """,
    "shopapi/routers/__init__.py": "",
    "shopapi/routers/items.py": """\
        from fastapi import APIRouter, Depends, HTTPException, Request
        from sqlalchemy.exc import IntegrityError
        from sqlalchemy.orm import Session

        from ..database import get_db
        from ..models import Item
        from ..schemas import ItemIn

        router = APIRouter(prefix="/items")


        @router.post("", status_code=201)
        def create_item(payload: ItemIn, request: Request, db: Session = Depends(get_db)):
            item = Item(name=payload.name, quantity=payload.quantity)
            item.touched_by = request.headers.get("x-user", "anonymous")
            db.add(item)
            try:
                db.commit()
            except IntegrityError:
                db.rollback()
                raise HTTPException(status_code=409, detail="duplicate name")
            return {"id": item.id, "name": item.name}


        @router.post("/{item_id}/restock")
        def restock(item_id: int, amount: int, db: Session = Depends(get_db)):
            item = db.get(Item, item_id)
            if item is None:
                raise HTTPException(status_code=404)
            total = 0
            for _ in range(amount):
                item.quantity += 1
                total += 1
            db.commit()
            return {"id": item_id, "quantity": item.quantity, "added": total}


        @router.delete("/{item_id}", status_code=204)
        def delete_item(item_id: int, db: Session = Depends(get_db)):
            item = db.get(Item, item_id)
            if item is None:
                raise HTTPException(status_code=404)
            db.delete(item)
            db.commit()
        """,
    "shopapi/routers/orders.py": """\
        from fastapi import APIRouter, Depends, HTTPException
        from sqlalchemy.ext.asyncio import AsyncSession

        from ..database import get_async_db
        from ..models import Item, Order
        from ..schemas import OrderIn

        router = APIRouter(prefix="/orders")


        @router.post("", status_code=201)
        async def create_order(payload: OrderIn, db: AsyncSession = Depends(get_async_db)):
            item = await db.get(Item, payload.item_id)
            if item is None or item.quantity < payload.quantity:
                raise HTTPException(status_code=422, detail="not available")
            item.quantity -= payload.quantity
            order = Order(item_id=item.id, quantity=payload.quantity)
            db.add(order)
            await db.commit()
            return {"id": order.id, "left": item.quantity}


        @router.post("/{order_id}/cancel")
        async def cancel_order(order_id: int, db: AsyncSession = Depends(get_async_db)):
            order = await db.get(Order, order_id)
            if order is None:
                raise HTTPException(status_code=404)
            if order.status != "cancelled":
                order.status = "cancelled"
                item = await db.get(Item, order.item_id)
                item.quantity += order.quantity
                await db.commit()
            return {"id": order.id, "status": order.status}
        """,
}


def fastapi_scenario(package: Any, database: Path) -> list[Any]:
    from fastapi.testclient import TestClient

    main = importlib.import_module(f"{package.__name__}.main")
    calls = [
        ("post", "/items", {"json": {"name": "pen", "quantity": 3}, "headers": {"x-user": "ada"}}),
        ("post", "/items", {"json": {"name": "pen"}}),
        ("post", "/items", {"json": {"name": "ink", "quantity": 1}}),
        ("post", "/items/1/restock", {"params": {"amount": 2}}),
        ("post", "/items/9/restock", {"params": {"amount": 2}}),
        ("post", "/orders", {"json": {"item_id": 1, "quantity": 4}}),
        ("post", "/orders", {"json": {"item_id": 1, "quantity": 40}}),
        ("post", "/orders", {"json": {"item_id": 2, "quantity": 1}}),
        ("post", "/orders/1/cancel", {}),
        ("post", "/orders/1/cancel", {}),
        ("post", "/orders/7/cancel", {}),
        ("delete", "/items/2", {}),
        ("delete", "/items/2", {}),
    ]
    responses = []
    with TestClient(main.app) as client:
        for method, url, kwargs in calls:
            response = client.request(method.upper(), url, **kwargs)
            responses.append((method, url, response.status_code, response.text))
    return responses


def test_fastapi_app_sync_and_async_behaves_the_same_after_the_rewrite(tmp_path: Path) -> None:
    rewritten, responses = run_both(tmp_path, "shopapi", fastapi_scenario)
    items = rewritten["shopapi/routers/items.py"]
    assert "total = items_service.restock(db, amount, item)" in items  # the session first
    assert "items_service.delete_item(db, item)" in items
    orders = rewritten["shopapi/routers/orders.py"]
    assert "order = await orders_service.create_order(db, item, payload)" in orders
    assert "await orders_service.cancel_order(db, order)" in orders
    assert "async def create_order(db: AsyncSession, item: Item, payload: OrderIn):" in rewritten[
        "shopapi/services/orders_service.py"
    ]
    statuses = [r[2] for r in responses]
    assert statuses == [201, 409, 201, 200, 404, 201, 422, 201, 200, 200, 404, 204, 404]


# -- Data flow: branches and loops, run both ways ---------------------------------------------------


FLOW_APP = {
    "flowflask/__init__.py": """\
        import os

        from flask import Flask

        from .extensions import db


        def create_app():
            app = Flask(__name__)
            app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.environ["ROUTE_COMMIT_TEST_DB"]
            db.init_app(app)
            from .routes import bp

            app.register_blueprint(bp)
            with app.app_context():
                db.create_all()
            return app
        """,
    "flowflask/extensions.py": """\
        from flask_sqlalchemy import SQLAlchemy

        db = SQLAlchemy()
        """,
    "flowflask/models.py": """\
        from .extensions import db


        class User(db.Model):
            id = db.Column(db.Integer, primary_key=True)
            email = db.Column(db.String, nullable=False)


        class Field(db.Model):
            id = db.Column(db.Integer, primary_key=True)
            user_id = db.Column(db.ForeignKey("user.id"))
            owner = db.relationship(User)
            name = db.Column(db.String)
            value = db.Column(db.String)


        class Note(db.Model):
            id = db.Column(db.Integer, primary_key=True)
            text = db.Column(db.String)
            level = db.Column(db.String)
            tags = db.Column(db.Integer, default=0)
            closed = db.Column(db.Boolean, default=False)


        class Line(db.Model):
            id = db.Column(db.Integer, primary_key=True)
            amount = db.Column(db.Integer)
        """,
    "flowflask/routes.py": """\
        from flask import Blueprint, abort, jsonify, request

        from .extensions import db
        from .models import Field, Line, Note, User

        bp = Blueprint("flow", __name__)


        @bp.post("/register")
        def register():
            data = request.get_json()
            for field_id, value in data.get("checks", {}).items():
                if not value:
                    abort(400)
            user = User(email=data["email"])
            db.session.add(user)
            for field_id, value in data.get("fields", {}).items():
                db.session.add(Field(owner=user, name=field_id, value=str(value)))
            db.session.commit()
            return jsonify(id=user.id)


        @bp.post("/notes")
        def add_note():
            data = request.get_json()
            if data.get("urgent"):
                level = "high"
            else:
                level = "low"
            text = request.json["text"]
            note = Note(text=text, level=level)
            count = 0
            for tag in data.get("tags", []):
                count += len(tag) > 0
            if count:
                note.tags = count
            db.session.add(note)
            db.session.commit()
            return jsonify(id=note.id, tags=count, level=level)


        @bp.post("/notes/<int:note_id>/close")
        def close_note(note_id):
            note = db.get_or_404(Note, note_id)
            status = "unchanged"
            if request.json.get("close"):
                note.closed = True
                status = "closed"
                db.session.commit()
            return jsonify(status=status, closed=note.closed)


        @bp.post("/notes/<int:note_id>/reuse")
        def reuse_note(note_id):
            note = db.session.get(Note, note_id)
            if request.json.get("fresh"):
                abort(409)
            if note is None:
                note = Note(text="new", level="low")
                db.session.add(note)
            db.session.commit()
            return jsonify(id=note.id)


        @bp.post("/lines")
        def add_lines():
            total = 0
            for row in request.json["rows"]:
                line = Line(amount=row["amount"])
                total = total + line.amount
                db.session.add(line)
                db.session.commit()
            return jsonify(total=total)
        """,
}


def flow_scenario(package: Any, database: Path) -> list[Any]:
    client = package.create_app().test_client()
    calls = [
        ("/register", {"email": "a@x"}),  # no checks, no fields: both loops empty
        ("/register", {"email": "b@x", "checks": {"terms": True}, "fields": {"city": "Oslo", "age": 3}}),
        ("/register", {"email": "c@x", "checks": {"terms": False}}),  # refused before the write
        ("/notes", {"text": "plain"}),  # else branch, empty loop, no tags
        ("/notes", {"text": "loud", "urgent": True, "tags": ["a", "", "b"]}),  # if branch, loop runs
        ("/notes/1/close", {"close": False}),  # the branch with the commit is skipped
        ("/notes/2/close", {"close": True}),
        ("/notes/99/close", {"close": True}),
        ("/notes/1/reuse", {}),  # found: the branch that creates is skipped
        ("/notes/77/reuse", {}),  # not found: a new note
        ("/notes/1/reuse", {"fresh": True}),
        ("/lines", {"rows": []}),  # the loop with the commit runs zero times
        ("/lines", {"rows": [{"amount": 2}, {"amount": 5}]}),
    ]
    responses = []
    for url, body in calls:
        response = client.post(url, json=body)
        responses.append((url, response.status_code, response.get_data(as_text=True)))
    return responses


def test_data_flow_app_behaves_the_same_on_every_branch_and_loop_count(tmp_path: Path) -> None:
    rewritten, responses = run_both(tmp_path, "flowflask", flow_scenario)
    routes = rewritten["flowflask/routes.py"]
    assert ".commit()" not in routes
    # loop variables of the moved loop are not passed in, though the route binds them earlier
    assert "user = flow_service.register(data)" in routes
    assert "level, note, count = flow_service.add_note(data, request.json[\"text\"])" in routes
    assert "status = flow_service.close_note(note)" in routes
    assert "note = flow_service.reuse_note(note)" in routes
    assert "total = flow_service.add_lines(row, total)" in routes
    statuses = [r[1] for r in responses]
    assert statuses == [200, 200, 400, 200, 200, 200, 200, 404, 200, 200, 409, 200, 200]


APPS = {"shopflask": FLASK_APP, "shopapi": FASTAPI_APP, "flowflask": FLOW_APP}


@pytest.mark.parametrize("package", sorted(APPS))
def test_rewritten_apps_are_a_fixed_point(package: str) -> None:
    once = rewritten_app(package)
    assert rewrite_tree(once) == once


def test_the_engine_shows_generated_modules_as_new_files_and_writes_what_finalize_made(tmp_path: Path) -> None:
    import subprocess

    from typer.testing import CliRunner

    import cli

    project = tmp_path / "project"
    write_tree(project, FLASK_APP)
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    runner = CliRunner()
    dry = runner.invoke(cli.app, ["run", str(project), "--select", "route-commit", "--dry-run", "--no-cache"])
    assert dry.exit_code == 1, dry.output
    assert "new file mode 100644\n--- /dev/null\n+++ b/shopflask/services/candidate_service.py" in dry.stdout
    assert "+++ b/shopflask/services/__init__.py" in dry.stdout
    (tmp_path / "route-commit.diff").write_text(dry.stdout)
    subprocess.run(["git", "apply", "--check", str(tmp_path / "route-commit.diff")], cwd=project, check=True)
    written = runner.invoke(cli.app, ["run", str(project), "--select", "route-commit", "--write", "--no-cache"])
    assert written.exit_code == 0, written.output
    on_disk = {p.relative_to(project).as_posix(): p.read_text() for p in project.rglob("*.py")}
    assert on_disk == rewritten_app("shopflask")
