"""Bulk candidate imports from the careers-site CSV export."""
import logging

from flask import current_app

from ..extensions import db
from ..helpers import normalize_email
from ..models import Candidate

logger = logging.getLogger(__name__)


def import_candidates(rows, source="careers-site"):
    """Create one candidate per row and return how many were created."""
    created = 0
    for row in rows:
        db.session.add(Candidate(name=row["name"], email=normalize_email(row["email"]), source=source))
        created += 1
    db.session.commit()
    logger.info("Imported %s candidates from %r", created, source)
    return created


def import_large_file(rows, source="bulk-upload"):
    """Imports tens of thousands of rows; commits every N rows to keep the transaction small."""
    checkpoint_every = current_app.config["IMPORT_CHECKPOINT_EVERY"]
    for i, row in enumerate(rows, start=1):
        db.session.add(Candidate(name=row["name"], email=normalize_email(row["email"]), source=source))
        if i % checkpoint_every == 0:
            db.session.commit()
            logger.info("checkpoint at row %s", i)
    db.session.commit()
    return len(rows)


def replace_source(old_source, new_source):
    """Rename a source tag on every candidate; all or nothing."""
    try:
        candidates = Candidate.query.filter_by(source=old_source).all()
        for candidate in candidates:
            candidate.source = new_source
        db.session.commit()
    except BaseException:
        db.session.rollback()
        logger.exception("Failed to rename source %s -> %s", old_source, new_source)
        raise
    return len(candidates)
