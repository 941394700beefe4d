"""appointments: when and how a booking was verified as its ID holder's

A booking is verified once it is checked in, or confirmed at a kiosk with the ID number; only
the no-shows of verified bookings (or of bookings made with a phone the ID's verified bookings
used) ban the ID number (issue 15, row 7). Bookings checked in before this revision count as
verified at their check-in.

Revision ID: 0006_appointment_verification
Revises: 0005
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import queue_engine.adapters.orm

revision = '0006_appointment_verification'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                'verified_at', queue_engine.adapters.orm.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.add_column(sa.Column('verified_via', sa.String(length=16), nullable=True))
    op.execute(
        "UPDATE appointments SET verified_at = checked_in_at, verified_via = 'check_in' "
        "WHERE checked_in_at IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.drop_column('verified_via')
        batch_op.drop_column('verified_at')
