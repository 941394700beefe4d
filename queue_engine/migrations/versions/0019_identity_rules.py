"""A hall's identity rule (issue 18): off/optional/required per hall and service, limits, ages

``halls.identity`` holds ``visits.IdentityRule.to_mapping()``; null keeps the defaults
(identity optional everywhere, 1 ticket per service and 3 in all per day, elderly from 70, 60
in the zone 老年服务专区).

Revision ID: 0019_identity_rules
Revises: 0018_planner_plans
Create Date: 2026-12-03 18:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019_identity_rules"
down_revision = "0018_planner_plans"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("halls") as batch:
        batch.add_column(sa.Column("identity", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("halls") as batch:
        batch.drop_column("identity")
