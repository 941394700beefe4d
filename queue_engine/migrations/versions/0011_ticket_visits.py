"""ticket visits: several services on one ticket, outcomes, the citizen's hash and masks

Revision ID: 0011_ticket_visits
Revises: 0008_input_window_rules
Create Date: 2026-12-02 11:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_ticket_visits"
down_revision = "0008_input_window_rules"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ticket_visits",
        sa.Column("ticket_id", sa.String(length=32), sa.ForeignKey("tickets.id"), nullable=False),
        sa.Column("hall_id", sa.Integer(), sa.ForeignKey("halls.id"), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("segments", sa.JSON(), nullable=False),
        sa.Column("segment_index", sa.Integer(), nullable=False),
        sa.Column("citizen_hash", sa.String(length=64), nullable=True),
        sa.Column("proxy_hash", sa.String(length=64), nullable=True),
        sa.Column("masked_id", sa.String(length=18), nullable=True),
        sa.Column("masked_name", sa.String(length=8), nullable=True),
        sa.Column("age_band", sa.String(length=8), nullable=True),
        sa.PrimaryKeyConstraint("ticket_id"),
    )
    op.create_index(
        "ix_ticket_visits_citizen",
        "ticket_visits",
        ["hall_id", "business_date", "citizen_hash"],
    )


def downgrade() -> None:
    op.drop_index("ix_ticket_visits_citizen", table_name="ticket_visits")
    op.drop_table("ticket_visits")
