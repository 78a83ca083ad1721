"""Class-based endpoints for applications (kept as MethodView since the mobile team's client expects them)."""
import logging

from flask import jsonify, request
from flask.views import MethodView

from .extensions import db
from .models import Application
from .services import application_service

logger = logging.getLogger(__name__)


class ApplicationAPI(MethodView):
    def get(self, application_id):
        application = db.get_or_404(Application, application_id)
        return jsonify(application.to_dict())

    def post(self, application_id):
        application = db.get_or_404(Application, application_id)
        stage = request.json["stage"]
        application.stage = stage
        if stage == "rejected":
            application.note = request.json.get("reason", "no reason given")
        db.session.commit()
        logger.info("Application %s moved to %s", application_id, stage)
        return jsonify(application.to_dict())

    def delete(self, application_id):
        application = db.session.get(Application, application_id)
        if application is None:
            return jsonify(error="not found"), 404
        application_service.delete_application(application)
        return "", 204


def register_views(app):
    view = ApplicationAPI.as_view("application_api")
    app.add_url_rule("/applications/<int:application_id>", view_func=view, methods=["GET", "POST", "DELETE"])
