"""A hall's configuration as the desk changes it: the checks a change must pass, and its rows.

The administration desk (``queue_engine.services.admin``) decides who may change what and
keeps the audit trail; these functions do the change itself inside the desk's unit of work:
they shape plain data for the pages and the YAML file, check a change against the rest of the
hall (prefixes, window numbers, skills, evaluator devices) and write it through
``AdminStore``. ``configure`` brings a hall to a whole configuration at once: ``hall config
import`` and the set-up of a hall from a ``HallSpec`` share it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from queue_engine.adapters.admin_store import AdminStore, HallRecord
from queue_engine.domain.access import Role
from queue_engine.domain.appointments import AppointmentSettings, ServiceSlots
from queue_engine.domain.errors import Conflict, InvalidInput, NotFound
from queue_engine.domain.hours import OpeningHours
from queue_engine.domain.model import NoShowRule, Service
from queue_engine.domain.policy import DispatchRules
from queue_engine.domain.visits import DEFAULT_ZONE_AGES, IdentityRule

Data = dict[str, Any]
HALL_FIELDS = ("name_zh", "name_en", "timezone", "notice", "hours")
SERVICE_FIELDS = ("prefix", "name_zh", "name_en", "zone", "standard_minutes", "active", "daily_cap")
WINDOW_FIELDS = ("number", "name", "zone", "primary", "secondary", "evaluator_device", "active")
APPOINTMENT_FIELDS = tuple(
    name for name in AppointmentSettings.__dataclass_fields__ if name != "per_service"
)


def no_duplicates(values: list[Any], what: str, code: str) -> None:
    seen: set[Any] = set()
    for value in values:
        if value in seen:
            raise InvalidInput(f"{what} {value} appears twice", code=code)
        seen.add(value)


# ---- halls and rules ----------------------------------------------------------------------


def hall_data(hall: HallRecord) -> Data:
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


def new_hall(store: AdminStore, code: str, data: Mapping[str, Any]) -> HallRecord:
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


def hall_changes(data: Mapping[str, Any]) -> Data:
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


def rules_data(hall: HallRecord, settings: AppointmentSettings) -> Data:
    appointments = settings.to_mapping()
    return {
        "no_show": NoShowRule.from_mapping(hall.no_show).to_mapping(),
        "dispatch": DispatchRules.from_mapping(hall.dispatch).to_mapping(),
        "appointments": {name: appointments[name] for name in APPOINTMENT_FIELDS},
        "windows": {"clerk_many_windows": hall.clerk_many_windows},
        "calling": {"silent_zones": list(hall.silent_zones)},
        "identity": IdentityRule.from_mapping(hall.identity).to_mapping(),
    }


def apply_rules(store: AdminStore, hall: HallRecord, data: Mapping[str, Any]) -> HallRecord:
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
    if "windows" in data:
        many = data["windows"].get("clerk_many_windows", hall.clerk_many_windows)
        if not isinstance(many, bool):
            raise InvalidInput("clerk_many_windows is true or false", code="bad_rules")
        changes["clerk_many_windows"] = many
    if "calling" in data:
        changes["silent_zones"] = _silent_zones(store, hall, data["calling"])
    if "identity" in data:
        changes["identity"] = _identity(store, hall, data["identity"])
    hall = store.update_hall(hall, changes)
    if "appointments" in data:
        current = store.appointment_settings(hall).to_mapping()
        merged = {**current, **{k: data["appointments"][k] for k in data["appointments"]}}
        store.save_appointment_settings(hall, AppointmentSettings.from_mapping(merged))
    return hall


def _silent_zones(store: AdminStore, hall: HallRecord, calling: Mapping[str, Any]) -> list[str]:
    """The 无声叫号 zones, each one the hall has (its services' or windows' zone)."""
    zones = calling.get("silent_zones", list(hall.silent_zones))
    if not isinstance(zones, list) or not all(isinstance(z, str) for z in zones):
        raise InvalidInput("silent_zones is a list of zone names", code="bad_rules")
    known = set(store.zones(hall))
    unknown = [z for z in zones if z not in known]
    if unknown:
        raise InvalidInput(f"hall {hall.code} has no zone {unknown[0]}", code="unknown_zone")
    return list(dict.fromkeys(zones))


def _identity(store: AdminStore, hall: HallRecord, data: Mapping[str, Any]) -> Data:
    """The identity rule (issue 18), its services and zones the hall's own."""
    if not isinstance(data, Mapping):
        raise InvalidInput("identity is an object", code="bad_rules")
    merged = {**IdentityRule.from_mapping(hall.identity).to_mapping(), **data}
    try:
        rule = IdentityRule.from_mapping(merged)
    except (ValueError, TypeError) as exc:
        raise InvalidInput(str(exc), code="bad_rules") from None
    codes = {s["code"] for s in store.services(hall)}
    unknown = sorted(set(rule.services) - codes)
    if unknown:
        raise InvalidInput(f"hall {hall.code} has no service {unknown[0]}", code="unknown_service")
    zones = set(store.zones(hall)) | set(DEFAULT_ZONE_AGES)
    strange = sorted(set(rule.zone_elderly_age) - zones)
    if strange:
        raise InvalidInput(f"hall {hall.code} has no zone {strange[0]}", code="unknown_zone")
    return rule.to_mapping()


def configure(store: AdminStore, hall: HallRecord, data: Mapping[str, Any]) -> HallRecord:
    """Bring a hall's services, windows and rules to ``data`` (the form of the YAML file)."""
    _import_services(store, hall, data.get("services") or [])
    _import_windows(store, hall, data.get("windows") or [])
    return apply_rules(store, hall, data.get("rules") or {})


def export(store: AdminStore, hall: HallRecord) -> Data:
    settings = store.appointment_settings(hall)
    own = hall_data(hall)
    del own["config_version"]
    return {
        "hall": own,
        "rules": rules_data(hall, settings),
        "services": [service_data(s, settings) for s in store.services(hall)],
        "windows": [window_data(w) for w in store.windows(hall) if w["active"]],
    }


# ---- services -----------------------------------------------------------------------------


def find_service(services: list[Data], code: str) -> Data:
    found = next((s for s in services if s["code"] == code), None)
    if found is None:
        raise NotFound(f"no service {code!r}")
    return found


def service_data(service: Mapping[str, Any], settings: AppointmentSettings) -> Data:
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


def put_service(
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
    return service_data({**values, "code": code}, settings)


def _import_services(
    store: AdminStore, hall: HallRecord, services: Iterable[Mapping[str, Any]]
) -> None:
    wanted = list(services)
    no_duplicates([s["code"] for s in wanted], "service code", "duplicate_code")
    no_duplicates([s["prefix"] for s in wanted], "prefix", "duplicate_prefix")
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


def window_data(window: Mapping[str, Any]) -> Data:
    """A window as the administrator describes it (the audit trail and the file)."""
    return {name: window[name] for name in WINDOW_FIELDS}


def window_state(window: Mapping[str, Any]) -> Data:
    """A window as the desk shows it: its description, id, state and clerk."""
    return {**window_data(window), **{k: window[k] for k in ("id", "state", "clerk")}}


def put_window(
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
    no_duplicates([w["number"] for w in wanted], "window number", "duplicate_number")
    by_number = {w["number"]: w for w in store.windows(hall)}
    numbers = {int(w["number"]) for w in wanted}
    for number, window in by_number.items():
        if number not in numbers and window["active"]:
            put_window(store, hall, window, {"active": False, "evaluator_device": None})
    ids = store.service_ids(hall)
    known = {number: int(window["id"]) for number, window in by_number.items()}
    for wanted_window in wanted:
        values = {"active": True, "evaluator_device": None, "secondary": [], **wanted_window}
        current = by_number.get(int(wanted_window["number"]))
        put_window(store, hall, current, values, ids, known)
