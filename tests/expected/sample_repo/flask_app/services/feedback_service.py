"""Feedback services: database writes and their commits."""

from ..extensions import db
from ..models import Feedback


def leave_feedback(payload):
    """Leave the feedback and commit."""
    entry = Feedback(message=payload["message"], rating=payload.get("rating"))
    db.session.add(entry)
    db.session.commit()
    return entry
