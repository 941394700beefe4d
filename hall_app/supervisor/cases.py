"""A bad review's case page (deadlines, appeals, cards and the 督办通知书), and the month's
black flags confirmed into 约谈 records from the monthly report."""

from __future__ import annotations

from flask import Response, flash, redirect, render_template, url_for
from flask_babel import gettext
from werkzeug.wrappers import Response as BaseResponse

from queue_engine.domain.access import Role
from queue_engine.domain.evaluations import SCORE_LABELS

from ..auth import require_hall, require_roles, signed_in_user
from ..http import no_store
from ..pages.i18n import hall_name
from ..state import hall_services
from .pages import supervisor_pages
from .reports import _month_arg, _monthly


def case_status_labels() -> dict[str, str]:
    return {
        "open": gettext("待回访"),
        "called_back": gettext("已回访"),
        "rectified": gettext("已整改"),
        "closed": gettext("已办结"),
        "excluded": gettext("申诉成立,不计入"),
        "pending": gettext("申诉待复核"),
        "upheld": gettext("申诉成立"),
        "rejected": gettext("申诉不成立"),
        "yellow": gettext("黄牌预警"),
        "red": gettext("红牌问责"),
        "callback_overdue": gettext("回访逾期"),
        "rectify_overdue": gettext("整改逾期"),
        "rectified_resolution": gettext("已整改"),
        "explained": gettext("解释说明"),
        "satisfied": gettext("满意"),
        "basic": gettext("基本满意"),
        "unsatisfied": gettext("不满意"),
    }


@supervisor_pages.get("/cases/<int:case_id>")
@require_roles(Role.SUPERVISOR)
def case_page(case_id: int) -> Response:
    """One case: the review, both deadlines, what was done, the appeals, the cards."""
    services = hall_services()
    case = services.evaluations.case(case_id)
    require_hall(case.hall)
    config = services.engine.hall_config(case.hall)
    service = next((s for s in config.services if s.code == case.service), None)
    return no_store(
        render_template(
            "supervisor/case.html",
            user=signed_in_user(),
            hall=config,
            hall_name=hall_name(config.name_zh, config.name_en),
            case=case,
            service_name=hall_name(service.name_zh, service.name_en) if service else case.service,
            score_label=SCORE_LABELS[case.score],
            appeals=services.appeals.appeals(case_id),
            cards=services.efficiency.cards_of_case(case_id),
            labels=case_status_labels(),
            zone=config.zone,
        )
    )


@supervisor_pages.get("/cards/<int:card_id>/notice.pdf")
@require_roles(Role.SUPERVISOR)
def card_notice_page(card_id: int) -> Response:
    """The 督办通知书 of a red card, for a signed-in supervisor's browser."""
    hall, number, pdf = hall_services().efficiency.notice(card_id)
    require_hall(hall)
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{number}.pdf"'
    return no_store(response)


@supervisor_pages.post("/<string:hall>/reports/monthly/black-flags")
@require_roles(Role.SUPERVISOR)
def confirm_black_flags(hall: str) -> BaseResponse:
    """Keep the month's black flags as ranked; two months in a row call a department in."""
    require_hall(hall)
    config = hall_services().engine.hall_config(hall)
    first, last = _month_arg(config)
    _, _, ranked = _monthly(config.code, first, last)
    black = [str(w) for w in ranked.index[ranked["flag"] == "black"]]
    month = first.strftime("%Y-%m")
    made = hall_services().efficiency.record_black_flags(config.code, month, black)
    flash(
        gettext("已记录 %(n)s 面黑旗,新增约谈 %(m)s 个部门。", n=len(black), m=len(made)),
        "info",
    )
    return redirect(url_for("supervisor.monthly_report", hall=config.code, month=month))
