"""Supervision over HTTP: alerts and their acknowledgement, thresholds, today's figures."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from apiflask import APIBlueprint
from flask import current_app
from pydantic import BaseModel, ConfigDict, Field

from analytics.flags import FlagConfig
from analytics.load import read_events_db
from analytics.visits import one_visit_report
from queue_engine.domain.access import Role
from queue_engine.domain.alerts import AlertSettings
from queue_engine.domain.errors import InvalidInput

from ..auth import current_user, require_hall, require_roles
from ..http import staff_doc
from ..serialize import alert_json
from ..state import hall_services
from ..validation import Strict, parse_day
from .feed import SupervisorFeed

supervision_api = APIBlueprint("supervision_api", __name__, url_prefix="/api/v1", tag="Supervision")


def feed() -> SupervisorFeed:
    found: SupervisorFeed = current_app.extensions["supervisor_feed"]
    return found


def doc(summary: str, **responses: str) -> Any:
    return staff_doc(supervision_api, summary, responses)


# -- models --------------------------------------------------------------------------------


class AlertOut(BaseModel):
    id: int
    hall: str
    key: str
    kind: str = Field(description="wait_long, handling_long, queue_long, idle_with_queue, …")
    severity: str = Field(description="yellow or red")
    level: str
    subject: str
    window: str | None
    service: str | None
    message: str
    message_en: str
    data: dict[str, Any]
    case: int | None
    open: bool
    raised_at: str
    updated_at: str
    cleared_at: str | None
    acknowledged_at: str | None
    acknowledged_by: str | None
    note: str


class AlertsOut(BaseModel):
    hall: str
    alerts: list[AlertOut]


class AlertsQuery(Strict):
    state: str = Field(default="open", pattern="^(open|recent)$", description="open or recent")


class AcknowledgeIn(Strict):
    note: str = Field(min_length=1, max_length=500, description="what is being done about it")


class HallThresholds(Strict):
    wait_yellow_minutes: float = Field(default=15.0, ge=0, le=1440)
    wait_red_minutes: float = Field(default=30.0, ge=0, le=1440)
    handling_factor: float = Field(default=2.0, ge=0, le=50)
    queue_per_window: float = Field(default=8.0, ge=0, le=1000)
    idle_minutes: float = Field(default=5.0, ge=0, le=1440)
    paused_minutes: float = Field(default=15.0, ge=0, le=1440)
    late_open_minutes: float = Field(default=10.0, ge=0, le=1440)
    scheduled_windows: list[int] = Field(default_factory=list, max_length=500)
    rate_min_calls: int = Field(default=10, ge=0, le=10000)
    no_show_rate_max: float = Field(default=0.25, ge=0, le=1)
    recall_rate_max: float = Field(default=0.4, ge=0, le=10)
    rate_hall_factor: float = Field(default=2.0, ge=0, le=100)
    chosen_calls_max: int = Field(default=5, ge=0, le=10000)


class ServiceThresholds(Strict):
    wait_yellow_minutes: float | None = Field(default=None, ge=0, le=1440)
    wait_red_minutes: float | None = Field(default=None, ge=0, le=1440)
    handling_factor: float | None = Field(default=None, ge=0, le=50)
    queue_per_window: float | None = Field(default=None, ge=0, le=1000)


class ThresholdsIn(Strict):
    hall: HallThresholds = HallThresholds()
    services: dict[str, ServiceThresholds] = Field(default_factory=dict, max_length=200)


class ThresholdsOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    hall_code: str
    hall: dict[str, Any]
    services: dict[str, dict[str, float]]
    defaults: dict[str, Any]


class FiguresOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    hall: str
    business_date: str
    kpis: dict[str, Any]
    hourly: dict[str, list[Any]]
    windows: dict[str, list[Any]]
    services: list[dict[str, Any]]


class FiguresQuery(Strict):
    date: str | None = Field(default=None, max_length=10, description="YYYY-MM-DD; default today")


def thresholds_json(hall: str, settings: AlertSettings) -> dict[str, Any]:
    data = settings.to_mapping()
    return {
        "hall_code": hall,
        "hall": data["hall"],
        "services": data["services"],
        "defaults": AlertSettings().to_mapping()["hall"],
    }


# -- routes --------------------------------------------------------------------------------


@supervision_api.get("/halls/<string:hall>/alerts")
@supervision_api.input(AlertsQuery, location="query", arg_name="query")
@supervision_api.output(AlertsOut)
@require_roles(Role.SUPERVISOR)
@doc("A hall's alerts: open ones, or open and recent (last 12 hours), newest first")
def alerts(hall: str, query: AlertsQuery) -> dict[str, Any]:
    require_hall(hall)
    found = feed().open_alerts(hall) if query.state == "open" else feed().alerts(hall)
    return {"hall": hall, "alerts": found}


@supervision_api.post("/alerts/<int:alert_id>/acknowledge")
@supervision_api.input(AcknowledgeIn, arg_name="body")
@supervision_api.output(AlertOut)
@require_roles(Role.SUPERVISOR)
@doc(
    "Acknowledge an alert with a note (once)",
    r404="no such alert",
    r409="already acknowledged",
    r422="empty note",
)
def acknowledge(alert_id: int, body: AcknowledgeIn) -> dict[str, Any]:
    supervision = hall_services().supervision
    require_hall(supervision.alert(alert_id).hall)
    user = current_user()
    assert user is not None
    return alert_json(supervision.acknowledge(alert_id, user.username, body.note))


@supervision_api.get("/halls/<string:hall>/alert-thresholds")
@supervision_api.output(ThresholdsOut)
@require_roles(Role.SUPERVISOR)
@doc("A hall's alert thresholds and per-service overrides (with the defaults)")
def get_thresholds(hall: str) -> dict[str, Any]:
    require_hall(hall)
    return thresholds_json(hall, hall_services().supervision.settings(hall))


@supervision_api.put("/halls/<string:hall>/alert-thresholds")
@supervision_api.input(ThresholdsIn, arg_name="body")
@supervision_api.output(ThresholdsOut)
@require_roles(Role.ADMIN)
@doc("Replace a hall's alert thresholds (admins; audited with before and after)", r422="invalid")
def put_thresholds(hall: str, body: ThresholdsIn) -> dict[str, Any]:
    require_hall(hall)
    user = current_user()
    assert user is not None
    data = body.model_dump()
    data["services"] = {
        code: {k: v for k, v in values.items() if v is not None}
        for code, values in data["services"].items()
    }
    settings = hall_services().supervision.update_settings(
        hall, data, user.username, str(user.role)
    )
    hall_services().supervision.evaluate(hall)
    return thresholds_json(hall, settings)


class FlagWeights(Strict):
    satisfaction: float = Field(default=0.25, ge=0, le=100)
    waiting: float = Field(default=0.15, ge=0, le=100)
    handling: float = Field(default=0.20, ge=0, le=100)
    no_show: float = Field(default=0.10, ge=0, le=100)
    alerts: float = Field(default=0.15, ge=0, le=100)
    attendance: float = Field(default=0.15, ge=0, le=100)
    one_visit: float = Field(default=0.0, ge=0, le=100, description="最多跑一次 (issue 18)")


class FlagSettingsIn(Strict):
    weights: FlagWeights = FlagWeights()
    red: int = Field(default=3, ge=0, le=100)
    black: int = Field(default=3, ge=0, le=100)
    min_visits: int = Field(default=30, ge=0, le=100000)


class FlagSettingsOut(BaseModel):
    hall: str
    weights: dict[str, float]
    red: int
    black: int
    min_visits: int
    formula: str


FORMULA = "score = 50 + 10 × Σ weight·z / Σ weight (see docs/flags.md)"


@supervision_api.get("/halls/<string:hall>/flag-settings")
@supervision_api.output(FlagSettingsOut)
@require_roles(Role.SUPERVISOR)
@doc("The red/black flag formula of a hall: component weights, flag counts, minimum volume")
def get_flag_settings(hall: str) -> dict[str, Any]:
    require_hall(hall)
    config = FlagConfig.from_mapping(hall_services().supervision.flags(hall))
    return {"hall": hall, **config.to_mapping(), "formula": FORMULA}


@supervision_api.put("/halls/<string:hall>/flag-settings")
@supervision_api.input(FlagSettingsIn, arg_name="body")
@supervision_api.output(FlagSettingsOut)
@require_roles(Role.ADMIN)
@doc("Replace the flag formula (admins; audited with before and after)", r422="invalid")
def put_flag_settings(hall: str, body: FlagSettingsIn) -> dict[str, Any]:
    require_hall(hall)
    try:
        config = FlagConfig.from_mapping(body.model_dump())
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    user = current_user()
    assert user is not None
    hall_services().supervision.update_flags(
        hall, config.to_mapping(), user.username, str(user.role)
    )
    return {"hall": hall, **config.to_mapping(), "formula": FORMULA}


class BoardOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    hall: str
    now: str
    windows: list[dict[str, Any]]
    queues: list[dict[str, Any]]


@supervision_api.get("/halls/<string:hall>/board")
@supervision_api.output(BoardOut)
@require_roles(Role.SUPERVISOR)
@doc("Every window (state, ticket with call and start times, clerk, handling limit) and queue")
def board(hall: str) -> dict[str, Any]:
    require_hall(hall)
    return feed().board(hall)


@supervision_api.get("/halls/<string:hall>/figures")
@supervision_api.input(FiguresQuery, location="query", arg_name="query")
@supervision_api.output(FiguresOut)
@require_roles(Role.SUPERVISOR)
@doc("A business day's KPIs and chart series (hourly arrivals, waits, service level, windows)")
def figures(hall: str, query: FiguresQuery) -> dict[str, Any]:
    require_hall(hall)
    day = parse_day(query.date) if query.date else None
    return feed().figures(hall, day)


class OneVisitQuery(Strict):
    days: int = Field(default=30, ge=1, le=92, description="the last N business days, today too")


class OneVisitOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    hall: str
    first: str
    last: str
    matters: int
    visits: int
    visits_per_matter: float | None
    share_one_visit: float | None
    returns: int = Field(description="segments finished 补正材料 in the period")
    by_service: dict[str, dict[str, Any]]
    proxy_visits: int = Field(default=0, description="visits of 代办 tickets (for the citizen)")


@supervision_api.get("/halls/<string:hall>/one-visit")
@supervision_api.input(OneVisitQuery, location="query", arg_name="query")
@supervision_api.output(OneVisitOut)
@require_roles(Role.SUPERVISOR)
@doc("最多跑一次 of the last days: matters, visits per matter, share done in one visit (issue 18)")
def one_visit(hall: str, query: OneVisitQuery) -> dict[str, Any]:
    require_hall(hall)
    services = hall_services()
    last = services.engine.business_date(hall)
    first = last - timedelta(days=query.days - 1)
    report = one_visit_report(read_events_db(services.db, hall, first, last))
    returns = sum(r["returns"] for r in report.pop("returns_for_documents"))
    return {"hall": hall, "first": first.isoformat(), "last": last.isoformat(), **report,
            "returns": returns}  # fmt: skip
