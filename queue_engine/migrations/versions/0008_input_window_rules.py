"""pause categories for public screens; one open window per clerk unless the hall allows more

Revision ID: 0008_input_window_rules
Revises: 0007_credential_version
Create Date: 2026-12-02 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_input_window_rules"
down_revision = "0007_credential_version"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("halls", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "clerk_many_windows", sa.Boolean(), server_default=sa.false(), nullable=False
            )
        )
    with op.batch_alter_table("windows", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pause_category", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("sole_clerk", sa.String(length=64), nullable=True))
        batch_op.create_index(
            "ux_windows_sole_clerk",
            ["sole_clerk"],
            unique=True,
            sqlite_where=sa.text("state <> 'closed'"),
            postgresql_where=sa.text("state <> 'closed'"),
        )
    _mask_current_pause_reasons()


def _mask_current_pause_reasons() -> None:
    """Reasons of windows paused right now were stored as typed: mask them as new ones are."""
    from queue_engine.domain.redaction import mask_personal_data

    conn = op.get_bind()
    windows = sa.table("windows", sa.column("id", sa.Integer), sa.column("paused_reason"))
    rows = conn.execute(sa.select(windows.c.id, windows.c.paused_reason).where(
        windows.c.paused_reason.is_not(None)
    )).all()
    for window_id, reason in rows:
        masked = mask_personal_data(reason)
        if masked != reason:
            conn.execute(
                windows.update().where(windows.c.id == window_id).values(paused_reason=masked)
            )


def downgrade() -> None:
    with op.batch_alter_table("windows", schema=None) as batch_op:
        batch_op.drop_index("ux_windows_sole_clerk")
        batch_op.drop_column("sole_clerk")
        batch_op.drop_column("pause_category")
    with op.batch_alter_table("halls", schema=None) as batch_op:
        batch_op.drop_column("clerk_many_windows")
