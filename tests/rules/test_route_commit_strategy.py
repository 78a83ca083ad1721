"""route-commit at the request boundary: a route's commit that the session dependency (or a
Flask ``after_request`` hook) already makes is removed, not moved into a service.

The specifications run the codemod over a route module with the module that defines the
boundary next to it (the whole-tree index reads that one).  The behaviour is proven by running
real apps before and after the rewrite through the framework's test client on SQLite, the
error path (a commit that fails) included; and the measurements the rule relies on (when the
installed FastAPI and Flask run the boundary's commit, relative to the response) are tests too,
so that a framework release that changes them is noticed.
"""

from __future__ import annotations

import ast
import importlib
import os
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from codemods.rules.route_commit import RouteCommit
from codemods.rules.route_commit.boundary import commits_on_exit
from tests.rules.helpers import assert_rewrite, declined, run_codemod
from tests.rules.test_route_commit_apps import (
    imported,
    rewrite_tree,
    table_rows,
    write_tree,
)

DATABASE = """\
    from sqlalchemy.orm import sessionmaker

    SessionLocal = sessionmaker()


    def get_db():
        db = SessionLocal()
        try:
            yield db
            db.commit()
        except Exception:
            db.rollback()
            raise
        finally:
            db.close()
    """

ASYNC_DATABASE = """\
    from sqlalchemy.ext.asyncio import async_sessionmaker

    AsyncSessionLocal = async_sessionmaker()


    async def get_session():
        async with AsyncSessionLocal.begin() as session:
            yield session
    """

DEPS = """\
    from typing import Annotated

    from fastapi import Depends
    from sqlalchemy.orm import Session

    from .database import get_db

    SessionDep = Annotated[Session, Depends(get_db, scope="function")]
    """

FLASK_INIT = """\
    from flask import Flask

    from .extensions import db


    def create_app():
        app = Flask(__name__)
        db.init_app(app)

        @app.after_request
        def commit_session(response):
            db.session.commit()
            return response

        return app
    """

EXTENSIONS = """\
    from flask_sqlalchemy import SQLAlchemy

    db = SQLAlchemy()
    """

GUARDED_INIT = FLASK_INIT.replace(
    "            db.session.commit()\n", "            if response.status_code < 400:\n                db.session.commit()\n"
)
FASTAPI_FILES = {"app/database.py": textwrap.dedent(DATABASE), "app/deps.py": textwrap.dedent(DEPS)}
ASYNC_FILES = {"app/database.py": textwrap.dedent(ASYNC_DATABASE)}
FLASK_FILES = {"app/__init__.py": textwrap.dedent(FLASK_INIT), "app/extensions.py": textwrap.dedent(EXTENSIONS)}


REMOVED = [
    pytest.param(
        FASTAPI_FILES,
        """\
        from fastapi import APIRouter, Depends
        from sqlalchemy.orm import Session

        from ..database import get_db
        from ..models import Item

        router = APIRouter()


        @router.post("/items")
        def create_item(name: str, db: Session = Depends(get_db, scope="function")):
            db.add(Item(name=name))
            db.commit()
            return {"created": name}
        """,
        """\
        from fastapi import APIRouter, Depends
        from sqlalchemy.orm import Session

        from ..database import get_db
        from ..models import Item

        router = APIRouter()


        @router.post("/items")
        def create_item(name: str, db: Session = Depends(get_db, scope="function")):
            db.add(Item(name=name))
            return {"created": name}
        """,
        id="depends-with-function-scope",
    ),
    pytest.param(
        FASTAPI_FILES,
        """\
        from fastapi import APIRouter, HTTPException, Response

        from ..deps import SessionDep
        from ..models import Item

        router = APIRouter()


        @router.delete("/items/{item_id}", status_code=204)
        def delete_item(item_id: int, db: SessionDep):
            item = db.get(Item, item_id)
            if item is None:
                raise HTTPException(status_code=404)
            db.delete(item)

            # the client waits for this
            db.commit()
            return Response(status_code=204)
        """,
        """\
        from fastapi import APIRouter, HTTPException, Response

        from ..deps import SessionDep
        from ..models import Item

        router = APIRouter()


        @router.delete("/items/{item_id}", status_code=204)
        def delete_item(item_id: int, db: SessionDep):
            item = db.get(Item, item_id)
            if item is None:
                raise HTTPException(status_code=404)
            db.delete(item)

            # the client waits for this
            return Response(status_code=204)
        """,
        id="annotated-alias-of-another-module-comment-kept",
    ),
    pytest.param(
        ASYNC_FILES,
        """\
        from fastapi import APIRouter, Depends
        from sqlalchemy.ext.asyncio import AsyncSession

        from ..database import get_session
        from ..models import Item

        router = APIRouter()


        @router.post("/items/{item_id}/archive")
        async def archive(item_id: int, db: AsyncSession = Depends(get_session, scope="function")):
            item = await db.get(Item, item_id)
            if item.status != "archived":
                item.status = "archived"
                await db.commit()
            return {"id": item_id, "archived": True}
        """,
        """\
        from fastapi import APIRouter, Depends
        from sqlalchemy.ext.asyncio import AsyncSession

        from ..database import get_session
        from ..models import Item

        router = APIRouter()


        @router.post("/items/{item_id}/archive")
        async def archive(item_id: int, db: AsyncSession = Depends(get_session, scope="function")):
            item = await db.get(Item, item_id)
            if item.status != "archived":
                item.status = "archived"
            return {"id": item_id, "archived": True}
        """,
        id="async-begin-dependency-commit-inside-if",
    ),
    pytest.param(
        FLASK_FILES,
        """\
        from flask import Blueprint, redirect, url_for

        from .extensions import db
        from .models import Item

        bp = Blueprint("items", __name__)


        @bp.post("/items/<name>")
        def create_item(name):
            db.session.add(Item(name=name))
            db.session.commit()
            return redirect(url_for("items.show", name=name))
        """,
        """\
        from flask import Blueprint, redirect, url_for

        from .extensions import db
        from .models import Item

        bp = Blueprint("items", __name__)


        @bp.post("/items/<name>")
        def create_item(name):
            db.session.add(Item(name=name))
            return redirect(url_for("items.show", name=name))
        """,
        id="flask-after-request-hook",
    ),
    pytest.param(
        {**FLASK_FILES, "app/__init__.py": textwrap.dedent(GUARDED_INIT)},
        """\
        from flask import Blueprint, jsonify

        from .extensions import db
        from .models import Item

        bp = Blueprint("items", __name__)


        @bp.post("/items/<name>")
        def create_item(name):
            db.session.add(Item(name=name))
            db.session.commit()
            return {"created": name}, 201


        @bp.post("/items/<name>/tag")
        def tag_item(name):
            db.session.add(Item(name=name, tag=True))
            db.session.commit()
            logger.info("tagged %s", name)
            return jsonify(status="tagged")
        """,
        """\
        from flask import Blueprint, jsonify

        from .extensions import db
        from .models import Item

        bp = Blueprint("items", __name__)


        @bp.post("/items/<name>")
        def create_item(name):
            db.session.add(Item(name=name))
            return {"created": name}, 201


        @bp.post("/items/<name>/tag")
        def tag_item(name):
            db.session.add(Item(name=name, tag=True))
            logger.info("tagged %s", name)
            return jsonify(status="tagged")
        """,
        id="flask-hook-committing-below-400-a-201-a-log-and-jsonify",
    ),
]


@pytest.mark.parametrize(("other_files", "before", "after"), REMOVED)
def test_a_commit_the_boundary_makes_is_removed_and_the_writes_stay(
    other_files: dict[str, str], before: str, after: str
) -> None:
    path = "app/routes.py" if "app/extensions.py" in other_files else "app/routers/items.py"
    outcome = assert_rewrite(RouteCommit, before, after, path=path, other_files=other_files)
    assert not outcome.extras, "no service function is generated for a removed commit"
    assert {f.message.split(":")[0] for f in outcome.findings} == {"removed a redundant commit"}


def reasons(source: str, other_files: dict[str, str], path: str = "app/routers/items.py") -> list[str]:
    outcome = run_codemod(RouteCommit, source, path=path, other_files=other_files)
    return declined(outcome.findings)


# Kept (and moved into a service as without a boundary), with a finding that says why.
KEPT = [
    pytest.param(
        FASTAPI_FILES,
        """\
        @router.post("/items")
        def create_item(name: str, db: Session = Depends(get_db)):
            db.add(Item(name=name))
            db.commit()
            return {"created": name}
        """,
        "after the response is sent",
        id="default-scope-commits-after-the-response",
    ),
    pytest.param(
        FASTAPI_FILES,
        """\
        @router.post("/items")
        def create_item(name: str, db: SessionDep):
            item = Item(name=name)
            db.add(item)
            db.commit()
            return {"id": item.id}
        """,
        "the route goes on after it (line 17)",
        id="reads-a-generated-id-after-the-commit",
    ),
    pytest.param(
        FASTAPI_FILES,
        """\
        @router.post("/items")
        def create_item(name: str, db: SessionDep):
            db.add(Item(name=name))
            try:
                db.commit()
            except IntegrityError:
                raise HTTPException(status_code=409)
            return {"created": name}
        """,
        "inside a `try` statement",
        id="commit-errors-caught-by-the-route",
    ),
    pytest.param(
        FASTAPI_FILES,
        """\
        @router.post("/items")
        def create_item(name: str, db: SessionDep):
            try:
                db.add(Item(name=name))
            except ValueError:
                raise HTTPException(status_code=422)
            else:
                db.commit()
            finally:
                db.close()
            return {"created": name}
        """,
        "inside a `try` statement",
        id="commit-in-the-else-of-a-try-with-finally",
    ),
    pytest.param(
        FASTAPI_FILES,
        """\
        @router.post("/items")
        def create_items(names: list[str], db: SessionDep):
            for name in names:
                db.add(Item(name=name))
                db.commit()
            return {"created": len(names)}
        """,
        "inside a loop",
        id="commit-in-a-loop",
    ),
    pytest.param(
        FASTAPI_FILES,
        """\
        @router.post("/items")
        def create_item(name: str, db: SessionDep):
            db.add(Item(name=name))
            db.commit()
            notify(name)
            return {"created": name}
        """,
        "the route goes on after it",
        id="a-project-function-called-after-the-commit",
    ),
    pytest.param(
        {
            **FLASK_FILES,
            "app/__init__.py": textwrap.dedent(FLASK_INIT).replace("after_request", "teardown_request"),
        },
        """\
        @bp.post("/items/<name>")
        def create_item(name):
            db.session.add(Item(name=name))
            db.session.commit()
            return {"created": name}
        """,
        "the `teardown_request` hook `commit_session` (app/__init__.py, line 11) commits after the response is built",
        id="flask-teardown-hook",
    ),
    pytest.param(
        {**FLASK_FILES, "app/config.py": "SQLALCHEMY_COMMIT_ON_TEARDOWN = True\n", "app/__init__.py": ""},
        """\
        @bp.post("/items/<name>")
        def create_item(name):
            db.session.add(Item(name=name))
            db.session.commit()
            return {"created": name}
        """,
        "app/config.py sets SQLALCHEMY_COMMIT_ON_TEARDOWN (line 1), which Flask-SQLAlchemy 3 ignores",
        id="flask-sqlalchemy-commit-on-teardown",
    ),
    pytest.param(
        {**FLASK_FILES, "app/__init__.py": textwrap.dedent(GUARDED_INIT)},
        """\
        @bp.post("/items/<name>")
        def create_item(name):
            db.session.add(Item(name=name))
            db.session.commit()
            return {"created": name}, 409
        """,
        "the route answers a status the hook does not commit (line 13)",
        id="flask-hook-committing-below-400-and-a-409",
    ),
]

FASTAPI_HEADER = """\
from fastapi import APIRouter, Depends, HTTPException
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..database import get_db
from ..deps import SessionDep
from ..models import Item, notify

router = APIRouter()


"""
FLASK_HEADER = """\
from flask import Blueprint

from .extensions import db
from .models import Item

bp = Blueprint("items", __name__)


"""


@pytest.mark.parametrize(("other_files", "route", "reason"), KEPT)
def test_a_commit_the_boundary_does_not_make_redundant_is_kept_with_a_finding(
    other_files: dict[str, str], route: str, reason: str
) -> None:
    flask = "app/extensions.py" in other_files
    source = (FLASK_HEADER if flask else FASTAPI_HEADER) + textwrap.dedent(route)
    path = "app/routes.py" if flask else "app/routers/items.py"
    outcome = run_codemod(RouteCommit, source, path=path, other_files=other_files)
    notes = [m for m in declined(outcome.findings) if m.startswith("not removed")]
    assert len(notes) == 1 and reason in notes[0], declined(outcome.findings)
    assert not any(f.message.startswith("removed") for f in outcome.findings)


# No finding about the boundary: nothing there commits the route's session on every exit.
NOT_A_BOUNDARY = [
    pytest.param("def get_db():\n    db = SessionLocal()\n    try:\n        yield db\n    finally:\n        db.close()\n", id="closes-only"),
    pytest.param("def get_db():\n    db = SessionLocal()\n    yield db\n    if db.dirty:\n        db.commit()\n", id="commits-conditionally"),
    pytest.param("def get_db():\n    with SessionLocal() as db:\n        yield db\n    db.commit()\n", id="commits-a-closed-session"),
    pytest.param("def get_db():\n    db = SessionLocal()\n    yield db\n    db.flush()\n", id="flushes-only"),
    pytest.param("def get_db():\n    db = SessionLocal()\n    yield db\n    return\n    db.commit()\n", id="returns-before-the-commit"),
    pytest.param("def get_db():\n    for db in pool():\n        yield db\n        db.commit()\n", id="yields-in-a-loop"),
]


@pytest.mark.parametrize("provider", NOT_A_BOUNDARY)
def test_a_dependency_that_does_not_always_commit_is_no_boundary(provider: str) -> None:
    files = {"app/database.py": "from sqlalchemy.orm import sessionmaker\n\nSessionLocal = sessionmaker()\n\n\n" + provider}
    source = FASTAPI_HEADER.replace("from ..deps import SessionDep\n", "") + textwrap.dedent(
        """\
        @router.post("/items")
        def create_item(name: str, db: Session = Depends(get_db, scope="function")):
            db.add(Item(name=name))
            db.commit()
            return {"created": name}
        """
    )
    outcome = run_codemod(RouteCommit, source, path="app/routers/items.py", other_files=files)
    assert [f.message.split(" ")[0] for f in outcome.findings] == ["moved"]
    assert not commits_on_exit(ast.parse(provider).body[0])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "provider",
    [
        pytest.param(DATABASE.split("\n\n\n")[1], id="commit-after-yield-in-try"),
        pytest.param("def get_db():\n    with SessionLocal() as s:\n        yield s\n        s.commit()\n", id="with-session"),
        pytest.param("def get_db():\n    db = SessionLocal()\n    try:\n        yield db\n    except Exception:\n        db.rollback()\n        raise\n    else:\n        db.commit()\n", id="commit-in-else"),
        pytest.param("def get_db():\n    with Session(engine) as s, s.begin():\n        yield s\n", id="with-session-begin"),
        pytest.param("async def get_db():\n    async with AsyncSessionLocal() as s:\n        yield s\n        await s.commit()\n", id="async-commit"),
    ],
)
def test_dependencies_that_commit_on_every_normal_exit(provider: str) -> None:
    assert commits_on_exit(ast.parse(textwrap.dedent(provider)).body[0])  # type: ignore[arg-type]


def test_the_only_statement_of_its_block_is_not_removed() -> None:
    source = FASTAPI_HEADER + textwrap.dedent(
        """\
        @router.post("/items/{item_id}/touch")
        def touch(item_id: int, db: SessionDep):
            if item_id:
                db.commit()
            return {"ok": True}
        """
    )
    assert "not removed: it is the only statement of its block" in reasons(source, FASTAPI_FILES)


# -- proof by running the apps ---------------------------------------------------------------------


UOW_API = {
    "uowapi/__init__.py": "",
    "uowapi/database.py": """\
        import os

        from sqlalchemy import create_engine
        from sqlalchemy.orm import DeclarativeBase, sessionmaker

        engine = create_engine("sqlite:///" + os.environ["ROUTE_COMMIT_TEST_DB"])
        SessionLocal = sessionmaker(bind=engine)


        class Base(DeclarativeBase):
            pass


        def get_db():
            db = SessionLocal()
            try:
                yield db
                db.commit()
            except Exception:
                db.rollback()
                raise
            finally:
                db.close()
        """,
    "uowapi/deps.py": DEPS,
    "uowapi/models.py": """\
        from sqlalchemy import Column, Integer, String

        from .database import Base


        class Item(Base):
            __tablename__ = "items"
            id = Column(Integer, primary_key=True)
            name = Column(String, unique=True, nullable=False)
        """,
    "uowapi/main.py": """\
        from fastapi import FastAPI

        from .database import Base, engine
        from .routers import items

        Base.metadata.create_all(engine)
        app = FastAPI()
        app.include_router(items.router)
        """,
    "uowapi/routers/__init__.py": "",
    "uowapi/routers/items.py": """\
        from fastapi import APIRouter, Depends, HTTPException
        from sqlalchemy.orm import Session

        from ..database import get_db
        from ..deps import SessionDep
        from ..models import Item

        router = APIRouter()


        @router.post("/items")
        def create_item(name: str, db: Session = Depends(get_db, scope="function")):
            db.add(Item(name=name))
            db.commit()
            return {"created": name}


        @router.put("/items/{item_id}")
        def rename_item(item_id: int, name: str, db: SessionDep):
            item = db.get(Item, item_id)
            if item is None:
                raise HTTPException(status_code=404)
            item.name = name
            db.commit()
            return {"renamed": name}


        @router.get("/items")
        def list_items(db: SessionDep):
            return [item.name for item in db.query(Item).order_by(Item.id)]
        """,
}


def fastapi_scenario(package: Any, database: Path) -> list[Any]:
    from fastapi.testclient import TestClient

    main = importlib.import_module(f"{package.__name__}.main")
    calls = [
        ("POST", "/items", {"name": "pen"}),
        ("POST", "/items", {"name": "ink"}),
        ("POST", "/items", {"name": "pen"}),  # the unique name: the commit fails, nothing is saved
        ("PUT", "/items/1", {"name": "quill"}),
        ("PUT", "/items/2", {"name": "quill"}),  # fails at commit time
        ("PUT", "/items/9", {"name": "x"}),
        ("GET", "/items", {}),
    ]
    responses = []
    with TestClient(main.app, raise_server_exceptions=False) as client:
        for method, url, params in calls:
            response = client.request(method, url, params=params)
            responses.append((method, url, response.status_code, response.text))
    return responses


UOW_FLASK = {
    "uowflask/__init__.py": """\
        import os

        from flask import Flask

        from .extensions import db


        def create_app():
            app = Flask(__name__)
            app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.environ["ROUTE_COMMIT_TEST_DB"]
            db.init_app(app)

            @app.after_request
            def commit_session(response):
                db.session.commit()
                return response

            from .routes import bp

            app.register_blueprint(bp)
            with app.app_context():
                db.create_all()
            return app
        """,
    "uowflask/extensions.py": EXTENSIONS,
    "uowflask/models.py": """\
        from .extensions import db


        class Item(db.Model):
            id = db.Column(db.Integer, primary_key=True)
            name = db.Column(db.String, unique=True, nullable=False)
        """,
    "uowflask/routes.py": """\
        from flask import Blueprint, abort, jsonify, redirect, url_for

        from .extensions import db
        from .models import Item

        bp = Blueprint("items", __name__)


        @bp.post("/items/<name>")
        def create_item(name):
            db.session.add(Item(name=name))
            db.session.commit()
            return redirect(url_for("items.list_items"))


        @bp.post("/items/<int:item_id>/name/<name>")
        def rename_item(item_id, name):
            item = db.session.get(Item, item_id)
            if item is None:
                abort(404)
            item.name = name
            db.session.commit()
            return jsonify(renamed=name)


        @bp.get("/items")
        def list_items():
            return jsonify([item.name for item in db.session.query(Item).order_by(Item.id)])
        """,
}


def flask_scenario(package: Any, database: Path) -> list[Any]:
    app = package.create_app()
    app.testing = False  # a failing request answers 500, as in production
    client = app.test_client()
    calls = ["/items/pen", "/items/ink", "/items/pen", "/items/1/name/quill", "/items/2/name/quill", "/items/9/name/x"]
    responses = [(url, client.post(url).status_code) for url in calls]
    listed = client.get("/items")
    return [*responses, ("/items", listed.status_code, listed.get_json())]


def run_both(tmp_path: Path, files: dict[str, str], package: str, scenario: Callable[[Any, Path], list[Any]]) -> tuple[dict[str, str], list[Any], dict[str, Any]]:
    rewritten = rewrite_tree(files)
    results = []
    for name, tree in (("original", {p: textwrap.dedent(c) for p, c in files.items()}), ("rewritten", rewritten)):
        root = tmp_path / name
        write_tree(root, tree)
        database = root / "app.db"
        os.environ["ROUTE_COMMIT_TEST_DB"] = str(database)
        with imported(root, package) as module:
            responses = scenario(module, database)
        results.append((responses, table_rows(database)))
    assert results[1][0] == results[0][0], "responses differ after the rewrite"
    assert results[1][1] == results[0][1], "database rows differ after the rewrite"
    return rewritten, results[0][0], results[0][1]


def test_fastapi_app_without_its_redundant_commits_answers_and_saves_the_same(tmp_path: Path) -> None:
    rewritten, responses, rows = run_both(tmp_path, UOW_API, "uowapi", fastapi_scenario)
    assert "commit" not in rewritten["uowapi/routers/items.py"]
    assert not any("services" in path for path in rewritten), "no service module for removed commits"
    assert [r[2] for r in responses] == [200, 200, 500, 200, 500, 404, 200]
    assert rows["items"] == [(1, "quill"), (2, "ink")]


def test_flask_app_without_its_redundant_commits_answers_and_saves_the_same(tmp_path: Path) -> None:
    rewritten, responses, rows = run_both(tmp_path, UOW_FLASK, "uowflask", flask_scenario)
    assert "commit" not in rewritten["uowflask/routes.py"]
    assert [r[1] for r in responses] == [302, 302, 500, 200, 500, 404, 200]
    assert rows["item"] == [(1, "quill"), (2, "ink")]


# -- what the rule relies on, measured on the installed frameworks ---------------------------------


def committing_dependency_app(database: Path, scope: str | None) -> Any:
    from fastapi import Depends, FastAPI
    from sqlalchemy import Column, Integer, String, create_engine
    from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

    engine = create_engine(f"sqlite:///{database}")
    factory = sessionmaker(bind=engine)

    class Base(DeclarativeBase):
        pass

    class Row(Base):
        __tablename__ = "rows"
        id = Column(Integer, primary_key=True)
        name = Column(String, unique=True)

    Base.metadata.create_all(engine)

    def get_db() -> Any:
        db = factory()
        try:
            yield db
            db.commit()
        except Exception:
            db.rollback()
            raise
        finally:
            db.close()

    depends = Depends(get_db) if scope is None else Depends(get_db, scope=scope)  # type: ignore[call-overload]
    app = FastAPI()

    @app.post("/rows/{name}")
    def create(name: str, db: Session = depends) -> dict[str, bool]:
        db.add(Row(name=name))
        return {"ok": True}

    return app


@pytest.mark.parametrize(
    ("scope", "failed_status"),
    [
        pytest.param(None, 200, id="default-scope-after-the-response"),
        pytest.param("request", 200, id="request-scope-after-the-response"),
        pytest.param("function", 500, id="function-scope-before-the-response"),
    ],
)
def test_when_fastapi_runs_the_commit_after_yield(tmp_path: Path, scope: str | None, failed_status: int) -> None:
    """A dependency's commit after ``yield`` that fails: with the default scope the client has
    already been answered 200 (and the row is lost); with scope="function" it gets a 500."""
    from fastapi.testclient import TestClient

    database = tmp_path / "rows.db"
    client = TestClient(committing_dependency_app(database, scope), raise_server_exceptions=False)
    assert client.post("/rows/a").status_code == 200
    assert client.post("/rows/a").status_code == failed_status  # unique name: the commit fails
    assert table_rows(database)["rows"] == [(1, "a")]


def test_flask_after_request_commit_fails_before_the_response_is_sent(tmp_path: Path) -> None:
    from flask import Flask
    from flask_sqlalchemy import SQLAlchemy

    db = SQLAlchemy()

    class Row(db.Model):  # type: ignore[name-defined,misc]
        id = db.Column(db.Integer, primary_key=True)
        name = db.Column(db.String, unique=True)

    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path / 'rows.db'}"
    db.init_app(app)

    @app.after_request
    def commit_session(response: Any) -> Any:
        db.session.commit()
        return response

    @app.post("/rows/<name>")
    def create(name: str) -> dict[str, bool]:
        db.session.add(Row(name=name))
        return {"ok": True}

    with app.app_context():
        db.create_all()
    client = app.test_client()
    assert client.post("/rows/a").status_code == 200
    assert client.post("/rows/a").status_code == 500
    assert table_rows(tmp_path / "rows.db")["row"] == [(1, "a")]


# -- strategy = "unit-of-work": the service writes and flushes, the boundary commits ---------------


UOW = {"strategy": "unit-of-work"}

CLOSING_DATABASE = """\
    from sqlalchemy.orm import sessionmaker

    SessionLocal = sessionmaker()


    def get_db():
        db = SessionLocal()
        try:
            yield db
        finally:
            db.close()
    """

UOW_ROUTE = """\
    from fastapi import APIRouter, Depends
    from sqlalchemy.orm import Session

    from ..database import get_db
    from ..models import Item

    router = APIRouter()


    @router.post("/items")
    def create_item(name: str, db: Session = Depends(get_db, scope="function")):
        item = Item(name=name)
        db.add(item)
        db.commit()
        return {"id": item.id}
    """


def finalized(outcome: Any, files: dict[str, str], options: dict[str, Any]) -> dict[str, str]:
    from codemods.engine.config import default_options
    from codemods.engine.templating import TemplateSet

    merged = {**default_options(RouteCommit), **options}
    result = RouteCommit.finalize([(outcome.path, e) for _, e in outcome.extras], files.get, merged, TemplateSet())
    return {g.path: g.content for g in result.files if not g.path.endswith("__init__.py")}


def test_unit_of_work_moves_the_writes_into_a_flushing_service_and_the_dependency_commits() -> None:
    files = {"app/database.py": textwrap.dedent(CLOSING_DATABASE)}
    after = """\
        from fastapi import APIRouter, Depends
        from sqlalchemy.orm import Session

        from ..database import get_db
        from ..services import items_service

        router = APIRouter()


        @router.post("/items")
        def create_item(name: str, db: Session = Depends(get_db, scope="function")):
            item = items_service.create_item(db, name)
            return {"id": item.id}
        """
    outcome = assert_rewrite(RouteCommit, UOW_ROUTE, after, path="app/routers/items.py", other_files=files, options=UOW)
    generated = finalized(outcome, files, UOW)
    assert generated["app/database.py"] == textwrap.dedent(CLOSING_DATABASE).replace(
        "        yield db\n", "        yield db\n        db.commit()\n"
    )
    assert generated["app/services/items_service.py"].endswith(
        textwrap.dedent(
            '''\
            def create_item(db: Session, name: str):
                """Create the item and flush (the request commits)."""
                item = Item(name=name)
                db.add(item)
                db.flush()
                return item
            '''
        )
    )
    [finding] = outcome.findings
    assert finding.message.endswith(
        "which flushes instead of committing; the dependency `get_db` commits at the request boundary "
        "(its commit after the yield is added to app/database.py)"
    )


def test_unit_of_work_edits_an_async_dependency_once_and_leaves_a_committing_one_alone() -> None:
    async_database = textwrap.dedent(
        """\
        from sqlalchemy.ext.asyncio import async_sessionmaker

        AsyncSessionLocal = async_sessionmaker()


        async def get_session():
            async with AsyncSessionLocal() as session:
                yield session
        """
    )
    route = """\
        from fastapi import APIRouter, Depends
        from sqlalchemy.ext.asyncio import AsyncSession

        from ..database import get_session
        from ..models import Item

        router = APIRouter()


        @router.post("/items")
        async def create_item(name: str, db: AsyncSession = Depends(get_session, scope="function")):
            db.add(Item(name=name))
            await db.commit()
            return {"created": name}


        @router.delete("/items/{item_id}")
        async def delete_item(item_id: int, db: AsyncSession = Depends(get_session, scope="function")):
            item = await db.get(Item, item_id)
            await db.delete(item)
            await db.commit()
            return {"deleted": item_id}
        """
    files = {"app/database.py": async_database}
    outcome = run_codemod(RouteCommit, route, path="app/routers/items.py", other_files=files, options=UOW)
    assert sorted(type(e).__name__ for _, e in outcome.extras) == ["BoundaryEdit", "BoundaryEdit", "ServiceFunctionRequest", "ServiceFunctionRequest"]
    edited = finalized(outcome, files, UOW)["app/database.py"]
    assert edited.count("await session.commit()") == 1
    assert "        yield session\n        await session.commit()\n" in edited
    # Run again over the edited dependency: it commits now, so nothing asks for an edit.
    again = run_codemod(RouteCommit, route, path="app/routers/items.py", other_files={"app/database.py": edited}, options=UOW)
    assert [type(e).__name__ for _, e in again.extras] == ["ServiceFunctionRequest", "ServiceFunctionRequest"]


def test_unit_of_work_with_a_flask_after_request_hook_moves_the_writes_and_flushes() -> None:
    route = FLASK_HEADER + textwrap.dedent(
        """\
        @bp.post("/items/<name>")
        def create_item(name):
            item = Item(name=name)
            db.session.add(item)
            db.session.commit()
            print("created", item.id)
            location = f"/items/{item.id}"
            return {"item": item.to_dict()}, 201, {"Location": location}
        """
    )
    outcome = run_codemod(RouteCommit, route, path="app/routes.py", other_files=FLASK_FILES, options=UOW)
    assert "item = items_service.create_item(name)" in outcome.new_source.decode()
    assert "db.session.flush()" in finalized(outcome, FLASK_FILES, UOW)["app/services/items_service.py"]
    assert [e for _, e in outcome.extras if type(e).__name__ == "BoundaryEdit"] == []
    assert "an `after_request` hook commits at the request boundary" in outcome.findings[0].message


# Declined: the route stays as it is, with the reason.
UOW_DECLINED = [
    pytest.param(
        {"app/database.py": textwrap.dedent(CLOSING_DATABASE)},
        UOW_ROUTE.replace(', scope="function"', ""),
        "FastAPI runs the code after `get_db`'s yield after the response is sent",
        id="default-dependency-scope",
    ),
    pytest.param(
        {"app/database.py": textwrap.dedent(CLOSING_DATABASE)},
        UOW_ROUTE.replace('    return {"id": item.id}', '    db.add(Item(name=name + "2"))\n        db.commit()\n        return {}'),
        "the route commits 2 times",
        id="several-commits",
    ),
    pytest.param(
        {"app/database.py": textwrap.dedent(CLOSING_DATABASE)},
        UOW_ROUTE.replace('    return {"id": item.id}', "    notify(item)\n        return {}"),
        "an error there would roll the writes back",
        id="the-route-goes-on-after-the-commit",
    ),
    pytest.param(
        {"app/database.py": textwrap.dedent(CLOSING_DATABASE).replace("        yield db\n", "        if True:\n            yield db\n")},
        UOW_ROUTE,
        "yields the session more than once, or inside an `if`",
        id="dependency-yields-in-an-if",
    ),
    pytest.param(
        {"app/extensions.py": textwrap.dedent(EXTENSIONS)},  # and no app setup to add a hook to
        FLASK_HEADER + textwrap.dedent(
            """\
            @bp.post("/items/<name>")
            def create_item(name):
                db.session.add(Item(name=name))
                db.session.commit()
                return {"created": name}
            """
        ),
        "no `after_request` hook commits `db.session`, and no app setups",
        id="flask-without-a-hook-or-an-app-setup",
    ),
]


@pytest.mark.parametrize(("other_files", "route", "reason"), UOW_DECLINED)
def test_unit_of_work_declines_where_the_boundary_cannot_commit_safely(
    other_files: dict[str, str], route: str, reason: str
) -> None:
    path = "app/routes.py" if "app/extensions.py" in other_files else "app/routers/items.py"
    outcome = run_codemod(RouteCommit, textwrap.dedent(route), path=path, other_files=other_files, options=UOW)
    assert outcome.status in ("unchanged", "filtered") and not outcome.extras
    messages = declined(outcome.findings)
    assert messages and all(m.startswith("not moved: unit-of-work: ") for m in messages)
    assert reason in messages[0], messages


def rewrite_with(files: dict[str, str], options: dict[str, Any]) -> dict[str, str]:
    """The app after route-commit with ``options``, as the engine writes it."""
    from codemods.engine.config import default_options
    from codemods.engine.pipeline import CHANGED, transform_source
    from tests.rules.helpers import make_plan

    sources = {path: textwrap.dedent(content) for path, content in files.items()}
    plan = make_plan(RouteCommit, sources, options)
    result = dict(sources)
    extras = []
    for path, source in sorted(sources.items()):
        outcome = transform_source(path, source.encode(), plan)
        if outcome.status == CHANGED:
            result[path] = outcome.new_source.decode()
            extras.extend((path, extra) for _, extra in outcome.extras)
    merged = {**default_options(RouteCommit), **options}
    for generated in RouteCommit.finalize(extras, result.get, merged, plan.templates).files:
        result[generated.path] = generated.content
    return result


def run_both_with(tmp_path: Path, files: dict[str, str], package: str, scenario: Callable[[Any, Path], list[Any]]) -> tuple[dict[str, str], list[Any], dict[str, Any]]:
    rewritten = rewrite_with(files, UOW)
    results = []
    for name, tree in (("original", {p: textwrap.dedent(c) for p, c in files.items()}), ("rewritten", rewritten)):
        root = tmp_path / name
        write_tree(root, tree)
        database = root / "app.db"
        os.environ["ROUTE_COMMIT_TEST_DB"] = str(database)
        with imported(root, package) as module:
            responses = scenario(module, database)
        results.append((responses, table_rows(database)))
    assert results[1][0] == results[0][0], "responses differ after the rewrite"
    assert results[1][1] == results[0][1], "database rows differ after the rewrite"
    return rewritten, results[0][0], results[0][1]


UOW_API_APP = {
    **UOW_API,
    "uowapi/database.py": UOW_API["uowapi/database.py"].replace(
        "                yield db\n                db.commit()\n            except Exception:\n                db.rollback()\n                raise\n",
        "                yield db\n",
    ),
    "uowapi/routers/items.py": UOW_API["uowapi/routers/items.py"].replace(
        '            db.add(Item(name=name))\n            db.commit()\n            return {"created": name}',
        '            item = Item(name=name)\n            db.add(item)\n            db.commit()\n            return {"id": item.id, "name": item.name}',
    ),
}


def test_fastapi_unit_of_work_app_answers_and_saves_the_same(tmp_path: Path) -> None:
    assert "db.commit()" not in UOW_API_APP["uowapi/database.py"]  # the dependency only closes
    rewritten, responses, rows = run_both_with(tmp_path, UOW_API_APP, "uowapi", fastapi_scenario)
    assert "commit" not in rewritten["uowapi/routers/items.py"]
    assert "yield db\n        db.commit()\n" in rewritten["uowapi/database.py"]
    assert rewritten["uowapi/services/items_service.py"].count("db.flush()") == 2
    assert [r[2] for r in responses] == [200, 200, 500, 200, 500, 404, 200]
    assert responses[0][3] == '{"id":1,"name":"pen"}'  # the generated id, read after the flush
    assert rows["items"] == [(1, "quill"), (2, "ink")]


def test_flask_unit_of_work_app_answers_and_saves_the_same(tmp_path: Path) -> None:
    """With the hook docs/unit-of-work.md recommends (it commits responses below 400 only)."""
    guarded = UOW_FLASK["uowflask/__init__.py"].replace(
        "                db.session.commit()\n", "                if response.status_code < 400:\n                    db.session.commit()\n"
    )
    assert guarded != UOW_FLASK["uowflask/__init__.py"]
    files = {**UOW_FLASK, "uowflask/__init__.py": guarded}
    rewritten, responses, rows = run_both_with(tmp_path, files, "uowflask", flask_scenario)
    assert "commit" not in rewritten["uowflask/routes.py"]
    assert rewritten["uowflask/services/items_service.py"].count("db.session.flush()") == 2
    assert [r[1] for r in responses] == [302, 302, 500, 200, 500, 404, 200]
    assert rows["item"] == [(1, "quill"), (2, "ink")]


def test_flask_unit_of_work_adds_the_committing_hook_where_the_app_gets_its_extension(tmp_path: Path) -> None:
    """No hook yet: the app factory gets the one of templates/boundary_hook.py.j2, once, and
    the app answers and saves the same (a failing commit included)."""
    files = {**UOW_FLASK, "uowflask/__init__.py": UOW_FLASK["uowflask/__init__.py"].replace(
        "            @app.after_request\n            def commit_session(response):\n                db.session.commit()\n                return response\n\n", ""
    )}
    assert "after_request" not in files["uowflask/__init__.py"]
    rewritten, responses, rows = run_both_with(tmp_path, files, "uowflask", flask_scenario)
    assert "commit" not in rewritten["uowflask/routes.py"]
    assert textwrap.dedent(
        '''\
            db.init_app(app)

            @app.after_request
            def commit_session(response):
                """Commit the request's writes when it succeeded, roll them back when it did not."""
                if response.status_code < 400:
                    db.session.commit()
                else:
                    db.session.rollback()
                return response

            from .routes import bp
        '''
    ) in textwrap.dedent(rewritten["uowflask/__init__.py"].split("def create_app():\n", 1)[1])
    assert [r[1] for r in responses] == [302, 302, 500, 200, 500, 404, 200]
    assert rows["item"] == [(1, "quill"), (2, "ink")]
    # A second run finds the hook it added: nothing more to change.
    assert rewrite_with(rewritten, UOW) == rewritten


def test_flask_unit_of_work_declines_when_the_app_is_set_up_twice() -> None:
    init = textwrap.dedent(FLASK_INIT).replace(
        "    @app.after_request\n    def commit_session(response):\n        db.session.commit()\n        return response\n\n", ""
    )
    assert "after_request" not in init
    files = {"app/__init__.py": init, "app/admin.py": "from .extensions import db\n\n\ndef admin_app(app):\n    db.init_app(app)\n", "app/extensions.py": textwrap.dedent(EXTENSIONS)}
    route = FLASK_HEADER + '@bp.post("/items/<name>")\ndef create_item(name):\n    db.session.add(Item(name=name))\n    db.session.commit()\n    return {}\n'
    [message] = declined(run_codemod(RouteCommit, route, path="app/routes.py", other_files=files, options=UOW).findings)
    assert "and 2 app setups (`db.init_app(app)`, `SQLAlchemy(app)`) were found to add one to" in message
