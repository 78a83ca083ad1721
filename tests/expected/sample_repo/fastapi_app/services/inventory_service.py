"""Stock movements that several routers and the nightly job share."""

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Item
from ..schemas import ReportFormatter, StockLevel
from ..settings import settings

logger = logging.getLogger(__name__)


def restock(db: Session, item_id: int, quantity: int):
    item = db.get(Item, item_id)
    if item is None:
        logger.warning("restock for missing item %s", item_id)
        return None
    item.quantity += quantity
    if item.status == "backorder" and item.quantity > 0:
        item.status = "active"
    db.commit()
    db.refresh(item)
    return item


def stock_levels(db: Session) -> list[StockLevel]:
    items = db.scalars(select(Item).where(Item.status != "discontinued").order_by(Item.sku)).all()
    return [
        StockLevel(sku=item.sku, quantity=item.quantity, low=item.quantity <= settings.low_stock_threshold)
        for item in items
    ]


def low_stock_lines(db: Session) -> list[str]:
    prices = {item.sku: item.price for item in db.scalars(select(Item))}
    formatter = ReportFormatter()
    lines = []
    for level in stock_levels(db):
        if not level.low:
            continue
        try:
            lines.append(formatter.format_line(level, prices[level.sku]))
        except Exception:
            logger.exception("Error formatting stock line for %s", level.sku)
    logger.info("low stock:\t%s\titems", len(lines))
    return lines
