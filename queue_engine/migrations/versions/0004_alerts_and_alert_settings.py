"""alerts and alert settings

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import queue_engine.adapters.orm


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('alert_settings',
    sa.Column('hall_id', sa.Integer(), nullable=False),
    sa.Column('settings', sa.JSON(), nullable=False),
    sa.Column('flags', sa.JSON(), nullable=False),
    sa.Column('updated_at', queue_engine.adapters.orm.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['hall_id'], ['halls.id'], ),
    sa.PrimaryKeyConstraint('hall_id')
    )
    op.create_table('alerts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('hall_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('severity', sa.String(length=16), nullable=False),
    sa.Column('subject', sa.String(length=64), nullable=False),
    sa.Column('window', sa.String(length=16), nullable=True),
    sa.Column('service', sa.String(length=32), nullable=True),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('raised_at', queue_engine.adapters.orm.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', queue_engine.adapters.orm.UTCDateTime(timezone=True), nullable=False),
    sa.Column('cleared_at', queue_engine.adapters.orm.UTCDateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_at', queue_engine.adapters.orm.UTCDateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_by', sa.String(length=64), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['hall_id'], ['halls.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.create_index('ix_alerts_hall_open', ['hall_id', 'cleared_at'], unique=False)
        batch_op.create_index('ix_alerts_hall_raised', ['hall_id', 'raised_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_index('ix_alerts_hall_raised')
        batch_op.drop_index('ix_alerts_hall_open')

    op.drop_table('alerts')
    op.drop_table('alert_settings')
