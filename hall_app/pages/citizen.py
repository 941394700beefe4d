"""A citizen's own ticket, followed live on a phone, and the QR code that leads there."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import qrcode
import qrcode.image.svg
from flask import Response, make_response, redirect, render_template, request, url_for
from flask_babel import gettext

from queue_engine.domain.model import HallConfig, Ticket

from ..http import private_page
from ..serialize import view_json
from ..state import hall_services
from .blueprint import pages
from .i18n import common_strings, hall_name

KEY_FRAGMENT = "k"  # /t/<id>#k=<rating key>: the ticket page's rating key, never sent to us


@pages.get("/t/<ticket_id>")
def ticket_page(ticket_id: str) -> Response:
    """Public: ticket ids are unguessable, and a ticket carries no personal data.

    The page rates the visit only with the ticket's rating key, which it reads from its own
    address's fragment (``#k=…``, from the slip's QR code or the online answer); a page opened
    by its bare address follows the ticket but offers no rating.
    """
    engine = hall_services().engine
    view = engine.ticket(ticket_id)
    config = engine.hall_config(view.ticket.hall)
    ticket = {**view_json(view, config), "services": visit_services(view.ticket, config)}
    data = {
        "ticket": ticket,
        "timezone": config.timezone,
        "ticket_url": url_for("api.get_ticket", ticket_id=ticket_id),
        "cancel_url": url_for("api.cancel", ticket_id=ticket_id),
        "evaluation_url": url_for("api.evaluate", ticket_id=ticket_id),
        "rectification": {"url": url_for("api.rate_rectification", ticket_id=ticket_id)},
        "follow_up_url": url_for("api.follow_up", ticket_id=ticket_id),
        "form": rating_form(config.code),
        "service_names": {s.code: {"zh": s.name_zh, "en": s.name_en} for s in config.services},
        "key_fragment": KEY_FRAGMENT,
        "scores": score_labels(),
        "strings": {**common_strings(), **citizen_strings()},
    }
    return private_page(
        render_template(
            "pages/ticket.html",
            ticket=ticket,
            hall_name=hall_name(config.name_zh, config.name_en),
            data=data,
        )
    )


def visit_services(ticket: Ticket, config: HallConfig) -> list[dict[str, Any]]:
    """The services of the visit, each rated on its own (一次一评): its index, names, status
    and whether it is rated already, and whether its rectification waits for a rating."""
    ratings = hall_services().evaluations
    services = []
    names = {s.code: s for s in config.services}
    for s in hall_services().visits.view(ticket).to_json(ticket)["services"]:
        service, index = names.get(s["service"]), s["index"]
        services.append(
            {
                "index": index,
                "service": s["service"],
                "name": s["service"] if service is None else service.name_zh,
                "name_en": s["service"] if service is None else service.name_en,
                "status": s["status"],
                "rated": ratings.is_rated(ticket.id, index),
                "rectification_open": ratings.rectification_open(ticket.id, index),
                "follow_up_open": ratings.follow_up_open(ticket.id, index),
            }
        )
    return services


def rating_form(hall: str) -> dict[str, object]:
    """The hall's indicators (with their labels) and bad-review reasons, for the rating card."""
    rules = hall_services().evaluations.rules(hall)
    labels = {
        "overall": gettext("整体满意度"),
        "efficiency": gettext("服务效率"),
        "quality": gettext("服务水平"),
        "attitude": gettext("服务态度"),
    }
    return {
        "indicators": [{"code": str(i), "label": labels[str(i)]} for i in rules.indicators],
        "reasons": list(rules.reasons),
        "follow_up_days": rules.follow_up_days,
    }


@pages.get("/r/<key>")
def invitation_link(key: str) -> Response:
    """The short link of a rating invitation's SMS/push (``/r/<key>``, one SMS part): to the
    ticket page with the key in its fragment, where the page reads it. A key no invitation
    has is a 404. The access log names routes, never paths, so the key is in no log."""
    ticket_id = hall_services().evaluations.invitation_ticket(key)
    target = url_for("pages.ticket_page", ticket_id=ticket_id) + f"#{KEY_FRAGMENT}={key}"
    response = make_response(redirect(target, code=303))
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@pages.get("/t/<ticket_id>/qr.svg")
def ticket_qr(ticket_id: str) -> Response:
    """The QR code printed on the slip: the absolute address of the ticket's page.

    With ``?key=`` (the rating key the kiosk got with the ticket) the address carries the key
    in its fragment (``#k=…``), so the citizen's phone can rate the visit; a fragment never
    reaches a server, a log or a ``Referer``. A wrong key is refused.
    """
    hall_services().engine.ticket(ticket_id)  # 404 for unknown tickets
    target = url_for("pages.ticket_page", ticket_id=ticket_id, _external=True)
    key = request.args.get("key")
    if key is not None:
        hall_services().evaluations.key_channel(ticket_id, key)  # 403 for a wrong key
        target += f"#{KEY_FRAGMENT}={key}"
    image = qrcode.make(
        target,
        image_factory=qrcode.image.svg.SvgPathImage,
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        box_size=10,
        border=2,
    )
    response = make_response(image.to_string(encoding="unicode"))
    response.mimetype = "image/svg+xml"
    response.headers["Cache-Control"] = "private, max-age=86400"
    return response


def score_labels() -> dict[str, str]:
    from .booking import score_labels as labels

    return labels()


def citizen_strings() -> dict[str, str]:
    return {
        "go_to_window": gettext("请到 {window} 号窗口办理"),
        "serving_at": gettext("正在 {window} 号窗口办理"),
        "recalled": gettext("再次呼叫,请尽快前往"),
        "people_ahead": gettext("前面还有 {n} 人"),
        "estimate_line": gettext("预计等待{text}"),
        "no_wait_line": gettext("请留意叫号,随时可能轮到您"),
        "window_label": gettext("{n} 号窗口"),
        "you_are_next": gettext("您是下一位"),
        "done_title": gettext("业务已办结"),
        "done_text": gettext("感谢您的耐心等待,祝您办事顺利。"),
        "no_show_title": gettext("已过号"),
        "no_show_text": gettext("如仍需办理,请重新取号或到服务台咨询。"),
        "cancelled_title": gettext("号码已取消"),
        "cancelled_text": gettext("如需办理,请重新取号。"),
        "cancelled_ok": gettext("已为您取消排队"),
        "rate_service": gettext("第 {n} 项(共 {total} 项):{name}"),
        "rate_next": gettext("已评价第 {n} 项,请继续评价下一项。"),
        "rate_later_segments": gettext("下一项办结后,可在本页继续评价。"),
        "rate_thanks": gettext("感谢您的评价!"),
        "invitation_expired": gettext(
            "抱歉,本次评价邀请已过期,无法再评价。如有意见,欢迎致电大厅或到服务台反映。"
        ),
        "invitation_wrong": gettext(
            "抱歉,该评价链接无效。请使用短信中的完整链接,或扫描取号凭条上的二维码评价。"
        ),
        "rate_thanks_bad": gettext("感谢您的反馈,我们将尽快回访整改。"),
        "rectification_thanks": gettext("感谢您对整改结果的评价!"),
        "follow_up_thanks": gettext("已收到您的追评,感谢您的反馈!"),
        "follow_up_empty": gettext("请填写追评内容"),
    }


@pages.get("/sw.js")
def service_worker() -> Response:
    """The hall's service worker at the site's root, so it may control every citizen page."""
    source = Path(pages.static_folder or "", "js", "sw.js").read_text(encoding="utf-8")
    response = make_response(source)
    response.mimetype = "text/javascript"
    response.headers["Service-Worker-Allowed"] = "/"
    response.headers["Cache-Control"] = "no-cache"
    return response
