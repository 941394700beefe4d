"""The queue's lines as indexes: heads by seek, positions counted from the index (issue 16)

Revision ID: 0020_engine_indexes
Revises: 0019_identity_rules
Create Date: 2026-12-03 13:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020_engine_indexes"
down_revision = "0019_identity_rules"
branch_labels = None
depends_on = None

LINE = ("hall_id", "status", "business_date", "service", "priority", "queued_at", "seq", "id")


def upgrade() -> None:
    # The wider line index starts with the old queue index's columns and takes its place.
    op.drop_index("ix_tickets_queue", table_name="tickets")
    op.create_index("ix_tickets_line", "tickets", [*LINE, "slot_start"])
    slot = sa.text("slot_start IS NOT NULL")
    op.create_index(
        "ix_tickets_slot",
        "tickets",
        ["hall_id", "status", "business_date", "service", "slot_start", "queued_at", "seq", "id"],
        sqlite_where=slot,
        postgresql_where=slot,
    )
    target = sa.text("target_window_id IS NOT NULL")
    op.create_index(
        "ix_tickets_target",
        "tickets",
        ["target_window_id", "status"],
        sqlite_where=target,
        postgresql_where=target,
    )


def downgrade() -> None:
    op.drop_index("ix_tickets_target", table_name="tickets")
    op.drop_index("ix_tickets_slot", table_name="tickets")
    op.drop_index("ix_tickets_line", table_name="tickets")
    op.create_index(
        "ix_tickets_queue", "tickets", ["hall_id", "status", "business_date", "service"]
    )
