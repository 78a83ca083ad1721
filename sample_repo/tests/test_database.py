import asyncio

import pytest
from sqlalchemy import select

from fastapi_app import database
from fastapi_app.models import Item


def test_get_db_rolls_back_and_reraises_on_error(inventory_db, monkeypatch):
    monkeypatch.setattr(database, "SessionLocal", inventory_db.Session)
    dependency = database.get_db()
    session = next(dependency)
    session.add(Item(sku="TMP-1", name="Temp", price=1))
    session.flush()

    with pytest.raises(RuntimeError):
        dependency.throw(RuntimeError("handler failed"))

    with inventory_db.Session() as check:
        assert check.scalars(select(Item)).all() == []


def test_get_db_closes_session_after_request(inventory_db, monkeypatch):
    monkeypatch.setattr(database, "SessionLocal", inventory_db.Session)
    dependency = database.get_db()
    session = next(dependency)
    session.add(Item(sku="KEEP-1", name="Keep", price=1))
    session.commit()

    dependency.close()

    with inventory_db.Session() as check:
        assert [i.sku for i in check.scalars(select(Item))] == ["KEEP-1"]


def test_get_async_db_yields_a_working_session(inventory_db, monkeypatch):
    monkeypatch.setattr(database, "AsyncSessionLocal", inventory_db.AsyncSession)

    async def run():
        dependency = database.get_async_db()
        session = await anext(dependency)
        session.add(Item(sku="ASYNC-1", name="Async", price=2))
        await session.commit()
        await dependency.aclose()

    asyncio.run(run())
    with inventory_db.Session() as check:
        assert [i.sku for i in check.scalars(select(Item))] == ["ASYNC-1"]
