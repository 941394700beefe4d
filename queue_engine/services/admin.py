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
``hall init --demo``, ``hall user add`` and the tests all go through the same checks. The desk
decides who may act and keeps the audit trail; ``queue_engine.services.configuration`` checks
and makes a configuration change; the rows are ``queue_engine.adapters.admin_store``'s business.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from queue_engine.adapters.admin_store import (
    AdminStore,
    HallRecord,
    reading,
    writing,
)
from queue_engine.adapters.admin_store import (
    evaluator_binding as evaluator_binding,
)
from queue_engine.adapters.staff_store import record_audit, revoke_credentials
from queue_engine.adapters.unit_of_work import Database, UnitOfWork
from queue_engine.domain.access import Actor, Role, has_role, may_read, may_write, parse_role
from queue_engine.domain.accounts import check_password, check_username, hash_password
from queue_engine.domain.clock import Clock, SystemClock
from queue_engine.domain.errors import Forbidden, InvalidInput, NotFound
from queue_engine.seed import HallSpec
from queue_engine.services import configuration as config
from queue_engine.services.desk import Desk

Data = dict[str, Any]
Listener = Callable[[str], None]


@dataclass(frozen=True)
class NewUser:
    """The command "add this staff account": a name, its first password, a role, a hall."""

    username: str
    password: str
    role: Role
    hall: str | None = None  # None: every hall
    display_name: str = ""  # empty: the username
    active: bool = True


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
        with reading(self.db) as store:
            store.hall(hall)

    # -- reading -------------------------------------------------------------------------

    def halls(self, actor: Actor) -> list[Data]:
        with reading(self.db) as store:
            return [config.hall_data(h) for h in store.halls() if may_read(actor, h.code)]

    def hall(self, actor: Actor, code: str) -> Data:
        self._require_read(actor, code)
        with reading(self.db) as store:
            return config.hall_data(store.hall(code))

    def rules(self, actor: Actor, code: str) -> Data:
        self._require_read(actor, code)
        with reading(self.db) as store:
            hall = store.hall(code)
            return config.rules_data(hall, store.appointment_settings(hall))

    def services(self, actor: Actor, code: str) -> list[Data]:
        self._require_read(actor, code)
        with reading(self.db) as store:
            hall = store.hall(code)
            settings = store.appointment_settings(hall)
            return [config.service_data(s, settings) for s in store.services(hall)]

    def windows(self, actor: Actor, code: str) -> list[Data]:
        self._require_read(actor, code)
        with reading(self.db) as store:
            return [config.window_state(w) for w in store.windows(store.hall(code))]

    def users(self, actor: Actor) -> list[Data]:
        if not has_role(actor, Role.SUPERVISOR):
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
            return config.export(store, store.hall(code))

    # -- halls and rules -----------------------------------------------------------------

    def create_hall(self, actor: Actor, code: str, data: Mapping[str, Any]) -> Data:
        if not actor.is_admin or actor.hall is not None:
            raise Forbidden("only an administrator of every hall may create halls")
        with writing(self.unit()) as store:
            hall = config.new_hall(store, code, data)
            after = config.hall_data(hall)
            self._finish(store, actor, hall, "admin.hall.create", f"{code}/hall", None, after)
        return after

    def update_hall(self, actor: Actor, code: str, data: Mapping[str, Any]) -> Data:
        self._require_write(actor, code)
        with writing(self.unit()) as store:
            hall = store.hall(code, lock=True)
            before = config.hall_data(hall)
            hall = store.update_hall(hall, config.hall_changes(data))
            after = config.hall_data(hall)
            self._finish(store, actor, hall, "admin.hall.update", f"{code}/hall", before, after)
        return after

    def update_rules(self, actor: Actor, code: str, data: Mapping[str, Any]) -> Data:
        """The no-show rule, the fairness guard and the hall's appointment settings."""
        self._require_write(actor, code)
        with writing(self.unit()) as store:
            hall = store.hall(code, lock=True)
            before = config.rules_data(hall, store.appointment_settings(hall))
            hall = config.apply_rules(store, hall, data)
            after = config.rules_data(hall, store.appointment_settings(hall))
            self._finish(store, actor, hall, "admin.rules.update", f"{code}/rules", before, after)
        return after

    # -- services ------------------------------------------------------------------------

    def create_service(self, actor: Actor, hall_code: str, data: Mapping[str, Any]) -> Data:
        self._require_write(actor, hall_code)
        with writing(self.unit()) as store:
            hall = store.hall(hall_code, lock=True)
            after = config.put_service(store, hall, data, create=True)
            target = f"{hall_code}/service/{data['code']}"
            self._finish(store, actor, hall, "admin.service.create", target, None, after)
        return after

    def update_service(
        self, actor: Actor, hall_code: str, code: str, data: Mapping[str, Any]
    ) -> Data:
        self._require_write(actor, hall_code)
        with writing(self.unit()) as store:
            hall = store.hall(hall_code, lock=True)
            settings = store.appointment_settings(hall)
            before = config.service_data(config.find_service(store.services(hall), code), settings)
            after = config.put_service(store, hall, {**data, "code": code}, create=False)
            target = f"{hall_code}/service/{code}"
            self._finish(store, actor, hall, "admin.service.update", target, before, after)
        return after

    # -- windows -------------------------------------------------------------------------

    def create_window(self, actor: Actor, hall_code: str, data: Mapping[str, Any]) -> Data:
        self._require_write(actor, hall_code)
        with writing(self.unit()) as store:
            hall = store.hall(hall_code, lock=True)
            window = store.window(hall, config.put_window(store, hall, None, data))
            after = config.window_data(window)
            target = f"{hall_code}/window/{window['number']}"
            self._finish(store, actor, hall, "admin.window.create", target, None, after)
        return config.window_state(window)

    def update_window(
        self, actor: Actor, hall_code: str, window_id: int, data: Mapping[str, Any]
    ) -> Data:
        self._require_write(actor, hall_code)
        with writing(self.unit()) as store:
            hall = store.hall(hall_code, lock=True)
            current = store.window(hall, window_id)
            before = config.window_data(current)
            window = store.window(hall, config.put_window(store, hall, current, data))
            after = config.window_data(window)
            target = f"{hall_code}/window/{window['number']}"
            self._finish(store, actor, hall, "admin.window.update", target, before, after)
        return config.window_state(window)

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
        with writing(self.unit()) as store:
            (after,) = self._add_users(store, [user])
            uow = store.uow
            self._audit(uow, actor, "admin.user.create", _user_target(username, hall), None, after)
            uow.commit()
            self._recorded()
        return after

    def update_user(self, actor: Actor, username: str, data: Mapping[str, Any]) -> Data:
        with writing(self.unit()) as store:
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
            if not active:
                revoke_credentials(store.uow.conn, username)
            after = _user(store, username)
            target = _user_target(username, new_hall)
            uow = store.uow
            self._audit(uow, actor, "admin.user.update", target, before, after)
            uow.commit()
            self._recorded()
        return after

    def reset_password(self, actor: Actor, username: str, password: str) -> None:
        check_password(password)
        with writing(self.unit()) as store:
            hall = _user(store, username)["hall"]
            _require_user_admin(actor, hall)
            store.update_user(username, {"password_hash": hash_password(password)})
            revoke_credentials(store.uow.conn, username)
            target = _user_target(username, hall)
            uow = store.uow
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
        with writing(self.unit()) as store:
            hall = store.find_hall(code, lock=True)
            created = hall is None
            before = None
            if hall is None:
                if not actor.is_admin or actor.hall is not None:
                    raise Forbidden("only an administrator of every hall may create halls")
                hall = config.new_hall(store, code, data["hall"])
            else:
                self._require_write(actor, code)
                before = config.export(store, hall)
                hall = store.update_hall(hall, config.hall_changes(data["hall"]))
            hall = config.configure(store, hall, data)
            after = config.export(store, hall)
            self._finish(store, actor, hall, "admin.config.import", f"{code}/config", before, after)
        return after, created

    # -- setting a deployment up -------------------------------------------------------------

    def seed_hall(self, spec: HallSpec) -> Data:
        """Create a hall with its services, windows and rules (``hall init --demo``, tests).

        The same checks and rows as ``import_hall`` creating a hall; like a migration it has no
        actor, no audit record and no new configuration edition. Returns the configuration.
        """
        data = spec.to_mapping()
        with writing(self.unit()) as store:
            hall = config.configure(store, config.new_hall(store, spec.code, data["hall"]), data)
            after = config.export(store, hall)
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
        with writing(self.unit()) as store:
            added = self._add_users(store, wanted)
            store.uow.commit()
        return added

    def _add_users(self, store: AdminStore, users: Sequence[NewUser]) -> list[Data]:
        names = [check_username(u.username) for u in users]
        config.no_duplicates(names, "user", "duplicate_username")
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


def _require_user_admin(actor: Actor, hall: str | None) -> None:
    """Administrators of one hall manage only that hall's accounts."""
    if not actor.is_admin:
        raise Forbidden("only administrators manage staff accounts")
    if actor.hall is not None and hall != actor.hall:
        raise Forbidden(f"you administer hall {actor.hall} only")


require_user_admin = _require_user_admin  # for the staff contacts desk (issue 19)


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
