import secrets
import sys
from datetime import datetime, timedelta, timezone

from flask import Blueprint, current_app, jsonify, request
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..models import User
from ..services.email_service import send_email

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
        print("Warning: password reset requested for unknown address", file=sys.stderr)
        return jsonify(status="sent"), 202
    user.reset_token = secrets.token_urlsafe(24)
    user.reset_requested_at = datetime.now(timezone.utc)
    db.session.commit()
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


@bp.route("/admin/pending-resets")
def pending_resets():
    if request.headers.get("X-Admin-Token") != current_app.config["ADMIN_API_TOKEN"]:
        return jsonify(error="forbidden"), 403
    pending = User.query.filter(User.reset_token.isnot(None)).count()
    return jsonify(pending=pending)


def _hash(password):
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


def _token_expired(user):
    max_age = timedelta(minutes=current_app.config["RESET_TOKEN_MAX_AGE_MINUTES"])
    try:
        requested_at = user.reset_requested_at.replace(tzinfo=timezone.utc)
    except:
        print("Error reading reset timestamp for user", user.id)
        return True
    return datetime.now(timezone.utc) - requested_at > max_age
