"""Rating invitations with their link: an expiry, and the clerk's "rate later" told apart
from an SMS invitation (only "rate later" takes the visit off the window's evaluator), and
the SHA-256 of the link's key, so that the short link ``/r/<key>`` finds its ticket

Revision ID: 0021_invitation_links
Revises: 0020_engine_indexes
Create Date: 2026-12-03 19:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import queue_engine.adapters.orm

revision = "0021_invitation_links"
down_revision = "0020_engine_indexes"
branch_labels = None
depends_on = None

UTC = queue_engine.adapters.orm.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("rating_invitations") as batch:
        batch.add_column(sa.Column("expires_at", UTC, nullable=True))
        batch.add_column(sa.Column("left_at", UTC, nullable=True))
        batch.add_column(sa.Column("key_hash", sa.String(length=64), nullable=True))
    op.create_index("ix_invitations_key_hash", "rating_invitations", ["key_hash"])
    # the invitations of old: a "rate later" took the visit off the evaluator, and never expires
    op.execute("UPDATE rating_invitations SET left_at = created_at WHERE channel = 'rate_later'")


def downgrade() -> None:
    op.drop_index("ix_invitations_key_hash", table_name="rating_invitations")
    with op.batch_alter_table("rating_invitations") as batch:
        batch.drop_column("key_hash")
        batch.drop_column("left_at")
        batch.drop_column("expires_at")
