"""appointments and evaluations

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import queue_engine.adapters.orm


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('appointments',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('hall_id', sa.Integer(), nullable=False),
    sa.Column('service', sa.String(length=32), nullable=False),
    sa.Column('business_date', sa.Date(), nullable=False),
    sa.Column('slot_start', queue_engine.adapters.orm.UTCDateTime(timezone=True), nullable=False),
    sa.Column('slot_end', queue_engine.adapters.orm.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('name_masked', sa.String(length=16), nullable=False),
    sa.Column('phone_hash', sa.String(length=64), nullable=False),
    sa.Column('phone_masked', sa.String(length=16), nullable=False),
    sa.Column('id_hash', sa.String(length=64), nullable=False),
    sa.Column('id_masked', sa.String(length=18), nullable=False),
    sa.Column('person_key', sa.String(length=64), nullable=True),
    sa.Column('booked_at', queue_engine.adapters.orm.UTCDateTime(timezone=True), nullable=False),
    sa.Column('cancelled_at', queue_engine.adapters.orm.UTCDateTime(timezone=True), nullable=True),
    sa.Column('checked_in_at', queue_engine.adapters.orm.UTCDateTime(timezone=True), nullable=True),
    sa.Column('no_show_at', queue_engine.adapters.orm.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reminded_at', queue_engine.adapters.orm.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ticket_id', sa.String(length=32), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['hall_id'], ['halls.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code'),
    sa.UniqueConstraint('hall_id', 'service', 'business_date', 'person_key', name='uq_booking')
    )
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.create_index('ix_appointments_person', ['id_hash', 'status'], unique=False)
        batch_op.create_index('ix_appointments_phone', ['hall_id', 'phone_hash', 'business_date'], unique=False)
        batch_op.create_index('ix_appointments_slot', ['hall_id', 'status', 'slot_start'], unique=False)

    op.create_table('hall_settings',
    sa.Column('hall_id', sa.Integer(), nullable=False),
    sa.Column('appointments', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['hall_id'], ['halls.id'], ),
    sa.PrimaryKeyConstraint('hall_id')
    )
    op.create_table('slot_counters',
    sa.Column('hall_id', sa.Integer(), nullable=False),
    sa.Column('service', sa.String(length=32), nullable=False),
    sa.Column('slot_start', queue_engine.adapters.orm.UTCDateTime(timezone=True), nullable=False),
    sa.Column('booked', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['hall_id'], ['halls.id'], ),
    sa.PrimaryKeyConstraint('hall_id', 'service', 'slot_start')
    )
    op.create_table('evaluations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.String(length=32), nullable=False),
    sa.Column('hall_id', sa.Integer(), nullable=False),
    sa.Column('service', sa.String(length=32), nullable=False),
    sa.Column('window', sa.String(length=16), nullable=True),
    sa.Column('clerk', sa.String(length=64), nullable=True),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('created_at', queue_engine.adapters.orm.UTCDateTime(timezone=True), nullable=False),
    sa.Column('excluded', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['hall_id'], ['halls.id'], ),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('ticket_id')
    )
    with op.batch_alter_table('evaluations', schema=None) as batch_op:
        batch_op.create_index('ix_evaluations_hall_ts', ['hall_id', 'created_at'], unique=False)

    op.create_table('follow_up_cases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('hall_id', sa.Integer(), nullable=False),
    sa.Column('evaluation_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('supervisor', sa.String(length=64), nullable=True),
    sa.Column('opened_at', queue_engine.adapters.orm.UTCDateTime(timezone=True), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=False),
    sa.Column('updated_at', queue_engine.adapters.orm.UTCDateTime(timezone=True), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('rerating', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['evaluation_id'], ['evaluations.id'], ),
    sa.ForeignKeyConstraint(['hall_id'], ['halls.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('evaluation_id')
    )
    with op.batch_alter_table('follow_up_cases', schema=None) as batch_op:
        batch_op.create_index('ix_cases_hall_status', ['hall_id', 'status'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('follow_up_cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_hall_status')

    op.drop_table('follow_up_cases')
    with op.batch_alter_table('evaluations', schema=None) as batch_op:
        batch_op.drop_index('ix_evaluations_hall_ts')

    op.drop_table('evaluations')
    op.drop_table('slot_counters')
    op.drop_table('hall_settings')
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.drop_index('ix_appointments_slot')
        batch_op.drop_index('ix_appointments_phone')
        batch_op.drop_index('ix_appointments_person')

    op.drop_table('appointments')
