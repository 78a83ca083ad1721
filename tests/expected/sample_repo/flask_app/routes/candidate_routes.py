import logging

from flask import Blueprint, abort, jsonify, request

from ..extensions import db
from ..models import Candidate
from ..services import candidate_service
from ..services.import_service import import_candidates

logger = logging.getLogger(__name__)

bp = Blueprint("candidates", __name__, url_prefix="/candidates")

ALLOWED_STATUSES = {"new", "screening", "interviewing", "offer", "hired", "rejected"}


@bp.route("", methods=["GET"])
def list_candidates():
    status = request.args.get("status")
    query = Candidate.query.order_by(Candidate.id)
    if status:
        query = query.filter_by(status=status)
    return jsonify([c.to_dict() for c in query.all()])


@bp.get("/<int:candidate_id>")
def get_candidate(candidate_id):
    candidate = db.get_or_404(Candidate, candidate_id)
    return jsonify(candidate.to_dict())


@bp.route("", methods=["POST"])
def create_candidate():
    data = request.get_json()
    if not data or not data.get("email"):
        return jsonify(error="email is required"), 400
    candidate = candidate_service.create_candidate(data)
    logger.info("Created candidate %s %s", candidate.id, candidate.email)
    location = f"/candidates/{candidate.id}"
    return jsonify(candidate.to_dict()), 201, {"Location": location}


@bp.post("/<int:candidate_id>/status")
def update_status(candidate_id):
    new_status = request.json.get("status")
    if new_status not in ALLOWED_STATUSES:
        abort(400, description=f"unknown status {new_status!r}")
    candidate = db.get_or_404(Candidate, candidate_id)
    candidate_service.update_status(candidate, new_status)
    return jsonify(candidate.to_dict())


@bp.route("/<int:candidate_id>", methods=["DELETE"])
def delete_candidate(candidate_id):
    candidate = Candidate.query.filter_by(id=candidate_id).first()
    if candidate is None:
        return jsonify(error="not found"), 404
    candidate_service.delete_candidate(candidate)
    return "", 204


@bp.post("/import")
def import_batch():
    # The service owns the transaction; this route only translates HTTP.
    rows = request.get_json(force=True).get("rows", [])
    created = import_candidates(rows)
    return jsonify(imported=created), 201
