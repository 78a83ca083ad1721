"""Item services: database writes and their commits."""

from sqlalchemy.orm import Session

from ..models import Item
from ..schemas import ItemCreate, ItemStatusUpdate


def create_item(db: Session, payload: ItemCreate):
    """Create the item and commit."""
    item = Item(**payload.model_dump())
    db.add(item)
    db.commit()
    return item


def set_item_status(db: Session, item: Item, payload: ItemStatusUpdate):
    """Set the item status and commit."""
    previous = item.status
    item.status = payload.status
    db.commit()
    return previous


def delete_item(db: Session, item):
    """Delete the item and commit."""
    db.delete(item)
    db.commit()
