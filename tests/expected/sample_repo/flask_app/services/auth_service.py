"""Auth services: database writes and their commits."""

import secrets
from datetime import datetime, timezone

from ..extensions import db


def request_password_reset(user):
    """Request the password reset and commit."""
    user.reset_token = secrets.token_urlsafe(24)
    user.reset_requested_at = datetime.now(timezone.utc)
    db.session.commit()
