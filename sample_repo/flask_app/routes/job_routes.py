import logging

from flask import Blueprint, jsonify, request
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import Application, AuditEvent, Candidate, Job

logger = logging.getLogger(__name__)

bp = Blueprint("jobs", __name__, url_prefix="/jobs")


@bp.route("/", methods=["GET"])
def list_open_jobs():
    jobs = Job.query.filter_by(is_open=True).order_by(Job.title).all()
    return jsonify(jobs=[job.to_dict() for job in jobs], count=len(jobs))


@bp.route("/pipeline", methods=["GET"])
def pipeline_summary():
    """Applicants per open job and stage, for the hiring dashboard."""
    summary = []
    for job in Job.query.filter_by(is_open=True).order_by(Job.title).all():
        stages = {}
        for application in job.applications:
            stages[application.stage] = stages.get(application.stage, 0) + 1
        shortlisted = Candidate.query.join(Application).filter(
            Application.job_id == job.id, Candidate.status == "shortlisted"
        ).count()
        summary.append({"job": job.title, "stages": stages, "shortlisted": shortlisted})
    return jsonify(summary)


@bp.route("/", methods=["POST"])
def create_job():
    payload = request.get_json(force=True)
    job = Job(title=payload["title"], department=payload.get("department", "general"))
    try:
        db.session.add(job)
        db.session.commit()
    except Exception:
        db.session.rollback()
        print(f"Failed to create job {payload.get('title')!r}")
        return jsonify(error="could not create job"), 500
    return jsonify(job.to_dict()), 201


@bp.post("/<int:job_id>/close")
def close_job(job_id):
    job = db.get_or_404(Job, job_id)
    if job.is_open:
        job.is_open = False
        db.session.commit()
        logger.info("closed job %s", job_id)
    return jsonify(job.to_dict())


@bp.post("/<int:job_id>/apply")
def apply_to_job(job_id):
    job = db.get_or_404(Job, job_id)
    candidate = db.get_or_404(Candidate, request.json["candidate_id"])
    if not job.is_open:
        return jsonify(error="job is closed"), 409

    application = Application(candidate=candidate, job=job, note=request.json.get("note"))
    db.session.add(application)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return jsonify(error="already applied"), 409

    # Second commit: the audit row needs the application's id.
    db.session.add(AuditEvent(action="application.created", subject_id=application.id))
    db.session.commit()
    return jsonify(application.to_dict()), 201


@bp.route("/<int:job_id>/department", methods=["PUT"])
def move_job(job_id):
    job = db.get_or_404(Job, job_id)
    department = request.json["department"].strip()
    try:
        job.department = department
        db.session.add(AuditEvent(action="job.moved", subject_id=job.id, details=department))
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return jsonify(job.to_dict())
