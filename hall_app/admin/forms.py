"""From HTML forms to the admin models and back, with validation messages in the page's language.

A form posts flat fields (``mon_open``, ``skill_ENT``…); they become the same pydantic models the
API takes, and every error — pydantic's or the desk's (duplicate prefix, unknown service…) —
becomes a message next to the field it is about.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from flask_babel import gettext
from pydantic import ValidationError

from queue_engine.domain.errors import DomainError
from queue_engine.domain.hours import WEEKDAY_NAMES

from ..pages.i18n import N_

Errors = dict[str, str]

# Desk error codes → (form field, message id).
DESK_ERRORS: dict[str, tuple[str, str]] = {
    "duplicate_code": ("code", N_("该代码已被使用")),
    "duplicate_prefix": ("prefix", N_("该字母已被本大厅的其他事项使用")),
    "duplicate_number": ("number", N_("该窗口号已被使用")),
    "unknown_service": ("skills", N_("技能中有本大厅不存在的事项")),
    "no_skills": ("skills", N_("启用的窗口至少要办理一个事项")),
    "skill_twice": ("skills", N_("同一事项不能既是主要技能又是次要技能")),
    "bad_device": ("evaluator_device", N_("须为本大厅启用中的取号机(设备)账号")),
    "device_taken": ("evaluator_device", N_("该设备已绑定其他窗口的评价器")),
    "window_in_use": ("active", N_("窗口正在使用,须先由窗口人员关闭后才能停用或改号")),
    "duplicate_username": ("username", N_("该用户名已存在")),
    "own_account": ("active", N_("不能停用自己的账号或更改自己的角色")),
    "unknown_hall": ("hall", N_("没有这个大厅")),
    "bad_timezone": ("timezone", N_("未知的时区")),
    "bad_cap": ("daily_cap", N_("每日限额至少为 1")),
}

# pydantic error types → message id.
TYPE_ERRORS: dict[str, str] = {
    "missing": N_("必填"),
    "string_too_short": N_("必填"),
    "string_too_long": N_("内容过长"),
    "string_pattern_mismatch": N_("格式不正确"),
    "int_parsing": N_("请填写整数"),
    "float_parsing": N_("请填写数字"),
    "int_from_float": N_("请填写整数"),
    "greater_than": N_("数值超出允许范围"),
    "greater_than_equal": N_("数值超出允许范围"),
    "less_than": N_("数值超出允许范围"),
    "less_than_equal": N_("数值超出允许范围"),
    "literal_error": N_("请从列表中选择"),
    "date_from_datetime_parsing": N_("日期格式为 2026-10-01"),
    "date_parsing": N_("日期格式为 2026-10-01"),
    "bad_time": N_("时间格式为 09:00"),
    "close_before_open": N_("下班时间须晚于上班时间"),
    "lunch_incomplete": N_("午休须同时填写开始和结束"),
    "lunch_outside": N_("午休须在办公时间之内"),
    "bad_timezone": N_("未知的时区"),
    "skill_twice": N_("同一事项不能既是主要技能又是次要技能"),
}

PATTERN_HINTS = {
    "prefix": N_("请填一个大写字母,如 A"),
    "code": N_("大写字母、数字、- 或 _"),
    "username": N_("3–64 位字母、数字、点、横线或下划线"),
}


def _field_of(loc: tuple[Any, ...]) -> str:
    """The form field of an error location: ``("hours", "days", "mon", ...)`` → ``mon``."""
    parts = [str(p) for p in loc]
    if parts[:1] == ["hours"] and len(parts) >= 2:
        return parts[2] if parts[1] == "days" and len(parts) >= 3 else parts[1]
    if parts and parts[0] in ("primary", "secondary"):
        return "skills"
    if parts[:1] == ["appointment"]:
        return f"slot_{parts[1]}" if len(parts) > 1 else "own_slots"
    if parts and parts[0] in ("no_show", "dispatch", "appointments", "identity"):
        return "_".join(parts[:2]) if len(parts) > 1 else parts[0]
    return parts[-1] if parts else "_form"


def validation_errors(error: ValidationError) -> Errors:
    errors: Errors = {}
    for item in error.errors():
        field = _field_of(tuple(item["loc"])) if item["loc"] else "_form"
        kind = str(item["type"])
        msgid = TYPE_ERRORS.get(kind, N_("输入有误"))
        if kind == "string_pattern_mismatch" and field in PATTERN_HINTS:
            msgid = PATTERN_HINTS[field]
        errors.setdefault(field, gettext(msgid))
    return errors


def desk_errors(error: DomainError) -> Errors:
    field, msgid = DESK_ERRORS.get(error.code, ("_form", ""))
    return {field: gettext(msgid) if msgid else error.message}


# ---- parsing the posted fields ----------------------------------------------------------------


def text(form: Mapping[str, str], name: str) -> str:
    return form.get(name, "").strip()


def optional(form: Mapping[str, str], name: str) -> str | None:
    return text(form, name) or None


def checked(form: Mapping[str, str], name: str) -> bool:
    return form.get(name) in ("on", "1", "true")


def dates(form: Mapping[str, str], name: str) -> list[str]:
    raw = form.get(name, "").replace(",", "\n").replace(",", "\n").split()
    return [d for d in raw if d]


def hall_form(form: Mapping[str, str]) -> dict[str, Any]:
    days: dict[str, Any] = {}
    for day in WEEKDAY_NAMES:
        if not checked(form, f"{day}_on"):
            days[day] = None
            continue
        days[day] = {
            "open": text(form, f"{day}_open"),
            "close": text(form, f"{day}_close"),
            "lunch_start": optional(form, f"{day}_lunch_start"),
            "lunch_end": optional(form, f"{day}_lunch_end"),
        }
    return {
        "name_zh": text(form, "name_zh"),
        "name_en": text(form, "name_en"),
        "timezone": text(form, "timezone"),
        "notice": text(form, "notice"),
        "hours": {
            "days": days,
            "always_open": checked(form, "always_open"),
            "follow_holidays": checked(form, "follow_holidays"),
            "closed_dates": dates(form, "closed_dates"),
            "open_dates": dates(form, "open_dates"),
        },
    }


def service_form(form: Mapping[str, str], *, with_code: bool) -> dict[str, Any]:
    data: dict[str, Any] = {
        "prefix": text(form, "prefix").upper(),
        "name_zh": text(form, "name_zh"),
        "name_en": text(form, "name_en"),
        "zone": text(form, "zone"),
        "standard_minutes": text(form, "standard_minutes"),
        "active": checked(form, "active"),
        "daily_cap": optional(form, "daily_cap"),
        "appointment": None,
    }
    if checked(form, "own_slots"):
        data["appointment"] = {
            "minutes": text(form, "slot_minutes"),
            "capacity": text(form, "slot_capacity"),
        }
    if with_code:
        data["code"] = text(form, "code").upper()
    return data


def window_form(form: Mapping[str, str], services: list[str]) -> dict[str, Any]:
    skill = {code: form.get(f"skill_{code}", "") for code in services}
    return {
        "number": text(form, "number"),
        "name": text(form, "name"),
        "zone": text(form, "zone"),
        "primary": [c for c, v in skill.items() if v == "primary"],
        "secondary": [c for c, v in skill.items() if v == "secondary"],
        "evaluator_device": optional(form, "evaluator_device"),
        "active": checked(form, "active"),
    }


def rules_form(
    form: Mapping[str, str],
    appointment_fields: list[str],
    zones: Sequence[str] = (),
    services: Sequence[str] = (),
) -> dict[str, Any]:
    modes = {code: form.get(f"identity_service_{code}", "") for code in services}
    ages = {z: form.get(f"identity_zone_age_{i}", "").strip() for i, z in enumerate(zones)}
    return {
        "no_show": {
            "mode": text(form, "no_show_mode"),
            "behind": text(form, "no_show_behind"),
            "max_requeues": text(form, "no_show_max_requeues"),
        },
        "dispatch": {
            "guard": text(form, "dispatch_guard"),
            "aging_minutes": text(form, "dispatch_aging_minutes"),
            "ratio_priority": text(form, "dispatch_ratio_priority"),
            "ratio_regular": text(form, "dispatch_ratio_regular"),
        },
        "appointments": {name: text(form, f"appointments_{name}") for name in appointment_fields},
        "windows": {"clerk_many_windows": checked(form, "windows_clerk_many_windows")},
        "calling": {
            "silent_zones": [z for i, z in enumerate(zones) if checked(form, f"calling_silent_{i}")]
        },
        "identity": _identity_form(form, modes, ages),
    }


def _identity_form(
    form: Mapping[str, str], modes: Mapping[str, str], ages: Mapping[str, str]
) -> dict[str, Any]:
    """The identity section; a field left out of the form keeps its default."""
    found: dict[str, Any] = {
        name: text(form, f"identity_{name}")
        for name in ("mode", "per_service", "total", "elderly_age")
        if text(form, f"identity_{name}")
    }
    found["services"] = {code: mode for code, mode in modes.items() if mode}  # "": the hall's
    if any(f"identity_zone_age_{i}" in form for i in range(len(ages))):
        found["zone_ages"] = {zone: age for zone, age in ages.items() if age}
    return found


def user_form(form: Mapping[str, str], *, create: bool) -> dict[str, Any]:
    data: dict[str, Any] = {
        "role": text(form, "role"),
        "hall": optional(form, "hall"),
        "display_name": text(form, "display_name"),
        "active": checked(form, "active"),
    }
    if create:
        data["username"] = text(form, "username")
        data["password"] = form.get("password", "")
    return data
