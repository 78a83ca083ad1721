"""Recruiting backend: candidates, jobs, applications and staff accounts."""
import logging

from flask import Flask, jsonify, request

from .config import Config
from .extensions import db
from .services import feedback_service

logger = logging.getLogger(__name__)


def create_app(config=Config):
    app = Flask(__name__)
    app.config.from_object(config)
    _configure_logging(app)
    db.init_app(app)

    from .cli import register_commands
    from .routes import auth_bp, candidate_bp, job_bp
    from .views import register_views

    app.register_blueprint(candidate_bp)
    app.register_blueprint(job_bp)
    app.register_blueprint(auth_bp)
    register_views(app)
    register_commands(app)
    _register_core_routes(app)

    if app.config.get("TESTING"):
        with app.app_context():
            db.create_all()
    return app


def _configure_logging(app):
    """Records of every module at LOG_LEVEL and above go to stderr, where the process manager collects them."""
    logging.basicConfig(
        level=app.config.get("LOG_LEVEL", "INFO"),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def _register_core_routes(app):
    @app.route("/health")
    def health():
        return jsonify(status="ok")

    @app.route("/feedback", methods=["POST"])
    def leave_feedback():
        payload = request.get_json(force=True)
        entry = feedback_service.leave_feedback(payload)
        logger.info("Feedback received")
        return jsonify(id=entry.id), 201
