from flask_app.models import Application, Candidate, Feedback, Job


def test_health(client):
    assert client.get("/health").get_json() == {"status": "ok"}


def test_feedback_route_on_app_commits(client, committed):
    response = client.post("/feedback", json={"message": "Smooth process", "rating": 5})

    assert response.status_code == 201
    [row] = committed(Feedback)
    assert response.get_json() == {"id": row.id}
    assert (row.message, row.rating) == ("Smooth process", 5)


def make_application(add_rows):
    job_id, candidate_id = add_rows(Job(title="QA", department="eng"), Candidate(name="A", email="a@example.com"))
    return add_rows(Application(job_id=job_id, candidate_id=candidate_id))


def test_method_view_get(client, add_rows):
    application_id = make_application(add_rows)

    response = client.get(f"/applications/{application_id}")

    assert response.status_code == 200
    assert response.get_json()["stage"] == "applied"
    assert client.get("/applications/999").status_code == 404


def test_method_view_post_moves_stage(client, add_rows, committed):
    application_id = make_application(add_rows)

    response = client.post(f"/applications/{application_id}", json={"stage": "interview"})

    assert response.status_code == 200
    assert response.get_json()["stage"] == "interview"
    assert committed(Application)[0].stage == "interview"


def test_method_view_post_rejection_records_reason(client, add_rows, committed):
    application_id = make_application(add_rows)

    client.post(f"/applications/{application_id}", json={"stage": "rejected"})

    [application] = committed(Application)
    assert (application.stage, application.note) == ("rejected", "no reason given")


def test_method_view_delete(client, add_rows, committed):
    application_id = make_application(add_rows)

    response = client.delete(f"/applications/{application_id}")

    assert response.status_code == 204
    assert committed(Application) == []
    assert client.delete(f"/applications/{application_id}").status_code == 404
