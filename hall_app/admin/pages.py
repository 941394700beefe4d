"""The admin pages (``/admin``): forms and tables over the same desk and models as the API.

Supervisors see every page read-only; administrators change their hall (or every hall). Forms
post back to themselves; a good change redirects with a confirmation, a bad one shows the form
again with a message next to each wrong field.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext
from pydantic import ValidationError

from queue_engine.domain.access import Role, may_write
from queue_engine.domain.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from queue_engine.domain.hours import WEEKDAY_NAMES

from ..auth import require_roles, signed_in_user
from ..errors import status_for
from ..http import no_store
from ..pages.access import home_hall
from ..pages.i18n import N_, hall_name, zone_label
from ..state import hall_services
from . import forms
from . import schemas as s
from .cli import dump_yaml

admin_pages = Blueprint("admin_pages", __name__, url_prefix="/admin")

WEEKDAY_LABELS = {
    "mon": N_("星期一"),
    "tue": N_("星期二"),
    "wed": N_("星期三"),
    "thu": N_("星期四"),
    "fri": N_("星期五"),
    "sat": N_("星期六"),
    "sun": N_("星期日"),
}
ROLE_LABELS = {
    "admin": N_("管理员"),
    "supervisor": N_("效能监察员"),
    "clerk": N_("窗口人员"),
    "kiosk": N_("取号机/评价器"),
}
APPOINTMENT_LABELS = {
    "slot_minutes": N_("时段长度(分钟)"),
    "slot_capacity": N_("每时段可约人数"),
    "horizon_working_days": N_("可提前预约的工作日数"),
    "cancel_cutoff_minutes": N_("开始前多少分钟截止取消"),
    "check_in_before_minutes": N_("可提前签到(分钟)"),
    "check_in_after_minutes": N_("最迟签到(开始后分钟)"),
    "ban_no_shows": N_("爽约几次暂停预约"),
    "ban_lookback_days": N_("爽约统计天数"),
    "ban_days": N_("暂停预约天数"),
    "follow_up_working_days": N_("差评整改期限(工作日)"),
    "notify_ahead": N_("前面还有几人时提醒"),
}
SECTIONS = (
    ("hall", N_("大厅设置")),
    ("services", N_("业务事项")),
    ("windows", N_("窗口与技能")),
    ("rules", N_("过号与公平规则")),
    ("users", N_("用户与角色")),
    ("history", N_("变更记录")),
    ("notices", N_("通知模板")),
    ("deliveries", N_("发送记录")),
    ("clients", N_("对接系统")),
)
NOTICE_KINDS = {  # what each notice is for, as the template list says it (issues 17 and 19)
    "booked": N_("预约成功"),
    "reminder_day": N_("预约提醒(前一天)"),
    "reminder": N_("预约提醒(一小时前)"),
    "cancelled": N_("大厅闭厅,预约取消"),
    "remote_confirmed": N_("远程取号成功"),
    "turn_near": N_("即将到号"),
    "called": N_("叫号"),
    "missed": N_("过号"),
    "rating_invite": N_("邀请评价"),
    "callback_scheduled": N_("差评回访安排"),
    "rectified": N_("整改完成,邀请评价整改"),
    "card_yellow": N_("黄牌预警(工作人员)"),
    "card_red": N_("红牌问责(工作人员)"),
}
DELIVERY_STATUSES = ("dead", "failed", "pending", "sending", "sent")
STATUS_LABELS = {
    "dead": N_("死信"),
    "failed": N_("待重试"),
    "pending": N_("待发送"),
    "sending": N_("发送中"),
    "sent": N_("已送达"),
}
CHANNEL_LABELS = {
    "sms": N_("短信"),
    "wechat": N_("微信"),
    "webpush": N_("浏览器推送"),
    "webhook": N_("Webhook"),
    "log": N_("工作台"),
}
DELIVERY_CHANNELS = ("sms", "wechat", "webpush", "webhook", "log")
COMMON_ZONES = (
    "Asia/Shanghai",
    "Asia/Urumqi",
    "Asia/Hong_Kong",
    "Asia/Macau",
    "Asia/Taipei",
    "UTC",
)


@admin_pages.errorhandler(DomainError)
def domain_error(error: DomainError) -> tuple[str, int]:
    status = status_for(error)
    return render_template("pages/error.html", status=status), status


def _page(template: str, hall: str, section: str, **context: Any) -> str:
    me = signed_in_user()
    halls = hall_services().admin.halls(me)
    current = next((h for h in halls if h["code"] == hall), None)
    if current is None:
        raise NotFound(f"no hall {hall!r}") if me.hall is None else Forbidden("another hall")
    return render_template(
        template,
        user=signed_in_user(),
        hall=hall,
        hall_label=hall_name(current["name_zh"], current["name_en"]),
        halls=halls,
        section=section,
        sections=SECTIONS,
        can_write=may_write(me, hall),
        zone_label=zone_label,
        **context,
    )


def _attempt(change: Callable[[], object]) -> forms.Errors:
    """Run a change; its errors by form field (empty when it was saved)."""
    try:
        change()
    except ValidationError as exc:
        return forms.validation_errors(exc)
    except (InvalidInput, Conflict) as exc:
        return forms.desk_errors(exc)
    return {}


def _saved(endpoint: str, **values: Any) -> ResponseReturnValue:
    flash(gettext("已保存"), "info")
    return redirect(url_for(endpoint, **values))


def _one(found: list[dict[str, Any]]) -> dict[str, Any]:
    if not found:
        abort(404)
    return found[0]


def _require_write(hall: str) -> None:
    if not may_write(signed_in_user(), hall):
        abort(403)


# -- entry -----------------------------------------------------------------------------------


@admin_pages.get("/")
@require_roles(Role.SUPERVISOR)
def index() -> ResponseReturnValue:
    return redirect(url_for("admin_pages.hall_settings", hall=home_hall(signed_in_user())))


# -- the hall --------------------------------------------------------------------------------


@admin_pages.route("/<hall>/", methods=["GET", "POST"])
@require_roles(Role.SUPERVISOR)
def hall_settings(hall: str) -> ResponseReturnValue:
    data = hall_services().admin.hall(signed_in_user(), hall)
    values: dict[str, Any] = {**data, "hours": s.Hours.from_mapping(data["hours"])}
    errors: forms.Errors = {}
    if request.method == "POST":
        _require_write(hall)
        posted = forms.hall_form(request.form)

        def save() -> None:
            body = s.HallIn.model_validate(posted)
            hall_services().admin.update_hall(
                signed_in_user(), hall, {**body.model_dump(), "hours": body.hours.to_mapping()}
            )

        errors = _attempt(save)
        if not errors:
            return _saved("admin_pages.hall_settings", hall=hall)
        values = {**posted, "hours": _posted_hours(posted["hours"])}
    return _page(
        "admin/hall.html",
        hall,
        "hall",
        values=values,
        errors=errors,
        weekdays=[(d, gettext(WEEKDAY_LABELS[d])) for d in WEEKDAY_NAMES],
        zones=COMMON_ZONES,
    )


class _Loose:
    """Posted values shown again as they were typed (they failed validation)."""

    def __init__(self, **values: Any) -> None:
        self.__dict__.update(values)


def _posted_hours(hours: dict[str, Any]) -> _Loose:
    days = {d: _Loose(**v) if v else None for d, v in hours["days"].items()}
    return _Loose(**{**hours, "days": days})


@admin_pages.get("/<hall>/config.yaml")
@require_roles(Role.SUPERVISOR)
def export_yaml(hall: str) -> Response:
    """The hall's whole configuration as the YAML file ``hall config import`` takes."""
    data = s.HallConfigFile.from_stored(hall_services().admin.export_hall(signed_in_user(), hall))
    response = Response(dump_yaml(data), mimetype="application/yaml")
    response.headers["Content-Disposition"] = f'attachment; filename="{hall}-config.yaml"'
    return no_store(response)


# -- services --------------------------------------------------------------------------------


@admin_pages.get("/<hall>/services")
@require_roles(Role.SUPERVISOR)
def services(hall: str) -> str:
    rules = hall_services().admin.rules(signed_in_user(), hall)["appointments"]
    return _page(
        "admin/services.html",
        hall,
        "services",
        services=hall_services().admin.services(signed_in_user(), hall),
        default_slots=rules,
    )


@admin_pages.route("/<hall>/services/new", methods=["GET", "POST"])
@require_roles(Role.ADMIN)
def new_service(hall: str) -> ResponseReturnValue:
    return _service_form(hall, None)


@admin_pages.route("/<hall>/services/<code>", methods=["GET", "POST"])
@require_roles(Role.SUPERVISOR)
def edit_service(hall: str, code: str) -> ResponseReturnValue:
    return _service_form(hall, code)


def _service_form(hall: str, code: str | None) -> ResponseReturnValue:
    me = signed_in_user()
    current = hall_services().admin.services(me, hall)
    values: dict[str, Any] = {"active": True, "appointment": None}
    if code is not None:
        values = _one([sv for sv in current if sv["code"] == code])
    errors: forms.Errors = {}
    if request.method == "POST":
        _require_write(hall)
        posted = forms.service_form(request.form, with_code=code is None)

        def save() -> None:
            if code is None:
                body = s.ServiceCreateIn.model_validate(posted)
                hall_services().admin.create_service(me, hall, body.model_dump())
            else:
                hall_services().admin.update_service(
                    me, hall, code, s.ServiceIn.model_validate(posted).model_dump()
                )

        errors = _attempt(save)
        if not errors:
            return _saved("admin_pages.services", hall=hall)
        values = {**posted, "code": code or posted.get("code", "")}
    zones = sorted({sv["zone"] for sv in current})
    return _page(
        "admin/service_form.html",
        hall,
        "services",
        code=code,
        values=values,
        errors=errors,
        zones=zones,
        default_slots=hall_services().admin.rules(me, hall)["appointments"],
    )


# -- windows ---------------------------------------------------------------------------------


@admin_pages.get("/<hall>/windows")
@require_roles(Role.SUPERVISOR)
def windows(hall: str) -> str:
    services = {sv["code"]: sv for sv in hall_services().admin.services(signed_in_user(), hall)}
    return _page(
        "admin/windows.html",
        hall,
        "windows",
        windows=hall_services().admin.windows(signed_in_user(), hall),
        services=services,
    )


@admin_pages.route("/<hall>/windows/new", methods=["GET", "POST"])
@require_roles(Role.ADMIN)
def new_window(hall: str) -> ResponseReturnValue:
    return _window_form(hall, None)


@admin_pages.route("/<hall>/windows/<int:window_id>", methods=["GET", "POST"])
@require_roles(Role.SUPERVISOR)
def edit_window(hall: str, window_id: int) -> ResponseReturnValue:
    return _window_form(hall, window_id)


def _window_form(hall: str, window_id: int | None) -> ResponseReturnValue:
    me = signed_in_user()
    services = hall_services().admin.services(me, hall)
    windows = hall_services().admin.windows(me, hall)
    values: dict[str, Any] = {"active": True, "primary": [], "secondary": []}
    if window_id is not None:
        values = _one([w for w in windows if w["id"] == window_id])
    else:
        values["number"] = max((w["number"] for w in windows), default=0) + 1
    errors: forms.Errors = {}
    if request.method == "POST":
        _require_write(hall)
        posted = forms.window_form(request.form, [sv["code"] for sv in services])

        def save() -> None:
            body = s.WindowIn.model_validate(posted).model_dump()
            if window_id is None:
                hall_services().admin.create_window(me, hall, body)
            else:
                hall_services().admin.update_window(me, hall, window_id, body)

        errors = _attempt(save)
        if not errors:
            return _saved("admin_pages.windows", hall=hall)
        values = {**values, **posted}
    devices = [
        u["username"]
        for u in hall_services().admin.users(me)
        if u["role"] == "kiosk" and u["active"] and u["hall"] in (None, hall)
    ]
    return _page(
        "admin/window_form.html",
        hall,
        "windows",
        window_id=window_id,
        values=values,
        errors=errors,
        services=services,
        devices=devices,
        zones=sorted({w["zone"] for w in windows} | {sv["zone"] for sv in services}),
    )


# -- rules -----------------------------------------------------------------------------------


@admin_pages.route("/<hall>/rules", methods=["GET", "POST"])
@require_roles(Role.SUPERVISOR)
def rules(hall: str) -> ResponseReturnValue:
    values = hall_services().admin.rules(signed_in_user(), hall)
    config = hall_services().engine.hall_config(hall)
    zones = config.zones
    services = [(sv.code, hall_name(sv.name_zh, sv.name_en)) for sv in config.services]
    errors: forms.Errors = {}
    if request.method == "POST":
        _require_write(hall)
        codes = [code for code, _ in services]
        posted = forms.rules_form(request.form, list(APPOINTMENT_LABELS), zones, codes)
        errors = _attempt(
            lambda: hall_services().admin.update_rules(
                signed_in_user(), hall, s.RulesIn.model_validate(posted).model_dump()
            )
        )
        if not errors:
            return _saved("admin_pages.rules", hall=hall)
        values = posted
    return _page(
        "admin/rules.html",
        hall,
        "rules",
        values=values,
        errors=errors,
        appointment_labels={k: gettext(v) for k, v in APPOINTMENT_LABELS.items()},
        zones=zones,
        services=services,
    )


# -- users -----------------------------------------------------------------------------------


def _role_labels() -> dict[str, str]:
    return {k: gettext(v) for k, v in ROLE_LABELS.items()}


@admin_pages.get("/<hall>/users")
@require_roles(Role.SUPERVISOR)
def users(hall: str) -> str:
    me = signed_in_user()
    shown = [u for u in hall_services().admin.users(me) if u["hall"] in (None, hall)]
    return _page("admin/users.html", hall, "users", users=shown, roles=_role_labels())


@admin_pages.route("/<hall>/users/new", methods=["GET", "POST"])
@require_roles(Role.ADMIN)
def new_user(hall: str) -> ResponseReturnValue:
    return _user_form(hall, None)


@admin_pages.route("/<hall>/users/<username>", methods=["GET", "POST"])
@require_roles(Role.SUPERVISOR)
def edit_user(hall: str, username: str) -> ResponseReturnValue:
    return _user_form(hall, username)


def _user_form(hall: str, username: str | None) -> ResponseReturnValue:
    me = signed_in_user()
    values: dict[str, Any] = {"active": True, "role": "clerk", "hall": hall}
    if username is not None:
        values = hall_services().admin.user(me, username)
    errors: forms.Errors = {}
    password_errors: forms.Errors = {}
    if request.method == "POST" and request.form.get("form") == "password" and username:
        password_errors = _attempt(
            lambda: hall_services().admin.reset_password(
                me, username, s.PasswordIn(password=request.form.get("password", "")).password
            )
        )
        if not password_errors:
            flash(gettext("密码已重置"), "info")
            return redirect(url_for("admin_pages.edit_user", hall=hall, username=username))
        password_errors = {"password": _password_message()}
    elif request.method == "POST":
        posted = forms.user_form(request.form, create=username is None)

        def save() -> None:
            if username is None:
                body = s.UserCreateIn.model_validate(posted)
                hall_services().admin.create_user(
                    me, body.model_dump(exclude={"password"}), body.password
                )
            else:
                hall_services().admin.update_user(
                    me, username, s.UserUpdateIn.model_validate(posted).model_dump()
                )

        errors = _attempt(save)
        if "_form" in errors and "password" in errors["_form"]:
            errors = {"password": _password_message()}
        if not errors:
            return _saved("admin_pages.users", hall=hall)
        values = {**values, **posted}
    halls = [h["code"] for h in hall_services().admin.halls(me)]
    return _page(
        "admin/user_form.html",
        hall,
        "users",
        username=username,
        values=values,
        errors=errors,
        password_errors=password_errors,
        roles=_role_labels(),
        hall_options=([("", gettext("全部大厅"))] if me.hall is None else [])
        + [(code, code) for code in halls],
        editable=me.role is Role.ADMIN
        and (me.hall is None or values.get("hall") in (None, me.hall)),
    )


def _password_message() -> str:
    return str(gettext("密码至少 8 位,须同时包含字母和数字或符号"))


# -- history ---------------------------------------------------------------------------------


@admin_pages.get("/<hall>/history")
@require_roles(Role.SUPERVISOR)
def history(hall: str) -> str:
    changes = []
    for row in hall_services().admin.history(signed_in_user(), hall):
        detail = json.loads(row["detail"] or "{}")
        changes.append({**row, "changes": _differences(detail.get("before"), detail.get("after"))})
    zone = ZoneInfo(hall_services().admin.hall(signed_in_user(), hall)["timezone"])
    return _page("admin/history.html", hall, "history", changes=changes, tz=zone)


def _differences(before: Any, after: Any, path: str = "") -> list[tuple[str, str, str]]:
    """(field, before, after) of every leaf that changed, for the history table."""
    if isinstance(before, dict) or isinstance(after, dict):
        old = before if isinstance(before, dict) else {}
        new = after if isinstance(after, dict) else {}
        rows: list[tuple[str, str, str]] = []
        for key in [*old, *(k for k in new if k not in old)]:
            rows += _differences(old.get(key), new.get(key), f"{path}.{key}" if path else key)
        return rows
    if before == after:
        return []
    return [(path, _show(before), _show(after))]


def _show(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


# -- notices and the outbox (issue 17) -------------------------------------------------------


@admin_pages.get("/<hall>/notices")
@require_roles(Role.SUPERVISOR)
def notices(hall: str) -> str:
    """Every notice template in zh-CN and English with a sample and its SMS segments."""
    from queue_engine.domain.notice_templates import TEMPLATES, previews

    rows: dict[str, dict[str, Any]] = {}
    for p in previews():
        row = rows.setdefault(
            p.kind, {"kind": p.kind, "label": gettext(NOTICE_KINDS.get(p.kind, p.kind))}
        )
        row[p.lang] = {
            "template": TEMPLATES[p.kind][0 if p.lang == "zh" else 1],
            "sample": p.text,
            "chars": len(p.text),
            "segments": p.segments,
        }
    return _page("admin/notices.html", hall, "notices", templates=list(rows.values()))


@admin_pages.get("/<hall>/deliveries")
@require_roles(Role.SUPERVISOR)
def deliveries(hall: str) -> str:
    """The delivery log, newest first, filtered by status and channel; dead letters retried."""
    services = hall_services()
    code = services.admin.hall(signed_in_user(), hall)["code"]
    status = request.args.get("status") or None
    channel = request.args.get("channel") or None
    status = status if status in DELIVERY_STATUSES else None
    channel = channel if channel in DELIVERY_CHANNELS else None
    rows = services.deliveries.rows(code, channel=channel, status=status, limit=200)
    zone = ZoneInfo(services.admin.hall(signed_in_user(), hall)["timezone"])
    counts = {
        s: len(services.deliveries.rows(code, status=s, limit=500)) for s in ("dead", "failed")
    }
    return _page(
        "admin/deliveries.html",
        hall,
        "deliveries",
        rows=rows,
        tz=zone,
        status=status,
        channel=channel,
        statuses=DELIVERY_STATUSES,
        channels=DELIVERY_CHANNELS,
        counts=counts,
        kinds={k: gettext(v) for k, v in NOTICE_KINDS.items()},
        status_labels={k: gettext(v) for k, v in STATUS_LABELS.items()},
        channel_labels={k: gettext(v) for k, v in CHANNEL_LABELS.items()},
    )


@admin_pages.post("/<hall>/deliveries/<int:delivery_id>/retry")
@require_roles(Role.SUPERVISOR)
def retry_delivery(hall: str, delivery_id: int) -> ResponseReturnValue:
    """An admin's retry of a dead (or failed) delivery: queued again, audited."""
    _require_write(hall)
    services = hall_services()
    code = services.admin.hall(signed_in_user(), hall)["code"]
    services.deliveries.replay(code, delivery_id)
    flash(gettext("已重新排队发送"), "info")
    kept: dict[str, Any] = {
        k: v for k, v in request.args.items() if k in ("status", "channel") and v
    }
    return redirect(url_for("admin_pages.deliveries", hall=hall, **kept))
