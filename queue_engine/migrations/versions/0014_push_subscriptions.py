"""Web Push subscriptions of citizens' ticket and appointment pages (issue 17)

Revision ID: 0014_push_subscriptions
Revises: 0013_outbox
Create Date: 2026-12-02 20:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import queue_engine.adapters.orm

revision = "0014_push_subscriptions"
down_revision = "0013_outbox"
branch_labels = None
depends_on = None

UTC = queue_engine.adapters.orm.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "push_subscriptions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("owner_kind", sa.String(length=16), nullable=False),
        sa.Column("owner_id", sa.String(length=64), nullable=False),
        sa.Column("hall", sa.String(length=32), nullable=False),
        sa.Column("subscription", sa.Text(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("owner_kind", "owner_id", name="uq_push_owner"),
    )


def downgrade() -> None:
    op.drop_table("push_subscriptions")
