"""The window clerk's pages: choose a window, then a console to call and serve tickets."""

from __future__ import annotations

from typing import Any

from flask import Response, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext

from queue_engine.domain.access import Actor, Role
from queue_engine.domain.model import HallConfig, WindowState

from ..auth import issue_token, require_hall, require_roles, signed_in_user
from ..http import no_store
from ..state import hall_services
from .access import home_hall
from .blueprint import pages
from .i18n import (
    PAUSE_PRESETS,
    common_strings,
    hall_name,
    service_name,
    window_state_labels,
    zone_label,
)


@pages.get("/clerk")
@require_roles(Role.CLERK)
def clerk_windows() -> Response:
    """Pick the window to work at (the list and its states come from the API)."""
    user = signed_in_user()
    config = hall_services().engine.hall_config(home_hall(user))
    data = {
        "hall": config.code,
        "username": user.username,
        "token": issue_token(user),
        "windows_url": url_for("api.windows", hall=config.code),
        "console_url": _url_template("pages.clerk_console", window_id=ID_SENTINEL),
        "open_url": _url_template("api.open_window", window_id=ID_SENTINEL),
        "zones": {w.zone: zone_label(w.zone) for w in config.windows},
        "strings": {**common_strings(), **picker_strings()},
    }
    return no_store(
        render_template(
            "pages/clerk_windows.html",
            user=user,
            hall_name=hall_name(config.name_zh, config.name_en),
            data=data,
        )
    )


@pages.get("/clerk/window/<int:window_id>")
@require_roles(Role.CLERK)
def clerk_console(window_id: int) -> ResponseReturnValue:
    """The console of one window of the clerk's hall."""
    user = signed_in_user()
    engine = hall_services().engine
    window = engine.window(window_id)
    require_hall(window.hall)
    if _taken_by_other(window.state, window.clerk, user):
        flash(
            gettext(
                "%(window)s 号窗口正由 %(clerk)s 使用",
                window=window.config.number,
                clerk=window.clerk,
            ),
            "error",
        )
        return redirect(url_for("pages.clerk_windows"))
    config = engine.hall_config(window.hall)
    data = {
        "hall": config.code,
        "timezone": config.timezone,
        "window_id": window_id,
        "window_number": window.config.number,
        "username": user.username,
        "token": issue_token(user),
        "services": _services(config),
        "windows": _windows(config),
        "pause_presets": [{"value": r, "label": gettext(r)} for r in PAUSE_PRESETS],
        "urls": {
            "window": url_for("api.window_detail", window_id=window_id),
            "open": url_for("api.open_window", window_id=window_id),
            "pause": url_for("api.pause", window_id=window_id),
            "resume": url_for("api.resume", window_id=window_id),
            "close": url_for("api.close_window", window_id=window_id),
            "call_next": url_for("api.call_next", window_id=window_id),
            "recall": url_for("api.recall", window_id=window_id),
            "rate_later": url_for("api.rate_later", window_id=window_id),
            "start": url_for("api.start", ticket_id="TICKET_ID"),
            "finish": url_for("api.finish", ticket_id="TICKET_ID"),
            "no_show": url_for("api.no_show", ticket_id="TICKET_ID"),
            "transfer": url_for("api.transfer", ticket_id="TICKET_ID"),
            "picker": url_for("pages.clerk_windows"),
            # issue 18: the window's own actions
            "call_chosen": url_for("api.call_chosen", window_id=window_id),
            "walk_in": url_for("api.serve_walk_in", window_id=window_id),
            "hold": url_for("api.hold", ticket_id="TICKET_ID"),
            "resume_ticket": url_for("api.resume_ticket", ticket_id="TICKET_ID"),
            "next_services": url_for("api.next_services", ticket_id="TICKET_ID"),
            "by_number": url_for("api.by_number", hall=config.code, number="NUMBER"),
        },
        "max_services": 5,
        "chosen_reasons": [gettext(r) for r in CHOSEN_REASONS],
        "walk_in_reasons": [gettext(r) for r in WALK_IN_REASONS],
        "strings": {**common_strings(), **console_strings()},
    }
    return no_store(
        render_template(
            "pages/clerk_console.html",
            user=user,
            window=window.config,
            zone=zone_label(window.config.zone),
            hall_name=hall_name(config.name_zh, config.name_en),
            data=data,
        )
    )


ID_SENTINEL = 987654321


def _url_template(endpoint: str, **values: Any) -> str:
    """A URL with ``WINDOW_ID`` where the page script puts a window id."""
    return url_for(endpoint, **values).replace(str(ID_SENTINEL), "WINDOW_ID")


def _taken_by_other(state: WindowState, clerk: str | None, user: Actor) -> bool:
    return state is not WindowState.CLOSED and clerk != user.username and user.role is Role.CLERK


def _services(config: HallConfig) -> list[dict[str, Any]]:
    return [
        {
            "code": s.code,
            "prefix": s.prefix,
            "name": service_name({"code": s.code, "name_zh": s.name_zh, "name_en": s.name_en}),
            "active": s.active,
        }
        for s in config.services
    ]


def _windows(config: HallConfig) -> list[dict[str, Any]]:
    return [
        {"id": w.id, "number": w.number, "name": w.name, "skills": sorted(w.skills)}
        for w in sorted(config.windows, key=lambda w: w.number)
    ]


def picker_strings() -> dict[str, Any]:
    return {
        "states": window_state_labels(),
        "window_no": gettext("{n} 号窗口"),
        "in_use_by": gettext("{clerk} 使用中"),
        "mine": gettext("我的窗口 · 继续"),
        "open_it": gettext("开启并进入"),
        "current": gettext("当前:{number}"),
    }


def console_strings() -> dict[str, Any]:
    return {
        "states": window_state_labels(),
        "window_no": gettext("{n} 号窗口"),
        "no_current": gettext("当前没有号"),
        "no_current_hint": gettext("按 N 叫下一位"),
        "nothing_to_call": gettext("当前没有可叫的号"),
        "called": gettext("已叫 {number}"),
        "recalled": gettext("已重呼 {number}"),
        "started": gettext("{number} 开始办理"),
        "finished": gettext("{number} 已办结"),
        "rated_later": gettext("已向群众发送“稍后评价”邀请"),
        "no_show": gettext("{number} 已标记未到"),
        "transferred": gettext("{number} 已转办"),
        "paused": gettext("窗口已暂停"),
        "resumed": gettext("窗口已恢复服务"),
        "opened": gettext("窗口已开启"),
        "closed": gettext("窗口已关闭"),
        "since_called": gettext("叫号后 {t}"),
        "since_started": gettext("已办理 {t}"),
        "recalls": gettext("已重呼 {n} 次"),
        "waited": gettext("已等 {n} 分钟"),
        "issued_waited": gettext("{time} 取号 · 等候 {n} 分钟"),
        "priority_tag": gettext("优先"),
        "appointment_tag": gettext("预约"),
        "queue_empty": gettext("暂无排队"),
        "queue_more": gettext("另有 {n} 人"),
        "paused_since": gettext("{reason} · {time} 起"),
        "any_window": gettext("任意窗口"),
        "reason_required": gettext("请选择或填写暂停原因"),
        "pause_label": gettext("暂停"),
        "resume_label": gettext("恢复"),
        "transfer_same": gettext("请选择其他事项或指定窗口"),
        **visit_strings(),
    }


# Reasons offered for a chosen call and for a walk-in (the clerk may type another).
CHOSEN_REASONS = ("老年人、残疾人等特殊群体", "急事急办", "补正材料后返回", "预约迟到")
WALK_IN_REASONS = ("群众未取号", "陪同人员代办", "自助取号机故障")


def visit_strings() -> dict[str, Any]:
    """The console's strings of issue 18: chosen call, walk-in, hold, look-up, services."""
    return {
        "segment": gettext("第 {i} 项,共 {n} 项"),
        "held_empty": gettext("暂无挂起"),
        "held_resume": gettext("恢复 {number}"),
        "chosen_called": gettext("已指定叫号 {number}"),
        "walk_in_served": gettext("无号办件:已生成 {number}"),
        "held": gettext("{number} 已挂起"),
        "resumed_ticket": gettext("{number} 已恢复办理"),
        "services_changed": gettext("{number} 的办理事项已更新"),
        "pick_ticket": gettext("请选择要叫的号"),
        "reason_needed": gettext("请选择或填写原因"),
        "lookup_none": gettext("今天没有这个号"),
        "lookup_invalid": gettext("号码由字母和数字组成,例如 F023"),
        "lookup_line": gettext("{time} 取号"),
        "position": gettext("前面还有 {n} 人"),
        "segment_status": {
            "current": gettext("当前"),
            "pending": gettext("待办"),
            "done": gettext("已办"),
            "skipped": gettext("未办"),
        },
        "outcomes": {
            "completed": gettext("办结"),
            "accepted": gettext("受理"),
            "needs_documents": gettext("补正材料"),
            "rejected": gettext("不予受理"),
            "consultation": gettext("咨询"),
        },
        "remove": gettext("移除"),
        "services_full": gettext("一个号最多 {n} 项事项"),
    }
