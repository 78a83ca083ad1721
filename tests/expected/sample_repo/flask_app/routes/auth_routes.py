import logging
import secrets
from datetime import datetime, timedelta, timezone

from flask import Blueprint, current_app, jsonify, request
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..models import User
from ..services import auth_service
from ..services.email_service import send_email

logger = logging.getLogger(__name__)

bp = Blueprint("auth", __name__, url_prefix="/auth")

MIN_PASSWORD_LENGTH = 10


@bp.route("/register", methods=["POST"])
def register():
    data = request.get_json()
    if User.query.filter_by(email=data["email"]).first():
        return jsonify(error="email already registered"), 409
    user = User(email=data["email"], password_hash=_hash(data["password"]))
    db.session.add(user)
    db.session.commit()
    return jsonify(id=user.id, email=user.email), 201


@bp.route("/login", methods=["POST"])
def login():
    data = request.get_json()
    user = User.query.filter_by(email=data.get("email")).first()
    if user is None or not check_password_hash(user.password_hash, data.get("password", "")):
        return jsonify(error="invalid credentials"), 401
    return jsonify(id=user.id)


@bp.route("/password-reset", methods=["POST"])
def request_password_reset():
    email = request.get_json().get("email", "")
    user = User.query.filter_by(email=email).first()
    if user is None:
        # Same answer either way so the endpoint cannot be used to probe accounts.
        logger.warning("password reset requested for unknown address")
        return jsonify(status="sent"), 202
    auth_service.request_password_reset(user)
    send_email(user.email, "Reset your password", f"Your reset code: {user.reset_token}")
    return jsonify(status="sent"), 202


@bp.route("/password-reset/<token>", methods=["POST"])
def confirm_password_reset(token):
    payload = request.get_json()
    new_password = payload.get("password", "")
    confirmation = payload.get("confirm_password", new_password)
    if len(new_password) < MIN_PASSWORD_LENGTH:
        return jsonify(error=f"password must be at least {MIN_PASSWORD_LENGTH} characters"), 400
    if confirmation != new_password:
        return jsonify(error="passwords do not match"), 400
    user = User.query.filter_by(reset_token=token).first()
    if user is None or _token_expired(user):
        return jsonify(error="invalid or expired token"), 400
    user.password_hash = _hash(new_password)
    user.reset_token = None
    user.reset_requested_at = None
    db.session.commit()
    return jsonify(status="password updated")


def _constant_time_equal(left, right):
    """``left == right``, in constant time when both are text or both are bytes.

    Text is compared as UTF-8 bytes, so non-ASCII text compares as ``==`` does; a
    missing value (``None``) or any other type falls back to ``==``.
    """
    if isinstance(left, str) and isinstance(right, str):
        left = left.encode("utf-8", "surrogatepass")
        right = right.encode("utf-8", "surrogatepass")
    if isinstance(left, bytes) and isinstance(right, bytes):
        return secrets.compare_digest(left, right)
    return left == right


@bp.route("/admin/pending-resets")
def pending_resets():
    if not _constant_time_equal(
        request.headers.get("X-Admin-Token"), current_app.config["ADMIN_API_TOKEN"]
    ):
        return jsonify(error="forbidden"), 403
    pending = User.query.filter(User.reset_token.isnot(None)).count()
    return jsonify(pending=pending)


def _hash(password):
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def _token_expired(user):
    max_age = timedelta(minutes=current_app.config["RESET_TOKEN_MAX_AGE_MINUTES"])
    try:
        requested_at = user.reset_requested_at.replace(tzinfo=timezone.utc)
    except Exception:
        logger.exception("Error reading reset timestamp for user %s", user.id)
        return True
    return datetime.now(timezone.utc) - requested_at > max_age
