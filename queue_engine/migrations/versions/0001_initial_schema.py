"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-26
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import queue_engine.adapters.orm


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('event_id', sa.String(length=32), nullable=False),
    sa.Column('hall', sa.String(length=16), nullable=False),
    sa.Column('ts', queue_engine.adapters.orm.UTCDateTime(timezone=True), nullable=False),
    sa.Column('type', sa.String(length=32), nullable=False),
    sa.Column('ticket_id', sa.String(length=32), nullable=True),
    sa.Column('ticket_number', sa.String(length=16), nullable=True),
    sa.Column('service', sa.String(length=32), nullable=True),
    sa.Column('window', sa.String(length=16), nullable=True),
    sa.Column('clerk', sa.String(length=64), nullable=True),
    sa.Column('channel', sa.String(length=16), nullable=True),
    sa.Column('priority', sa.String(length=16), nullable=True),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('event_id')
    )
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index('ix_events_hall_ts', ['hall', 'ts'], unique=False)
        batch_op.create_index('ix_events_ticket', ['ticket_id'], unique=False)

    op.create_table('halls',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('name_zh', sa.String(length=100), nullable=False),
    sa.Column('name_en', sa.String(length=100), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('hours', sa.JSON(), nullable=False),
    sa.Column('dispatch', sa.JSON(), nullable=False),
    sa.Column('no_show', sa.JSON(), nullable=False),
    sa.Column('notice', sa.String(length=500), nullable=False),
    sa.Column('config_version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    op.create_table('services',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('hall_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('prefix', sa.String(length=1), nullable=False),
    sa.Column('name_zh', sa.String(length=100), nullable=False),
    sa.Column('name_en', sa.String(length=100), nullable=False),
    sa.Column('zone', sa.String(length=100), nullable=False),
    sa.Column('standard_minutes', sa.Float(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['hall_id'], ['halls.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('hall_id', 'code')
    )
    op.create_table('ticket_counters',
    sa.Column('hall_id', sa.Integer(), nullable=False),
    sa.Column('prefix', sa.String(length=1), nullable=False),
    sa.Column('business_date', sa.Date(), nullable=False),
    sa.Column('last_seq', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['hall_id'], ['halls.id'], ),
    sa.PrimaryKeyConstraint('hall_id', 'prefix', 'business_date')
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('hall_id', sa.Integer(), nullable=True),
    sa.Column('display_name', sa.String(length=100), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', queue_engine.adapters.orm.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['hall_id'], ['halls.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('username')
    )
    op.create_table('windows',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('hall_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('zone', sa.String(length=100), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('clerk', sa.String(length=64), nullable=True),
    sa.Column('current_ticket_id', sa.String(length=32), nullable=True),
    sa.Column('paused_reason', sa.String(length=200), nullable=True),
    sa.Column('state_since', queue_engine.adapters.orm.UTCDateTime(timezone=True), nullable=True),
    sa.Column('cycle_position', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['hall_id'], ['halls.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('hall_id', 'number')
    )
    op.create_table('tickets',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('hall_id', sa.Integer(), nullable=False),
    sa.Column('service', sa.String(length=32), nullable=False),
    sa.Column('prefix', sa.String(length=1), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('business_date', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('priority', sa.String(length=16), nullable=False),
    sa.Column('issued_at', queue_engine.adapters.orm.UTCDateTime(timezone=True), nullable=False),
    sa.Column('queued_at', queue_engine.adapters.orm.UTCDateTime(timezone=True), nullable=False),
    sa.Column('slot_start', queue_engine.adapters.orm.UTCDateTime(timezone=True), nullable=True),
    sa.Column('called_at', queue_engine.adapters.orm.UTCDateTime(timezone=True), nullable=True),
    sa.Column('first_called_at', queue_engine.adapters.orm.UTCDateTime(timezone=True), nullable=True),
    sa.Column('started_at', queue_engine.adapters.orm.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', queue_engine.adapters.orm.UTCDateTime(timezone=True), nullable=True),
    sa.Column('window_id', sa.Integer(), nullable=True),
    sa.Column('clerk', sa.String(length=64), nullable=True),
    sa.Column('target_window_id', sa.Integer(), nullable=True),
    sa.Column('est_median', sa.Float(), nullable=True),
    sa.Column('est_p90', sa.Float(), nullable=True),
    sa.Column('recalls', sa.Integer(), nullable=False),
    sa.Column('requeues', sa.Integer(), nullable=False),
    sa.Column('transfers', sa.Integer(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=100), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['hall_id'], ['halls.id'], ),
    sa.ForeignKeyConstraint(['target_window_id'], ['windows.id'], ),
    sa.ForeignKeyConstraint(['window_id'], ['windows.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('hall_id', 'idempotency_key', name='uq_ticket_idempotency'),
    sa.UniqueConstraint('hall_id', 'prefix', 'business_date', 'seq', name='uq_ticket_number')
    )
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.create_index('ix_tickets_day', ['hall_id', 'business_date'], unique=False)
        batch_op.create_index('ix_tickets_queue', ['hall_id', 'status', 'business_date', 'service'], unique=False)
        batch_op.create_index('ix_tickets_window', ['window_id', 'status'], unique=False)

    op.create_table('window_skills',
    sa.Column('window_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('is_primary', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['service_id'], ['services.id'], ),
    sa.ForeignKeyConstraint(['window_id'], ['windows.id'], ),
    sa.PrimaryKeyConstraint('window_id', 'service_id')
    )


def downgrade() -> None:
    op.drop_table('window_skills')
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_window')
        batch_op.drop_index('ix_tickets_queue')
        batch_op.drop_index('ix_tickets_day')

    op.drop_table('tickets')
    op.drop_table('windows')
    op.drop_table('users')
    op.drop_table('ticket_counters')
    op.drop_table('services')
    op.drop_table('halls')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_ticket')
        batch_op.drop_index('ix_events_hall_ts')

    op.drop_table('events')
