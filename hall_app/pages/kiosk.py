"""The ticket kiosk: services by zone, a priority choice, and a printable ticket slip."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app, render_template, url_for
from flask_babel import gettext

from queue_engine.domain.access import Role

from ..auth import issue_token, require_hall, require_roles, signed_in_user
from ..http import no_store
from ..security import csp_connecting
from ..serialize import queue_json
from ..state import hall_services
from .blueprint import pages
from .i18n import common_strings, hall_name, service_name, zone_label


@pages.get("/kiosk/<hall>")
@require_roles(Role.KIOSK)
def kiosk(hall: str) -> Response:
    """A kiosk of ``hall``; its API token is issued now and lives only in this page."""
    user = signed_in_user()
    require_hall(hall)
    engine = hall_services().engine
    visits = hall_services().visits
    config = engine.hall_config(hall)
    reader = str(current_app.config["HALL_CARD_READER_URL"])
    rule = visits.rule_for(config)
    services = [queue_json(q, config) for q in engine.queues(hall)]
    notice = config.notice
    zones: dict[str, list[dict[str, Any]]] = {}
    for service in services:
        service["label"] = service_name(service)
        zones.setdefault(service["zone"], []).append(service)
    data = {
        "hall": config.code,
        "timezone": config.timezone,
        "token": issue_token(user),
        "issue_url": url_for("api.issue", hall=config.code),
        "checkin_code_url": url_for("api.check_in", code="CODE"),
        "checkin_phone_url": url_for("api.check_in_by_phone", hall=config.code),
        "lookup_url": url_for("api.held_appointments", hall=config.code),
        "confirm_url": url_for("api.confirm_appointment", code="CODE"),
        "cancel_url": url_for("api.cancel_held_appointment", code="CODE"),
        "ticket_page_url": url_for("pages.ticket_page", ticket_id="TICKET_ID"),
        "qr_url": url_for("pages.ticket_qr", ticket_id="TICKET_ID"),
        "hall_name": hall_name(config.name_zh, config.name_en),
        "services": {s["code"]: s for s in services},
        "strings": {**common_strings(), **kiosk_strings()},
        # issue 18: several services, an identity read from the card reader or typed
        "max_services": MAX_SERVICES,
        "card_reader_url": reader,
        "identity_url": url_for("api.kiosk_identity", hall=config.code),
        "identity_required": rule.required,
        # the hall's identity rule: off / optional / required, for the hall and each service
        "identity": {
            "mode": str(rule.mode),
            "services": {s.code: str(rule.mode_of(s.code)) for s in config.services},
        },
        "eid_enabled": bool(current_app.config.get("HALL_EID_URL")),
        "eid_url": url_for("api.kiosk_eid", hall=config.code),
        "most_used": visits.most_used(config.code),
        "speech_url": url_for("display.service_speech"),
    }
    response = no_store(
        render_template(
            "pages/kiosk.html",
            config=config,
            zones=[(zone_label(z), items) for z, items in zones.items()],
            notice=notice,
            is_open=config.is_open(engine.clock.now()),
            data=data,
        )
    )
    # The page polls the card reader's bridge on its own PC: its CSP allows that origin too.
    response.headers["Content-Security-Policy"] = csp_connecting(reader)
    return response


MAX_SERVICES = 5  # services on one ticket (the API's limit)


def kiosk_strings() -> dict[str, str]:
    return {
        "waiting_count": gettext("等候 {n} 人"),
        "taking": gettext("正在取号…"),
        "retrying": gettext("网络不稳定,正在重试…"),
        "ahead_count": gettext("{n} 人"),
        "you_are_next": gettext("您是下一位"),
        "paused_service": gettext("暂停取号"),
        "checking_in": gettext("正在签到…"),
        "appointment_ok": gettext("预约签到成功,时段开始后优先叫号"),
        "appointment_late": gettext("已超过签到时间,已为您按现场取号排队"),
        "looking_up": gettext("正在查询…"),
        "look_up": gettext("查询预约"),
        "check_in": gettext("签到取号"),
        "held_none": gettext("没有以此身份证号码办理的预约"),
        "held_line": gettext("{date} {time} · {service} · 预留手机 {phone}"),
        "held_confirm": gettext("是本人预约"),
        "held_cancel": gettext("取消预约"),
        "held_confirmed": gettext("已确认为本人预约"),
        "held_cancelled": gettext("预约已取消"),
        "held_statuses": {
            "booked": gettext("已预约"),
            "cancelled": gettext("已取消"),
            "checked_in": gettext("已签到"),
            "late": gettext("迟到,已按现场取号"),
            "no_show": gettext("未按时签到"),
        },
        "visit_title": gettext("{first} 等 {n} 项"),
        "remove": gettext("移除"),
        "remove_named": gettext("移除 {name}"),
        "choose_more": gettext("请再选一项办理事项"),
        "back": gettext("返回"),
        "take": gettext("确认取号"),
        "slip_said": gettext("取号成功,您的号码是 {number},请取走凭条"),
        "slip_many": gettext("共 {n} 项事项,按顺序办理"),
        "identified": gettext("已核验身份"),
        "already_number": gettext("您已取 {number} 号"),
        "already_unknown": gettext("您今天已取号"),
        "keypad_hint": gettext("请输入 18 位身份证号码"),
        "identity_first": gettext("请先核验身份,再取号"),
        "identity_need": {
            "required": gettext("(此事项取号需核验身份)"),
            "optional": gettext("(可选,用于老年人优先和一人一号)"),
        },
        "proxy": {
            "agent": gettext("第 1 步:请代办人将身份证放在读卡区"),
            "principal": gettext("第 2 步:请放置被代办人(办事群众)的身份证"),
            "agent_done": gettext("代办人 {who}"),
            "for": gettext("代办人 {who}"),
            "taken": gettext("请取走代办人的身份证,再放置被代办人的身份证"),
        },
        "card_prompt": gettext("请将身份证放在读卡区"),
        "elder_on": gettext("已切换到长辈版"),
        "elder_auto": gettext("您已年满七十周岁,已为您切换到长辈版"),
        "elder_sizes": {
            "large": gettext("大"),
            "larger": gettext("较大"),
            "largest": gettext("特大"),
        },
        "reader": {
            "waiting": gettext("正在等待读卡…"),
            "reading": gettext("正在读取…"),
            "read": gettext("已读取身份证"),
            "offline": gettext("读卡器未连接,可手动输入身份证号"),
            "error": gettext("读卡失败,请重新放置身份证"),
            "invalid": gettext("无法识别此证件,请取走后重试或手动输入"),
            "used": gettext("请取走身份证后重新放置"),
            "qr_reading": gettext("正在核验二维码…"),
            "qr_expired": gettext("二维码已过期,请在手机上刷新后重新扫码"),
            "qr_invalid": gettext("无法识别此二维码,请刷新后重试或改用身份证"),
            "qr_unavailable": gettext("电子证照暂不可用,请使用身份证或手动输入"),
        },
        "checkin_errors": {
            "too_early": gettext("还未到签到时间"),
            "not_found": gettext("未找到今天的预约,请核对后重试"),
            "invalid_transition": gettext("该预约已签到或已取消"),
            "expired": gettext("该预约不是今天的"),
            "invalid": gettext("请核对输入的内容"),
            "id_number": gettext("身份证号码有误,请核对"),
        },
    }
