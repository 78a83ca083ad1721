from datetime import datetime, timedelta, timezone

from flask_app.models import Candidate


def test_create_candidate_persists_row_and_returns_its_id(client, committed):
    response = client.post("/candidates", json={"name": "Ana Lima", "email": "Ana@Example.com", "source": "referral"})

    assert response.status_code == 201
    body = response.get_json()
    [row] = committed(Candidate)
    assert body == {"id": row.id, "name": "Ana Lima", "email": "ana@example.com", "status": "new", "source": "referral"}
    assert response.headers["Location"] == f"/candidates/{row.id}"


def test_create_candidate_without_email_is_rejected_and_writes_nothing(client, committed):
    response = client.post("/candidates", json={"name": "No Mail"})

    assert response.status_code == 400
    assert committed(Candidate) == []


def test_list_and_get_candidates_are_read_only(client, add_rows, committed):
    first, second = add_rows(
        Candidate(name="A", email="a@example.com", status="screening"),
        Candidate(name="B", email="b@example.com"),
    )

    listed = client.get("/candidates").get_json()
    screening = client.get("/candidates?status=screening").get_json()
    one = client.get(f"/candidates/{second}")

    assert [c["id"] for c in listed] == [first, second]
    assert [c["email"] for c in screening] == ["a@example.com"]
    assert one.get_json()["name"] == "B"
    assert client.get("/candidates/999").status_code == 404
    assert len(committed(Candidate)) == 2


def test_update_status_is_committed(client, add_rows, committed):
    candidate_id = add_rows(Candidate(name="A", email="a@example.com"))

    response = client.post(f"/candidates/{candidate_id}/status", json={"status": "interviewing"})

    assert response.status_code == 200
    assert response.get_json()["status"] == "interviewing"
    assert committed(Candidate)[0].status == "interviewing"


def test_update_status_rejects_unknown_status(client, add_rows, committed):
    candidate_id = add_rows(Candidate(name="A", email="a@example.com"))

    response = client.post(f"/candidates/{candidate_id}/status", json={"status": "promoted"})

    assert response.status_code == 400
    assert committed(Candidate)[0].status == "new"


def test_delete_candidate_returns_204_and_removes_row(client, add_rows, committed):
    keep, drop = add_rows(Candidate(name="Keep", email="k@example.com"), Candidate(name="Drop", email="d@example.com"))

    response = client.delete(f"/candidates/{drop}")

    assert response.status_code == 204
    assert response.data == b""
    assert [c.id for c in committed(Candidate)] == [keep]
    assert client.delete(f"/candidates/{drop}").status_code == 404


def test_import_route_delegates_to_service(client, committed):
    rows = [{"name": "X", "email": " X@Example.com "}, {"name": "Y", "email": "y@example.com"}]

    response = client.post("/candidates/import", json={"rows": rows})

    assert response.status_code == 201
    assert response.get_json() == {"imported": 2}
    assert [(c.email, c.source) for c in committed(Candidate)] == [
        ("x@example.com", "careers-site"),
        ("y@example.com", "careers-site"),
    ]


def test_updated_at_is_naive_utc_and_moves_on_update(client, add_rows, committed):
    candidate_id = add_rows(Candidate(name="Ana", email="ana@x.io"))
    [created] = committed(Candidate)
    now = datetime.now(timezone.utc).replace(tzinfo=None)

    assert created.updated_at.tzinfo is None
    assert now - timedelta(minutes=1) < created.updated_at <= now

    assert client.post(f"/candidates/{candidate_id}/status", json={"status": "interviewing"}).status_code == 200
    assert committed(Candidate)[0].updated_at >= created.updated_at
