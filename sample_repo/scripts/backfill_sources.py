"""One-off: candidates imported before sources were tracked get the source "legacy".

Run with ``python scripts/backfill_sources.py``; it prints how many rows it changed.
"""
from flask_app import create_app
from flask_app.extensions import db
from flask_app.models import Candidate

app = create_app()
with app.app_context():
    changed = Candidate.query.filter(Candidate.source.is_(None)).update({"source": "legacy"})
    db.session.commit()
    print(f"Backfilled {changed} candidates")
