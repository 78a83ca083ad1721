from datetime import datetime, timedelta, timezone

import pytest
from werkzeug.security import check_password_hash

from flask_app.extensions import db
from flask_app.models import User
from flask_app.services import email_service


def register(client, email="staff@example.com", password="correct horse"):
    return client.post("/auth/register", json={"email": email, "password": password})


def test_register_creates_user_with_hashed_password(client, committed):
    response = register(client)

    assert response.status_code == 201
    [user] = committed(User)
    assert response.get_json() == {"id": user.id, "email": "staff@example.com"}
    assert check_password_hash(user.password_hash, "correct horse")
    assert register(client).status_code == 409


def test_login_checks_password(client):
    register(client)

    assert client.post("/auth/login", json={"email": "staff@example.com", "password": "correct horse"}).status_code == 200
    assert client.post("/auth/login", json={"email": "staff@example.com", "password": "wrong"}).status_code == 401


def test_password_reset_request_stores_token_and_mails_it(client, committed):
    register(client)

    response = client.post("/auth/password-reset", json={"email": "staff@example.com"})

    assert response.status_code == 202
    [user] = committed(User)
    assert user.reset_token and user.reset_requested_at is not None
    [mail] = email_service.OUTBOX
    assert mail["to"] == "staff@example.com"
    assert user.reset_token in mail["body"]


def test_password_reset_for_unknown_address_looks_the_same(client, committed):
    response = client.post("/auth/password-reset", json={"email": "nobody@example.com"})

    assert response.status_code == 202
    assert response.get_json() == {"status": "sent"}
    assert email_service.OUTBOX == []


def test_password_reset_confirm_changes_password_and_clears_token(client, committed):
    register(client)
    client.post("/auth/password-reset", json={"email": "staff@example.com"})
    token = committed(User)[0].reset_token

    response = client.post(f"/auth/password-reset/{token}", json={"password": "a much longer secret"})

    assert response.status_code == 200
    [user] = committed(User)
    assert user.reset_token is None and user.reset_requested_at is None
    assert check_password_hash(user.password_hash, "a much longer secret")
    assert client.post(f"/auth/password-reset/{token}", json={"password": "a much longer secret"}).status_code == 400


def test_password_reset_rejects_short_password(client, committed):
    register(client)
    client.post("/auth/password-reset", json={"email": "staff@example.com"})
    token = committed(User)[0].reset_token

    response = client.post(f"/auth/password-reset/{token}", json={"password": "short"})

    assert response.status_code == 400
    assert committed(User)[0].reset_token == token


def test_password_reset_rejects_expired_token(client, flask_app, committed):
    register(client)
    with flask_app.app_context():
        user = db.session.query(User).one()
        user.reset_token = "expired-token"
        user.reset_requested_at = datetime.now(timezone.utc) - timedelta(hours=2)
        db.session.commit()

    response = client.post("/auth/password-reset/expired-token", json={"password": "a much longer secret"})

    assert response.status_code == 400
    assert check_password_hash(committed(User)[0].password_hash, "correct horse")


def test_token_without_timestamp_counts_as_expired(client, flask_app):
    register(client)
    with flask_app.app_context():
        db.session.query(User).one().reset_token = "legacy-token"
        db.session.commit()

    response = client.post("/auth/password-reset/legacy-token", json={"password": "a much longer secret"})

    assert response.status_code == 400


def test_password_reset_rejects_a_confirmation_that_differs(client, committed):
    register(client)
    client.post("/auth/password-reset", json={"email": "staff@example.com"})
    token = committed(User)[0].reset_token

    response = client.post(
        f"/auth/password-reset/{token}", json={"password": "a much longer secret", "confirm_password": "a much longer secreT"}
    )

    assert response.status_code == 400
    assert committed(User)[0].reset_token == token


@pytest.mark.parametrize("header", [None, "", "test-admin-toke", "test-admin-token ", "TEST-ADMIN-TOKEN", "tëst-admin-token"])
def test_admin_endpoint_refuses_a_missing_or_wrong_token(client, header):
    headers = {} if header is None else {"X-Admin-Token": header}

    assert client.get("/auth/admin/pending-resets", headers=headers).status_code == 403


def test_admin_endpoint_counts_pending_resets(client):
    register(client)
    client.post("/auth/password-reset", json={"email": "staff@example.com"})

    response = client.get("/auth/admin/pending-resets", headers={"X-Admin-Token": "test-admin-token"})

    assert response.status_code == 200
    assert response.get_json() == {"pending": 1}
