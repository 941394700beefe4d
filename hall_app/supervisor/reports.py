"""Daily and monthly reports as pages and downloads (CSV, XLSX, PNG), and the flag drill-down."""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from typing import Any

import pandas as pd
from flask import Response, abort, render_template, request
from flask_babel import gettext

from analytics.exports import bar_chart, csv_bytes, hourly_chart, service_level_chart, xlsx_bytes
from analytics.figures import day_figures
from analytics.flags import FlagConfig, drill_down, rank_windows
from analytics.kpis import Ledger, kpis, records
from analytics.load import read_events_db
from analytics.visits import one_visit_report
from queue_engine.domain.access import Role

from ..auth import require_roles
from ..http import no_store
from ..pages.i18n import hall_name
from ..state import hall_services
from ..validation import parse_day, parse_month
from .pages import page_hall, supervisor_pages

TABLE_COLUMNS = (
    "tickets", "served", "wait_mean", "wait_p90", "handling_mean", "service_level_5",
    "service_level_15", "no_show_rate", "transfer_rate", "cancellation_rate", "utilization",
    "throughput_per_hour", "ewt_abs_error_mean", "satisfaction", "bad_reviews",
)  # fmt: skip
FLAG_COLUMNS = (
    "rank", "flag", "score", "visits", "served", "satisfaction", "waiting", "handling",
    "no_show", "alerts", "attendance", "reviews", "alerts_raised", "open_days", "one_visit",
    "returns",
)  # fmt: skip
MIME = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "png": "image/png",
}


def column_labels() -> dict[str, str]:
    return {
        "tickets": gettext("取号"),
        "served": gettext("办结"),
        "wait_mean": gettext("平均等候"),
        "wait_p90": gettext("90% 等候"),
        "handling_mean": gettext("平均办理"),
        "service_level_5": gettext("5 分钟内叫号"),
        "service_level_15": gettext("15 分钟内叫号"),
        "no_show_rate": gettext("过号率"),
        "transfer_rate": gettext("转办率"),
        "cancellation_rate": gettext("取消率"),
        "utilization": gettext("利用率"),
        "throughput_per_hour": gettext("每小时办结"),
        "ewt_abs_error_mean": gettext("预计等候误差"),
        "satisfaction": gettext("满意度"),
        "bad_reviews": gettext("差评"),
        "rank": gettext("名次"),
        "flag": gettext("红黑旗"),
        "score": gettext("综合得分"),
        "visits": gettext("叫号"),
        "waiting": gettext("等候指数"),
        "handling": gettext("办理指数"),
        "no_show": gettext("超额过号率"),
        "alerts": gettext("每百次叫号预警"),
        "attendance": gettext("出勤率"),
        "reviews": gettext("评价数"),
        "alerts_raised": gettext("预警数"),
        "open_days": gettext("开窗天数"),
        "one_visit": gettext("一次办结(超出预期)"),
        "returns": gettext("补正退回"),
        "matters": gettext("事项(人·事项)"),
        "visits_per_matter": gettext("人均跑动次数"),
        "share_one_visit": gettext("一次办结率"),
        "identified_visits": gettext("到厅办理次数"),
    }


# -- loading -------------------------------------------------------------------------------


def _day_arg(config: Any) -> date:
    text = request.args.get("date")
    if not text:
        return hall_services().engine.business_date(config.code)
    return parse_day(text)


def _month_arg(config: Any) -> tuple[date, date]:
    text = request.args.get("month")
    if text:
        first = parse_month(text)
    else:
        first = hall_services().engine.business_date(config.code).replace(day=1)
    last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    return first, last


def _events(hall: str, first: date, last: date) -> pd.DataFrame:
    return read_events_db(hall_services().db, hall, first, last)


def _flag_config(hall: str) -> FlagConfig:
    return FlagConfig.from_mapping(hall_services().supervision.flags(hall))


def _table(table: pd.DataFrame, columns: tuple[str, ...]) -> list[dict[str, Any]]:
    keep = [c for c in columns if c in table.columns]
    return records(table[keep])


# -- daily ---------------------------------------------------------------------------------


def _daily(hall: str, day: date) -> tuple[Ledger, dict[str, Any]]:
    ledger = Ledger.from_events(_events(hall, day, day))
    return ledger, day_figures(ledger)


@supervisor_pages.get("/<string:hall>/reports/daily")
@require_roles(Role.SUPERVISOR)
def daily_report(hall: str) -> Response:
    user, config = page_hall(hall)
    day = _day_arg(config)
    ledger, figures = _daily(config.code, day)
    return no_store(
        render_template(
            "supervisor/daily.html",
            user=user,
            hall=config,
            hall_name=hall_name(config.name_zh, config.name_en),
            day=day,
            prev_day=day - timedelta(days=1),
            next_day=day + timedelta(days=1),
            figures=figures,
            hours=_table(kpis(ledger, "hour"), TABLE_COLUMNS),
            services=_table(kpis(ledger, "service"), TABLE_COLUMNS),
            windows=_table(kpis(ledger, "window"), TABLE_COLUMNS),
            columns=TABLE_COLUMNS,
            labels=column_labels(),
            service_names={s.code: s.name_zh for s in config.services},
        )
    )


@supervisor_pages.get("/<string:hall>/reports/daily.<string:fmt>")
@require_roles(Role.SUPERVISOR)
def daily_download(hall: str, fmt: str) -> Response:
    _, config = page_hall(hall)
    day = _day_arg(config)
    ledger, figures = _daily(config.code, day)
    tables = {
        "windows": kpis(ledger, "window"),
        "services": kpis(ledger, "service"),
        "hours": kpis(ledger, "hour"),
    }
    name = f"{config.code}-daily-{day.isoformat()}"
    return _download(name, fmt, tables, _daily_charts(figures))


def _daily_charts(figures: dict[str, Any]) -> dict[str, Any]:
    labels = {
        "arrivals": gettext("取号人数"),
        "wait": gettext("平均等候(分钟)"),
        "p90": gettext("90% 等候(分钟)"),
        "minutes": gettext("分钟"),
        "sl5": gettext("5 分钟内叫号率"),
        "sl15": gettext("15 分钟内叫号率"),
    }
    hourly, windows = figures["hourly"], figures["windows"]
    return {
        "hourly": lambda: hourly_chart(hourly, {**labels, "title": gettext("分时取号与等候")}),
        "service-level": lambda: service_level_chart(
            hourly, {**labels, "title": gettext("分时服务水平")}
        ),
        "windows": lambda: bar_chart(windows["windows"], windows["served"], gettext("窗口办结量")),
    }


# -- monthly -------------------------------------------------------------------------------


def _monthly(hall: str, first: date, last: date) -> tuple[Ledger, pd.DataFrame, pd.DataFrame]:
    events = _events(hall, first, last)
    ledger = Ledger.from_events(events)
    return ledger, events, rank_windows(ledger, events, _flag_config(hall))


@supervisor_pages.get("/<string:hall>/reports/monthly")
@require_roles(Role.SUPERVISOR)
def monthly_report(hall: str) -> Response:
    user, config = page_hall(hall)
    first, last = _month_arg(config)
    ledger, events, ranked = _monthly(config.code, first, last)
    ranking = ranked.sort_values(["score", "visits"], ascending=[False, False], na_position="last")
    prev_month = (first - timedelta(days=1)).replace(day=1)
    return no_store(
        render_template(
            "supervisor/monthly.html",
            user=user,
            hall=config,
            hall_name=hall_name(config.name_zh, config.name_en),
            month=first.strftime("%Y-%m"),
            prev_month=prev_month.strftime("%Y-%m"),
            next_month=(last + timedelta(days=1)).strftime("%Y-%m"),
            overall=records(kpis(ledger))[0],
            days=_table(kpis(ledger, "day"), TABLE_COLUMNS),
            ranking=_table(ranking, FLAG_COLUMNS),
            columns=TABLE_COLUMNS,
            flag_columns=FLAG_COLUMNS,
            labels=column_labels(),
            config=_flag_config(config.code),
            one_visit=one_visit_report(events),
            service_names={s.code: s.name_zh for s in config.services},
            evaluation=hall_services().evaluation_reports.monthly(
                config.code, first.strftime("%Y-%m")
            ),
        )
    )


@supervisor_pages.get("/<string:hall>/reports/monthly.<string:fmt>")
@require_roles(Role.SUPERVISOR)
def monthly_download(hall: str, fmt: str) -> Response:
    _, config = page_hall(hall)
    first, last = _month_arg(config)
    ledger, events, ranked = _monthly(config.code, first, last)
    by_day = kpis(ledger, "day")
    tables = {
        "flags": ranked[[c for c in FLAG_COLUMNS if c in ranked.columns]],
        "days": by_day,
        "windows": kpis(ledger, "window"),
        "services": kpis(ledger, "service"),
        **one_visit_tables(one_visit_report(events)),
    }
    ordered = ranked.sort_values("score", ascending=False, na_position="last")
    palette = {"red": "#c8102e", "black": "#1f2937"}
    colors = [palette.get(f, "#0b5cad") for f in ordered["flag"]]
    days = [d.strftime("%m-%d") for d in by_day.index]
    charts = {
        "flags": lambda: bar_chart(
            list(ordered.index), list(ordered["score"]), gettext("窗口综合得分"), colors
        ),
        "days": lambda: bar_chart(days, list(by_day["tickets"]), gettext("每日取号")),
    }
    name = f"{config.code}-monthly-{first.strftime('%Y-%m')}"
    return _download(name, fmt, tables, charts)


def one_visit_tables(report: dict[str, Any]) -> dict[str, pd.DataFrame]:
    """The 最多跑一次 figures as download tables: per service, and returns for documents."""
    by_service = pd.DataFrame.from_dict(report["by_service"], orient="index")
    by_service.index.name = "service"
    overall = {k: report[k] for k in ("matters", "visits", "visits_per_matter", "share_one_visit")}
    by_service = pd.concat(
        [pd.DataFrame([overall], index=pd.Index(["*"], name="service")), by_service]
    )
    returns = pd.DataFrame(
        report["returns_for_documents"], columns=["month", "service", "window", "returns"]
    )
    return {"one_visit": by_service, "returns": returns.set_index(["month", "service", "window"])}


@supervisor_pages.get("/<string:hall>/reports/monthly/window/<string:window>")
@require_roles(Role.SUPERVISOR)
def flag_drill_down(hall: str, window: str) -> Response:
    user, config = page_hall(hall)
    first, last = _month_arg(config)
    ledger, events, ranked = _monthly(config.code, first, last)
    if window not in ranked.index:
        abort(404)
    parts = drill_down(ledger, window, events)
    if request.args.get("format") == "csv":
        name = f"{config.code}-window{window}-{first.strftime('%Y-%m')}"
        return _download(name, "csv", {"visits": parts["visits"]}, {})
    return no_store(
        render_template(
            "supervisor/drill_down.html",
            user=user,
            hall=config,
            hall_name=hall_name(config.name_zh, config.name_en),
            month=first.strftime("%Y-%m"),
            window=window,
            row=records(ranked.loc[[window], [c for c in FLAG_COLUMNS if c in ranked.columns]])[0],
            visits=records(parts["visits"].reset_index(drop=True)),
            waits=records(parts["waits"]),
            reviews=records(parts["reviews"].reset_index(drop=True)),
            labels=column_labels(),
            service_names={s.code: s.name_zh for s in config.services},
        )
    )


# -- downloads -----------------------------------------------------------------------------


def _download(
    name: str, fmt: str, tables: dict[str, pd.DataFrame], charts: dict[str, Any]
) -> Response:
    if fmt == "csv":
        table = request.args.get("table", next(iter(tables)))
        if table not in tables:
            abort(404)
        body, filename = csv_bytes(tables[table]), f"{name}-{table}.csv"
    elif fmt == "xlsx":
        body, filename = xlsx_bytes(tables), f"{name}.xlsx"
    elif fmt == "png":
        chart = request.args.get("chart", next(iter(charts), ""))
        if chart not in charts:
            abort(404)
        body, filename = charts[chart](), f"{name}-{chart}.png"
    else:
        abort(404)
    response = Response(body, mimetype=MIME[fmt])
    disposition = "inline" if fmt == "png" else "attachment"
    response.headers["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    return no_store(response)
