"""The operator's interface: CLI commands, prompts, notices and background workers."""
import logging
import queue
import threading

import pytest

from flask_app import helpers
from flask_app.extensions import db
from flask_app.maintenance import confirm_reset
from flask_app.models import Application, AuditEvent, Candidate, Job
from flask_app.services.event_service import archive_events, record_events, send_offers


def test_count_candidates_command_prints_the_count(flask_app, add_rows):
    add_rows(Candidate(name="Ada", email="ada@example.com"), Candidate(name="Bo", email="bo@example.com"))
    result = flask_app.test_cli_runner().invoke(args=["count-candidates"])
    assert result.exit_code == 0
    assert result.output == "2\n"


def test_reset_prompt_shows_the_warning_before_asking(monkeypatch, capsys):
    monkeypatch.setattr("builtins.input", lambda prompt: "no")
    assert confirm_reset(3) is False
    assert capsys.readouterr().out == "Back up your database before proceeding!\nThis drops 3 tables.\n"


def test_salary_band_still_says_it_is_deprecated(capsys):
    assert helpers.salary_band("50k-70k") == (50000, 70000)
    assert "deprecated" in capsys.readouterr().out


def test_unparsable_salary_is_reported_without_a_traceback(caplog):
    with caplog.at_level(logging.DEBUG):
        assert helpers.parse_salary_range("lots") is None
    assert [r.exc_info for r in caplog.records if r.levelno >= logging.ERROR] in ([], [None])


def test_events_are_committed_one_by_one_as_they_arrive(app_ctx, committed):
    inbox = queue.Queue()
    seen = []

    def feed():
        for number in range(3):
            inbox.put({"action": "viewed", "subject_id": number})
            for _ in range(200):  # wait until the worker committed it
                if len(committed(AuditEvent)) == number + 1:
                    break
                threading.Event().wait(0.01)
            seen.append(len(committed(AuditEvent)))
        inbox.put(None)

    feeder = threading.Thread(target=feed)
    feeder.start()
    record_events(inbox)
    feeder.join(timeout=10)
    assert seen == [1, 2, 3]


class FlakyOffers:
    """Sends two offers, then the mail provider goes down."""

    def __init__(self):
        self.sent = []

    def send_offer(self, candidate_id):
        if len(self.sent) == 2:
            raise ConnectionError("provider down")
        self.sent.append(candidate_id)


def test_every_offer_sent_is_recorded_when_sending_fails_half_way(app_ctx, add_rows, committed):
    people = [Candidate(name=f"c{i}", email=f"c{i}@example.com") for i in range(3)]
    add_rows(*people, Job(title="Engineer", department="R&D"))
    job = committed(Job)[0]
    ids = add_rows(*(Application(candidate_id=c.id, job_id=job.id) for c in committed(Candidate)))
    offers = FlakyOffers()
    with pytest.raises(ConnectionError):
        send_offers(ids, offers)
    noted = [a.candidate_id for a in committed(Application) if a.note == "offer sent"]
    assert noted == offers.sent and len(noted) == 2


def test_archived_events_are_written_batch_by_batch(app_ctx, committed):
    batches = [[{"action": f"a{b}-{i}"} for i in range(2)] for b in range(3)]
    archive_events(batches)
    assert [e.action for e in committed(AuditEvent)] == [e["action"] for batch in batches for e in batch]
