"""Operator commands, run with ``flask --app flask_app count-candidates``."""
from .extensions import db
from .models import Candidate


def register_commands(app):
    @app.cli.command("count-candidates")
    def count_candidates():
        """Print how many candidates are stored (scripts read this number)."""
        print(db.session.query(Candidate).count())
