"""Staff addresses for escalation cards, department heads, silent zones (issues 17 and 19)

Staff phones and WeChat openids are kept in ``contacts`` (subject "staff", ref the username),
sealed like a citizen's; they stay until changed, so ``purge_after`` may be empty. A user may
head a department (``users.heads_department``): the department's yellow cards reach them.
A hall lists its 无声叫号 zones (``halls.silent_zones``): the board is quiet there.
Web Push subscriptions move from ``push_subscriptions`` (plain JSON) into ``contacts``
(channel "webpush", sealed with the PII key of ``HALL_PII_KEY`` or, in development, the
instance folder's key, as the app reads it), and the old table is dropped.

Revision ID: 0017_staff_contacts
Revises: 0014_push_subscriptions
Create Date: 2026-12-03 13:40:00
"""

from __future__ import annotations

import os
from datetime import timedelta

import sqlalchemy as sa
from alembic import op

import queue_engine.adapters.orm
from queue_engine.adapters.database import instance_folder
from queue_engine.adapters.pii_crypto import cipher_from_env

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
    with op.batch_alter_table("halls") as batch:
        batch.add_column(sa.Column("silent_zones", sa.JSON(), nullable=True))
    _move_push_subscriptions()
    op.drop_table("push_subscriptions")


def _move_push_subscriptions() -> None:
    """Seal each stored subscription into ``contacts`` (the latest opt-in per owner)."""
    conn = op.get_bind()
    old = sa.table(
        "push_subscriptions",
        sa.column("owner_kind", sa.String),
        sa.column("owner_id", sa.String),
        sa.column("hall", sa.String),
        sa.column("subscription", sa.Text),
        sa.column("created_at", UTC),
    )
    rows = conn.execute(sa.select(old)).all()
    if not rows:
        return
    production = os.environ.get("HALL_ENV", "").lower() == "production"
    cipher = cipher_from_env(os.environ, instance_folder(), production=production)
    days = int(os.environ.get("HALL_PII_PURGE_DAYS") or 30)
    contacts = sa.table(
        "contacts",
        sa.column("hall", sa.String),
        sa.column("subject", sa.String),
        sa.column("ref", sa.String),
        sa.column("channel", sa.String),
        sa.column("ciphertext", sa.LargeBinary),
        sa.column("key_id", sa.String),
        sa.column("lang", sa.String),
        sa.column("created_at", UTC),
        sa.column("purge_after", UTC),
    )
    for r in rows:
        ciphertext, key_id = cipher.seal(r.subscription, "webpush")
        conn.execute(
            sa.delete(contacts).where(
                contacts.c.subject == r.owner_kind,
                contacts.c.ref == r.owner_id,
                contacts.c.channel == "webpush",
            )
        )
        conn.execute(
            sa.insert(contacts).values(
                hall=r.hall[:16],
                subject=r.owner_kind,
                ref=r.owner_id[:32],
                channel="webpush",
                ciphertext=ciphertext,
                key_id=key_id,
                lang="zh",
                created_at=r.created_at,
                purge_after=r.created_at + timedelta(days=days),
            )
        )


def downgrade() -> None:
    # The subscriptions stay sealed in contacts (where 0014's code does not read them); the
    # table comes back empty, and citizens opt in again.
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
    with op.batch_alter_table("halls") as batch:
        batch.drop_column("silent_zones")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("heads_department")
    op.execute("DELETE FROM contacts WHERE purge_after IS NULL")
    with op.batch_alter_table("contacts") as batch:
        batch.alter_column("purge_after", existing_type=UTC, nullable=False)
