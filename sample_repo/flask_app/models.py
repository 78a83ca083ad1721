from datetime import datetime, timezone

from .extensions import db


def _utcnow():
    return datetime.now(timezone.utc)


class Candidate(db.Model):
    __tablename__ = "candidates"

    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(120), nullable=False)
    email = db.Column(db.String(255), nullable=False, unique=True)
    status = db.Column(db.String(32), nullable=False, default="new")
    source = db.Column(db.String(64))
    created_at = db.Column(db.DateTime(timezone=True), default=_utcnow)
    # Naive UTC, as the reporting database expects.
    updated_at = db.Column(db.DateTime, default=datetime.utcnow, onupdate=datetime.utcnow)

    applications = db.relationship("Application", back_populates="candidate", cascade="all, delete-orphan")

    def to_dict(self):
        return {
            "id": self.id,
            "name": self.name,
            "email": self.email,
            "status": self.status,
            "source": self.source,
        }


class Job(db.Model):
    __tablename__ = "jobs"

    id = db.Column(db.Integer, primary_key=True)
    title = db.Column(db.String(120), nullable=False)
    department = db.Column(db.String(64), nullable=False)
    is_open = db.Column(db.Boolean, nullable=False, default=True)

    applications = db.relationship("Application", back_populates="job", cascade="all, delete-orphan")

    def to_dict(self):
        return {"id": self.id, "title": self.title, "department": self.department, "is_open": self.is_open}


class Application(db.Model):
    __tablename__ = "applications"
    __table_args__ = (db.UniqueConstraint("candidate_id", "job_id", name="uq_application_candidate_job"),)

    id = db.Column(db.Integer, primary_key=True)
    candidate_id = db.Column(db.Integer, db.ForeignKey("candidates.id"), nullable=False)
    job_id = db.Column(db.Integer, db.ForeignKey("jobs.id"), nullable=False)
    stage = db.Column(db.String(32), nullable=False, default="applied")
    note = db.Column(db.Text)

    candidate = db.relationship("Candidate", back_populates="applications")
    job = db.relationship("Job", back_populates="applications")

    def to_dict(self):
        return {
            "id": self.id,
            "candidate_id": self.candidate_id,
            "job_id": self.job_id,
            "stage": self.stage,
            "note": self.note,
        }


class User(db.Model):
    __tablename__ = "users"

    id = db.Column(db.Integer, primary_key=True)
    email = db.Column(db.String(255), nullable=False, unique=True)
    password_hash = db.Column(db.String(255), nullable=False)
    reset_token = db.Column(db.String(64), unique=True)
    reset_requested_at = db.Column(db.DateTime(timezone=True))


class AuditEvent(db.Model):
    __tablename__ = "audit_events"

    id = db.Column(db.Integer, primary_key=True)
    action = db.Column(db.String(64), nullable=False)
    subject_id = db.Column(db.Integer)
    details = db.Column(db.Text)
    created_at = db.Column(db.DateTime(timezone=True), default=_utcnow)


class Feedback(db.Model):
    __tablename__ = "feedback"

    id = db.Column(db.Integer, primary_key=True)
    message = db.Column(db.Text, nullable=False)
    rating = db.Column(db.Integer)
