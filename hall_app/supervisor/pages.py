"""Supervisor pages: the live dashboard (wall screen), alert thresholds, reports and flags."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, render_template, url_for
from flask_babel import gettext

from queue_engine.domain.access import Role
from queue_engine.domain.alerts import AlertKind

from ..auth import issue_token, require_hall, require_roles, signed_in_user
from ..http import no_store
from ..pages.access import home_hall
from ..pages.i18n import common_strings, hall_name, window_state_labels
from ..state import hall_services

supervisor_pages = Blueprint("supervisor", __name__, url_prefix="/supervisor")


def alert_kind_labels() -> dict[str, str]:
    return {
        AlertKind.WAIT_LONG: gettext("等候超时"),
        AlertKind.HANDLING_LONG: gettext("办理超时"),
        AlertKind.QUEUE_LONG: gettext("排队过长"),
        AlertKind.IDLE_WITH_QUEUE: gettext("窗口空闲"),
        AlertKind.PAUSED_LONG: gettext("暂停过久"),
        AlertKind.NOT_OPEN: gettext("未按时开窗"),
        AlertKind.BAD_REVIEW: gettext("差评"),
        AlertKind.CASE_OVERDUE: gettext("整改逾期"),
        AlertKind.CALLBACK_OVERDUE: gettext("回访逾期"),
        AlertKind.NO_SHOW_RATE: gettext("过号率异常"),
        AlertKind.RECALL_RATE: gettext("重呼率异常"),
        AlertKind.CHOSEN_CALLS: gettext("指定叫号频繁"),
    }


def page_hall(hall: str | None) -> tuple[Any, Any]:
    user = signed_in_user()
    code = hall or home_hall(user)
    require_hall(code)
    return user, hall_services().engine.hall_config(code)


@supervisor_pages.get("/")
@supervisor_pages.get("/<string:hall>")
@require_roles(Role.SUPERVISOR)
def dashboard(hall: str | None = None) -> Response:
    """The live dashboard: windows, queues, today's KPIs and charts, the alert feed."""
    user, config = page_hall(hall)
    data = {
        "hall": config.code,
        "timezone": config.timezone,
        "token": issue_token(user),
        "board_url": url_for("supervision_api.board", hall=config.code),
        "figures_url": url_for("supervision_api.figures", hall=config.code),
        "one_visit_url": url_for("supervision_api.one_visit", hall=config.code, days=30),
        "alerts_url": url_for("supervision_api.alerts", hall=config.code, state="recent"),
        "ack_url": url_for("supervision_api.acknowledge", alert_id=0).replace("/0/", "/{id}/"),
        "services": {
            s.code: {"zh": s.name_zh, "en": s.name_en, "standard": s.standard_minutes}
            for s in config.services
        },
        "strings": {**common_strings(), **dashboard_strings()},
    }
    return no_store(
        render_template(
            "supervisor/dashboard.html",
            user=user,
            hall=config,
            hall_name=hall_name(config.name_zh, config.name_en),
            data=data,
        )
    )


def dashboard_strings() -> dict[str, Any]:
    return {
        "states": window_state_labels(),
        "kinds": alert_kind_labels(),
        "idle": gettext("空闲"),
        "acknowledge": gettext("确认"),
        "ack_prompt": gettext("处置说明(必填)"),
        "acked_by": gettext("{who} 已确认:{note}"),
        "cleared": gettext("已解除"),
        "no_alerts": gettext("当前没有预警"),
        "acked": gettext("预警已确认"),
        "new_alert": gettext("新预警"),
        "arrivals": gettext("取号人数"),
        "served": gettext("办结人数"),
        "wait_mean": gettext("平均等候(分钟)"),
        "wait_p90": gettext("90% 等候(分钟)"),
        "sl5": gettext("5 分钟内叫号率"),
        "sl15": gettext("15 分钟内叫号率"),
        "throughput": gettext("每小时办结"),
        "serving": gettext("办理中"),
        "called": gettext("已叫号"),
    }


@supervisor_pages.get("/<string:hall>/thresholds")
@require_roles(Role.SUPERVISOR)
def thresholds(hall: str) -> Response:
    """The alert thresholds of a hall: supervisors read them, administrators change them."""
    user, config = page_hall(hall)
    data = {
        "hall": config.code,
        "token": issue_token(user),
        "url": url_for("supervision_api.get_thresholds", hall=config.code),
        "editable": user.role is Role.ADMIN,
        "services": [
            {"code": s.code, "zh": s.name_zh, "en": s.name_en} for s in config.services if s.active
        ],
        "strings": {
            **common_strings(),
            "saved": gettext("阈值已保存"),
            "default": gettext("默认 {v}"),
            "inherit": gettext("沿用全厅"),
        },
    }
    return no_store(
        render_template(
            "supervisor/thresholds.html",
            user=user,
            hall=config,
            hall_name=hall_name(config.name_zh, config.name_en),
            data=data,
        )
    )
