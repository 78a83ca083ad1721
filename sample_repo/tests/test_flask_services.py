import json
from datetime import datetime, timedelta, timezone

import pytest

from flask_app.extensions import db
from flask_app.models import Application, AuditEvent, Candidate, Job
from flask_app.services import email_service, export_service, import_service, pipeline_service


def rows(n, domain="example.com"):
    return [{"name": f"Person {i}", "email": f"person{i}@{domain}"} for i in range(n)]


class TestImportService:
    def test_import_candidates_commits_every_row(self, app_ctx, committed):
        assert import_service.import_candidates(rows(5), source="fair") == 5

        assert [c.email for c in committed(Candidate)] == [f"person{i}@example.com" for i in range(5)]
        assert {c.source for c in committed(Candidate)} == {"fair"}

    def test_import_large_file_commits_checkpoints_and_the_tail(self, app_ctx, committed):
        # TestConfig checkpoints every 2 rows, so 5 rows exercise both the checkpoint and the final commit.
        assert import_service.import_large_file(rows(5)) == 5

        assert len(committed(Candidate, source="bulk-upload")) == 5

    def test_replace_source_renames_all(self, app_ctx, add_rows, committed):
        add_rows(Candidate(name="A", email="a@x.io", source="old"), Candidate(name="B", email="b@x.io", source="old"))

        assert import_service.replace_source("old", "new") == 2
        assert {c.source for c in committed(Candidate)} == {"new"}

    def test_replace_source_failure_rolls_back_and_reraises(self, app_ctx, add_rows, committed, monkeypatch):
        add_rows(Candidate(name="A", email="a@x.io", source="old"))

        def broken_commit():
            raise RuntimeError("database went away")

        monkeypatch.setattr(db.session, "commit", broken_commit)
        with pytest.raises(RuntimeError, match="database went away"):
            import_service.replace_source("old", "new")
        monkeypatch.undo()
        assert committed(Candidate)[0].source == "old"


class TestPipelineService:
    def test_match_candidates_creates_applications_across_jobs(self, app_ctx, add_rows, committed):
        job_a, job_b, _other_dept, screening_1, screening_2, _new = add_rows(
            Job(title="A", department="eng"),
            Job(title="B", department="eng"),
            Job(title="C", department="sales"),
            Candidate(name="S1", email="s1@x.io", status="screening"),
            Candidate(name="S2", email="s2@x.io", status="screening"),
            Candidate(name="N", email="n@x.io"),
        )
        add_rows(Application(job_id=job_a, candidate_id=screening_1))

        assert pipeline_service.match_candidates_to_jobs("eng") == 3

        pairs = {(a.job_id, a.candidate_id, a.stage) for a in committed(Application)}
        assert pairs == {
            (job_a, screening_1, "applied"),
            (job_a, screening_2, "sourced"),
            (job_b, screening_1, "sourced"),
            (job_b, screening_2, "sourced"),
        }

    def test_process_stage_changes_drains_queue(self, app_ctx, add_rows, committed):
        job_id, candidate_id = add_rows(Job(title="A", department="eng"), Candidate(name="S", email="s@x.io"))
        application_id = add_rows(Application(job_id=job_id, candidate_id=candidate_id))
        queue = [(application_id, "interview"), (999, "offer"), (application_id, "offer")]

        assert pipeline_service.process_stage_changes(queue) == 2

        assert queue == []
        assert committed(Application)[0].stage == "offer"
        assert [e.details for e in committed(AuditEvent)] == ["interview", "offer"]

    def test_archive_rejected_keeps_going_after_a_failure(self, app_ctx, add_rows, committed):
        rejected_1, active, rejected_2 = add_rows(
            Candidate(name="R1", email="r1@x.io", status="rejected"),
            Candidate(name="A", email="a@x.io", status="screening"),
            Candidate(name="R2", email="r2@x.io", status="rejected"),
        )

        assert pipeline_service.archive_rejected([rejected_1, active, 12345, rejected_2]) == [rejected_1, rejected_2]

        statuses = {c.id: c.status for c in committed(Candidate)}
        assert statuses == {rejected_1: "archived", active: "screening", rejected_2: "archived"}

    def test_close_filled_jobs_stops_at_open_offer_but_keeps_earlier_closes(self, app_ctx, add_rows, committed):
        first, with_offer, last, candidate_id = add_rows(
            Job(title="A", department="eng"),
            Job(title="B", department="eng"),
            Job(title="C", department="eng"),
            Candidate(name="S", email="s@x.io"),
        )
        add_rows(Application(job_id=with_offer, candidate_id=candidate_id, stage="offer"))

        assert pipeline_service.close_filled_jobs([first, with_offer, last]) == [first]

        assert {j.id: j.is_open for j in committed(Job)} == {first: False, with_offer: True, last: True}


class TestEmailService:
    def test_send_email_queues_valid_and_drops_invalid(self):
        assert email_service.send_email("a@x.io", "Hi", "body") is True
        assert email_service.send_email("not-an-address", "Hi", "body") is False
        assert [m["to"] for m in email_service.OUTBOX] == ["a@x.io"]

    def test_messages_are_stamped_with_naive_utc(self):
        email_service.send_email("a@x.io", "Hi", "body")
        queued_at = email_service.OUTBOX[0]["queued_at"]
        now = datetime.now(timezone.utc).replace(tzinfo=None)
        assert queued_at.tzinfo is None and now - timedelta(minutes=1) < queued_at <= now

    def test_http_delivery_posts_to_the_mail_api(self, http):
        http.routes[email_service.MAIL_API_URL] = {"id": "m-1"}
        email_service.send_email("a@x.io", "Hi", "body")

        assert email_service.drain_outbox(email_service.deliver_over_http) == 1
        [sent] = http.sent
        assert (sent.method, sent.url) == ("POST", email_service.MAIL_API_URL)
        assert json.loads(sent.body) == {"to": "a@x.io", "subject": "Hi", "text": "body"}

    def test_http_delivery_requeues_when_the_mail_api_is_down(self, http):
        http.routes[email_service.MAIL_API_URL] = 503
        email_service.send_email("a@x.io", "Hi", "body")

        assert email_service.drain_outbox(email_service.deliver_over_http) == 0
        assert [m["to"] for m in email_service.OUTBOX] == ["a@x.io"]

    def test_drain_outbox_requeues_on_connection_error(self):
        for to in ("a@x.io", "down@x.io", "c@x.io"):
            email_service.send_email(to, "Hi", "body")
        delivered = []

        def deliver(message):
            if message["to"] == "down@x.io":
                raise ConnectionError("smtp timeout")
            delivered.append(message["to"])

        assert email_service.drain_outbox(deliver) == 1
        assert delivered == ["a@x.io"]
        assert [m["to"] for m in email_service.OUTBOX] == ["c@x.io", "down@x.io"]


class TestExportService:
    def test_export_writes_csv_through_print_to_the_file(self, app_ctx, add_rows, tmp_path):
        add_rows(Candidate(name="Ana", email="ana@x.io", status="hired"), Candidate(name="Bo", email="bo@x.io"))
        target = tmp_path / "hired.csv"

        assert export_service.export_candidates_csv(target, status="hired") == 1
        assert target.read_text(encoding="utf-8").splitlines() == ["id,name,email,status", "1,Ana,ana@x.io,hired"]

    def test_export_to_unwritable_path_returns_zero(self, app_ctx, tmp_path):
        assert export_service.export_candidates_csv(tmp_path / "missing-dir" / "out.csv") == 0
