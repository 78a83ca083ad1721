"""Operator commands, run from cron or by hand: ``python -m fastapi_app.commands import-orders FILE``."""
import argparse
import asyncio
import json
from pathlib import Path

from .database import AsyncSessionLocal
from .order_schemas import OrderCreate
from .services import order_service


async def read_payloads(path):
    """Parse an export of storefront orders (a JSON list) without blocking the event loop."""
    loop = asyncio.get_running_loop()
    text = await loop.run_in_executor(None, Path(path).read_text)
    return [OrderCreate.model_validate(record) for record in json.loads(text)]


async def _import_file(path, session_factory):
    payloads = await read_payloads(path)
    async with session_factory() as session:
        return await order_service.import_orders(session, payloads)


def import_orders_file(path, session_factory=AsyncSessionLocal):
    """Import the orders of one export file; returns the new order ids."""
    return asyncio.run(_import_file(path, session_factory))


def main(argv=None):
    parser = argparse.ArgumentParser(prog="fastapi_app.commands")
    commands = parser.add_subparsers(dest="command", required=True)
    import_orders = commands.add_parser("import-orders", help="import a storefront order export")
    import_orders.add_argument("path")
    args = parser.parse_args(argv)
    ids = import_orders_file(args.path)
    return f"imported {len(ids)} orders"


if __name__ == "__main__":
    raise SystemExit(main())
