"""Administration: a hall's configuration, its services, windows and staff, changed safely.

Think of the hall's rule book kept at the front desk: anybody on duty may read it, only the
hall's administrator may write in it, every change is a signed and dated entry that keeps the
old line next to the new one, and the book has an edition number. Every desk (every server
process) checks the edition before acting and rereads the book when it changed: the
configuration cache of the unit of work is keyed by ``halls.config_version``, bumped here with
every change in the same transaction as the change and its audit record.

Values arrive already shaped (the web layer and the YAML import validate them with pydantic);
this module checks what needs the rest of the hall — duplicate prefixes and window numbers,
skills naming unknown services, devices that are not kiosk accounts — and raises
``InvalidInput`` (422) with a ``code`` the pages turn into a message next to the field.

It is the one way halls, services, windows and users are written: the admin API and pages,
``hall config import``, and the set-up commands (``seed_hall``, ``seed_users``) of
``hall init --demo``, ``hall user add`` and the tests all go through the same checks. The rows
themselves are ``queue_engine.adapters.admin_store``'s business.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from queue_engine.adapters.admin_store import (
    AdminStore,
    HallRecord,
    reading,
    writing,
)
from queue_engine.adapters.admin_store import (
    evaluator_binding as evaluator_binding,
)
from queue_engine.adapters.staff_store import CURRENT_AUDIT, record_audit
from queue_engine.adapters.unit_of_work import Database, UnitOfWork
from queue_engine.domain.accounts import (
    Role,
    check_password,
    check_username,
    hash_password,
    parse_role,
)
from queue_engine.domain.appointments import AppointmentSettings, ServiceSlots
from queue_engine.domain.clock import Clock, SystemClock
from queue_engine.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from queue_engine.domain.hours import OpeningHours
from queue_engine.domain.model import NoShowRule, Service
from queue_engine.domain.policy import DispatchRules
from queue_engine.seed import HallSpec

Data = dict[str, Any]
Listener = Callable[[str], None]
HALL_FIELDS = ("name_zh", "name_en", "timezone", "notice", "hours")
SERVICE_FIELDS = ("prefix", "name_zh", "name_en", "zone", "standard_minutes", "active", "daily_cap")
WINDOW_FIELDS = ("number", "name", "zone", "primary", "secondary", "evaluator_device", "active")
APPOINTMENT_FIELDS = tuple(
    name for name in AppointmentSettings.__dataclass_fields__ if name != "per_service"
)


@dataclass(frozen=True)
class Actor:
    """Who changes the configuration: a signed-in admin, or the command line."""

    username: str
    role: Role
    hall: str | None = None  # None: every hall
    remote_addr: str = ""

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN


def may_read(actor: Actor, hall: str) -> bool:
    return actor.role in (Role.ADMIN, Role.SUPERVISOR) and actor.hall in (None, hall)


def may_write(actor: Actor, hall: str) -> bool:
    return actor.is_admin and actor.hall in (None, hall)


@dataclass(frozen=True)
class NewUser:
    """The command "add this staff account": a name, its first password, a role, a hall."""

    username: str
    password: str
    role: Role
    hall: str | None = None  # None: every hall
    display_name: str = ""  # empty: the username
    active: bool = True


class AdminDesk:
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
        with reading(self.db) as store:
            store.hall(hall)

    # -- reading -------------------------------------------------------------------------

    def halls(self, actor: Actor) -> list[Data]:
        with reading(self.db) as store:
            return [_hall_data(h) for h in store.halls() if may_read(actor, h.code)]

    def hall(self, actor: Actor, code: str) -> Data:
        self._require_read(actor, code)
        with reading(self.db) as store:
            return _hall_data(store.hall(code))

    def rules(self, actor: Actor, code: str) -> Data:
        self._require_read(actor, code)
        with reading(self.db) as store:
            hall = store.hall(code)
            return _rules_data(hall, store.appointment_settings(hall))

    def services(self, actor: Actor, code: str) -> list[Data]:
        self._require_read(actor, code)
        with reading(self.db) as store:
            hall = store.hall(code)
            settings = store.appointment_settings(hall)
            return [_service_data(s, settings) for s in store.services(hall)]

    def windows(self, actor: Actor, code: str) -> list[Data]:
        self._require_read(actor, code)
        with reading(self.db) as store:
            return [_window_state(w) for w in store.windows(store.hall(code))]

    def users(self, actor: Actor) -> list[Data]:
        if actor.role not in (Role.ADMIN, Role.SUPERVISOR):
            raise Forbidden("only administrators and supervisors see staff accounts")
        with reading(self.db) as store:
            users = store.users()
        return [u for u in users if actor.hall is None or u["hall"] == actor.hall]

    def user(self, actor: Actor, username: str) -> Data:
        for user in self.users(actor):
            if user["username"] == username:
                return user
        raise NotFound(f"no user {username!r}")

    def history(self, actor: Actor, code: str, limit: int = 100) -> list[Data]:
        """The latest configuration changes of a hall (and of its users), newest first."""
        self._require_read(actor, code)
        with reading(self.db) as store:
            store.hall(code)
            return store.history(code, limit)

    def export_hall(self, actor: Actor, code: str) -> Data:
        """The whole configuration of a hall, as the YAML file holds it."""
        self._require_read(actor, code)
        with reading(self.db) as store:
            return _export(store, store.hall(code))

    # -- halls and rules -----------------------------------------------------------------

    def create_hall(self, actor: Actor, code: str, data: Mapping[str, Any]) -> Data:
        if not actor.is_admin or actor.hall is not None:
            raise Forbidden("only an administrator of every hall may create halls")
        with writing(self.db) as store:
            hall = _new_hall(store, code, data)
            after = _hall_data(hall)
            self._finish(store, actor, hall, "admin.hall.create", f"{code}/hall", None, after)
        return after

    def update_hall(self, actor: Actor, code: str, data: Mapping[str, Any]) -> Data:
        self._require_write(actor, code)
        with writing(self.db) as store:
            hall = store.hall(code, lock=True)
            before = _hall_data(hall)
            hall = store.update_hall(hall, _hall_changes(data))
            after = _hall_data(hall)
            self._finish(store, actor, hall, "admin.hall.update", f"{code}/hall", before, after)
        return after

    def update_rules(self, actor: Actor, code: str, data: Mapping[str, Any]) -> Data:
        """The no-show rule, the fairness guard and the hall's appointment settings."""
        self._require_write(actor, code)
        with writing(self.db) as store:
            hall = store.hall(code, lock=True)
            before = _rules_data(hall, store.appointment_settings(hall))
            hall = _apply_rules(store, hall, data)
            after = _rules_data(hall, store.appointment_settings(hall))
            self._finish(store, actor, hall, "admin.rules.update", f"{code}/rules", before, after)
        return after

    # -- services ------------------------------------------------------------------------

    def create_service(self, actor: Actor, hall_code: str, data: Mapping[str, Any]) -> Data:
        self._require_write(actor, hall_code)
        with writing(self.db) as store:
            hall = store.hall(hall_code, lock=True)
            after = _put_service(store, hall, data, create=True)
            target = f"{hall_code}/service/{data['code']}"
            self._finish(store, actor, hall, "admin.service.create", target, None, after)
        return after

    def update_service(
        self, actor: Actor, hall_code: str, code: str, data: Mapping[str, Any]
    ) -> Data:
        self._require_write(actor, hall_code)
        with writing(self.db) as store:
            hall = store.hall(hall_code, lock=True)
            settings = store.appointment_settings(hall)
            before = _service_data(_service(store.services(hall), code), settings)
            after = _put_service(store, hall, {**data, "code": code}, create=False)
            target = f"{hall_code}/service/{code}"
            self._finish(store, actor, hall, "admin.service.update", target, before, after)
        return after

    # -- windows -------------------------------------------------------------------------

    def create_window(self, actor: Actor, hall_code: str, data: Mapping[str, Any]) -> Data:
        self._require_write(actor, hall_code)
        with writing(self.db) as store:
            hall = store.hall(hall_code, lock=True)
            window = store.window(hall, _put_window(store, hall, None, data))
            after = _window_data(window)
            target = f"{hall_code}/window/{window['number']}"
            self._finish(store, actor, hall, "admin.window.create", target, None, after)
        return _window_state(window)

    def update_window(
        self, actor: Actor, hall_code: str, window_id: int, data: Mapping[str, Any]
    ) -> Data:
        self._require_write(actor, hall_code)
        with writing(self.db) as store:
            hall = store.hall(hall_code, lock=True)
            current = store.window(hall, window_id)
            before = _window_data(current)
            window = store.window(hall, _put_window(store, hall, current, data))
            after = _window_data(window)
            target = f"{hall_code}/window/{window['number']}"
            self._finish(store, actor, hall, "admin.window.update", target, before, after)
        return _window_state(window)

    # -- users ---------------------------------------------------------------------------

    def create_user(self, actor: Actor, data: Mapping[str, Any], password: str) -> Data:
        hall = data.get("hall")
        _require_user_admin(actor, hall)
        username = check_username(str(data["username"]))
        check_password(password)
        user = NewUser(
            username,
            password,
            parse_role(str(data["role"])),
            hall,
            str(data.get("display_name") or ""),
            bool(data.get("active", True)),
        )
        with writing(self.db) as store:
            (after,) = self._add_users(store, [user])
            uow = store.uow
            self._audit(uow, actor, "admin.user.create", _user_target(username, hall), None, after)
            uow.commit()
            _recorded()
        return after

    def update_user(self, actor: Actor, username: str, data: Mapping[str, Any]) -> Data:
        with writing(self.db) as store:
            before = _user(store, username)
            hall = before["hall"]
            _require_user_admin(actor, hall)
            new_hall = data.get("hall", hall)
            _require_user_admin(actor, new_hall)
            role = parse_role(str(data.get("role", before["role"])))
            active = bool(data.get("active", before["active"]))
            if username == actor.username and (role is not actor.role or not active):
                raise InvalidInput(
                    "you cannot change the role of, or disable, your own account",
                    code="own_account",
                )
            values = {"role": str(role), "active": active, "hall_id": _hall_id(store, new_hall)}
            if "display_name" in data:
                values["display_name"] = str(data["display_name"] or username)
            store.update_user(username, values)
            after = _user(store, username)
            target = _user_target(username, new_hall)
            uow = store.uow
            self._audit(uow, actor, "admin.user.update", target, before, after)
            uow.commit()
            _recorded()
        return after

    def reset_password(self, actor: Actor, username: str, password: str) -> None:
        check_password(password)
        with writing(self.db) as store:
            hall = _user(store, username)["hall"]
            _require_user_admin(actor, hall)
            store.update_user(username, {"password_hash": hash_password(password)})
            target = _user_target(username, hall)
            uow = store.uow
            # Neither the old nor the new password (or hash) goes into the log.
            self._audit(uow, actor, "admin.user.password", target, None, {"password": "reset"})
            uow.commit()
            _recorded()

    # -- the whole configuration -----------------------------------------------------------

    def import_hall(self, actor: Actor, data: Mapping[str, Any]) -> tuple[Data, bool]:
        """Create the hall of ``data["hall"]["code"]`` or bring it to exactly this configuration.

        Services and windows are matched by code and number; those missing from the file are
        disabled (history keeps them). Returns the new configuration and whether it was created.
        """
        code = str(data["hall"]["code"])
        with writing(self.db) as store:
            hall = store.find_hall(code, lock=True)
            created = hall is None
            before = None
            if hall is None:
                if not actor.is_admin or actor.hall is not None:
                    raise Forbidden("only an administrator of every hall may create halls")
                hall = _new_hall(store, code, data["hall"])
            else:
                self._require_write(actor, code)
                before = _export(store, hall)
                hall = store.update_hall(hall, _hall_changes(data["hall"]))
            hall = _configure(store, hall, data)
            after = _export(store, hall)
            self._finish(store, actor, hall, "admin.config.import", f"{code}/config", before, after)
        return after, created

    # -- setting a deployment up -------------------------------------------------------------

    def seed_hall(self, spec: HallSpec) -> Data:
        """Create a hall with its services, windows and rules (``hall init --demo``, tests).

        The same checks and rows as ``import_hall`` creating a hall; like a migration it has no
        actor, no audit record and no new configuration edition. Returns the configuration.
        """
        data = spec.to_mapping()
        with writing(self.db) as store:
            hall = _configure(store, _new_hall(store, spec.code, data["hall"]), data)
            after = _export(store, hall)
            store.uow.commit()
        return after

    def seed_users(self, users: Iterable[NewUser]) -> list[Data]:
        """Add staff accounts in one transaction (``hall init --demo``, ``hall user add``, tests).

        The checks and rows of ``create_user``; like a migration it has no actor and no audit
        record. Returns the accounts as ``users`` shows them.
        """
        wanted = list(users)
        for user in wanted:
            check_username(user.username)
            check_password(user.password)
        with writing(self.db) as store:
            added = self._add_users(store, wanted)
            store.uow.commit()
        return added

    def _add_users(self, store: AdminStore, users: Sequence[NewUser]) -> list[Data]:
        names = [check_username(u.username) for u in users]
        _no_duplicates(names, "user", "duplicate_username")
        rows = []
        for name, user in zip(names, users, strict=True):
            if store.user(name) is not None:
                raise InvalidInput(f"user {name} already exists", code="duplicate_username")
            rows.append(
                {
                    "username": name,
                    "password_hash": hash_password(user.password),
                    "role": str(user.role),
                    "hall_id": _hall_id(store, user.hall),
                    "display_name": user.display_name or name,
                    "active": user.active,
                }
            )
        store.add_users(rows, self.clock.now())
        return [_user(store, name) for name in names]

    # -- plumbing ----------------------------------------------------------------------------

    def _finish(
        self,
        store: AdminStore,
        actor: Actor,
        hall: HallRecord,
        action: str,
        target: str,
        before: Data | None,
        after: Data,
    ) -> None:
        """Bump the configuration version, audit, commit; tell listeners once it is closed."""
        uow = store.uow
        store.bump_version(hall)
        self._audit(uow, actor, action, target, before, after)
        uow.commit()
        _recorded()
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
            actor.remote_addr,
        )

    def _notify(self, hall: str) -> None:
        for listener in self._listeners:
            listener(hall)


def _recorded() -> None:
    """The detailed record just committed is the request's audit record (no generic one)."""
    entry = CURRENT_AUDIT.get()
    if entry is not None:
        entry.recorded = True


def _require_user_admin(actor: Actor, hall: str | None) -> None:
    """Administrators of one hall manage only that hall's accounts."""
    if not actor.is_admin:
        raise Forbidden("only administrators manage staff accounts")
    if actor.hall is not None and hall != actor.hall:
        raise Forbidden(f"you administer hall {actor.hall} only")


def _user_target(username: str, hall: str | None) -> str:
    return f"{hall}/user/{username}" if hall else f"user/{username}"


def _user(store: AdminStore, username: str) -> Data:
    user = store.user(username)
    if user is None:
        raise NotFound(f"no user {username!r}")
    return user


def _hall_id(store: AdminStore, code: str | None) -> int | None:
    if code is None:
        return None
    hall_id = store.hall_id(code)
    if hall_id is None:
        raise InvalidInput(f"there is no hall {code!r}", code="unknown_hall")
    return hall_id


def _no_duplicates(values: list[Any], what: str, code: str) -> None:
    seen: set[Any] = set()
    for value in values:
        if value in seen:
            raise InvalidInput(f"{what} {value} appears twice", code=code)
        seen.add(value)


# ---- halls and rules ----------------------------------------------------------------------


def _hall_data(hall: HallRecord) -> Data:
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


def _new_hall(store: AdminStore, code: str, data: Mapping[str, Any]) -> HallRecord:
    """A new hall with the default rules (the caller's unit of work commits it)."""
    if store.hall_id(code) is not None:
        raise InvalidInput(f"hall {code} already exists", code="duplicate_code")
    values = {
        "name_zh": str(data["name_zh"]),
        "name_en": str(data["name_en"]),
        "timezone": _checked_zone(str(data.get("timezone", "Asia/Shanghai"))),
        "hours": _checked_hours(data.get("hours") or {}),
        "dispatch": DispatchRules().to_mapping(),
        "no_show": NoShowRule().to_mapping(),
        "notice": str(data.get("notice", "")),
    }
    return store.add_hall(code, values)


def _hall_changes(data: Mapping[str, Any]) -> Data:
    changes: Data = {}
    for name in HALL_FIELDS:
        if name not in data:
            continue
        if name == "hours":
            changes["hours"] = _checked_hours(data["hours"])
        elif name == "timezone":
            changes["timezone"] = _checked_zone(str(data["timezone"]))
        else:
            changes[name] = str(data[name])
    return changes


def _rules_data(hall: HallRecord, settings: AppointmentSettings) -> Data:
    appointments = settings.to_mapping()
    return {
        "no_show": NoShowRule.from_mapping(hall.no_show).to_mapping(),
        "dispatch": DispatchRules.from_mapping(hall.dispatch).to_mapping(),
        "appointments": {name: appointments[name] for name in APPOINTMENT_FIELDS},
    }


def _apply_rules(store: AdminStore, hall: HallRecord, data: Mapping[str, Any]) -> HallRecord:
    changes: Data = {}
    try:
        if "no_show" in data:
            merged = {**hall.no_show, **data["no_show"]}
            changes["no_show"] = NoShowRule.from_mapping(merged).to_mapping()
        if "dispatch" in data:
            merged = {**hall.dispatch, **data["dispatch"]}
            changes["dispatch"] = DispatchRules.from_mapping(merged).to_mapping()
    except (ValueError, TypeError) as exc:
        raise InvalidInput(str(exc), code="bad_rules") from None
    hall = store.update_hall(hall, changes)
    if "appointments" in data:
        current = store.appointment_settings(hall).to_mapping()
        merged = {**current, **{k: data["appointments"][k] for k in data["appointments"]}}
        store.save_appointment_settings(hall, AppointmentSettings.from_mapping(merged))
    return hall


def _configure(store: AdminStore, hall: HallRecord, data: Mapping[str, Any]) -> HallRecord:
    """Bring a hall's services, windows and rules to ``data`` (the form of the YAML file)."""
    _import_services(store, hall, data.get("services") or [])
    _import_windows(store, hall, data.get("windows") or [])
    return _apply_rules(store, hall, data.get("rules") or {})


def _export(store: AdminStore, hall: HallRecord) -> Data:
    settings = store.appointment_settings(hall)
    hall_data = _hall_data(hall)
    del hall_data["config_version"]
    return {
        "hall": hall_data,
        "rules": _rules_data(hall, settings),
        "services": [_service_data(s, settings) for s in store.services(hall)],
        "windows": [_window_data(w) for w in store.windows(hall) if w["active"]],
    }


# ---- services -----------------------------------------------------------------------------


def _service(services: list[Data], code: str) -> Data:
    found = next((s for s in services if s["code"] == code), None)
    if found is None:
        raise NotFound(f"no service {code!r}")
    return found


def _service_data(service: Mapping[str, Any], settings: AppointmentSettings) -> Data:
    slots = settings.per_service.get(service["code"])
    return {
        "code": service["code"],
        **{name: service[name] for name in SERVICE_FIELDS},
        "appointment": None
        if slots is None
        else {"minutes": slots.minutes, "capacity": slots.capacity},
    }


def _service_values(services: list[Data], code: str, data: Mapping[str, Any], create: bool) -> Data:
    """The new fields of the service ``code``, checked against the hall's other services."""
    current = next((s for s in services if s["code"] == code), None)
    if create and current is not None:
        raise InvalidInput(f"service code {code} is already used", code="duplicate_code")
    base: Data = current if current is not None else {"active": True}
    values: Data = {n: data[n] if n in data else base.get(n) for n in SERVICE_FIELDS}
    prefix = values["prefix"]
    clash = next((s for s in services if s["prefix"] == prefix and s["code"] != code), None)
    if clash is not None:
        raise InvalidInput(
            f"prefix {values['prefix']} is already used by service {clash['code']}",
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
    return values


def _with_slots(
    settings: AppointmentSettings, slots: Mapping[str, Mapping[str, Any] | None]
) -> AppointmentSettings:
    """``settings`` with these services' own slots (None: the hall's slot settings)."""
    per_service = dict(settings.per_service)
    for code, own in slots.items():
        if own is None:
            per_service.pop(code, None)
        else:
            per_service[code] = ServiceSlots(int(own["minutes"]), int(own["capacity"]))
    stored = {k: {"minutes": v.minutes, "capacity": v.capacity} for k, v in per_service.items()}
    return AppointmentSettings.from_mapping({**settings.to_mapping(), "per_service": stored})


def _put_service(
    store: AdminStore, hall: HallRecord, data: Mapping[str, Any], *, create: bool
) -> Data:
    """Create or update one service (by code), with its appointment slots; its new form."""
    code = str(data["code"])
    services = store.services(hall)
    values = _service_values(services, code, data, create)
    if any(s["code"] == code for s in services):
        store.update_service(hall, code, values)
    else:
        order = max((s["sort_order"] for s in services), default=-1) + 1
        store.add_services(hall, [{**values, "code": code, "sort_order": order}])
    settings = store.appointment_settings(hall)
    if "appointment" in data:
        settings = _with_slots(settings, {code: data["appointment"]})
        store.save_appointment_settings(hall, settings)
    return _service_data({**values, "code": code}, settings)


def _import_services(
    store: AdminStore, hall: HallRecord, services: Iterable[Mapping[str, Any]]
) -> None:
    wanted = list(services)
    _no_duplicates([s["code"] for s in wanted], "service code", "duplicate_code")
    _no_duplicates([s["prefix"] for s in wanted], "prefix", "duplicate_prefix")
    codes = {s["code"] for s in wanted}
    current = store.services(hall)
    existing = {s["code"] for s in current}
    for service in current:
        if service["code"] not in codes and service["active"]:
            # kept (with its prefix) for the history of its tickets
            store.update_service(hall, service["code"], {"active": False})
    new = []
    for order, wanted_service in enumerate(wanted):
        code = str(wanted_service["code"])
        values = {**_service_values(current, code, wanted_service, create=False), "code": code}
        current = [*(s for s in current if s["code"] != code), values]
        if code in existing:
            store.update_service(hall, code, {**values, "sort_order": order})
        else:
            new.append({**values, "sort_order": order})
    store.add_services(hall, new)
    settings = store.appointment_settings(hall)
    slots = _with_slots(settings, {str(s["code"]): s.get("appointment") for s in wanted})
    if slots != settings:
        store.save_appointment_settings(hall, slots)


# ---- windows ------------------------------------------------------------------------------


def _window_data(window: Mapping[str, Any]) -> Data:
    """A window as the administrator describes it (the audit trail and the file)."""
    return {name: window[name] for name in WINDOW_FIELDS}


def _window_state(window: Mapping[str, Any]) -> Data:
    """A window as the desk shows it: its description, id, state and clerk."""
    return {**_window_data(window), **{k: window[k] for k in ("id", "state", "clerk")}}


def _put_window(
    store: AdminStore,
    hall: HallRecord,
    current: Mapping[str, Any] | None,
    data: Mapping[str, Any],
    service_ids: Mapping[str, int] | None = None,
    numbers: Mapping[int, int] | None = None,
) -> int:
    """Create (``current`` None) or update a window and its skills; its id.

    ``service_ids`` (code → id) and ``numbers`` (window number → id) are the hall's, when the
    caller already knows them.
    """
    number = int(data["number"]) if "number" in data else current["number"] if current else 0
    window_id = None if current is None else int(current["id"])
    clash = store.window_numbered(hall, number) if numbers is None else numbers.get(number)
    if clash is not None and clash != window_id:
        raise InvalidInput(f"window number {number} is already used", code="duplicate_number")
    base = current if current is not None else {"active": True}
    active = bool(data.get("active", base["active"]))
    if (
        current is not None
        and current["state"] != "closed"
        and (number != current["number"] or not active)
    ):
        raise Conflict(
            f"window {current['number']} is {current['state']}: its clerk must close it first",
            code="window_in_use",
        )
    values: Data = {
        "number": number,
        "name": str(data.get("name", base.get("name"))),
        "zone": str(data.get("zone", base.get("zone"))),
        "active": active,
    }
    if "evaluator_device" in data:
        values["evaluator_device"] = _checked_device(
            store, hall, window_id, data["evaluator_device"]
        )
    skills = None
    if "primary" in data or "secondary" in data:
        primary = list(data.get("primary", base.get("primary", [])))
        secondary = list(data.get("secondary", base.get("secondary", [])))
        ids = store.service_ids(hall) if service_ids is None else service_ids
        skills = _checked_skills(hall, ids, primary, secondary, active)
    if window_id is None:
        window_id = store.add_window(hall, values)
    else:
        store.update_window(window_id, values)
    if skills is not None:
        store.set_skills(window_id, skills)
    return window_id


def _checked_skills(
    hall: HallRecord,
    ids: Mapping[str, int],
    primary: list[str],
    secondary: list[str],
    active: bool,
) -> list[tuple[int, bool]]:
    """(service id, is primary) of a window's skills, once each, naming services of the hall."""
    both = set(primary) & set(secondary)
    if both:
        raise InvalidInput(
            f"{', '.join(sorted(both))} cannot be both primary and secondary", code="skill_twice"
        )
    unknown = [c for c in [*primary, *secondary] if c not in ids]
    if unknown:
        raise InvalidInput(
            f"hall {hall.code} has no service {', '.join(unknown)}", code="unknown_service"
        )
    if active and not primary and not secondary:
        raise InvalidInput("a window needs at least one service", code="no_skills")
    return [(ids[c], True) for c in primary] + [(ids[c], False) for c in secondary]


def _checked_device(
    store: AdminStore, hall: HallRecord, window_id: int | None, device: Any
) -> str | None:
    """A window's evaluator screen is a kiosk account of the hall, bound to one window only."""
    if device is None or device == "":
        return None
    user = store.user(str(device))
    if (
        user is None
        or not user["active"]
        or user["role"] != Role.KIOSK.value
        or user["hall"] not in (None, hall.code)
    ):
        raise InvalidInput(
            f"{device} is not an active kiosk account of hall {hall.code}", code="bad_device"
        )
    other = store.window_with_device(user["username"], window_id)
    if other is not None:
        raise InvalidInput(
            f"{device} is already the evaluator of window {other}", code="device_taken"
        )
    username: str = user["username"]
    return username


def _import_windows(
    store: AdminStore, hall: HallRecord, windows: Iterable[Mapping[str, Any]]
) -> None:
    wanted = list(windows)
    _no_duplicates([w["number"] for w in wanted], "window number", "duplicate_number")
    by_number = {w["number"]: w for w in store.windows(hall)}
    numbers = {int(w["number"]) for w in wanted}
    for number, window in by_number.items():
        if number not in numbers and window["active"]:
            _put_window(store, hall, window, {"active": False, "evaluator_device": None})
    ids = store.service_ids(hall)
    known = {number: int(window["id"]) for number, window in by_number.items()}
    for wanted_window in wanted:
        values = {"active": True, "evaluator_device": None, "secondary": [], **wanted_window}
        current = by_number.get(int(wanted_window["number"]))
        _put_window(store, hall, current, values, ids, known)
