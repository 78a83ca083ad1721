"""Hiring-pipeline maintenance jobs run by the nightly scheduler."""
import logging

from ..extensions import db
from ..models import Application, AuditEvent, Candidate, Job

logger = logging.getLogger(__name__)


def match_candidates_to_jobs(department):
    """Create an application for every screening candidate on every open job in a department."""
    jobs = Job.query.filter_by(department=department, is_open=True).all()
    candidates = Candidate.query.filter_by(status="screening").all()
    created = 0
    for job in jobs:
        existing = {a.candidate_id for a in job.applications}
        for candidate in candidates:
            if candidate.id in existing:
                continue
            db.session.add(Application(candidate_id=candidate.id, job_id=job.id, stage="sourced"))
            created += 1
    db.session.commit()
    logger.info("Matched %d candidates in %s", created, department)
    return created


def process_stage_changes(queue):
    """Apply queued (application_id, stage) changes, oldest first."""
    applied = 0
    while queue:
        application_id, stage = queue.pop(0)
        application = db.session.get(Application, application_id)
        if application is None:
            continue
        application.stage = stage
        db.session.add(AuditEvent(action="application.stage", subject_id=application_id, details=stage))
        db.session.commit()
        applied += 1
    return applied


def archive_rejected(candidate_ids):
    """Archive candidates one by one; one failure must not undo the others."""
    archived = []
    for candidate_id in candidate_ids:
        try:
            candidate = db.session.get(Candidate, candidate_id)
            if candidate.status != "rejected":
                raise ValueError(f"candidate {candidate_id} is {candidate.status}, not rejected")
            candidate.status = "archived"
            db.session.commit()
            archived.append(candidate_id)
        except Exception:
            db.session.rollback()
            logger.exception("could not archive candidate %s", candidate_id)
    return archived


def close_filled_jobs(job_ids):
    """Close jobs until one still has an open offer, then stop (the recruiter must look first)."""
    closed = []
    for job_id in job_ids:
        job = db.session.get(Job, job_id)
        if any(a.stage == "offer" for a in job.applications):
            logger.warning("job %s has an open offer, stopping", job_id)
            return closed
        job.is_open = False
        db.session.commit()
        closed.append(job_id)
    return closed
