"""Reading the hall picture for the alert rules, and storing alerts and their thresholds."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from sqlalchemy import Connection, Row, Table, func, insert, select, update

from queue_engine.adapters import citizen_records as bookings
from queue_engine.adapters import repository as repo
from queue_engine.adapters.orm import AlertRow, AlertSettingsRow, HallRow
from queue_engine.domain.alerts import (
    AlertSettings,
    HallPicture,
    OpenCase,
    ServiceInfo,
    WaitingTicket,
    WindowDay,
    WindowInfo,
)
from queue_engine.domain.evaluations import CaseStatus, is_overdue
from queue_engine.domain.model import HallConfig, TicketStatus, format_number

A: Table = AlertRow.__table__  # type: ignore[assignment]
S: Table = AlertSettingsRow.__table__  # type: ignore[assignment]
T, W, E, H = repo.T, repo.W, repo.E, repo.H
_DAY_TYPES = ("ticket.called", "ticket.no_show", "ticket.recalled", "ticket.finished")
_ACTIVITY = ("ticket.called", "ticket.no_show", "ticket.finished", "ticket.transferred")


def lock_hall(conn: Connection, hall_id: int) -> None:
    """Serialise alert writers of one hall (a row lock on PostgreSQL; SQLite locks anyway)."""
    conn.execute(select(HallRow.id).where(HallRow.id == hall_id).with_for_update())


# -- thresholds ----------------------------------------------------------------------------


def load_settings(conn: Connection, hall_id: int) -> AlertSettings:
    data = conn.execute(select(S.c.settings).where(S.c.hall_id == hall_id)).scalar()
    return AlertSettings.from_mapping(data) if data else AlertSettings()


def save_settings(
    conn: Connection, hall_id: int, settings: AlertSettings, now: datetime, actor: str
) -> None:
    _save(
        conn, hall_id, {"settings": settings.to_mapping(), "updated_at": now, "updated_by": actor}
    )


def load_flags(conn: Connection, hall_id: int) -> dict[str, Any]:
    """The hall's red/black flag formula as stored (validated by analytics.flags)."""
    data = conn.execute(select(S.c.flags).where(S.c.hall_id == hall_id)).scalar()
    return dict(data or {})


def save_flags(
    conn: Connection, hall_id: int, flags: dict[str, Any], now: datetime, actor: str
) -> None:
    _save(conn, hall_id, {"flags": flags, "updated_at": now, "updated_by": actor})


def _save(conn: Connection, hall_id: int, values: dict[str, Any]) -> None:
    done = conn.execute(update(S).where(S.c.hall_id == hall_id).values(**values))
    if done.rowcount == 0:
        defaults = {"settings": AlertSettings().to_mapping(), "flags": {}}
        conn.execute(insert(S).values(hall_id=hall_id, **{**defaults, **values}))


# -- alerts --------------------------------------------------------------------------------


def open_alerts(conn: Connection, hall_id: int) -> list[Row[Any]]:
    stmt = select(A).where(A.c.hall_id == hall_id, A.c.cleared_at.is_(None)).order_by(A.c.id)
    return list(conn.execute(stmt))


def alerts_since(conn: Connection, hall_id: int, since: datetime, limit: int) -> list[Row[Any]]:
    """Open alerts and those raised since ``since``, newest first."""
    stmt = (
        select(A)
        .where(A.c.hall_id == hall_id, (A.c.cleared_at.is_(None)) | (A.c.raised_at >= since))
        .order_by(A.c.id.desc())
        .limit(limit)
    )
    return list(conn.execute(stmt))


def alert_by_id(conn: Connection, alert_id: int, *, lock: bool = False) -> Row[Any] | None:
    if not 0 < alert_id < 2**31:
        return None
    stmt = select(A).where(A.c.id == alert_id)
    return conn.execute(stmt.with_for_update() if lock else stmt).first()


def alerts_by_ids(conn: Connection, ids: list[int]) -> list[Row[Any]]:
    if not ids:
        return []
    return list(conn.execute(select(A).where(A.c.id.in_(ids))))


def insert_alert(conn: Connection, values: dict[str, Any]) -> int:
    return int(conn.execute(insert(A).values(**values).returning(A.c.id)).scalar_one())


def update_alert(conn: Connection, alert_id: int, **values: Any) -> None:
    conn.execute(update(A).where(A.c.id == alert_id).values(**values))


# -- the picture ---------------------------------------------------------------------------


def _open_since(config: HallConfig, now: datetime) -> datetime | None:
    local = now.astimezone(config.zone)
    for start, end in config.hours.periods_on(local.date()):
        begin = datetime.combine(local.date(), start, config.zone)
        if begin <= local and (local.time() < end or end == time.max):
            return begin
    return None


def picture(conn: Connection, hall_id: int, config: HallConfig, now: datetime) -> HallPicture:
    """What the rules look at, read in one transaction."""
    day = config.business_date(now)
    midnight = datetime.combine(day, time(0), config.zone)
    windows_rows = repo.all_windows(conn, hall_id)
    current = repo.tickets_by_id(conn, (r.current_ticket_id for r in windows_rows))
    activity, window_days = _window_day(conn, config.code, midnight)
    windows = []
    for r in windows_rows:
        cfg = config.window(r.id)
        ticket = current.get(r.current_ticket_id) if r.current_ticket_id else None
        windows.append(
            WindowInfo(
                number=r.number,
                state=r.state,
                since=r.state_since,
                clerk=r.clerk,
                skills=frozenset(cfg.skills),
                ticket_number=format_number(ticket.prefix, ticket.seq) if ticket else None,
                ticket_service=ticket.service if ticket else None,
                serving_since=ticket.started_at
                if ticket is not None and ticket.status == TicketStatus.SERVING.value
                else None,
                last_activity=activity.get(str(r.number)),
            )
        )
    return HallPicture(
        hall=config.code,
        now=now,
        services=tuple(
            ServiceInfo(s.code, s.name_zh, s.standard_minutes) for s in config.services if s.active
        ),
        windows=tuple(windows),
        waiting=tuple(_waiting(conn, hall_id, config, day)),
        window_days={int(k): v for k, v in window_days.items() if k.isdigit() and v.calls > 0},
        cases=tuple(_cases(conn, hall_id, day)),
        open_since=_open_since(config, now),
    )


def _waiting(conn: Connection, hall_id: int, config: HallConfig, day: date) -> list[WaitingTicket]:
    rows = conn.execute(
        select(
            T.c.prefix, T.c.seq, T.c.service, T.c.issued_at, T.c.slot_start, T.c.target_window_id
        ).where(
            T.c.hall_id == hall_id,
            T.c.status == TicketStatus.WAITING.value,
            T.c.business_date == day,
        )
    )
    numbers = {w.id: w.number for w in config.windows}
    return [
        WaitingTicket(
            number=format_number(r.prefix, r.seq),
            service=r.service,
            waiting_since=max(r.issued_at, r.slot_start) if r.slot_start else r.issued_at,
            target_window=numbers.get(r.target_window_id) if r.target_window_id else None,
        )
        for r in rows
    ]


def _window_day(
    conn: Connection, hall: str, since: datetime
) -> tuple[dict[str, datetime], dict[str, WindowDay]]:
    """Per window label: the latest activity, and today's calls, no-shows and recalls."""
    rows = conn.execute(
        select(E.c.window, E.c.type, func.count(), func.max(E.c.ts))
        .where(
            E.c.hall == hall,
            E.c.ts >= since,
            E.c.window.is_not(None),
            E.c.type.in_(sorted({*_DAY_TYPES, *_ACTIVITY})),
        )
        .group_by(E.c.window, E.c.type)
    )
    counts: dict[str, dict[str, int]] = {}
    latest: dict[str, datetime] = {}
    for window, kind, count, last in rows:
        counts.setdefault(window, {})[kind] = int(count)
        if (
            kind in _ACTIVITY
            and last is not None
            and (window not in latest or last > latest[window])
        ):
            latest[window] = last
    chosen = _chosen_calls(conn, hall, since)
    days = {
        w: WindowDay(
            c.get("ticket.called", 0),
            c.get("ticket.no_show", 0),
            c.get("ticket.recalled", 0),
            chosen.get(w, 0),
        )
        for w, c in counts.items()
    }
    return latest, days


def _chosen_calls(conn: Connection, hall: str, since: datetime) -> dict[str, int]:
    """Per window label: today's calls of a chosen ticket (``"chosen":true`` in the payload)."""
    rows = conn.execute(
        select(E.c.window, func.count())
        .where(
            E.c.hall == hall,
            E.c.ts >= since,
            E.c.type == "ticket.called",
            E.c.payload.like('%"chosen":true%'),
        )
        .group_by(E.c.window)
    )
    return {str(window): int(count) for window, count in rows}


def _cases(conn: Connection, hall_id: int, today: date) -> list[OpenCase]:
    out = []
    for r in bookings.cases(conn, hall_id, include_final=False):
        status = CaseStatus(r.status)
        out.append(
            OpenCase(
                id=r.id,
                ticket_number=format_number(r.prefix, r.seq),
                service=r.service,
                window=r.window,
                score=r.score,
                status=str(status),
                deadline=r.deadline,
                overdue=is_overdue(status, r.deadline, today) and r.resolved_at is None,
                callback_deadline=r.callback_deadline,
                callback_overdue=(
                    status is CaseStatus.OPEN
                    and r.callback_deadline is not None
                    and today > r.callback_deadline
                ),
            )
        )
    return out
