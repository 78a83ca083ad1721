"""CSV exports for the reporting team."""

import logging

from ..models import Candidate

logger = logging.getLogger(__name__)


def export_candidates_csv(path, status=None):
    query = Candidate.query.order_by(Candidate.id)
    if status is not None:
        query = query.filter_by(status=status)
    rows = query.all()
    try:
        with open(path, "w", encoding="utf-8") as handle:
            print("id,name,email,status", file=handle)
            for c in rows:
                print(c.id, c.name, c.email, c.status, sep=",", file=handle)
    except OSError:
        logger.exception("Unexpected error in export_candidates_csv")
        return 0
    logger.info("Exported %s candidates to %s", f"{len(rows):,}", path)
    return len(rows)
