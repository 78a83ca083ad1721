"""Supplier catalogue synchronisation (runs from the scheduler, not from requests)."""
import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Item, SyncRun
from ..settings import settings
from .pricing import parse_price

logger = logging.getLogger(__name__)


class OutOfStock(Exception):
    pass


def upsert_catalogue(db: Session, records):
    """Create or update one item per supplier record."""
    for record in records:
        item = db.scalar(select(Item).where(Item.sku == record["sku"]))
        if item is None:
            item = Item(sku=record["sku"], name=record["name"], price=parse_price(record["price"]), quantity=0)
            db.add(item)
        else:
            item.name = record["name"]
            item.price = parse_price(record["price"])
        db.commit()
    logger.info("catalogue sync: %d records", len(records))
    return len(records)


def sync_from_supplier(db: Session, client):
    """Pull the supplier's catalogue over HTTP and upsert it."""
    return upsert_catalogue(db, client.catalogue())


def apply_price_feed(db: Session, feed):
    """Apply price changes until the supplier's end-of-feed marker."""
    updated = 0
    for entry in feed:
        if entry.get("end_of_feed"):
            break
        item = db.scalar(select(Item).where(Item.sku == entry["sku"]))
        if item is not None:
            item.price = parse_price(entry["price"])
            db.commit()
            updated += 1
    else:
        logger.warning("price feed had no end-of-feed marker")
    return updated


def apply_bundle_discounts(db: Session, bundles):
    """Each bundle lowers the price of all its items at once."""
    for bundle in bundles:
        for sku in bundle["skus"]:
            item = db.scalar(select(Item).where(Item.sku == sku))
            item.price = item.price * (100 - bundle["percent_off"]) / 100
        db.commit()
        logger.info(
            "Bundle %r: %s%% off %s items",
            bundle['name'],
            bundle['percent_off'],
            len(bundle['skus']),
        )


def import_catalogue_snapshot(db: Session, records):
    """Full nightly snapshot: tens of thousands of rows, so commit in checkpoints."""
    for i, record in enumerate(records, start=1):
        db.add(Item(sku=record["sku"], name=record["name"], price=parse_price(record["price"])))
        if i % settings.sync_checkpoint_every == 0:
            db.commit()
    db.commit()
    return len(records)


def sync_stock_levels(db: Session, levels, source="warehouse"):
    """Per-item commits on purpose: one bad record must not block the rest."""
    run = SyncRun(source=source)
    db.add(run)
    db.commit()
    for level in levels:
        try:
            item = db.scalar(select(Item).where(Item.sku == level["sku"]))
            item.quantity = int(level["quantity"])
            run.processed += 1
            db.commit()
        except Exception:
            db.rollback()
            logger.exception("Unexpected error in sync_stock_levels")
            run.failed += 1
            db.commit()
    return run


def reserve_stock(db: Session, requests):
    """Reserve each (sku, quantity) in turn; stop at the first that cannot be served."""
    reserved = []
    for sku, quantity in requests:
        item = db.scalar(select(Item).where(Item.sku == sku))
        if item is None or item.quantity < quantity:
            raise OutOfStock(f"cannot reserve {quantity} x {sku}")
        item.quantity -= quantity
        db.commit()
        reserved.append(sku)
    return reserved


def apply_adjustments(db: Session, adjustments):
    """Apply stock-count corrections; a correction that would go negative is discarded."""
    applied = 0
    for sku, delta in adjustments:
        item = db.scalar(select(Item).where(Item.sku == sku))
        item.quantity += delta
        if item.quantity < 0:
            db.rollback()
            logger.error("Failed adjustment %s %s", sku, delta)
            continue
        db.commit()
        applied += 1
    return applied
