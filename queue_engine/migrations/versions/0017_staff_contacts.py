"""Staff addresses for escalation cards, department heads (issues 17 and 19)

Staff phones and WeChat openids are kept in ``contacts`` (subject "staff", ref the username),
sealed like a citizen's; they stay until changed, so ``purge_after`` may be empty. A user may
head a department (``users.heads_department``): the department's yellow cards reach them.

Revision ID: 0017_staff_contacts
Revises: 0014_push_subscriptions
Create Date: 2026-12-03 13:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import queue_engine.adapters.orm

revision = "0017_staff_contacts"
down_revision = "0014_push_subscriptions"
branch_labels = None
depends_on = None

UTC = queue_engine.adapters.orm.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("contacts") as batch:
        batch.alter_column("purge_after", existing_type=UTC, nullable=True)
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("heads_department", sa.String(length=60), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("heads_department")
    op.execute("DELETE FROM contacts WHERE purge_after IS NULL")
    with op.batch_alter_table("contacts") as batch:
        batch.alter_column("purge_after", existing_type=UTC, nullable=False)
