"""Orders services: database writes and their commits."""

from sqlalchemy.ext.asyncio import AsyncSession

from ..models import Item, Order
from ..order_schemas import OrderStatusUpdate


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
