"""The planner's plans, kept for plan vs actual (issue 21)

Each plan ``POST /api/v1/planner/plan`` computes (forecast, requirement and roster as the
API answered them, JSON) with its hall, days, interval and who asked for it.

Revision ID: 0018_planner_plans
Revises: 0015_integration
Create Date: 2026-12-03 18:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import queue_engine.adapters.orm

revision = "0018_planner_plans"
down_revision = "0015_integration"
branch_labels = None
depends_on = None

UTC = queue_engine.adapters.orm.UTCDateTime(timezone=True)
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "planner_plans",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("hall_id", sa.Integer(), sa.ForeignKey("halls.id"), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("interval_minutes", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("plan", sa.JSON(), nullable=False),
    )
    op.create_index("ix_planner_plans_hall", "planner_plans", ["hall_id", "first_day"])


def downgrade() -> None:
    op.drop_index("ix_planner_plans_hall", table_name="planner_plans")
    op.drop_table("planner_plans")
