"""好差评 to the national rules: ratings per service segment with indicators, reasons and 追评;
case deadlines (回访, 整改, 解释说明, the citizen's rating of the rectification); appeals;
rating invitations; 效能监察 cards with the 督办通知书; black flags and 约谈 records

Revision ID: 0012_evaluations_national_rules
Revises: 0011_ticket_visits
Create Date: 2026-12-02 10:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import queue_engine.adapters.orm

revision = "0012_evaluations_national_rules"
down_revision = "0011_ticket_visits"
branch_labels = None
depends_on = None

UTC = queue_engine.adapters.orm.UTCDateTime(timezone=True)


def _evaluations_before() -> sa.Table:
    """The evaluations table as 0003 made it, for SQLite's copy-and-move (its unique
    constraint on ticket_id has no name to drop)."""
    return sa.Table(
        "evaluations",
        sa.MetaData(),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.String(length=32), nullable=False),
        sa.Column("hall_id", sa.Integer(), nullable=False),
        sa.Column("service", sa.String(length=32), nullable=False),
        sa.Column("window", sa.String(length=16), nullable=True),
        sa.Column("clerk", sa.String(length=64), nullable=True),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("excluded", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["hall_id"], ["halls.id"]),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.Index("ix_evaluations_hall_ts", "hall_id", "created_at"),
    )


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint("evaluations_ticket_id_key", "evaluations", type_="unique")
        batch = op.batch_alter_table("evaluations")
    else:
        # copy-and-move (migrations/env.py turns SQLite's foreign keys off meanwhile)
        batch = op.batch_alter_table(
            "evaluations", recreate="always", copy_from=_evaluations_before()
        )
    with batch as batch_op:
        batch_op.add_column(
            sa.Column("segment", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )
        batch_op.add_column(sa.Column("indicators", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("reasons", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("follow_up_comment", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("follow_up_at", UTC, nullable=True))
        batch_op.create_index(
            "ux_evaluations_ticket_segment", ["ticket_id", "segment"], unique=True
        )
    with op.batch_alter_table("follow_up_cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("callback_deadline", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("called_back_at", UTC, nullable=True))
        batch_op.add_column(sa.Column("resolution", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("resolved_at", UTC, nullable=True))
        batch_op.add_column(
            sa.Column("rectification_rating", sa.String(length=16), nullable=True)
        )
        batch_op.add_column(sa.Column("rectification_rated_at", UTC, nullable=True))
    op.create_table(
        "evaluation_rules",
        sa.Column("hall_id", sa.Integer(), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["hall_id"], ["halls.id"]),
        sa.PrimaryKeyConstraint("hall_id"),
    )
    op.create_table(
        "evaluation_appeals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("filed_by", sa.String(length=64), nullable=False),
        sa.Column("filed_at", UTC, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decided_at", UTC, nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["follow_up_cases.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_appeals_case", "evaluation_appeals", ["case_id"], unique=False)
    op.create_table(
        "rating_invitations",
        sa.Column("ticket_id", sa.String(length=32), nullable=False),
        sa.Column("segment", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"]),
        sa.PrimaryKeyConstraint("ticket_id", "segment"),
    )
    op.create_table(
        "efficiency_cards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hall_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("colour", sa.String(length=8), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("window", sa.String(length=16), nullable=True),
        sa.Column("department", sa.String(length=64), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("issued_at", UTC, nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("notice_number", sa.String(length=32), nullable=True),
        sa.Column("notice_pdf", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["follow_up_cases.id"]),
        sa.ForeignKeyConstraint(["hall_id"], ["halls.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id", "colour", "reason", name="uq_cards_case_colour_reason"),
    )
    op.create_index("ix_cards_hall_month", "efficiency_cards", ["hall_id", "month"], unique=False)
    op.create_table(
        "black_flags",
        sa.Column("hall_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("window", sa.String(length=16), nullable=False),
        sa.Column("department", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(["hall_id"], ["halls.id"]),
        sa.PrimaryKeyConstraint("hall_id", "month", "window"),
    )
    op.create_table(
        "interview_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hall_id", sa.Integer(), nullable=False),
        sa.Column("department", sa.String(length=64), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("windows", sa.JSON(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["hall_id"], ["halls.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("hall_id", "department", "month", name="uq_interviews_dept_month"),
    )


def downgrade() -> None:
    op.drop_table("interview_records")
    op.drop_table("black_flags")
    op.drop_index("ix_cards_hall_month", table_name="efficiency_cards")
    op.drop_table("efficiency_cards")
    op.drop_table("rating_invitations")
    op.drop_index("ix_appeals_case", table_name="evaluation_appeals")
    op.drop_table("evaluation_appeals")
    op.drop_table("evaluation_rules")
    with op.batch_alter_table("follow_up_cases", schema=None) as batch_op:
        for column in (
            "rectification_rated_at",
            "rectification_rating",
            "resolved_at",
            "resolution",
            "called_back_at",
            "callback_deadline",
        ):
            batch_op.drop_column(column)
    with op.batch_alter_table("evaluations", schema=None) as batch_op:
        batch_op.drop_index("ux_evaluations_ticket_segment")
        for column in ("follow_up_at", "follow_up_comment", "reasons", "indicators", "segment"):
            batch_op.drop_column(column)
        batch_op.create_unique_constraint("evaluations_ticket_id_key", ["ticket_id"])
