"""Audit events: recorded from a queue the request handlers fill, and archived in batches."""
from ..extensions import db
from ..models import Application, AuditEvent


def record_events(inbox):
    """Consume events until the ``None`` sentinel; each one is committed as soon as it arrives."""
    while True:
        event = inbox.get()
        if event is None:
            break
        db.session.add(AuditEvent(action=event["action"], subject_id=event.get("subject_id")))
        db.session.commit()


def send_offers(application_ids, offers):
    """Send each hired candidate their offer; the note records that it went out."""
    for application_id in application_ids:
        application = db.session.get(Application, application_id)
        offers.send_offer(application.candidate_id)
        application.note = "offer sent"
        db.session.commit()


def archive_events(batches):
    """Write archived events batch by batch, one transaction per batch."""
    for batch in batches:
        db.session.bulk_insert_mappings(AuditEvent, batch)
        db.session.commit()
