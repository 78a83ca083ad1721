"""Application services: database writes and their commits."""

from ..extensions import db
from ..models import Application


def delete_application(application: Application):
    """Delete the application and commit."""
    db.session.delete(application)
    db.session.commit()
