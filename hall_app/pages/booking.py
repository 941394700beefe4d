"""Citizen pages of appointments and the window's evaluator screen (好差评).

The booking page and "my appointment" page are public (the code is the holder's key); the
evaluator stands at a window and rates the visit the window has just finished, looked up here
on the server (the public window room never carries ticket ids). It rates only when signed in
as the device account bound to that window, or as the clerk who has the window open and
served that visit (``domain.evaluations.may_rate_visit``); any other session sees the screen
idle and is refused.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, render_template, request, url_for
from flask_babel import gettext

from queue_engine.domain.access import Actor, Role
from queue_engine.domain.errors import InvalidInput
from queue_engine.domain.evaluations import SCORE_LABELS
from queue_engine.services.evaluations import Rating

from ..api.appointments import appointment_json
from ..auth import require_hall, require_roles, signed_in_user
from ..devices import check_evaluator
from ..http import private_page
from ..state import hall_services
from .blueprint import pages
from .i18n import N_, common_strings, hall_name, page_lang, service_name, zone_label

SCORE_MSGIDS = (N_("非常满意"), N_("满意"), N_("基本满意"), N_("不满意"), N_("非常不满意"))


def score_labels() -> dict[str, str]:
    return {str(score): gettext(label) for score, label in SCORE_LABELS.items()}


@pages.get("/book/<hall>")
def book_page(hall: str) -> Response:
    """Services and slots of a hall, and the booking form."""
    engine = hall_services().engine
    config = engine.hall_config(hall)
    services = [
        {
            "code": s.code,
            "prefix": s.prefix,
            "name": service_name({"code": s.code, "name_zh": s.name_zh, "name_en": s.name_en}),
            "zone": zone_label(s.zone),
        }
        for s in config.services
        if s.active
    ]
    data = {
        "hall": config.code,
        "timezone": config.timezone,
        "services": services,
        "slots_url": url_for("api.slots", hall=config.code, service="SERVICE"),
        "book_url": url_for("api.book", hall=config.code),
        "appointment_page": url_for("pages.appointment_page", code="CODE"),
        "strings": {**common_strings(), **booking_strings()},
    }
    return private_page(
        render_template(
            "pages/book.html", hall_name=hall_name(config.name_zh, config.name_en), data=data
        )
    )


@pages.get("/a/<code>")
def appointment_page(code: str) -> Response:
    """The holder's appointment: when and where, check-in window, cancel."""
    appointment = hall_services().appointments.appointment(code)
    config = hall_services().engine.hall_config(appointment.hall)
    shown = appointment_json(appointment, config)
    shown["service_label"] = service_name(
        {"name_zh": shown["service_name"], "name_en": shown["service_name_en"]}
    )
    data = {
        "appointment": shown,
        "timezone": config.timezone,
        "appointment_url": url_for("api.get_appointment", code=appointment.code),
        "ticket_page": url_for("pages.ticket_page", ticket_id="TICKET_ID"),
        "strings": {**common_strings(), **booking_strings()},
    }
    return private_page(
        render_template(
            "pages/appointment.html",
            appointment=shown,
            hall_name=hall_name(config.name_zh, config.name_en),
            data=data,
        )
    )


@pages.get("/evaluator/<int:window_id>")
@require_roles(Role.CLERK, Role.KIOSK)
def evaluator(window_id: int) -> Response:
    """The rating screen at a window: buttons appear when the clerk finishes a visit."""
    user = signed_in_user()
    engine = hall_services().engine
    window = engine.window(window_id)
    require_hall(window.hall)
    check_evaluator(user, window_id)
    config = engine.hall_config(window.hall)
    data = {
        "hall": config.code,
        "window_id": window_id,
        "window_number": window.config.number,
        "pending": _pending(window_id, user),
        "pending_url": url_for("pages.evaluator_pending", window_id=window_id),
        "rate_url": url_for("pages.evaluator_rate", window_id=window_id),
        "scores": score_labels(),
        "form": _rating_form(config.code),
        "strings": {**common_strings(), **evaluator_strings()},
    }
    return private_page(
        render_template(
            "pages/evaluator.html",
            window=window.config,
            hall_name=hall_name(config.name_zh, config.name_en),
            data=data,
        )
    )


def _rating_form(hall: str) -> dict[str, object]:
    from .citizen import rating_form  # the ticket page's rating card asks the same

    return rating_form(hall)


def _pending(window_id: int, user: Actor) -> dict[str, Any] | None:
    """The service this session may rate at the window now, if any (一次一评: of a visit of
    several services, the one just finished)."""
    pending = hall_services().evaluations.pending_segment_at_window(window_id, by=user)
    if pending is None:
        return None
    config = hall_services().engine.hall_config(pending.ticket.hall)
    service = config.service(pending.service)
    return {
        "number": pending.ticket.number,
        "segment": pending.segment,
        "segments": pending.segments,
        "service": pending.service,
        "service_name": service.name_en if page_lang() == "en" else service.name_zh,
    }


@pages.get("/evaluator/<int:window_id>/pending")
@require_roles(Role.CLERK, Role.KIOSK)
def evaluator_pending(window_id: int) -> Response:
    user = signed_in_user()
    require_hall(hall_services().engine.window(window_id).hall)
    check_evaluator(user, window_id)
    return jsonify({"pending": _pending(window_id, user)})


@pages.post("/evaluator/<int:window_id>/rate")
@require_roles(Role.CLERK, Role.KIOSK)
def evaluator_rate(window_id: int) -> tuple[Response, int]:
    """Rate the window's just-finished visit (CSRF-protected: ``X-CSRFToken``)."""
    user = signed_in_user()
    require_hall(hall_services().engine.window(window_id).hall)
    check_evaluator(user, window_id)
    body = request.get_json(silent=True)
    data: dict[str, Any] = body if isinstance(body, dict) else {}
    score = data.get("score")
    if type(score) is not int:
        raise InvalidInput("a rating is a whole number from 1 to 5")
    reasons, indicators = data.get("reasons"), data.get("indicators")
    if not (reasons is None or (isinstance(reasons, list) and len(reasons) <= 20)):
        raise InvalidInput("reasons are a list from the hall's reasons")
    if not (indicators is None or isinstance(indicators, dict)):
        raise InvalidInput("indicators are {name: level}")
    rating = Rating(0, indicators, tuple(str(r) for r in reasons or ()))  # segment: the desk's
    result = hall_services().evaluations.evaluate_window(window_id, score, by=user, rating=rating)
    return jsonify({"number": result.ticket_number, "score": result.score}), 201


def booking_strings() -> dict[str, Any]:
    return {
        "choose_service": gettext("请选择办理事项"),
        "choose_slot": gettext("请选择时段"),
        "left": gettext("余 {n}"),
        "full": gettext("已满"),
        "past": gettext("已过"),
        "no_slots": gettext("当天没有可预约的时段"),
        "today": gettext("今天"),
        "booking": gettext("正在提交…"),
        "booked": gettext("预约成功"),
        "statuses": {
            "booked": gettext("已预约"),
            "cancelled": gettext("已取消"),
            "checked_in": gettext("已签到"),
            "late": gettext("迟到,已按现场取号"),
            "no_show": gettext("未按时签到"),
        },
        "cancel_ok": gettext("预约已取消"),
        "errors_booking": {
            "slot_full": gettext("该时段已约满,请选择其他时段"),
            "duplicate": gettext(
                "您的身份证号码当天已预约过该事项;如非本人预约,请持身份证到大厅自助机查询并取消"
            ),
            "booking_banned": gettext("因多次预约未到,暂停预约"),
            "id_number": gettext("身份证号码有误,请核对"),
            "phone": gettext("手机号码有误,请核对"),
            "name": gettext("请填写姓名"),
            "cancel_cutoff": gettext("已超过可取消时间"),
            "slot_started": gettext("该时段已开始,请选择其他时段"),
        },
    }


def evaluator_strings() -> dict[str, str]:
    return {
        "idle_title": gettext("欢迎评价我们的服务"),
        "idle_text": gettext("办结后请在此为本次服务评价"),
        "prompt": gettext("请为 {number} 号的本次服务评价"),
        "segment": gettext("第 {n} 项,共 {total} 项:{service}"),
        "chosen": gettext("您选择了“{level}”"),
        "thanks": gettext("感谢您的评价!"),
        "thanks_bad": gettext("感谢您的反馈,我们将尽快回访整改。"),
    }
