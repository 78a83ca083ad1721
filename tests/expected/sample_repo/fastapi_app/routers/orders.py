import logging

from fastapi import APIRouter, Depends, HTTPException
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ..database import get_async_db
from ..models import Item, Order, OrderLine
from ..order_schemas import OrderCreate, OrderRead, OrderStatusUpdate
from ..services import order_service

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/orders", tags=["orders"])


@router.get("", response_model=list[OrderRead])
async def list_orders(status: str | None = None, db: AsyncSession = Depends(get_async_db)):
    query = select(Order).order_by(Order.id)
    if status is not None:
        query = query.where(Order.status == status)
    result = await db.execute(query)
    return result.scalars().all()


@router.get("/{order_id}", response_model=OrderRead)
async def get_order(order_id: int, db: AsyncSession = Depends(get_async_db)):
    order = await db.get(Order, order_id)
    if order is None:
        raise HTTPException(status_code=404, detail="Order not found")
    return order


@router.post("", response_model=OrderRead, status_code=201)
async def create_order(payload: OrderCreate, db: AsyncSession = Depends(get_async_db)):
    order = Order(customer_email=payload.customer_email, external_ref=payload.external_ref)
    for line in payload.lines:
        item = await db.get(Item, line.item_id)
        if item is None or item.quantity < line.quantity:
            raise HTTPException(status_code=422, detail=f"Item {line.item_id} is not available")
        item.quantity -= line.quantity
        order.lines.append(OrderLine(item_id=item.id, quantity=line.quantity, unit_price=item.price))
    db.add(order)
    try:
        await db.commit()
    except IntegrityError:
        await db.rollback()
        raise HTTPException(status_code=409, detail="Duplicate external reference")
    logger.info("Order %s created for %s", order.id, order.customer_email)
    return order


@router.put("/{order_id}/status")
async def update_order_status(order_id: int, payload: OrderStatusUpdate, db: AsyncSession = Depends(get_async_db)):
    order = await db.get(Order, order_id)
    if order is None:
        raise HTTPException(status_code=404, detail="Order not found")
    await order_service.update_order_status(db, order, payload)
    return {"id": order.id, "status": order.status}


@router.post("/{order_id}/cancel", response_model=OrderRead)
async def cancel_order(order_id: int, db: AsyncSession = Depends(get_async_db)):
    order = await db.get(Order, order_id)
    if order is None:
        raise HTTPException(status_code=404, detail="Order not found")
    if order.status == "shipped":
        raise HTTPException(status_code=409, detail="Order already shipped")
    if order.status != "cancelled":
        await order_service.cancel_order(db, order)
    return order


@router.delete("/{order_id}", status_code=204)
async def delete_order(order_id: int, db: AsyncSession = Depends(get_async_db)):
    order = await db.get(Order, order_id)
    if order is None:
        raise HTTPException(status_code=404, detail="Order not found")
    await order_service.delete_order(db, order)


@router.post("/import", status_code=201)
async def import_orders(payloads: list[OrderCreate], db: AsyncSession = Depends(get_async_db)):
    # Delegates to the service, which owns the commits.
    ids = await order_service.import_orders(db, payloads)
    return {"imported": len(ids), "ids": ids}
