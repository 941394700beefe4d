"""The public 好差评 page of a hall: its published figures, month by month, no personal data."""

from __future__ import annotations

from datetime import timedelta

from flask import Response, make_response, render_template, request

from queue_engine.domain.evaluation_figures import month_days, months_back

from ..state import hall_services
from .blueprint import pages
from .i18n import hall_name


@pages.get("/halls/<hall>/haocaiping")
def evaluation_figures(hall: str) -> Response:
    """Public: ratings, 好评率, 差评, 主动评价率, 回访 and 整改 by window, service, department."""
    services = hall_services()
    config = services.engine.hall_config(hall)  # 404 for an unknown hall
    today = config.business_date(services.clock.now())
    month = request.args.get("month") or today.strftime("%Y-%m")
    month_days(month)  # a bad month is a 422 page
    figures = services.evaluation_reports.published(config.code, month)
    previous, following = months_back(month, 2)[0], _next(month)
    page = render_template(
        "pages/evaluation_figures.html",
        figures=figures,
        month=month,
        previous=previous,
        following=following if following <= today.strftime("%Y-%m") else None,
        hall_name=hall_name(config.name_zh, config.name_en),
        hall_code=config.code,
    )
    response = make_response(page)
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


def _next(month: str) -> str:
    _, last = month_days(month)
    return (last + timedelta(days=1)).strftime("%Y-%m")
