"""The outbox of notices and webhook calls, and encrypted contacts (issue 17)

Revision ID: 0013_outbox
Revises: 0012_evaluations_national_rules
Create Date: 2026-12-02 20:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import queue_engine.adapters.orm

revision = "0013_outbox"
down_revision = "0012_evaluations_national_rules"
branch_labels = None
depends_on = None

UTC = queue_engine.adapters.orm.UTCDateTime(timezone=True)
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("hall", sa.String(16), nullable=False, server_default=""),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(48), nullable=False),
        sa.Column("key", sa.String(160), nullable=False),
        sa.Column("to_ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("to_plain", sa.Text(), nullable=True),
        sa.Column("key_id", sa.String(32), nullable=True),
        sa.Column("phone_hash", sa.String(64), nullable=True),
        sa.Column("text", sa.Text(), nullable=False, server_default=""),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("urgent", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("status", sa.String(16), nullable=False, server_default="pending"),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("due_at", UTC, nullable=False),
        sa.Column("claimed_by", sa.String(64), nullable=True),
        sa.Column("claim_token", sa.String(32), nullable=True),
        sa.Column("lease_until", UTC, nullable=True),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("first_tried_at", UTC, nullable=True),
        sa.Column("sent_at", UTC, nullable=True),
        sa.Column("purge_after", UTC, nullable=True),
        sa.UniqueConstraint("key", name="uq_outbox_key"),
    )
    op.create_index("ix_outbox_due", "outbox", ["status", "due_at"])
    op.create_index("ix_outbox_phone", "outbox", ["phone_hash", "sent_at"])
    op.create_index("ix_outbox_hall", "outbox", ["hall", "channel", "status"])
    op.create_table(
        "contacts",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("hall", sa.String(16), nullable=False),
        sa.Column("subject", sa.String(16), nullable=False),
        sa.Column("ref", sa.String(32), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("key_id", sa.String(32), nullable=True),
        sa.Column("phone_hash", sa.String(64), nullable=True),
        sa.Column("lang", sa.String(8), nullable=False, server_default="zh"),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("purge_after", UTC, nullable=False),
        sa.UniqueConstraint("subject", "ref", "channel", name="uq_contact"),
    )
    op.create_index("ix_contacts_purge", "contacts", ["purge_after"])


def downgrade() -> None:
    op.drop_index("ix_contacts_purge", table_name="contacts")
    op.drop_table("contacts")
    op.drop_index("ix_outbox_hall", table_name="outbox")
    op.drop_index("ix_outbox_phone", table_name="outbox")
    op.drop_index("ix_outbox_due", table_name="outbox")
    op.drop_table("outbox")
