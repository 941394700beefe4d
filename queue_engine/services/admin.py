"""Administration: a hall's configuration, its services, windows and staff, changed safely.

Think of the hall's rule book kept at the front desk: anybody on duty may read it, only the
hall's administrator may write in it, every change is a signed and dated entry that keeps the
old line next to the new one, and the book has an edition number. Every desk (every server
process) checks the edition before acting and rereads the book when it changed: the
configuration cache of the unit of work is keyed by ``halls.config_version``, bumped here with
every change in the same transaction as the change and its audit record.

Values arrive already shaped (the web layer and the YAML import validate them with pydantic);
this module checks what needs the database — duplicate prefixes and window numbers, skills
naming unknown services, devices that are not kiosk accounts — and raises ``InvalidInput``
(422) with a ``code`` the pages turn into a message next to the field.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from queue_engine.adapters import citizen_records as bookings
from queue_engine.adapters.orm import (
    AuditRow,
    HallRow,
    ServiceRow,
    UserRow,
    WindowRow,
    WindowSkillRow,
)
from queue_engine.adapters.staff_store import record_audit
from queue_engine.adapters.unit_of_work import Database, UnitOfWork
from queue_engine.domain.access import Actor, Role, has_role, may_read, may_write, parse_role
from queue_engine.domain.accounts import check_password, check_username, hash_password
from queue_engine.domain.appointments import AppointmentSettings, ServiceSlots
from queue_engine.domain.clock import Clock, SystemClock
from queue_engine.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from queue_engine.domain.hours import OpeningHours
from queue_engine.domain.model import NoShowRule, Service
from queue_engine.domain.policy import DispatchRules
from queue_engine.services.desk import Desk

Data = dict[str, Any]
Listener = Callable[[str], None]
HALL_FIELDS = ("name_zh", "name_en", "timezone", "notice", "hours")
SERVICE_FIELDS = ("prefix", "name_zh", "name_en", "zone", "standard_minutes", "active", "daily_cap")
APPOINTMENT_FIELDS = tuple(
    name for name in AppointmentSettings.__dataclass_fields__ if name != "per_service"
)


class AdminDesk(Desk):
    """Reads and changes of halls, services, windows, rules and users, each audited."""

    def __init__(self, db: Database, clock: Clock | None = None) -> None:
        self.db = db
        self.clock: Clock = clock or SystemClock()
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> None:
        """Call ``listener(hall_code)`` after every committed change of a hall's configuration."""
        self._listeners.append(listener)

    def _require_read(self, actor: Actor, hall: str) -> None:
        if not may_read(actor, hall):
            self._require_hall(hall)  # an unknown hall is a 404 for everybody
            raise Forbidden(f"{actor.username} may not see the administration of hall {hall}")

    def _require_write(self, actor: Actor, hall: str) -> None:
        if not may_write(actor, hall):
            self._require_hall(hall)
            raise Forbidden(f"only an administrator of hall {hall} may change it")

    def _require_hall(self, hall: str) -> None:
        with UnitOfWork(self.db, write=False) as uow:
            _hall_row(uow.session, hall)

    # -- reading -------------------------------------------------------------------------

    def halls(self, actor: Actor) -> list[Data]:
        with UnitOfWork(self.db, write=False) as uow:
            rows = uow.session.scalars(select(HallRow).order_by(HallRow.code)).all()
            return [_hall_data(r) for r in rows if may_read(actor, r.code)]

    def hall(self, actor: Actor, code: str) -> Data:
        self._require_read(actor, code)
        with UnitOfWork(self.db, write=False) as uow:
            return _hall_data(_hall_row(uow.session, code))

    def rules(self, actor: Actor, code: str) -> Data:
        self._require_read(actor, code)
        with UnitOfWork(self.db, write=False) as uow:
            return _rules_data(uow, _hall_row(uow.session, code))

    def services(self, actor: Actor, code: str) -> list[Data]:
        self._require_read(actor, code)
        with UnitOfWork(self.db, write=False) as uow:
            hall = _hall_row(uow.session, code)
            settings = bookings.settings(uow.conn, hall.id)
            return [_service_data(s, settings) for s in _service_rows(uow.session, hall.id)]

    def windows(self, actor: Actor, code: str) -> list[Data]:
        self._require_read(actor, code)
        with UnitOfWork(self.db, write=False) as uow:
            hall = _hall_row(uow.session, code)
            return _windows_data(uow.session, hall.id, with_state=True)

    def users(self, actor: Actor) -> list[Data]:
        if not has_role(actor, Role.SUPERVISOR):
            raise Forbidden("only administrators and supervisors see staff accounts")
        with UnitOfWork(self.db, write=False) as uow:
            rows = uow.session.execute(
                select(UserRow, HallRow.code)
                .outerjoin(HallRow, HallRow.id == UserRow.hall_id)
                .order_by(UserRow.username)
            ).all()
            return [
                _user_data(user, hall)
                for user, hall in rows
                if actor.hall is None or hall == actor.hall
            ]

    def user(self, actor: Actor, username: str) -> Data:
        for user in self.users(actor):
            if user["username"] == username:
                return user
        raise NotFound(f"no user {username!r}")

    def history(self, actor: Actor, code: str, limit: int = 100) -> list[Data]:
        """The latest configuration changes of a hall (and of its users), newest first."""
        self._require_read(actor, code)
        with UnitOfWork(self.db, write=False) as uow:
            _hall_row(uow.session, code)
            rows = uow.session.scalars(
                select(AuditRow)
                .where(AuditRow.action.like("admin.%"), AuditRow.target.like(f"{code}/%"))
                .order_by(AuditRow.id.desc())
                .limit(limit)
            ).all()
            return [
                {
                    "ts": r.ts,
                    "actor": r.actor,
                    "role": r.role,
                    "action": r.action,
                    "target": r.target,
                    "detail": r.detail,
                }
                for r in rows
            ]

    def export_hall(self, actor: Actor, code: str) -> Data:
        """The whole configuration of a hall, as the YAML file holds it."""
        self._require_read(actor, code)
        with UnitOfWork(self.db, write=False) as uow:
            return _export(uow, _hall_row(uow.session, code))

    # -- halls and rules -----------------------------------------------------------------

    def create_hall(self, actor: Actor, code: str, data: Mapping[str, Any]) -> Data:
        if not actor.is_admin or actor.hall is not None:
            raise Forbidden("only an administrator of every hall may create halls")
        with self._writing() as uow:
            if uow.session.scalar(select(HallRow.id).where(HallRow.code == code)) is not None:
                raise InvalidInput(f"hall {code} already exists", code="duplicate_code")
            hall = _new_hall(uow.session, code, data)
            after = _hall_data(hall)
            self._finish(uow, actor, hall, "admin.hall.create", f"{code}/hall", None, after)
        return after

    def update_hall(self, actor: Actor, code: str, data: Mapping[str, Any]) -> Data:
        self._require_write(actor, code)
        with self._writing() as uow:
            hall = _hall_row(uow.session, code, lock=True)
            before = _hall_data(hall)
            _apply_hall(hall, data)
            after = _hall_data(hall)
            self._finish(uow, actor, hall, "admin.hall.update", f"{code}/hall", before, after)
        return after

    def update_rules(self, actor: Actor, code: str, data: Mapping[str, Any]) -> Data:
        """The no-show rule, the fairness guard and the hall's appointment settings."""
        self._require_write(actor, code)
        with self._writing() as uow:
            hall = _hall_row(uow.session, code, lock=True)
            before = _rules_data(uow, hall)
            _apply_rules(uow, hall, data)
            after = _rules_data(uow, hall)
            self._finish(uow, actor, hall, "admin.rules.update", f"{code}/rules", before, after)
        return after

    # -- services ------------------------------------------------------------------------

    def create_service(self, actor: Actor, hall_code: str, data: Mapping[str, Any]) -> Data:
        self._require_write(actor, hall_code)
        with self._writing() as uow:
            hall = _hall_row(uow.session, hall_code, lock=True)
            after = _put_service(uow, hall, data, create=True)
            target = f"{hall_code}/service/{data['code']}"
            self._finish(uow, actor, hall, "admin.service.create", target, None, after)
        return after

    def update_service(
        self, actor: Actor, hall_code: str, code: str, data: Mapping[str, Any]
    ) -> Data:
        self._require_write(actor, hall_code)
        with self._writing() as uow:
            hall = _hall_row(uow.session, hall_code, lock=True)
            row = _service_row(uow.session, hall.id, code)
            before = _service_data(row, bookings.settings(uow.conn, hall.id))
            after = _put_service(uow, hall, {**data, "code": code}, create=False)
            target = f"{hall_code}/service/{code}"
            self._finish(uow, actor, hall, "admin.service.update", target, before, after)
        return after

    # -- windows -------------------------------------------------------------------------

    def create_window(self, actor: Actor, hall_code: str, data: Mapping[str, Any]) -> Data:
        self._require_write(actor, hall_code)
        with self._writing() as uow:
            hall = _hall_row(uow.session, hall_code, lock=True)
            row = _put_window(uow.session, hall, None, data)
            after = _window_data(uow.session, row)
            target = f"{hall_code}/window/{row.number}"
            self._finish(uow, actor, hall, "admin.window.create", target, None, after)
        return {**after, "id": row.id, "state": row.state, "clerk": row.clerk}

    def update_window(
        self, actor: Actor, hall_code: str, window_id: int, data: Mapping[str, Any]
    ) -> Data:
        self._require_write(actor, hall_code)
        with self._writing() as uow:
            hall = _hall_row(uow.session, hall_code, lock=True)
            row = _window_row(uow.session, hall.id, window_id)
            before = _window_data(uow.session, row)
            _put_window(uow.session, hall, row, data)
            after = _window_data(uow.session, row)
            target = f"{hall_code}/window/{row.number}"
            self._finish(uow, actor, hall, "admin.window.update", target, before, after)
        return {**after, "id": row.id, "state": row.state, "clerk": row.clerk}

    # -- users ---------------------------------------------------------------------------

    def create_user(self, actor: Actor, data: Mapping[str, Any], password: str) -> Data:
        hall = data.get("hall")
        _require_user_admin(actor, hall)
        username = check_username(str(data["username"]))
        check_password(password)
        with self._writing() as uow:
            if uow.session.scalar(select(UserRow.id).where(UserRow.username == username)):
                raise InvalidInput(f"user {username} already exists", code="duplicate_username")
            user = UserRow(
                username=username,
                password_hash=hash_password(password),
                role=str(parse_role(str(data["role"]))),
                hall_id=_hall_id_or_none(uow.session, hall),
                display_name=str(data.get("display_name") or username),
                active=bool(data.get("active", True)),
                created_at=self.clock.now(),
            )
            uow.session.add(user)
            uow.session.flush()
            after = _user_data(user, hall)
            self._audit(uow, actor, "admin.user.create", _user_target(username, hall), None, after)
            uow.commit()
            self._recorded()
        return after

    def update_user(self, actor: Actor, username: str, data: Mapping[str, Any]) -> Data:
        with self._writing() as uow:
            user, hall = _user_row(uow.session, username)
            _require_user_admin(actor, hall)
            before = _user_data(user, hall)
            new_hall = data.get("hall", hall)
            _require_user_admin(actor, new_hall)
            role = parse_role(str(data.get("role", user.role)))
            active = bool(data.get("active", user.active))
            if username == actor.username and (role is not actor.role or not active):
                raise InvalidInput(
                    "you cannot change the role of, or disable, your own account",
                    code="own_account",
                )
            user.role = str(role)
            user.active = active
            user.hall_id = _hall_id_or_none(uow.session, new_hall)
            if "display_name" in data:
                user.display_name = str(data["display_name"] or username)
            uow.session.flush()
            after = _user_data(user, new_hall)
            target = _user_target(username, new_hall)
            self._audit(uow, actor, "admin.user.update", target, before, after)
            uow.commit()
            self._recorded()
        return after

    def reset_password(self, actor: Actor, username: str, password: str) -> None:
        check_password(password)
        with self._writing() as uow:
            user, hall = _user_row(uow.session, username)
            _require_user_admin(actor, hall)
            user.password_hash = hash_password(password)
            uow.session.flush()
            target = _user_target(username, hall)
            # Neither the old nor the new password (or hash) goes into the log.
            self._audit(uow, actor, "admin.user.password", target, None, {"password": "reset"})
            uow.commit()
            self._recorded()

    # -- the whole configuration -----------------------------------------------------------

    def import_hall(self, actor: Actor, data: Mapping[str, Any]) -> tuple[Data, bool]:
        """Create the hall of ``data["hall"]["code"]`` or bring it to exactly this configuration.

        Services and windows are matched by code and number; those missing from the file are
        disabled (history keeps them). Returns the new configuration and whether it was created.
        """
        code = str(data["hall"]["code"])
        with self._writing() as uow:
            hall = uow.session.scalar(
                select(HallRow).where(HallRow.code == code).with_for_update(key_share=True)
            )
            created = hall is None
            if created:
                if not actor.is_admin or actor.hall is not None:
                    raise Forbidden("only an administrator of every hall may create halls")
                hall = _new_hall(uow.session, code, data["hall"])
                before = None
            else:
                assert hall is not None
                self._require_write(actor, code)
                before = _export(uow, hall)
                _apply_hall(hall, data["hall"])
            _import_services(uow, hall, data.get("services") or [])
            _import_windows(uow.session, hall, data.get("windows") or [])
            _apply_rules(uow, hall, data.get("rules") or {})
            uow.session.flush()
            after = _export(uow, hall)
            self._finish(uow, actor, hall, "admin.config.import", f"{code}/config", before, after)
        return after, created

    # -- plumbing ----------------------------------------------------------------------------

    @contextmanager
    def _writing(self) -> Iterator[UnitOfWork]:
        """A unit of work for a change; a unique key taken meanwhile is a 409, not a 500."""
        try:
            with self.unit() as uow:
                yield uow
        except IntegrityError:
            raise Conflict(
                "somebody else changed this at the same moment; reload and try again",
                code="concurrent_change",
            ) from None

    def _finish(
        self,
        uow: UnitOfWork,
        actor: Actor,
        hall: HallRow,
        action: str,
        target: str,
        before: Data | None,
        after: Data,
    ) -> None:
        """Bump the configuration version, audit, commit; tell listeners once it is closed."""
        uow.session.flush()
        uow.conn.execute(
            update(HallRow)
            .where(HallRow.id == hall.id)
            .values(config_version=HallRow.config_version + 1)
        )
        self._audit(uow, actor, action, target, before, after)
        uow.commit()
        self._recorded()
        code = hall.code
        uow.after_exit(lambda: self._notify(code))

    def _audit(
        self,
        uow: UnitOfWork,
        actor: Actor,
        action: str,
        target: str,
        before: Data | None,
        after: Data | None,
    ) -> None:
        record_audit(
            uow.conn,
            self.clock.now(),
            actor.username,
            str(actor.role),
            action,
            target,
            {"before": before, "after": after},
            self.audit.remote_addr if self.audit is not None else "",
        )

    def _recorded(self) -> None:
        """The detailed record just committed is the request's audit record (no generic one)."""
        if self.audit is not None:
            self.audit.recorded = True

    def _notify(self, hall: str) -> None:
        for listener in self._listeners:
            listener(hall)


# ---- rows ---------------------------------------------------------------------------------


def _hall_row(session: Session, code: str, *, lock: bool = False) -> HallRow:
    """A hall; with ``lock`` its row stays locked until the commit (one change at a time)."""
    stmt = select(HallRow).where(HallRow.code == code)
    hall = session.scalar(stmt.with_for_update(key_share=True) if lock else stmt)
    if hall is None:
        raise NotFound(f"no hall {code!r}")
    return hall


def _service_rows(session: Session, hall_id: int) -> list[ServiceRow]:
    return list(
        session.scalars(
            select(ServiceRow)
            .where(ServiceRow.hall_id == hall_id)
            .order_by(ServiceRow.sort_order, ServiceRow.id)
        )
    )


def _service_row(session: Session, hall_id: int, code: str) -> ServiceRow:
    row = session.scalar(
        select(ServiceRow).where(ServiceRow.hall_id == hall_id, ServiceRow.code == code)
    )
    if row is None:
        raise NotFound(f"no service {code!r}")
    return row


def _window_row(session: Session, hall_id: int, window_id: int) -> WindowRow:
    row = session.get(WindowRow, window_id) if 1 <= window_id <= 2**31 - 1 else None
    if row is None or row.hall_id != hall_id:
        raise NotFound(f"no window {window_id}")
    return row


def _user_row(session: Session, username: str) -> tuple[UserRow, str | None]:
    found = session.execute(
        select(UserRow, HallRow.code)
        .outerjoin(HallRow, HallRow.id == UserRow.hall_id)
        .where(UserRow.username == username)
    ).first()
    if found is None:
        raise NotFound(f"no user {username!r}")
    return found[0], found[1]


def _hall_id_or_none(session: Session, code: str | None) -> int | None:
    if code is None:
        return None
    hall_id = session.scalar(select(HallRow.id).where(HallRow.code == code))
    if hall_id is None:
        raise InvalidInput(f"there is no hall {code!r}", code="unknown_hall")
    return hall_id


def _require_user_admin(actor: Actor, hall: str | None) -> None:
    """Administrators of one hall manage only that hall's accounts."""
    if not actor.is_admin:
        raise Forbidden("only administrators manage staff accounts")
    if actor.hall is not None and hall != actor.hall:
        raise Forbidden(f"you administer hall {actor.hall} only")


def _user_target(username: str, hall: str | None) -> str:
    return f"{hall}/user/{username}" if hall else f"user/{username}"


# ---- halls --------------------------------------------------------------------------------


def _hall_data(hall: HallRow) -> Data:
    return {
        "code": hall.code,
        "name_zh": hall.name_zh,
        "name_en": hall.name_en,
        "timezone": hall.timezone,
        "notice": hall.notice,
        "hours": OpeningHours.from_mapping(hall.hours).to_mapping(),
        "config_version": hall.config_version,
    }


def _checked_hours(data: Mapping[str, Any]) -> dict[str, object]:
    try:
        return OpeningHours.from_mapping(data).to_mapping()
    except (ValueError, TypeError, AssertionError) as exc:
        raise InvalidInput(f"opening hours: {exc}", code="bad_hours") from None


def _checked_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(f"unknown time zone {name!r}", code="bad_timezone") from None
    return name


def _new_hall(session: Session, code: str, data: Mapping[str, Any]) -> HallRow:
    hall = HallRow(
        code=code,
        name_zh=str(data["name_zh"]),
        name_en=str(data["name_en"]),
        timezone=_checked_zone(str(data.get("timezone", "Asia/Shanghai"))),
        hours=_checked_hours(data.get("hours") or {}),
        dispatch=DispatchRules().to_mapping(),
        no_show=NoShowRule().to_mapping(),
        notice=str(data.get("notice", "")),
        config_version=1,
    )
    session.add(hall)
    session.flush()
    return hall


def _apply_hall(hall: HallRow, data: Mapping[str, Any]) -> None:
    for name in HALL_FIELDS:
        if name not in data:
            continue
        if name == "hours":
            hall.hours = _checked_hours(data["hours"])
        elif name == "timezone":
            hall.timezone = _checked_zone(str(data["timezone"]))
        else:
            setattr(hall, name, str(data[name]))


# ---- rules --------------------------------------------------------------------------------


def _rules_data(uow: UnitOfWork, hall: HallRow) -> Data:
    settings = bookings.settings(uow.conn, hall.id).to_mapping()
    return {
        "no_show": NoShowRule.from_mapping(hall.no_show).to_mapping(),
        "dispatch": DispatchRules.from_mapping(hall.dispatch).to_mapping(),
        "appointments": {name: settings[name] for name in APPOINTMENT_FIELDS},
        "windows": {"clerk_many_windows": bool(hall.clerk_many_windows)},
    }


def _apply_rules(uow: UnitOfWork, hall: HallRow, data: Mapping[str, Any]) -> None:
    try:
        if "no_show" in data:
            merged = {**hall.no_show, **data["no_show"]}
            hall.no_show = NoShowRule.from_mapping(merged).to_mapping()
        if "dispatch" in data:
            merged = {**hall.dispatch, **data["dispatch"]}
            hall.dispatch = DispatchRules.from_mapping(merged).to_mapping()
    except (ValueError, TypeError) as exc:
        raise InvalidInput(str(exc), code="bad_rules") from None
    if "windows" in data:
        many = data["windows"].get("clerk_many_windows", hall.clerk_many_windows)
        if not isinstance(many, bool):
            raise InvalidInput("clerk_many_windows is true or false", code="bad_rules")
        hall.clerk_many_windows = many
    if "appointments" in data:
        current = bookings.settings(uow.conn, hall.id).to_mapping()
        merged = {**current, **{k: data["appointments"][k] for k in data["appointments"]}}
        bookings.save_settings(uow.conn, hall.id, AppointmentSettings.from_mapping(merged))


# ---- services -----------------------------------------------------------------------------


def _service_data(row: ServiceRow, settings: AppointmentSettings) -> Data:
    slots = settings.per_service.get(row.code)
    return {
        "code": row.code,
        "prefix": row.prefix,
        "name_zh": row.name_zh,
        "name_en": row.name_en,
        "zone": row.zone,
        "standard_minutes": row.standard_minutes,
        "active": row.active,
        "daily_cap": row.daily_cap,
        "appointment": None
        if slots is None
        else {"minutes": slots.minutes, "capacity": slots.capacity},
    }


def _put_service(uow: UnitOfWork, hall: HallRow, data: Mapping[str, Any], *, create: bool) -> Data:
    """Create or update one service (by code), with its appointment slots; its new form."""
    session = uow.session
    code = str(data["code"])
    rows = _service_rows(session, hall.id)
    row = next((r for r in rows if r.code == code), None)
    if create and row is not None:
        raise InvalidInput(f"service code {code} is already used", code="duplicate_code")
    if row is None:
        order = max((r.sort_order for r in rows), default=-1) + 1
        row = ServiceRow(hall_id=hall.id, code=code, active=True, sort_order=order)
        session.add(row)
    values = {name: data[name] if name in data else getattr(row, name) for name in SERVICE_FIELDS}
    clash = next((r for r in rows if r.prefix == values["prefix"] and r.code != code), None)
    if clash is not None:
        raise InvalidInput(
            f"prefix {values['prefix']} is already used by service {clash.code}",
            code="duplicate_prefix",
        )
    Service(  # the domain's own checks: one capital letter, a positive standard time
        code,
        str(values["prefix"]),
        str(values["name_zh"]),
        str(values["name_en"]),
        str(values["zone"]),
        float(values["standard_minutes"]),
    )
    if values["daily_cap"] is not None and int(values["daily_cap"]) < 1:
        raise InvalidInput("a daily cap is at least 1 ticket", code="bad_cap")
    for name, value in values.items():
        setattr(row, name, value)
    session.flush()
    settings = bookings.settings(uow.conn, hall.id)
    if "appointment" in data:
        per_service = dict(settings.per_service)
        slots = data["appointment"]
        if slots is None:
            per_service.pop(code, None)
        else:
            per_service[code] = ServiceSlots(int(slots["minutes"]), int(slots["capacity"]))
        settings = AppointmentSettings.from_mapping(
            {**settings.to_mapping(), "per_service": _slots_data(per_service)}
        )
        bookings.save_settings(uow.conn, hall.id, settings)
    return _service_data(row, settings)


def _slots_data(per_service: Mapping[str, ServiceSlots]) -> Data:
    return {k: {"minutes": v.minutes, "capacity": v.capacity} for k, v in per_service.items()}


def _import_services(uow: UnitOfWork, hall: HallRow, services: Iterable[Mapping[str, Any]]) -> None:
    wanted = list(services)
    _no_duplicates([s["code"] for s in wanted], "service code", "duplicate_code")
    _no_duplicates([s["prefix"] for s in wanted], "prefix", "duplicate_prefix")
    codes = {s["code"] for s in wanted}
    for row in _service_rows(uow.session, hall.id):
        if row.code not in codes:
            row.active = False  # kept (with its prefix) for the history of its tickets
    for order, service in enumerate(wanted):
        _put_service(uow, hall, {"appointment": None, **service}, create=False)
        _service_row(uow.session, hall.id, service["code"]).sort_order = order


def _no_duplicates(values: list[Any], what: str, code: str) -> None:
    seen: set[Any] = set()
    for value in values:
        if value in seen:
            raise InvalidInput(f"{what} {value} appears twice", code=code)
        seen.add(value)


# ---- windows ------------------------------------------------------------------------------


def _skills(session: Session, window_id: int) -> tuple[list[str], list[str]]:
    rows = session.execute(
        select(ServiceRow.code, WindowSkillRow.is_primary)
        .join(WindowSkillRow, WindowSkillRow.service_id == ServiceRow.id)
        .where(WindowSkillRow.window_id == window_id)
        .order_by(ServiceRow.sort_order, ServiceRow.id)
    ).all()
    return [c for c, p in rows if p], [c for c, p in rows if not p]


def _window_data(session: Session, row: WindowRow) -> Data:
    primary, secondary = _skills(session, row.id)
    return {
        "number": row.number,
        "name": row.name,
        "zone": row.zone,
        "primary": primary,
        "secondary": secondary,
        "evaluator_device": row.evaluator_device,
        "active": row.active,
    }


def _windows_data(session: Session, hall_id: int, *, with_state: bool) -> list[Data]:
    rows = session.scalars(
        select(WindowRow).where(WindowRow.hall_id == hall_id).order_by(WindowRow.number)
    ).all()
    result = []
    for row in rows:
        data = _window_data(session, row)
        if with_state:
            data.update(id=row.id, state=row.state, clerk=row.clerk)
        result.append(data)
    return result


def _put_window(
    session: Session, hall: HallRow, row: WindowRow | None, data: Mapping[str, Any]
) -> WindowRow:
    """Create (``row`` None) or update a window and its skills."""
    number = int(data["number"]) if "number" in data else row.number if row else 0
    clash = session.scalar(
        select(WindowRow.id).where(WindowRow.hall_id == hall.id, WindowRow.number == number)
    )
    if clash is not None and (row is None or clash != row.id):
        raise InvalidInput(f"window number {number} is already used", code="duplicate_number")
    if row is None:
        row = WindowRow(hall_id=hall.id, state="closed", cycle_position=0, active=True)
        session.add(row)
    elif row.state != "closed" and (
        number != row.number or not bool(data.get("active", row.active))
    ):
        raise Conflict(
            f"window {row.number} is {row.state}: its clerk must close it first",
            code="window_in_use",
        )
    row.number = number
    row.name = str(data.get("name", row.name))
    row.zone = str(data.get("zone", row.zone))
    row.active = bool(data.get("active", row.active))
    if "evaluator_device" in data:
        row.evaluator_device = _checked_device(session, hall, row, data["evaluator_device"])
    session.flush()
    if "primary" in data or "secondary" in data:
        current = _skills(session, row.id) if row.id else ([], [])
        primary = list(data.get("primary", current[0]))
        secondary = list(data.get("secondary", current[1]))
        _set_skills(session, hall, row, primary, secondary)
    return row


def _set_skills(
    session: Session, hall: HallRow, row: WindowRow, primary: list[str], secondary: list[str]
) -> None:
    both = set(primary) & set(secondary)
    if both:
        raise InvalidInput(
            f"{', '.join(sorted(both))} cannot be both primary and secondary", code="skill_twice"
        )
    ids = dict(
        session.execute(
            select(ServiceRow.code, ServiceRow.id).where(ServiceRow.hall_id == hall.id)
        ).all()
    )
    unknown = [c for c in [*primary, *secondary] if c not in ids]
    if unknown:
        raise InvalidInput(
            f"hall {hall.code} has no service {', '.join(unknown)}", code="unknown_service"
        )
    if row.active and not primary and not secondary:
        raise InvalidInput("a window needs at least one service", code="no_skills")
    for skill in session.scalars(select(WindowSkillRow).where(WindowSkillRow.window_id == row.id)):
        session.delete(skill)
    session.flush()
    for code in primary:
        session.add(WindowSkillRow(window_id=row.id, service_id=ids[code], is_primary=True))
    for code in secondary:
        session.add(WindowSkillRow(window_id=row.id, service_id=ids[code], is_primary=False))
    session.flush()


def _checked_device(session: Session, hall: HallRow, row: WindowRow, device: Any) -> str | None:
    """A window's evaluator screen is a kiosk account of the hall, bound to one window only."""
    if device is None or device == "":
        return None
    user = session.scalar(select(UserRow).where(UserRow.username == str(device)))
    if (
        user is None
        or not user.active
        or user.role != Role.KIOSK.value
        or user.hall_id not in (None, hall.id)
    ):
        raise InvalidInput(
            f"{device} is not an active kiosk account of hall {hall.code}", code="bad_device"
        )
    other = session.scalar(
        select(WindowRow.number).where(
            WindowRow.evaluator_device == user.username,
            WindowRow.id != row.id if row.id else WindowRow.id.is_not(None),
        )
    )
    if other is not None:
        raise InvalidInput(
            f"{device} is already the evaluator of window {other}", code="device_taken"
        )
    return user.username


def _import_windows(session: Session, hall: HallRow, windows: Iterable[Mapping[str, Any]]) -> None:
    wanted = list(windows)
    _no_duplicates([w["number"] for w in wanted], "window number", "duplicate_number")
    by_number = {
        r.number: r
        for r in session.scalars(select(WindowRow).where(WindowRow.hall_id == hall.id)).all()
    }
    numbers = {int(w["number"]) for w in wanted}
    for number, row in by_number.items():
        if number not in numbers and row.active:
            _put_window(session, hall, row, {"active": False, "evaluator_device": None})
    for window in wanted:
        values = {"active": True, "evaluator_device": None, "secondary": [], **window}
        _put_window(session, hall, by_number.get(int(window["number"])), values)


# ---- users and the export -------------------------------------------------------------------


def _user_data(user: UserRow, hall: str | None) -> Data:
    return {
        "username": user.username,
        "role": user.role,
        "hall": hall,
        "display_name": user.display_name,
        "active": user.active,
    }


def _export(uow: UnitOfWork, hall: HallRow) -> Data:
    settings = bookings.settings(uow.conn, hall.id)
    hall_data = _hall_data(hall)
    del hall_data["config_version"]
    windows = _windows_data(uow.session, hall.id, with_state=False)
    return {
        "hall": hall_data,
        "rules": _rules_data(uow, hall),
        "services": [_service_data(s, settings) for s in _service_rows(uow.session, hall.id)],
        "windows": [w for w in windows if w["active"]],
    }


# ---- evaluator devices ---------------------------------------------------------------------


def evaluator_binding(db: Database, window_id: int, username: str) -> tuple[str | None, int | None]:
    """(the device bound to this window, the window this account is the device of)."""
    with UnitOfWork(db, write=False) as uow:
        device = uow.session.scalar(
            select(WindowRow.evaluator_device).where(WindowRow.id == window_id)
        )
        own = uow.session.scalar(
            select(WindowRow.id).where(
                WindowRow.evaluator_device == username, WindowRow.active.is_(True)
            )
        )
    return device, own
