"""Reading and writing halls, windows, tickets and events with SQLAlchemy Core statements.

Every write that depends on what was read is guarded: tickets carry a version number and are
updated only if nobody changed them in between; numbers come from an atomic counter upsert.
"""

from __future__ import annotations

import functools
import importlib
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Row,
    Table,
    and_,
    any_,
    bindparam,
    case,
    func,
    insert,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from queue_engine.adapters.orm import (
    EventRow,
    HallRow,
    ServiceRow,
    TicketCounterRow,
    TicketRow,
    UTCDateTime,
    WindowRow,
    WindowSkillRow,
)
from queue_engine.adapters.prepared import Prepared
from queue_engine.domain.errors import Conflict, NotFound
from queue_engine.domain.events import DomainEvent, StoredEvent, dump_payload
from queue_engine.domain.hours import OpeningHours
from queue_engine.domain.kpi import TicketTimes
from queue_engine.domain.model import (
    Channel,
    HallConfig,
    NoShowRule,
    PauseCategory,
    Priority,
    Service,
    Ticket,
    TicketStatus,
    WaitEstimate,
    WindowConfig,
    WindowState,
    WindowStatus,
)
from queue_engine.domain.policy import Candidate, DispatchRules, QueueKey

# Hot paths use Core statements built once, with bound parameters: no per-call construction.
T: Table = TicketRow.__table__  # type: ignore[assignment]
W: Table = WindowRow.__table__  # type: ignore[assignment]
H: Table = HallRow.__table__  # type: ignore[assignment]
E: Table = EventRow.__table__  # type: ignore[assignment]


def new_id() -> str:
    return uuid.uuid4().hex


# ---- halls -------------------------------------------------------------------------------


_HALL_BY_CODE = Prepared(select(H.c.id, H.c.config_version).where(H.c.code == bindparam("code")))
_HALL_BY_ID = Prepared(select(H.c.code, H.c.config_version).where(H.c.id == bindparam("id")))


def plausible_code(code: str) -> bool:
    """Hall and service codes are short printable ASCII: anything else cannot exist."""
    return 0 < len(code) <= 32 and code.isascii() and code.isprintable()


def hall_codes(conn: Connection) -> list[str]:
    return list(conn.execute(select(H.c.code).order_by(H.c.code)).scalars())


def hall_version(conn: Connection, code: str) -> tuple[int, int]:
    if not plausible_code(code):
        raise NotFound(f"no hall {code!r}")
    row = _HALL_BY_CODE.first(conn, {"code": code})
    if row is None:
        raise NotFound(f"no hall {code!r}")
    return row[0], row[1]


def hall_version_by_id(conn: Connection, hall_id: int) -> tuple[str, int]:
    row = _HALL_BY_ID.first(conn, {"id": hall_id})
    if row is None:
        raise NotFound(f"no hall with id {hall_id}")
    return row[0], row[1]


def load_hall_config(conn: Connection, hall_id: int) -> HallConfig:
    session = Session(bind=conn)
    hall = session.get(HallRow, hall_id)
    if hall is None:
        raise NotFound(f"no hall with id {hall_id}")
    service_rows = session.scalars(
        select(ServiceRow).where(ServiceRow.hall_id == hall_id).order_by(ServiceRow.sort_order)
    ).all()
    codes = {s.id: s.code for s in service_rows}
    skills: dict[int, dict[str, bool]] = {}
    for window_id, service_id, primary in session.execute(
        select(WindowSkillRow.window_id, WindowSkillRow.service_id, WindowSkillRow.is_primary)
        .join(WindowRow, WindowRow.id == WindowSkillRow.window_id)
        .where(WindowRow.hall_id == hall_id)
    ):
        skills.setdefault(window_id, {})[codes[service_id]] = primary
    window_rows = session.scalars(
        select(WindowRow).where(WindowRow.hall_id == hall_id).order_by(WindowRow.number)
    ).all()
    return HallConfig(
        code=hall.code,
        name_zh=hall.name_zh,
        name_en=hall.name_en,
        timezone=hall.timezone,
        hours=OpeningHours.from_mapping(hall.hours),
        services=tuple(
            Service(
                s.code,
                s.prefix,
                s.name_zh,
                s.name_en,
                s.zone,
                s.standard_minutes,
                s.active,
                s.daily_cap,
            )
            for s in service_rows
        ),
        windows=tuple(
            WindowConfig(w.id, w.number, w.name, w.zone, skills.get(w.id, {}))
            for w in window_rows
            if w.active
        ),
        dispatch=DispatchRules.from_mapping(hall.dispatch),
        no_show=NoShowRule.from_mapping(hall.no_show),
        version=hall.config_version,
        notice=hall.notice,
        clerk_many_windows=hall.clerk_many_windows,
        silent_zones=frozenset(hall.silent_zones or ()),
        identity=hall.identity or None,
    )


# ---- windows -----------------------------------------------------------------------------

_WINDOW_WITH_VERSION = (
    select(W, H.c.config_version).join(H, H.c.id == W.c.hall_id).where(W.c.id == bindparam("id"))
)
_WINDOW_LOCKED = Prepared(_WINDOW_WITH_VERSION.with_for_update(of=W))
_WINDOW_UNLOCKED = Prepared(_WINDOW_WITH_VERSION)
_WINDOW_STATES = select(W.c.id, W.c.state, W.c.current_ticket_id).where(
    W.c.hall_id == bindparam("hall"), W.c.active.is_(True)
)
_SAVE_WINDOW = Prepared(
    update(W)
    .where(W.c.id == bindparam("w_id"))
    .values(
        state=bindparam("v_state"),
        clerk=bindparam("v_clerk"),
        current_ticket_id=bindparam("v_current"),
        paused_reason=bindparam("v_reason"),
        pause_category=bindparam("v_category"),
        state_since=bindparam("v_since", type_=UTCDateTime()),
        cycle_position=bindparam("v_cycle"),
    )
)


@dataclass(frozen=True)
class WindowRecord:
    """A window row together with its hall id and the hall's configuration version."""

    hall_id: int
    config_version: int
    row: Any  # a window row with its columns as attributes

    def status(self, config: HallConfig) -> WindowStatus:
        r = self.row
        return WindowStatus(
            hall=config.code,
            config=config.window(r.id),
            state=WindowState(r.state),
            clerk=r.clerk,
            current_ticket=r.current_ticket_id,
            paused_reason=r.paused_reason,
            since=r.state_since,
            cycle_position=r.cycle_position,
            pause_category=_pause_category(r.pause_category, r.paused_reason),
        )


def _pause_category(stored: str | None, reason: str | None) -> PauseCategory | None:
    """The stored category; for a pause from before categories, the one its reason names."""
    if stored:
        return PauseCategory(stored)
    return PauseCategory.of_reason(reason) if reason else None


MAX_ID = 2**31 - 1


def load_window(conn: Connection, window_id: int, *, lock: bool = True) -> WindowRecord:
    """A window's row, holding its row lock (PostgreSQL) until the commit when ``lock``."""
    if not 1 <= window_id <= MAX_ID:
        raise NotFound(f"no window {window_id}")
    stmt = _WINDOW_LOCKED if lock else _WINDOW_UNLOCKED
    row = stmt.first(conn, {"id": window_id})
    if row is None or not row.active:
        raise NotFound(f"no window {window_id}")
    return WindowRecord(row.hall_id, row.config_version, row)


def save_window(conn: Connection, window: WindowStatus) -> None:
    _SAVE_WINDOW.rowcount(
        conn,
        {
            "w_id": window.config.id,
            "v_state": str(window.state),
            "v_clerk": window.clerk,
            "v_current": window.current_ticket,
            "v_reason": window.paused_reason,
            "v_category": str(window.pause_category) if window.pause_category else None,
            "v_since": window.since,
            "v_cycle": window.cycle_position,
        },
    )


_CLAIM_WINDOW = Prepared(
    update(W).where(W.c.id == bindparam("w_id")).values(sole_clerk=bindparam("v_sole"))
)
_WINDOWS_OF_CLERK = Prepared(
    select(W.c.number, H.c.code)
    .join(H, H.c.id == W.c.hall_id)
    .where(W.c.clerk == bindparam("clerk"), W.c.state != "closed", W.c.id != bindparam("w_id"))
    .order_by(W.c.id)
)


def claim_window(conn: Connection, window_id: int, sole_clerk: str | None) -> None:
    """Mark an opened window as ``sole_clerk``'s one open window (``None``: not exclusive).

    A unique index over the open windows' ``sole_clerk`` refuses a second one for the same
    clerk (``IntegrityError``), also when two transactions open windows at the same time.
    """
    _CLAIM_WINDOW.rowcount(conn, {"w_id": window_id, "v_sole": sole_clerk})


def other_open_windows(conn: Connection, clerk: str, window_id: int) -> list[tuple[int, str]]:
    """(number, hall code) of the windows other than ``window_id`` that ``clerk`` has open."""
    return [(r[0], r[1]) for r in _WINDOWS_OF_CLERK.rows(conn, {"clerk": clerk, "w_id": window_id})]


def window_states(conn: Connection, hall_id: int) -> list[tuple[int, str, str | None]]:
    """(window id, state, current ticket id) of every active window of a hall."""
    rows = conn.execute(_WINDOW_STATES, {"hall": hall_id})
    return [(r[0], r[1], r[2]) for r in rows]


# ---- tickets -----------------------------------------------------------------------------

_MUTABLE_TICKET_COLUMNS = (
    "service",
    "status",
    "queued_at",
    "called_at",
    "first_called_at",
    "started_at",
    "finished_at",
    "window_id",
    "clerk",
    "target_window_id",
    "recalls",
    "requeues",
    "transfers",
)
_TICKET_BY_ID = Prepared(select(T).where(T.c.id == bindparam("id")))
_TICKET_BY_KEY = Prepared(
    select(T).where(T.c.hall_id == bindparam("hall"), T.c.idempotency_key == bindparam("key"))
)
_WAITING = (
    T.c.hall_id == bindparam("hall"),
    T.c.status == TicketStatus.WAITING.value,
    T.c.business_date == bindparam("day"),
)
_CANDIDATE_COLUMNS = (
    T.c.id,
    T.c.service,
    T.c.queued_at,
    T.c.seq,
    T.c.priority,
    T.c.slot_start,
    T.c.target_window_id,
)
_WAITING_ALL = Prepared(select(*_CANDIDATE_COLUMNS).where(*_WAITING))
_WAITING_FOR_SERVICES = select(*_CANDIDATE_COLUMNS).where(
    *_WAITING, T.c.service.in_(bindparam("services", expanding=True))
)


@functools.cache
def _waiting_for_window(skills: int) -> Prepared:
    """Today's waiting tickets a window may call, for a window with ``skills`` services."""
    services = [bindparam(f"s{i}", type_=T.c.service.type) for i in range(skills)]
    return Prepared(
        select(T).where(
            *_WAITING,
            or_(T.c.service.in_(services), T.c.target_window_id == bindparam("window")),
        )
    )


_SAVE_TICKET = Prepared(
    update(T)
    .where(T.c.id == bindparam("t_id"), T.c.version == bindparam("t_version"))
    .values(
        version=bindparam("v_version"),
        **{name: bindparam(f"v_{name}", type_=T.c[name].type) for name in _MUTABLE_TICKET_COLUMNS},
    )
)


@functools.cache
def _counter_upsert(dialect_name: str) -> Prepared:
    """Built once per database kind, when first needed (its dialect is imported by then)."""
    dialect: Any = importlib.import_module(f"sqlalchemy.dialects.{dialect_name}")
    return Prepared(
        dialect.insert(TicketCounterRow.__table__)
        .values(
            hall_id=bindparam("hall"),
            prefix=bindparam("prefix"),
            business_date=bindparam("day"),
            last_seq=1,
        )
        .on_conflict_do_update(
            index_elements=["hall_id", "prefix", "business_date"],
            set_={"last_seq": TicketCounterRow.__table__.c.last_seq + 1},
        )
        .returning(TicketCounterRow.__table__.c.last_seq)
    )


def next_seq(conn: Connection, hall_id: int, prefix: str, day: date) -> int:
    """Atomically take the next number for (hall, prefix, day): one upsert, row-locked."""
    stmt = _counter_upsert(conn.dialect.name)
    row = stmt.first(conn, {"hall": hall_id, "prefix": prefix, "day": day})
    assert row is not None  # an upsert with RETURNING always returns its row
    return int(row[0])


def ticket_by_idempotency_key(conn: Connection, hall_id: int, key: str) -> Any | None:
    return _TICKET_BY_KEY.first(conn, {"hall": hall_id, "key": key})


def insert_ticket(conn: Connection, hall_id: int, ticket: Ticket, key: str | None) -> None:
    values = ticket_values(ticket)
    values.update(
        id=ticket.id,
        hall_id=hall_id,
        prefix=ticket.prefix,
        seq=ticket.seq,
        business_date=ticket.business_date,
        channel=str(ticket.channel),
        priority=str(ticket.priority),
        issued_at=ticket.issued_at,
        slot_start=ticket.slot_start,
        est_median=ticket.estimate.median_minutes if ticket.estimate else None,
        est_p90=ticket.estimate.p90_minutes if ticket.estimate else None,
        idempotency_key=key,
        version=1,
    )
    _INSERT_TICKET.rowcount(conn, values)


def ticket_values(ticket: Ticket) -> dict[str, Any]:
    """The columns a transition may change."""
    return {
        "service": ticket.service,
        "status": str(ticket.status),
        "queued_at": ticket.queued_at,
        "called_at": ticket.called_at,
        "first_called_at": ticket.first_called_at,
        "started_at": ticket.started_at,
        "finished_at": ticket.finished_at,
        "window_id": ticket.window_id,
        "clerk": ticket.clerk,
        "target_window_id": ticket.target_window,
        "recalls": ticket.recalls,
        "requeues": ticket.requeues,
        "transfers": ticket.transfers,
    }


_LOCK_WAITING = Prepared(
    select(T.c.version)
    .where(T.c.id == bindparam("id"), T.c.status == TicketStatus.WAITING.value)
    .with_for_update(skip_locked=True)
)


def lock_waiting_ticket(conn: Connection, ticket_id: str) -> int | None:
    """Lock a waiting ticket without waiting: its version, or None when another transaction
    holds it (it is being claimed) or it is no longer waiting.

    SQLite has no row locks; there every write transaction already holds the database lock.
    """
    if conn.dialect.name == "sqlite":
        return -1
    row = _LOCK_WAITING.first(conn, {"id": ticket_id})
    return None if row is None else int(row[0])


_PICKS = bindparam("ids", type_=ARRAY(T.c.id.type))
_LOCK_FIRST_WAITING = Prepared(
    select(T.c.id, T.c.version)
    .where(T.c.id == any_(_PICKS), T.c.status == TicketStatus.WAITING.value)
    .order_by(func.array_position(_PICKS, T.c.id))
    .limit(1)
    .with_for_update(skip_locked=True)
)


def lock_first_waiting(conn: Connection, ticket_ids: Sequence[str]) -> tuple[str, int] | None:
    """Lock the first of ``ticket_ids`` (in that order) that is still waiting and that no
    other transaction holds: its id and version; None when every one is taken or gone.

    One statement however many of them other windows are claiming at this moment, where a
    claim per ticket would cost a round trip per ticket lost (PostgreSQL only: SQLite has no
    row locks, its write transactions are serialised).
    """
    row = _LOCK_FIRST_WAITING.first(conn, {"ids": list(ticket_ids)})
    return None if row is None else (str(row[0]), int(row[1]))


_CLAIMABLE = T.alias("claimable")
_CLAIM_TICKET = Prepared(
    update(T)
    .where(
        T.c.id == bindparam("t_id"),
        T.c.version == bindparam("t_version"),
        T.c.id.in_(
            select(_CLAIMABLE.c.id)
            .where(
                _CLAIMABLE.c.id == bindparam("t_id"),
                _CLAIMABLE.c.status == TicketStatus.WAITING.value,
            )
            .with_for_update(skip_locked=True)
        ),
    )
    .values(
        version=bindparam("v_version"),
        **{name: bindparam(f"v_{name}", type_=T.c[name].type) for name in _MUTABLE_TICKET_COLUMNS},
    )
)


def claim_ticket(conn: Connection, ticket: Ticket, version: int) -> bool:
    """Write a waiting ticket's call if it is still waiting at ``version`` and nobody else is
    claiming it: ``lock_waiting_ticket`` and ``save_ticket`` in one statement (one round trip).

    False: somebody was faster or is claiming it now (``lock_waiting_ticket`` tells which).
    SQLite has no row locks (its write transactions are serialised): the version check alone.
    """
    if conn.dialect.name == "sqlite":
        return save_ticket(conn, ticket, version)
    params = {f"v_{k}": v for k, v in ticket_values(ticket).items()}
    params.update(t_id=ticket.id, t_version=version, v_version=version + 1)
    return _CLAIM_TICKET.rowcount(conn, params) == 1


def save_ticket(conn: Connection, ticket: Ticket, version: int) -> bool:
    """Write a transition if the row is still at ``version``; False when somebody was faster."""
    params = {f"v_{k}": v for k, v in ticket_values(ticket).items()}
    params.update(t_id=ticket.id, t_version=version, v_version=version + 1)
    return _SAVE_TICKET.rowcount(conn, params) == 1


def save_ticket_or_conflict(conn: Connection, ticket: Ticket, version: int) -> None:
    if not save_ticket(conn, ticket, version):
        raise Conflict(f"ticket {ticket.number} was changed by somebody else; reload it")


def get_ticket_row(conn: Connection, ticket_id: str) -> Any:
    row = _TICKET_BY_ID.first(conn, {"id": ticket_id}) if _plausible_id(ticket_id) else None
    if row is None:
        raise NotFound("no such ticket")
    return row


def _plausible_id(ticket_id: str) -> bool:
    return 0 < len(ticket_id) <= 32 and ticket_id.isalnum()


def ticket_from_row(row: Any, config: HallConfig) -> Ticket:
    window_label = None
    if row.window_id is not None:
        try:
            window_label = config.window(row.window_id).label
        except NotFound:
            window_label = None
    estimate = (
        WaitEstimate(row.est_median, row.est_p90)
        if row.est_median is not None and row.est_p90 is not None
        else None
    )
    return Ticket(
        id=row.id,
        hall=config.code,
        service=row.service,
        prefix=row.prefix,
        seq=row.seq,
        business_date=row.business_date,
        channel=Channel(row.channel),
        priority=Priority(row.priority),
        issued_at=row.issued_at,
        queued_at=row.queued_at,
        status=TicketStatus(row.status),
        estimate=estimate,
        slot_start=row.slot_start,
        called_at=row.called_at,
        first_called_at=row.first_called_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        window_id=row.window_id,
        window_label=window_label,
        clerk=row.clerk,
        target_window=row.target_window_id,
        recalls=row.recalls,
        requeues=row.requeues,
        transfers=row.transfers,
    )


def candidate_from_row(r: Any) -> Candidate:
    return Candidate(
        ticket_id=r.id,
        service=r.service,
        queued_at=r.queued_at,
        seq=r.seq,
        priority=r.priority != Priority.NONE.value,
        slot_start=r.slot_start,
        target_window=r.target_window_id,
    )


def waiting_candidates(
    conn: Connection, hall_id: int, day: date, services: Iterable[str] | None = None
) -> list[Candidate]:
    """Today's waiting tickets of a hall as policy candidates (optionally for some services)."""
    params: dict[str, Any] = {"hall": hall_id, "day": day}
    if services is None:
        return [candidate_from_row(r) for r in _WAITING_ALL.rows(conn, params)]
    params["services"] = list(services)
    return [candidate_from_row(r) for r in conn.execute(_WAITING_FOR_SERVICES, params)]


def waiting_for_window(
    conn: Connection, hall_id: int, day: date, window: WindowConfig
) -> dict[str, Any]:
    """Full rows of today's waiting tickets a window may call, by ticket id."""
    params: dict[str, Any] = {"hall": hall_id, "day": day, "window": window.id}
    params.update((f"s{i}", service) for i, service in enumerate(window.skills))
    return {r.id: r for r in _waiting_for_window(len(window.skills)).rows(conn, params)}


PRIORITY_REASONS = tuple(p.value for p in Priority)
_LINES_PER_STATEMENT = 60  # services per statement: SQLite allows 500 parts in a UNION


def _ordered_head(part: Any, *order: Any) -> Any:
    """One line's first ``k`` rows (a subquery, so that it may sit in a UNION)."""
    head = part.order_by(*order).limit(bindparam("k")).subquery()
    return select(*head.c)


@functools.cache
def _line_heads(services: int, window: bool) -> Prepared:
    """The heads of ``services`` services' lines (and, for a window, its transfers)."""
    untargeted = (T.c.target_window_id.is_(None),) if window else ()
    now = bindparam("now", type_=UTCDateTime())
    parts = []
    for i in range(services):
        waiting = (*_WAITING, T.c.service == bindparam(f"s{i}", type_=T.c.service.type))
        for reason in PRIORITY_REASONS:
            line = select(T).where(*waiting, T.c.priority == reason, *untargeted)
            parts.append(_ordered_head(line, T.c.queued_at, T.c.seq, T.c.id))
        begun = select(T).where(*waiting, T.c.slot_start <= now, *untargeted)
        parts.append(_ordered_head(begun, T.c.slot_start, T.c.queued_at, T.c.seq, T.c.id))
    if window:
        parts.append(select(T).where(*_WAITING, T.c.target_window_id == bindparam("window")))
    return Prepared(union_all(*parts))


def line_heads(
    conn: Connection,
    hall_id: int,
    day: date,
    services: Sequence[str],
    now: datetime,
    per_line: int = 1,
    window: int | None = None,
) -> dict[str, Any]:
    """Full rows of the heads of today's lines, by ticket id: ``policy.line_heads`` in SQL.

    Per service and priority reason its first ``per_line`` tickets in queued order, per
    service its first ``per_line`` begun appointments, and with ``window`` (a window id) the
    tickets transferred to that window, the lines then without transfers. Each line is an
    index seek (``ix_tickets_line``, ``ix_tickets_slot``, ``ix_tickets_target``): the cost
    does not grow with the queue. Lines split by reason are a finer split than the policy's
    classes, so this is a superset of ``policy.line_heads`` within the queue: the same calls.
    """
    rows: dict[str, Any] = {}
    for first in range(0, max(len(services), 1), _LINES_PER_STATEMENT):
        chunk = services[first : first + _LINES_PER_STATEMENT]
        params: dict[str, Any] = {"hall": hall_id, "day": day, "now": now, "k": per_line}
        params.update((f"s{i}", service) for i, service in enumerate(chunk))
        targeted = window is not None and first == 0
        if targeted:
            params["window"] = window
        if not chunk and not targeted:
            continue
        for r in _line_heads(len(chunk), targeted).rows(conn, params):
            rows[r.id] = r
    return rows


@dataclass(frozen=True)
class LineCount:
    """One service's line today: tickets waiting and the one queued first."""

    waiting: int
    first_queued: datetime


def _at(name: str) -> Any:
    return bindparam(name, type_=UTCDateTime())


def _key_compare(first: Any, greater: bool) -> Any:
    """``(first, queued, seq, id)`` of a row against the key's: > (``greater``) or <."""

    def cmp(column: Any, value: Any) -> Any:
        return column > value if greater else column < value

    return or_(
        cmp(first, _at("first")),
        and_(
            first == _at("first"),
            or_(
                cmp(T.c.queued_at, _at("queued")),
                and_(
                    T.c.queued_at == _at("queued"),
                    or_(
                        cmp(T.c.seq, bindparam("seq")),
                        and_(
                            T.c.seq == bindparam("seq"),
                            T.c.id >= bindparam("id") if greater else T.c.id < bindparam("id"),
                        ),
                    ),
                ),
            ),
        ),
    )


def _line_counts_statement() -> Prepared:
    """Per service: waiting, first queued; and how many regular tickets stand at or behind a
    regular key (a seek from the key's queued time along the regular line: few at issue)."""
    service = T.c.service == bindparam("service", type_=T.c.service.type)
    not_begun = or_(T.c.slot_start.is_(None), T.c.slot_start > _at("now"))
    behind = (
        select(func.count())
        .where(
            *_WAITING,
            service,
            T.c.priority == Priority.NONE.value,
            T.c.queued_at >= _at("queued"),
            not_begun,
            _key_compare(T.c.queued_at, greater=True),
        )
        .correlate(None)
        .scalar_subquery()
    )
    return Prepared(
        select(
            T.c.service,
            func.count().label("waiting"),
            func.min(T.c.queued_at).label("first_queued"),
            behind.label("behind"),
        )
        .where(*_WAITING)
        .group_by(T.c.service)
    )


def _ahead_statement() -> Prepared:
    """Tickets of a service ahead of any key in ``queue_order`` (one pass over its line)."""
    begun = T.c.slot_start <= _at("now")
    rank = case(
        (begun, 0),
        (T.c.queued_at <= _at("aged_before"), 1),
        (T.c.priority != Priority.NONE.value, 2),
        else_=3,
    )
    first = case((begun, T.c.slot_start), else_=T.c.queued_at)
    ahead = or_(
        rank < bindparam("rank"),
        and_(rank == bindparam("rank"), _key_compare(first, greater=False)),
    )
    return Prepared(
        select(func.count().label("ahead")).where(
            *_WAITING, T.c.service == bindparam("service", type_=T.c.service.type), ahead
        )
    )


_LINE_COUNTS = _line_counts_statement()
_AHEAD = _ahead_statement()
REGULAR_RANK = 3


def line_counts(
    conn: Connection,
    hall_id: int,
    day: date,
    service: str,
    key: QueueKey,
    now: datetime,
    aged_before: datetime | None,
) -> tuple[dict[str, LineCount], int]:
    """Today's lines of a hall (waiting, first queued, per service), and how many tickets of
    ``service`` stand ahead of ``key`` (``policy.queue_key``) in ``queue_order``.

    ``aged_before``: the queued time at or before which a ticket has waited past the aging
    guard (None: no aging guard). Nothing is read but counts. For a regular key (a walk-in
    ticket, or one being issued) the people ahead are the line's count less those at or
    behind the key, who stand at the end of the regular line (none, at issue): one statement.
    Other keys (priority, appointments, aged) count their service's line in a second one.
    """
    rank, first, queued, seq, ticket_id = key
    params: dict[str, Any] = {
        "hall": hall_id,
        "day": day,
        "now": now,
        "service": service,
        "first": first,
        "queued": queued,
        "seq": seq,
        "id": ticket_id,
    }
    lines: dict[str, LineCount] = {}
    behind = 0
    for r in _LINE_COUNTS.rows(conn, params):
        lines[r.service] = LineCount(int(r.waiting), r.first_queued)
        behind = int(r.behind)
    mine = lines.get(service)
    if mine is None:
        return lines, 0
    if rank == REGULAR_RANK:
        return lines, mine.waiting - behind
    params.update(aged_before=aged_before, rank=rank)
    row = _AHEAD.first(conn, params)
    return lines, int(row[0]) if row is not None else 0


def recent_handling_minutes(
    conn: Connection, hall_id: int, since: datetime, limit: int = 2000
) -> dict[str, list[float]]:
    """Handling times of recently finished tickets, per service, newest first."""
    rows = conn.execute(
        select(T.c.service, T.c.started_at, T.c.finished_at)
        .where(
            T.c.hall_id == hall_id,
            T.c.status == TicketStatus.DONE.value,
            T.c.finished_at >= since,
            T.c.started_at.is_not(None),
        )
        .order_by(T.c.finished_at.desc())
        .limit(limit)
    )
    samples: dict[str, list[float]] = {}
    for service, started, finished in rows:
        samples.setdefault(service, []).append((finished - started).total_seconds() / 60)
    return samples


def ticket_times(
    conn: Connection, hall_id: int, day: date, window_id: int | None = None
) -> list[TicketTimes]:
    """The KPI-relevant times of a business day's tickets (optionally of one window)."""
    stmt = select(
        T.c.status,
        T.c.issued_at,
        T.c.slot_start,
        T.c.first_called_at,
        T.c.started_at,
        T.c.finished_at,
    ).where(T.c.hall_id == hall_id, T.c.business_date == day)
    if window_id is not None:
        stmt = stmt.where(T.c.window_id == window_id)
    return [TicketTimes(*row) for row in conn.execute(stmt)]


def all_windows(conn: Connection, hall_id: int) -> list[Row[Any]]:
    return list(
        conn.execute(
            select(W).where(W.c.hall_id == hall_id, W.c.active.is_(True)).order_by(W.c.number)
        )
    )


def tickets_by_id(conn: Connection, ids: Iterable[str]) -> dict[str, Row[Any]]:
    wanted = [i for i in ids if i]
    if not wanted:
        return {}
    return {r.id: r for r in conn.execute(select(T).where(T.c.id.in_(wanted)))}


def recent_calls(conn: Connection, hall: str, since: datetime, limit: int) -> list[Row[Any]]:
    """The latest call and recall events of a hall, newest first."""
    return list(
        conn.execute(
            select(E.c.type, E.c.ts, E.c.ticket_number, E.c.service, E.c.window)
            .where(
                E.c.hall == hall,
                E.c.ts >= since,
                E.c.type.in_(["ticket.called", "ticket.recalled"]),
            )
            .order_by(E.c.id.desc())
            .limit(limit)
        )
    )


def events_between(
    conn: Connection, hall: str, start: datetime | None, end: datetime | None
) -> Iterator[Mapping[Any, Any]]:
    """A hall's logged events in the order they were written, optionally within [start, end)."""
    stmt = select(E).where(E.c.hall == hall).order_by(E.c.id)
    if start is not None:
        stmt = stmt.where(E.c.ts >= start)
    if end is not None:
        stmt = stmt.where(E.c.ts < end)
    for row in conn.execution_options(yield_per=1000).execute(stmt):
        yield row._mapping


# ---- events ------------------------------------------------------------------------------


_INSERT_EVENT = insert(E)
_INSERT_ONE_EVENT = Prepared(
    insert(E).values({c.key: bindparam(c.key, type_=c.type) for c in E.c if c.key != "id"})
)
_INSERT_TICKET = Prepared(insert(T))


def append_events(conn: Connection, events: Sequence[DomainEvent]) -> list[StoredEvent]:
    """Insert events into the append-only log (in the caller's transaction)."""
    stored = stored_events(events)
    insert_events(conn, stored)
    return stored


def stored_events(events: Sequence[DomainEvent]) -> list[StoredEvent]:
    """Events with the ids they are logged under."""
    return [StoredEvent(new_id(), e) for e in events]


def insert_events(conn: Connection, stored: Sequence[StoredEvent]) -> None:
    rows = [_event_values(s) for s in stored]
    if len(rows) == 1:
        _INSERT_ONE_EVENT.rowcount(conn, rows[0])
    elif rows:
        conn.execute(_INSERT_EVENT, rows)


def _event_values(s: StoredEvent) -> dict[str, Any]:
    e = s.event
    return {
        "event_id": s.event_id,
        "hall": e.hall,
        "ts": e.ts,
        "type": str(e.type),
        "ticket_id": e.ticket_id,
        "ticket_number": e.ticket_number,
        "service": e.service,
        "window": e.window,
        "clerk": e.clerk,
        "channel": e.channel,
        "priority": e.priority,
        "payload": dump_payload(e.payload),
    }
