"""Shared fixtures: a fresh SQLite database per test for each of the two apps.

Assertions about persisted rows always go through a *new* session, so a write
that was never committed is not visible to the test.
"""
import asyncio
import json
from types import SimpleNamespace

import pytest
import requests
from fastapi.testclient import TestClient
from sqlalchemy import create_engine
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import NullPool

import fastapi_app.models  # noqa: F401  (registers the tables on Base.metadata)
from fastapi_app.database import Base, get_async_db, get_db
from fastapi_app.main import app as inventory_app
from flask_app import create_app
from flask_app.config import TestConfig
from flask_app.extensions import db as flask_db
from flask_app.services import email_service


@pytest.fixture(autouse=True)
def empty_outbox():
    email_service.OUTBOX.clear()
    yield
    email_service.OUTBOX.clear()


# --- Flask ---------------------------------------------------------------


@pytest.fixture
def flask_app(tmp_path):
    # A file, not ":memory:": an in-memory database shares one connection, so a
    # second session would see another session's flushed but uncommitted rows.
    database_url = f"sqlite:///{tmp_path / 'hiring.db'}"
    app = create_app(type("PerTestConfig", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": database_url}))
    yield app
    with app.app_context():
        flask_db.engine.dispose()


@pytest.fixture
def client(flask_app):
    return flask_app.test_client()


@pytest.fixture
def app_ctx(flask_app):
    """An application context for calling services directly."""
    with flask_app.app_context():
        yield flask_app
        flask_db.session.remove()


@pytest.fixture
def committed(flask_app):
    """Query helper that only sees committed rows: it drops the current session first."""

    def query(model, **filters):
        with flask_app.app_context():
            flask_db.session.remove()
            rows = flask_db.session.query(model).filter_by(**filters).order_by(model.id).all()
            flask_db.session.expunge_all()
            return rows

    return query


@pytest.fixture
def add_rows(flask_app):
    def add(*objects):
        with flask_app.app_context():
            flask_db.session.add_all(objects)
            flask_db.session.commit()
            ids = [obj.id for obj in objects]
            flask_db.session.remove()
        return ids if len(ids) > 1 else ids[0]

    return add


# --- FastAPI -------------------------------------------------------------


@pytest.fixture
def inventory_db(tmp_path):
    path = tmp_path / "inventory.db"
    engine = create_engine(f"sqlite:///{path}", connect_args={"check_same_thread": False})
    Base.metadata.create_all(engine)
    # NullPool: TestClient runs the app on its own event loop, so no aiosqlite
    # connection may outlive the loop that opened it.
    async_engine = create_async_engine(f"sqlite+aiosqlite:///{path}", poolclass=NullPool)
    yield SimpleNamespace(
        Session=sessionmaker(bind=engine, autoflush=False, expire_on_commit=False),
        AsyncSession=async_sessionmaker(async_engine, expire_on_commit=False),
    )
    engine.dispose()
    asyncio.run(async_engine.dispose())


@pytest.fixture
def api(inventory_db):
    def override_get_db():
        db = inventory_db.Session()
        try:
            yield db
        finally:
            db.close()

    async def override_get_async_db():
        async with inventory_db.AsyncSession() as session:
            yield session

    inventory_app.dependency_overrides[get_db] = override_get_db
    inventory_app.dependency_overrides[get_async_db] = override_get_async_db
    yield TestClient(inventory_app)
    inventory_app.dependency_overrides.clear()


# --- outgoing HTTP -------------------------------------------------------


@pytest.fixture
def http(monkeypatch):
    """Answers requests' calls from ``http.routes`` (URL prefix -> JSON body or status code) and
    records every request; nothing leaves the machine."""
    fake = SimpleNamespace(routes={}, sent=[])

    def send(self, request, **kwargs):
        fake.sent.append(request)
        answer = next((v for prefix, v in fake.routes.items() if request.url.startswith(prefix)), 404)
        response = requests.Response()
        response.status_code = answer if isinstance(answer, int) else 200
        response._content = b"" if isinstance(answer, int) else json.dumps(answer).encode()
        response.url, response.request = request.url, request
        return response

    monkeypatch.setattr(requests.Session, "send", send)
    return fake
