from flask_app.models import Application, AuditEvent, Candidate, Job


def test_create_job_persists(client, committed):
    response = client.post("/jobs/", json={"title": "Backend Engineer", "department": "engineering"})

    assert response.status_code == 201
    [job] = committed(Job)
    assert response.get_json() == {"id": job.id, "title": "Backend Engineer", "department": "engineering", "is_open": True}


def test_create_job_failure_rolls_back_and_returns_500(client, committed):
    response = client.post("/jobs/", json={"title": None})

    assert response.status_code == 500
    assert response.get_json() == {"error": "could not create job"}
    assert committed(Job) == []


def test_list_open_jobs_is_read_only(client, add_rows):
    add_rows(Job(title="Zookeeper", department="ops"), Job(title="Analyst", department="data"),
             Job(title="Closed", department="ops", is_open=False))

    body = client.get("/jobs/").get_json()

    assert body["count"] == 2
    assert [j["title"] for j in body["jobs"]] == ["Analyst", "Zookeeper"]


def test_pipeline_summary_counts_stages_and_shortlisted(client, add_rows):
    analyst, ops = add_rows(Job(title="Analyst", department="data"), Job(title="Ops", department="ops"))
    ada, bob = add_rows(Candidate(name="Ada", email="ada@x.io", status="shortlisted"),
                        Candidate(name="Bob", email="bob@x.io"))
    add_rows(Application(candidate_id=ada, job_id=analyst, stage="interview"),
             Application(candidate_id=bob, job_id=analyst),
             Application(candidate_id=bob, job_id=ops))

    assert client.get("/jobs/pipeline").get_json() == [
        {"job": "Analyst", "stages": {"applied": 1, "interview": 1}, "shortlisted": 1},
        {"job": "Ops", "stages": {"applied": 1}, "shortlisted": 0},
    ]


def test_close_job_commits_only_when_open(client, add_rows, committed):
    job_id = add_rows(Job(title="Designer", department="product"))

    first = client.post(f"/jobs/{job_id}/close")
    second = client.post(f"/jobs/{job_id}/close")

    assert first.status_code == second.status_code == 200
    assert first.get_json()["is_open"] is False
    assert committed(Job)[0].is_open is False
    assert client.post("/jobs/404/close").status_code == 404


def test_apply_commits_application_and_audit_event_with_its_id(client, add_rows, committed):
    job_id, candidate_id = add_rows(Job(title="SRE", department="ops"), Candidate(name="A", email="a@example.com"))

    response = client.post(f"/jobs/{job_id}/apply", json={"candidate_id": candidate_id, "note": "strong referral"})

    assert response.status_code == 201
    [application] = committed(Application)
    assert response.get_json() == {
        "id": application.id, "candidate_id": candidate_id, "job_id": job_id, "stage": "applied", "note": "strong referral",
    }
    [event] = committed(AuditEvent)
    assert (event.action, event.subject_id) == ("application.created", application.id)


def test_applying_twice_is_a_conflict_without_extra_rows(client, add_rows, committed):
    job_id, candidate_id = add_rows(Job(title="SRE", department="ops"), Candidate(name="A", email="a@example.com"))
    client.post(f"/jobs/{job_id}/apply", json={"candidate_id": candidate_id})

    response = client.post(f"/jobs/{job_id}/apply", json={"candidate_id": candidate_id})

    assert response.status_code == 409
    assert len(committed(Application)) == 1
    assert len(committed(AuditEvent)) == 1


def test_cannot_apply_to_closed_job(client, add_rows, committed):
    job_id, candidate_id = add_rows(
        Job(title="Old", department="ops", is_open=False), Candidate(name="A", email="a@example.com")
    )

    response = client.post(f"/jobs/{job_id}/apply", json={"candidate_id": candidate_id})

    assert response.status_code == 409
    assert committed(Application) == []


def test_move_job_updates_department_and_audits(client, add_rows, committed):
    job_id = add_rows(Job(title="Analyst", department="data"))

    response = client.put(f"/jobs/{job_id}/department", json={"department": " finance "})

    assert response.status_code == 200
    assert committed(Job)[0].department == "finance"
    [event] = committed(AuditEvent)
    assert (event.action, event.subject_id, event.details) == ("job.moved", job_id, "finance")
