"""Order ingestion from the storefront and the marketplace webhook."""
import logging
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..models import Item, Order, OrderLine
from ..order_schemas import OrderStatusUpdate

logger = logging.getLogger(__name__)


async def import_orders(session: AsyncSession, payloads):
    """Store pre-validated storefront orders as pending; stock is reserved later."""
    orders = []
    for payload in payloads:
        order = Order(customer_email=payload.customer_email, external_ref=payload.external_ref)
        order.lines = [OrderLine(item_id=line.item_id, quantity=line.quantity, unit_price=0) for line in payload.lines]
        session.add(order)
        orders.append(order)
    await session.commit()
    logger.info("Imported %s orders", len(orders))
    return [order.id for order in orders]


async def ingest_marketplace_stream(session: AsyncSession, stream):
    """Consume an async stream of marketplace order dicts."""
    count = 0
    async for record in stream:
        order = Order(customer_email=record["email"], external_ref=record["ref"], status="paid")
        if "placed_at" in record:  # epoch seconds, UTC
            order.created_at = datetime.fromtimestamp(
                record["placed_at"], timezone.utc
            ).replace(tzinfo=None)
        session.add(order)
        count += 1
    await session.commit()
    return count


async def mark_shipped(session: AsyncSession, refs):
    """Mark orders shipped one by one; unknown references are skipped, not fatal."""
    shipped = []
    for ref in refs:
        try:
            order = (await session.execute(select(Order).where(Order.external_ref == ref))).scalar_one()
            order.status = "shipped"
            await session.commit()
            shipped.append(ref)
        except Exception:
            await session.rollback()
            logger.exception("could not ship order %s", ref)
    return shipped


async def update_order_status(
    db: AsyncSession, order: Order, payload: OrderStatusUpdate
):
    """Update the order status and commit."""
    order.status = payload.status
    await db.commit()


async def cancel_order(db: AsyncSession, order: Order):
    """Cancel the order and commit."""
    order.status = "cancelled"
    for line in order.lines:
        item = await db.get(Item, line.item_id)
        item.quantity += line.quantity
    await db.commit()


async def delete_order(db: AsyncSession, order: Order):
    """Delete the order and commit."""
    await db.delete(order)
    await db.commit()
