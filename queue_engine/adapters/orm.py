"""The database schema as SQLAlchemy 2 typed ORM classes (changed only through Alembic)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware datetimes, stored in UTC on every database (SQLite included)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; attach a time zone")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# SQLite only auto-increments INTEGER PRIMARY KEY columns.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON}  # noqa: RUF012


class HallRow(Base):
    __tablename__ = "halls"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    hours: Mapped[dict[str, Any]]
    dispatch: Mapped[dict[str, Any]]
    no_show: Mapped[dict[str, Any]]
    notice: Mapped[str] = mapped_column(String(500), default="")
    config_version: Mapped[int] = mapped_column(Integer, default=1)
    # A clerk may have several windows open at once (off: one each; see WindowRow.sole_clerk).
    clerk_many_windows: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # 无声叫号 (issue 17): zones whose calls the board neither shows nor speaks.
    silent_zones: Mapped[list[str] | None] = mapped_column(JSON)
    # issue 18: the identity rule (visits.IdentityRule.to_mapping); null: the defaults.
    identity: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class ServiceRow(Base):
    __tablename__ = "services"
    __table_args__ = (UniqueConstraint("hall_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id"))
    code: Mapped[str] = mapped_column(String(32))
    prefix: Mapped[str] = mapped_column(String(1))
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    zone: Mapped[str] = mapped_column(String(100))
    standard_minutes: Mapped[float] = mapped_column(Float)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    daily_cap: Mapped[int | None] = mapped_column(Integer)  # tickets a business day; None: no cap


class WindowRow(Base):
    __tablename__ = "windows"
    __table_args__ = (
        UniqueConstraint("hall_id", "number"),
        # One open window per clerk, kept by the database itself when two opens race.
        Index(
            "ux_windows_sole_clerk",
            "sole_clerk",
            unique=True,
            sqlite_where=text("state <> 'closed'"),
            postgresql_where=text("state <> 'closed'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id"))
    number: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(100))
    zone: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(16), default="closed")
    clerk: Mapped[str | None] = mapped_column(String(64))
    current_ticket_id: Mapped[str | None] = mapped_column(String(32))
    paused_reason: Mapped[str | None] = mapped_column(String(200))  # masked; staff only
    pause_category: Mapped[str | None] = mapped_column(String(16))  # what public screens show
    state_since: Mapped[datetime | None]
    cycle_position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    evaluator_device: Mapped[str | None] = mapped_column(String(64))  # a kiosk account's name
    # The clerk of an open window in a hall that allows one window per clerk (else NULL).
    sole_clerk: Mapped[str | None] = mapped_column(String(64))


class WindowSkillRow(Base):
    __tablename__ = "window_skills"

    window_id: Mapped[int] = mapped_column(ForeignKey("windows.id"), primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), primary_key=True)
    is_primary: Mapped[bool] = mapped_column(Boolean, default=True)


class TicketRow(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        UniqueConstraint("hall_id", "prefix", "business_date", "seq", name="uq_ticket_number"),
        UniqueConstraint("hall_id", "idempotency_key", name="uq_ticket_idempotency"),
        # The lines of a hall's day in queued order, with what positions are counted by
        # (issue 16): a line's head is a seek (no sort: the id breaks ties), a count reads this
        # index alone.
        Index(
            "ix_tickets_line",
            "hall_id",
            "status",
            "business_date",
            "service",
            "priority",
            "queued_at",
            "seq",
            "id",
            "slot_start",
        ),
        # Appointment tickets by slot, and tickets transferred to a window: both few.
        Index(
            "ix_tickets_slot",
            "hall_id",
            "status",
            "business_date",
            "service",
            "slot_start",
            "queued_at",
            "seq",
            "id",
            sqlite_where=text("slot_start IS NOT NULL"),
            postgresql_where=text("slot_start IS NOT NULL"),
        ),
        Index(
            "ix_tickets_target",
            "target_window_id",
            "status",
            sqlite_where=text("target_window_id IS NOT NULL"),
            postgresql_where=text("target_window_id IS NOT NULL"),
        ),
        Index("ix_tickets_window", "window_id", "status"),
        Index("ix_tickets_day", "hall_id", "business_date"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id"))
    service: Mapped[str] = mapped_column(String(32))
    prefix: Mapped[str] = mapped_column(String(1))
    seq: Mapped[int] = mapped_column(Integer)
    business_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16))
    priority: Mapped[str] = mapped_column(String(16))
    issued_at: Mapped[datetime]
    queued_at: Mapped[datetime]
    slot_start: Mapped[datetime | None]
    called_at: Mapped[datetime | None]
    first_called_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    window_id: Mapped[int | None] = mapped_column(ForeignKey("windows.id"))
    clerk: Mapped[str | None] = mapped_column(String(64))
    target_window_id: Mapped[int | None] = mapped_column(ForeignKey("windows.id"))
    est_median: Mapped[float | None] = mapped_column(Float)
    est_p90: Mapped[float | None] = mapped_column(Float)
    recalls: Mapped[int] = mapped_column(Integer, default=0)
    requeues: Mapped[int] = mapped_column(Integer, default=0)
    transfers: Mapped[int] = mapped_column(Integer, default=0)
    idempotency_key: Mapped[str | None] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer, default=1)


class TicketCounterRow(Base):
    """The last number handed out per hall, prefix and business date."""

    __tablename__ = "ticket_counters"

    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id"), primary_key=True)
    prefix: Mapped[str] = mapped_column(String(1), primary_key=True)
    business_date: Mapped[date] = mapped_column(Date, primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer)


class EventRow(Base):
    """The append-only event log; rows are only ever inserted."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_hall_ts", "hall", "ts"),
        Index("ix_events_ticket", "ticket_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(32), unique=True)
    hall: Mapped[str] = mapped_column(String(16))
    ts: Mapped[datetime]
    type: Mapped[str] = mapped_column(String(32))
    ticket_id: Mapped[str | None] = mapped_column(String(32))
    ticket_number: Mapped[str | None] = mapped_column(String(16))
    service: Mapped[str | None] = mapped_column(String(32))
    window: Mapped[str | None] = mapped_column(String(16))
    clerk: Mapped[str | None] = mapped_column(String(64))
    channel: Mapped[str | None] = mapped_column(String(16))
    priority: Mapped[str | None] = mapped_column(String(16))
    payload: Mapped[str] = mapped_column(Text, default="{}")


class UserRow(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    hall_id: Mapped[int | None] = mapped_column(ForeignKey("halls.id"))
    display_name: Mapped[str] = mapped_column(String(100), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    # Tokens and page sessions carry the version they were issued under; a password reset, a
    # disable or a sign-out bumps it, and every earlier credential stops working at once.
    credential_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The department this account heads (issue 19): its yellow cards reach them.
    heads_department: Mapped[str | None] = mapped_column(String(60))


class AuditRow(Base):
    """Who did what, when, to what: every staff action (append-only)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_ts", "ts"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    ts: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(100), default="")
    detail: Mapped[str] = mapped_column(Text, default="{}")
    remote_addr: Mapped[str] = mapped_column(String(64), default="")


class HallSettingsRow(Base):
    """Per-hall settings beyond the configuration proper (appointments, follow-up); JSON."""

    __tablename__ = "hall_settings"

    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id"), primary_key=True)
    appointments: Mapped[dict[str, Any]]


class AppointmentRow(Base):
    """A booked slot; the person only as keyed hashes and masked forms.

    ``person_key`` is the ID hash while the booking holds its place and NULL once cancelled,
    so the unique constraint means "one booking per person, service and day" and a cancelled
    booking never blocks booking again.
    """

    __tablename__ = "appointments"
    __table_args__ = (
        UniqueConstraint("hall_id", "service", "business_date", "person_key", name="uq_booking"),
        Index("ix_appointments_slot", "hall_id", "status", "slot_start"),
        Index("ix_appointments_person", "id_hash", "status"),
        Index("ix_appointments_phone", "hall_id", "phone_hash", "business_date"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id"))
    service: Mapped[str] = mapped_column(String(32))
    business_date: Mapped[date] = mapped_column(Date)
    slot_start: Mapped[datetime]
    slot_end: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16))
    name_masked: Mapped[str] = mapped_column(String(16))
    phone_hash: Mapped[str] = mapped_column(String(64))
    phone_masked: Mapped[str] = mapped_column(String(16))
    id_hash: Mapped[str] = mapped_column(String(64))
    id_masked: Mapped[str] = mapped_column(String(18))
    person_key: Mapped[str | None] = mapped_column(String(64))
    booked_at: Mapped[datetime]
    cancelled_at: Mapped[datetime | None]
    checked_in_at: Mapped[datetime | None]
    no_show_at: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None]
    verified_at: Mapped[datetime | None]  # checked in, or confirmed at a kiosk with the ID
    verified_via: Mapped[str | None] = mapped_column(String(16))  # check_in, kiosk, …
    ticket_id: Mapped[str | None] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer, default=1)


class SlotCounterRow(Base):
    """Bookings held per slot: raised only by ``booked = booked + 1 WHERE booked < capacity``."""

    __tablename__ = "slot_counters"

    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id"), primary_key=True)
    service: Mapped[str] = mapped_column(String(32), primary_key=True)
    slot_start: Mapped[datetime] = mapped_column(primary_key=True)
    booked: Mapped[int] = mapped_column(Integer, default=0)


class EvaluationRow(Base):
    """One 好差评 rating per service of a finished visit (一次一评: segment 0 of a ticket of
    one service), with its indicators, bad-review reasons and one follow-up (追评)."""

    __tablename__ = "evaluations"
    __table_args__ = (
        Index("ix_evaluations_hall_ts", "hall_id", "created_at"),
        Index("ux_evaluations_ticket_segment", "ticket_id", "segment", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"))
    segment: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id"))
    service: Mapped[str] = mapped_column(String(32))
    window: Mapped[str | None] = mapped_column(String(16))
    clerk: Mapped[str | None] = mapped_column(String(64))
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    excluded: Mapped[bool] = mapped_column(Boolean, default=False)
    indicators: Mapped[dict[str, Any] | None] = mapped_column(
        JSON
    )  # {"attitude": 4, …}: the hall's indicators
    reasons: Mapped[list[str] | None] = mapped_column(JSON)  # ticked for a bad review
    follow_up_comment: Mapped[str | None] = mapped_column(Text)  # 追评
    follow_up_at: Mapped[datetime | None]


class FollowUpCaseRow(Base):
    """The follow-up of a bad review: open → called back → rectified → closed (or excluded)."""

    __tablename__ = "follow_up_cases"
    __table_args__ = (Index("ix_cases_hall_status", "hall_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id"))
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluations.id"), unique=True)
    status: Mapped[str] = mapped_column(String(16))
    supervisor: Mapped[str | None] = mapped_column(String(64))
    opened_at: Mapped[datetime]
    deadline: Mapped[date] = mapped_column(Date)
    updated_at: Mapped[datetime]
    note: Mapped[str] = mapped_column(Text, default="")
    rerating: Mapped[int | None] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer, default=1)
    callback_deadline: Mapped[date | None] = mapped_column(Date)  # 回访 (None: cases of old)
    called_back_at: Mapped[datetime | None]
    resolution: Mapped[str | None] = mapped_column(String(16))  # rectified / explained
    resolved_at: Mapped[datetime | None]
    rectification_rating: Mapped[str | None] = mapped_column(String(16))  # the citizen's
    rectification_rated_at: Mapped[datetime | None]


class EvaluationRulesRow(Base):
    """A hall's 好差评 rules (domain.evaluation_rules.EvaluationRules as a JSON document)."""

    __tablename__ = "evaluation_rules"

    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id"), primary_key=True)
    rules: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(64), default="")


class AppealRow(Base):
    """申诉复核 of a bad review: filed, evidence added, decided by a second person."""

    __tablename__ = "evaluation_appeals"
    __table_args__ = (Index("ix_appeals_case", "case_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("follow_up_cases.id"))
    status: Mapped[str] = mapped_column(String(16))
    filed_by: Mapped[str] = mapped_column(String(64))
    filed_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(Text)
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1)


class RatingInvitationRow(Base):
    """A rating invitation sent to a citizen (the SMS/push link, or the clerk's "rate later")."""

    __tablename__ = "rating_invitations"
    __table_args__ = (Index("ix_invitations_key_hash", "key_hash"),)

    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), primary_key=True)
    segment: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(64))
    # the link's key rates until then (the hall's ``invitation_days``; None: invited of old)
    expires_at: Mapped[datetime | None]
    # the clerk's "rate later" (the citizen left): only then is the visit off the evaluator
    left_at: Mapped[datetime | None]
    # SHA-256 (hex) of the link's key: the short link /r/<key> finds its ticket by it
    key_hash: Mapped[str | None] = mapped_column(String(64))


class EfficiencyCardRow(Base):
    """A yellow (预警) or red (问责) card of 效能监察; a red one keeps its 督办通知书 PDF."""

    __tablename__ = "efficiency_cards"
    __table_args__ = (
        UniqueConstraint("case_id", "colour", "reason", name="uq_cards_case_colour_reason"),
        Index("ix_cards_hall_month", "hall_id", "month"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("follow_up_cases.id"))
    colour: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(String(32))
    window: Mapped[str | None] = mapped_column(String(16))
    department: Mapped[str] = mapped_column(String(64))
    deadline: Mapped[date] = mapped_column(Date)
    issued_at: Mapped[datetime]
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM in the hall's time zone
    notice_number: Mapped[str | None] = mapped_column(String(32))
    notice_pdf: Mapped[bytes | None] = mapped_column(LargeBinary)


class BlackFlagRow(Base):
    """A window's black flag (黑旗) of a month, as the monthly ranking gave it."""

    __tablename__ = "black_flags"

    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id"), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    window: Mapped[str] = mapped_column(String(16), primary_key=True)
    department: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime]


class InterviewRow(Base):
    """约谈: a department called in after black flags in two months in a row."""

    __tablename__ = "interview_records"
    __table_args__ = (
        UniqueConstraint("hall_id", "department", "month", name="uq_interviews_dept_month"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id"))
    department: Mapped[str] = mapped_column(String(64))
    month: Mapped[str] = mapped_column(String(7))
    windows: Mapped[list[str]] = mapped_column(JSON)  # the black-flagged windows of both months
    created_at: Mapped[datetime]
    note: Mapped[str] = mapped_column(Text, default="")


class AlertRow(Base):
    """A supervision alert: raised, maybe escalated, acknowledged, cleared (never deleted)."""

    __tablename__ = "alerts"
    __table_args__ = (
        Index("ix_alerts_hall_open", "hall_id", "cleared_at"),
        Index("ix_alerts_hall_raised", "hall_id", "raised_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id"))
    key: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(64))
    window: Mapped[str | None] = mapped_column(String(16))
    service: Mapped[str | None] = mapped_column(String(32))
    data: Mapped[dict[str, Any]]
    raised_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    cleared_at: Mapped[datetime | None]
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text, default="")


class AlertSettingsRow(Base):
    """A hall's alert thresholds, per-service overrides and flag formula (JSON documents)."""

    __tablename__ = "alert_settings"

    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id"), primary_key=True)
    settings: Mapped[dict[str, Any]]
    flags: Mapped[dict[str, Any]]  # the red/black flag formula (analytics.flags.FlagConfig)
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(64), default="")


class TicketVisitRow(Base):
    """A ticket's matters (services in order, each with status and outcome) and its citizen.

    Only the keyed hash, the masked ID number, the age band and the masked name are kept.
    """

    __tablename__ = "ticket_visits"
    __table_args__ = (
        Index("ix_ticket_visits_citizen", "hall_id", "business_date", "citizen_hash"),
    )

    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), primary_key=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id"))
    business_date: Mapped[date] = mapped_column(Date)
    segments: Mapped[list[Any]] = mapped_column(JSON)
    segment_index: Mapped[int] = mapped_column(Integer, default=0)
    citizen_hash: Mapped[str | None] = mapped_column(String(64))
    proxy_hash: Mapped[str | None] = mapped_column(String(64))
    masked_id: Mapped[str | None] = mapped_column(String(18))
    masked_name: Mapped[str | None] = mapped_column(String(8))
    age_band: Mapped[str | None] = mapped_column(String(8))


class OutboxRow(Base):
    """A notice or webhook call waiting to be handed to its channel (issue 17).

    Written in the same transaction as the change that causes it; ``key`` is the idempotency
    key the channel passes to the provider. A personal address (phone, openid, push
    subscription) is kept only as AES-GCM ciphertext with the id of its key.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("key", name="uq_outbox_key"),
        Index("ix_outbox_due", "status", "due_at"),
        Index("ix_outbox_phone", "phone_hash", "sent_at"),
        Index("ix_outbox_hall", "hall", "channel", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    hall: Mapped[str] = mapped_column(String(16), default="")
    channel: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(48))
    key: Mapped[str] = mapped_column(String(160))
    to_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)
    to_plain: Mapped[str | None] = mapped_column(Text)  # webhook URLs only, never personal
    key_id: Mapped[str | None] = mapped_column(String(32))
    phone_hash: Mapped[str | None] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text, default="")
    params: Mapped[dict[str, Any]]
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime]
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claim_token: Mapped[str | None] = mapped_column(String(32))
    lease_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime]  # the cause's time: latency runs from here to sent_at
    first_tried_at: Mapped[datetime | None]  # the maximum age runs from the first attempt
    sent_at: Mapped[datetime | None]
    purge_after: Mapped[datetime | None]  # the ciphertext goes then; the hash stays


class ContactRow(Base):
    """How to reach the citizen of an appointment or a remote ticket, encrypted (issue 17).

    ``subject`` is "appointment" (``ref`` its code) or "ticket" (``ref`` its id); ``channel``
    says what the address is ("sms": a phone, "wechat": an openid, "webpush": a subscription).
    The ciphertext is purged ``purge_after`` (N days after the visit); the hash stays.
    """

    __tablename__ = "contacts"
    __table_args__ = (
        UniqueConstraint("subject", "ref", "channel", name="uq_contact"),
        Index("ix_contacts_purge", "purge_after"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    hall: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(16))
    ref: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16))
    ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary)
    key_id: Mapped[str | None] = mapped_column(String(32))
    phone_hash: Mapped[str | None] = mapped_column(String(64))
    lang: Mapped[str] = mapped_column(String(8), default="zh")
    created_at: Mapped[datetime]
    purge_after: Mapped[datetime | None]  # None: a staff address, kept until changed


class ApiClientRow(Base):
    """A registered integration (issue 20): its secret only as a hash, its scopes and halls.

    ``credential_version`` is carried by every access token issued to it; a rotation or a
    revocation bumps it, so earlier tokens stop working at once.
    """

    __tablename__ = "api_clients"
    __table_args__ = (UniqueConstraint("client_id", name="uq_api_client_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    client_id: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(100))
    secret_hash: Mapped[str] = mapped_column(String(128))
    scopes: Mapped[list[Any]] = mapped_column(JSON)
    halls: Mapped[list[Any]] = mapped_column(JSON)  # empty: every hall
    quotas: Mapped[dict[str, Any]]  # scope -> a rate limit ("600 per minute")
    credential_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime]
    rotated_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class WebhookSubscriptionRow(Base):
    """Where a client wants events (issue 20); the signing secret is kept AES-GCM sealed."""

    __tablename__ = "webhook_subscriptions"
    __table_args__ = (Index("ix_webhook_subscriptions_client", "client_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    client_id: Mapped[str] = mapped_column(String(40))
    url: Mapped[str] = mapped_column(String(500))
    secret_ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    key_id: Mapped[str] = mapped_column(String(32))
    events: Mapped[list[Any]] = mapped_column(JSON)
    halls: Mapped[list[Any]] = mapped_column(JSON)  # empty: every hall the client may see
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)  # failed attempts in a row
    disabled_at: Mapped[datetime | None]
    disabled_reason: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime]


class CaseNumberRow(Base):
    """The 办件编号 of one matter (service segment) of a ticket (issue 20)."""

    __tablename__ = "case_numbers"

    ticket_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    segment: Mapped[int] = mapped_column(Integer, primary_key=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id"))
    case_number: Mapped[str] = mapped_column(String(64))
    set_by: Mapped[str] = mapped_column(String(64))
    set_at: Mapped[datetime]


class ServiceCatalogueRow(Base):
    """A service's entry of the national catalogue (issue 20): 实施编码 and department."""

    __tablename__ = "service_catalogue"

    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"), primary_key=True)
    catalogue_code: Mapped[str] = mapped_column(String(64))
    department: Mapped[str] = mapped_column(String(100))


class PlannerPlanRow(Base):
    """A plan the planner computed (forecast, requirement, roster: the API's answer, issue
    21), kept so that it can be set against what happened once its days are over."""

    __tablename__ = "planner_plans"
    __table_args__ = (Index("ix_planner_plans_hall", "hall_id", "first_day"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    hall_id: Mapped[int] = mapped_column(ForeignKey("halls.id"))
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    interval_minutes: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(16))  # hall: its own history; demo
    created_by: Mapped[str] = mapped_column(String(64))  # the staff username
    created_at: Mapped[datetime]
    plan: Mapped[dict[str, Any]]
