"""Job services: database writes and their commits."""

from ..extensions import db
from ..models import Application, AuditEvent, Job


def create_job(job: Job):
    """Create the job and commit."""
    db.session.add(job)
    db.session.commit()


def close_job(job: Job):
    """Close the job and commit."""
    job.is_open = False
    db.session.commit()


def apply_to_job(application: Application):
    """Apply to job and commit."""
    # Second commit: the audit row needs the application's id.
    db.session.add(AuditEvent(action="application.created", subject_id=application.id))
    db.session.commit()


def move_job(job: Job, department):
    """Move the job and commit."""
    job.department = department
    db.session.add(
        AuditEvent(action="job.moved", subject_id=job.id, details=department)
    )
    db.session.commit()
