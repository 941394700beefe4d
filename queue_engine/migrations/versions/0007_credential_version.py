"""users.credential_version: revoke every token and page session of an account at once

Revision ID: 0007_credential_version
Revises: 0006_appointment_verification
Create Date: 2026-11-27 09:00:00.000000
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0007_credential_version'
down_revision = '0006_appointment_verification'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('credential_version', sa.Integer(), server_default='0', nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('credential_version')
