import asyncio
import json

from sqlalchemy import select

from fastapi_app import commands
from fastapi_app.models import Order


def write_export(path, refs):
    path.write_text(json.dumps([
        {"customerEmail": f"{ref.lower()}@example.com", "externalRef": ref, "lines": [{"itemId": 1, "quantity": 2}]}
        for ref in refs
    ]))
    return path


def test_read_payloads(tmp_path):
    payloads = asyncio.run(commands.read_payloads(write_export(tmp_path / "orders.json", ["R1", "R2"])))
    assert [(p.external_ref, p.lines[0].quantity) for p in payloads] == [("R1", 2), ("R2", 2)]


def test_import_orders_file(inventory_db, tmp_path):
    # The command runs on the thread's event loop, as it does when started from cron.
    asyncio.set_event_loop(asyncio.new_event_loop())
    ids = commands.import_orders_file(write_export(tmp_path / "orders.json", ["R1", "R2"]), inventory_db.AsyncSession)

    with inventory_db.Session() as s:
        orders = s.scalars(select(Order).order_by(Order.id)).all()
        assert ids == [o.id for o in orders]
        assert [(o.external_ref, len(o.lines)) for o in orders] == [("R1", 1), ("R2", 1)]
