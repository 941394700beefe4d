"""The rows behind the administration desk: halls, services, windows and skills, staff accounts.

The desk (``queue_engine.services.admin``) is the clerk who checks a change against the rule
book; this module is the filing cabinet it opens. It reads and writes rows inside the desk's
unit of work and hands back plain data (``HallRecord`` and dicts), so the desk never holds an
ORM row and the rules it checks stay readable.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, Table, bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from queue_engine.adapters import citizen_records as bookings
from queue_engine.adapters.orm import (
    AuditRow,
    HallRow,
    ServiceRow,
    UserRow,
    WindowRow,
    WindowSkillRow,
)
from queue_engine.adapters.repository import MAX_ID
from queue_engine.adapters.unit_of_work import Database, UnitOfWork
from queue_engine.domain.appointments import AppointmentSettings
from queue_engine.domain.errors import Conflict, NotFound

Data = dict[str, Any]

H: Table = HallRow.__table__  # type: ignore[assignment]
S: Table = ServiceRow.__table__  # type: ignore[assignment]
W: Table = WindowRow.__table__  # type: ignore[assignment]
K: Table = WindowSkillRow.__table__  # type: ignore[assignment]
U: Table = UserRow.__table__  # type: ignore[assignment]
A: Table = AuditRow.__table__  # type: ignore[assignment]

SERVICE_COLUMNS = ("code", "prefix", "name_zh", "name_en", "zone", "standard_minutes", "active")
WINDOW_COLUMNS = ("number", "name", "zone", "evaluator_device", "active")

# Built once: setting a hall up runs these for each of its services and windows.
_ADD_SERVICE = insert(S)
_ADD_WINDOW = insert(W).values(state="closed", cycle_position=0)
_DELETE_SKILLS = delete(K).where(K.c.window_id == bindparam("window"))
_WINDOW_NUMBERED = select(W.c.id).where(
    W.c.hall_id == bindparam("hall"), W.c.number == bindparam("number")
)


@dataclass(frozen=True)
class HallRecord:
    """A hall's own row: its names, zone, notice and rules in their stored form."""

    id: int
    code: str
    name_zh: str
    name_en: str
    timezone: str
    notice: str
    hours: Mapping[str, Any]
    dispatch: Mapping[str, Any]
    no_show: Mapping[str, Any]
    config_version: int
    clerk_many_windows: bool = False
    silent_zones: tuple[str, ...] = ()
    identity: Mapping[str, Any] | None = None  # issue 18: visits.IdentityRule, as stored


def _hall(row: Row[Any]) -> HallRecord:
    return HallRecord(
        row.id,
        row.code,
        row.name_zh,
        row.name_en,
        row.timezone,
        row.notice,
        row.hours,
        row.dispatch,
        row.no_show,
        row.config_version,
        bool(row.clerk_many_windows),
        tuple(row.silent_zones or ()),
        row.identity or None,
    )


class AdminStore:
    """Reads and writes of the administration, inside one unit of work."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.conn = uow.conn

    # -- halls ---------------------------------------------------------------------------

    def halls(self) -> list[HallRecord]:
        return [_hall(r) for r in self.conn.execute(select(H).order_by(H.c.code))]

    def hall(self, code: str, *, lock: bool = False) -> HallRecord:
        """A hall; with ``lock`` its row stays locked until the commit (one change at a time)."""
        stmt = select(H).where(H.c.code == code)
        row = self.conn.execute(stmt.with_for_update(key_share=True) if lock else stmt).first()
        if row is None:
            raise NotFound(f"no hall {code!r}")
        return _hall(row)

    def find_hall(self, code: str, *, lock: bool = False) -> HallRecord | None:
        try:
            return self.hall(code, lock=lock)
        except NotFound:
            return None

    def hall_id(self, code: str) -> int | None:
        found: int | None = self.conn.execute(select(H.c.id).where(H.c.code == code)).scalar()
        return found

    def add_hall(self, code: str, values: Mapping[str, Any]) -> HallRecord:
        self.conn.execute(insert(H).values(code=code, config_version=1, **values))
        return self.hall(code)

    def update_hall(self, hall: HallRecord, values: Mapping[str, Any]) -> HallRecord:
        if values:
            self.conn.execute(update(H).where(H.c.id == hall.id).values(**values))
        return self.hall(hall.code)

    def bump_version(self, hall: HallRecord) -> None:
        """The next edition of the hall's configuration: every process rereads it."""
        self.conn.execute(
            update(H).where(H.c.id == hall.id).values(config_version=H.c.config_version + 1)
        )

    def appointment_settings(self, hall: HallRecord) -> AppointmentSettings:
        return bookings.settings(self.conn, hall.id)

    def save_appointment_settings(self, hall: HallRecord, settings: AppointmentSettings) -> None:
        bookings.save_settings(self.conn, hall.id, settings)

    # -- services ------------------------------------------------------------------------

    def services(self, hall: HallRecord) -> list[Data]:
        """The hall's services in order: ``SERVICE_COLUMNS``, ``daily_cap`` and ``sort_order``."""
        rows = self.conn.execute(
            select(S).where(S.c.hall_id == hall.id).order_by(S.c.sort_order, S.c.id)
        )
        return [
            {
                **{name: getattr(r, name) for name in SERVICE_COLUMNS},
                "daily_cap": r.daily_cap,
                "sort_order": r.sort_order,
            }
            for r in rows
        ]

    def add_services(self, hall: HallRecord, services: Sequence[Mapping[str, Any]]) -> None:
        """Insert services: ``code``, ``SERVICE_COLUMNS``, ``daily_cap`` and ``sort_order`` each."""
        if services:
            self.conn.execute(_ADD_SERVICE, [{**s, "hall_id": hall.id} for s in services])

    def update_service(self, hall: HallRecord, code: str, values: Mapping[str, Any]) -> None:
        self.conn.execute(
            update(S).where(S.c.hall_id == hall.id, S.c.code == code).values(**values)
        )

    def zones(self, hall: HallRecord) -> list[str]:
        """The zones of the hall's services and windows (what 无声叫号 may name)."""
        named = [str(s["zone"]) for s in self.services(hall)]
        named += [
            str(w.zone) for w in self.conn.execute(select(W.c.zone).where(W.c.hall_id == hall.id))
        ]
        return list(dict.fromkeys(named))

    def service_ids(self, hall: HallRecord) -> dict[str, int]:
        rows = self.conn.execute(select(S.c.code, S.c.id).where(S.c.hall_id == hall.id))
        return {code: service_id for code, service_id in rows}

    # -- windows -------------------------------------------------------------------------

    def windows(self, hall: HallRecord) -> list[Data]:
        """Every window of the hall by number: ``WINDOW_COLUMNS``, skills, id, state, clerk."""
        rows = self.conn.execute(select(W).where(W.c.hall_id == hall.id).order_by(W.c.number)).all()
        skills = self._skills(hall)
        return [self._window(r, skills.get(r.id, ([], []))) for r in rows]

    def window(self, hall: HallRecord, window_id: int) -> Data:
        row = None
        if 1 <= window_id <= MAX_ID:
            row = self.conn.execute(
                select(W).where(W.c.id == window_id, W.c.hall_id == hall.id)
            ).first()
        if row is None:
            raise NotFound(f"no window {window_id}")
        return self._window(row, self._skills(hall, window_id).get(window_id, ([], [])))

    @staticmethod
    def _window(row: Row[Any], skills: tuple[list[str], list[str]]) -> Data:
        return {
            **{name: getattr(row, name) for name in WINDOW_COLUMNS},
            "primary": skills[0],
            "secondary": skills[1],
            "id": row.id,
            "state": row.state,
            "clerk": row.clerk,
        }

    def _skills(
        self, hall: HallRecord, window_id: int | None = None
    ) -> dict[int, tuple[list[str], list[str]]]:
        """Window id → (primary, secondary) service codes, in the services' order."""
        stmt = (
            select(K.c.window_id, S.c.code, K.c.is_primary)
            .join(S, S.c.id == K.c.service_id)
            .where(S.c.hall_id == hall.id)
            .order_by(S.c.sort_order, S.c.id)
        )
        if window_id is not None:
            stmt = stmt.where(K.c.window_id == window_id)
        skills: dict[int, tuple[list[str], list[str]]] = {}
        for window, code, primary in self.conn.execute(stmt):
            skills.setdefault(window, ([], []))[0 if primary else 1].append(code)
        return skills

    def window_numbered(self, hall: HallRecord, number: int) -> int | None:
        """The id of the hall's window with this number, if there is one."""
        found: int | None = self.conn.execute(
            _WINDOW_NUMBERED, {"hall": hall.id, "number": number}
        ).scalar()
        return found

    def add_window(self, hall: HallRecord, values: Mapping[str, Any]) -> int:
        """A new window (closed): ``WINDOW_COLUMNS`` of ``values``; its id."""
        row = {"evaluator_device": None, **values, "hall_id": hall.id}
        key = self.conn.execute(_ADD_WINDOW, row).inserted_primary_key
        assert key is not None
        return int(key[0])

    def update_window(self, window_id: int, values: Mapping[str, Any]) -> None:
        self.conn.execute(update(W).where(W.c.id == window_id).values(**values))

    def set_skills(self, window_id: int, skills: Sequence[tuple[int, bool]]) -> None:
        """The window's skills become exactly ``(service id, is primary)`` of ``skills``."""
        self.conn.execute(_DELETE_SKILLS, {"window": window_id})
        if skills:
            self.conn.execute(
                insert(K),
                [
                    {"window_id": window_id, "service_id": service, "is_primary": primary}
                    for service, primary in skills
                ],
            )

    def window_with_device(self, username: str, other_than: int | None) -> int | None:
        """The number of a window (other than ``other_than``) whose evaluator is ``username``."""
        stmt = select(W.c.number).where(W.c.evaluator_device == username)
        if other_than is not None:
            stmt = stmt.where(W.c.id != other_than)
        found: int | None = self.conn.execute(stmt).scalar()
        return found

    # -- users ---------------------------------------------------------------------------

    def users(self) -> list[Data]:
        """Every staff account by name: username, role, hall (its code), display name, active."""
        return [self._user(r) for r in self.conn.execute(self._users().order_by(U.c.username))]

    def user(self, username: str) -> Data | None:
        row = self.conn.execute(self._users().where(U.c.username == username)).first()
        return None if row is None else self._user(row)

    @staticmethod
    def _users() -> Select[Any]:
        return select(U, H.c.code.label("hall")).outerjoin(H, H.c.id == U.c.hall_id)

    @staticmethod
    def _user(row: Row[Any]) -> Data:
        return {
            "username": row.username,
            "role": row.role,
            "hall": row.hall,
            "display_name": row.display_name,
            "active": row.active,
        }

    def add_users(self, users: Sequence[Mapping[str, Any]], created_at: datetime) -> None:
        """Insert accounts: username, password_hash, role, hall_id, display_name, active each."""
        self.conn.execute(insert(U), [{**u, "created_at": created_at} for u in users])

    def update_user(self, username: str, values: Mapping[str, Any]) -> None:
        self.conn.execute(update(U).where(U.c.username == username).values(**values))

    # -- the audit trail -----------------------------------------------------------------

    def history(self, code: str, limit: int) -> list[Data]:
        """The latest ``admin.*`` records about a hall (and its users), newest first."""
        rows = self.conn.execute(
            select(A.c.ts, A.c.actor, A.c.role, A.c.action, A.c.target, A.c.detail)
            .where(
                A.c.action.startswith("admin."), A.c.target.startswith(f"{code}/", autoescape=True)
            )
            .order_by(A.c.id.desc())
            .limit(limit)
        )
        return [dict(r._mapping) for r in rows]


@contextmanager
def reading(db: Database) -> Iterator[AdminStore]:
    with UnitOfWork(db, write=False) as uow:
        yield AdminStore(uow)


@contextmanager
def writing(unit: UnitOfWork) -> Iterator[AdminStore]:
    """``unit`` for a change; a unique key taken meanwhile is a 409, not a 500."""
    try:
        with unit as uow:
            yield AdminStore(uow)
    except IntegrityError:
        raise Conflict(
            "somebody else changed this at the same moment; reload and try again",
            code="concurrent_change",
        ) from None


def evaluator_binding(db: Database, window_id: int, username: str) -> tuple[str | None, int | None]:
    """(the device bound to this window, the window this account is the device of)."""
    with UnitOfWork(db, write=False) as uow:
        device = uow.conn.execute(select(W.c.evaluator_device).where(W.c.id == window_id)).scalar()
        own = uow.conn.execute(
            select(W.c.id).where(W.c.evaluator_device == username, W.c.active.is_(True))
        ).scalar()
    return device, own
