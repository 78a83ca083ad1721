"""Candidate services: database writes and their commits."""

from ..extensions import db
from ..models import Candidate


def create_candidate(data):
    """Create the candidate and commit."""
    candidate = Candidate(
        name=data.get("name", ""),
        email=data["email"].lower(),
        source=data.get("source"),
    )
    db.session.add(candidate)
    db.session.commit()
    return candidate


def update_status(candidate: Candidate, new_status):
    """Update the status and commit."""
    candidate.status = new_status
    db.session.commit()


def delete_candidate(candidate):
    """Delete the candidate and commit."""
    db.session.delete(candidate)
    db.session.commit()
