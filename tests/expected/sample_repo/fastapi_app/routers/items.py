import logging

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..database import get_db
from ..limits import limiter
from ..models import Item
from ..schemas import ItemCreate, ItemRead, ItemStatusUpdate, ItemUpdate
from ..services import inventory_service, item_service

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/items", tags=["items"])


@router.get("", response_model=list[ItemRead])
def list_items(status: str | None = None, db: Session = Depends(get_db)):
    query = select(Item).order_by(Item.sku)
    if status:
        query = query.where(Item.status == status)
    return db.scalars(query).all()


# Search is expensive: 30 requests a minute per client.
@router.get("/search", response_model=list[ItemRead])
@limiter.limit("30/minute")
def search_items(request: Request, q: str, db: Session = Depends(get_db)):
    pattern = f"%{q}%"
    query = select(Item).where(Item.name.ilike(pattern) | Item.sku.ilike(pattern)).order_by(Item.sku).limit(20)
    return db.scalars(query).all()


@router.get("/{item_id}", response_model=ItemRead)
def get_item(item_id: int, db: Session = Depends(get_db)):
    item = db.get(Item, item_id)
    if item is None:
        raise HTTPException(status_code=404, detail="Item not found")
    return item


@router.post("", response_model=ItemRead, status_code=201)
def create_item(payload: ItemCreate, db: Session = Depends(get_db)):
    if db.scalar(select(Item).where(Item.sku == payload.sku)) is not None:
        raise HTTPException(status_code=409, detail=f"SKU {payload.sku} already exists")
    item = item_service.create_item(db, payload)
    db.refresh(item)
    logger.info("Created item %r at %.2f", item.sku, item.price)
    return item


@router.put("/{item_id}", response_model=ItemRead)
def update_item(item_id: int, payload: ItemUpdate, db: Session = Depends(get_db)):
    item = db.get(Item, item_id)
    if item is None:
        raise HTTPException(status_code=404, detail="Item not found")
    for field, value in payload.model_dump(exclude_unset=True).items():
        setattr(item, field, value)
    try:
        db.commit()
    except IntegrityError:
        db.rollback()
        raise HTTPException(status_code=409, detail="Update conflicts with another item")
    db.refresh(item)
    return item


@router.patch("/{item_id}/status")
def set_item_status(item_id: int, payload: ItemStatusUpdate, db: Session = Depends(get_db)):
    item = db.get(Item, item_id)
    if item is None:
        raise HTTPException(status_code=404, detail="Item not found")
    previous = item_service.set_item_status(db, item, payload)
    return {"id": item.id, "status": item.status, "previous": previous}


@router.delete("/{item_id}", status_code=204)
def delete_item(item_id: int, db: Session = Depends(get_db)):
    item = db.query(Item).filter(Item.id == item_id).first()
    if not item:
        raise HTTPException(status_code=404, detail="Item not found")
    item_service.delete_item(db, item)
    return Response(status_code=204)


@router.post("/{item_id}/restock", response_model=ItemRead)
def restock_item(item_id: int, quantity: int, db: Session = Depends(get_db)):
    item = inventory_service.restock(db, item_id, quantity)
    if item is None:
        raise HTTPException(status_code=404, detail="Item not found")
    return item


@router.get("/reports/low-stock")
def low_stock_report(db: Session = Depends(get_db)):
    return {"lines": inventory_service.low_stock_lines(db)}
