"""candidate source

Revision ID: 3f2a91c0d4e1
Revises: 9b1e0c7d2a55
"""
import sqlalchemy as sa
from alembic import op

revision = "3f2a91c0d4e1"
down_revision = "9b1e0c7d2a55"


def upgrade():
    op.add_column("candidates", sa.Column("source", sa.String(64)))
    print("Added candidates.source; run scripts/backfill_sources.py next")


def downgrade():
    op.drop_column("candidates", "source")
