"""The planner's "next week" (下周排班): forecast, window requirement and roster over HTTP.

The hall's own event history of the last year is read from the database; a hall with too
little of it (a fresh machine) is planned on the demo history (``simulations.history``) and the
answer says so (``source``). The work is ``simulations.planning``'s; plans are kept for a while
in the process so the XLSX export of the plan just shown costs nothing.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from collections import OrderedDict
from datetime import date, datetime, timedelta
from functools import lru_cache
from threading import Lock
from typing import Any, Literal

from apiflask import abort
from flask import Response
from pydantic import BaseModel, Field

from analytics.load import read_events_db
from queue_engine.domain.errors import NotFound
from queue_engine.seed import DEMO_WINDOWS
from simulations.forecast import Arrivals, arrivals_from_events, forecast
from simulations.history import OPEN, generate
from simulations.plan_actual import compare
from simulations.planning import hall_template, handling_minutes
from simulations.requirement import requirement
from simulations.roster import Staff, StaffError, parse_staff, solve, write_xlsx

from .auth import require_roles, signed_in_user
from .http import staff_doc
from .planner import PLANNERS, STAFF_EXAMPLE, _doc, planner_api
from .state import hall_services
from .validation import Strict

MIN_OPEN_DAYS = 20  # fewer days of the hall's own tickets: plan on the demo history
AHEAD_DAYS = 62  # how far ahead a plan may start
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_plans: OrderedDict[str, dict[str, Any]] = OrderedDict()
_plans_lock = Lock()
_fits: dict[Any, Any] = {}  # fitted forecast models, by series and training window


def solve_seconds() -> float:
    """``HALL_PLANNER_SOLVE_SECONDS``: the roster's time limit over HTTP (default 20)."""
    try:
        return max(float(os.environ.get("HALL_PLANNER_SOLVE_SECONDS", "20")), 0.5)
    except ValueError:
        return 20.0


def repair_cap() -> str:
    """``HALL_PLANNER_REPAIR``: ``check`` keeps requests to one simulated day each (the
    simulation repair stays for ``hall plan``); default ``simulate``."""
    return "check" if os.environ.get("HALL_PLANNER_REPAIR", "") == "check" else "simulate"


class ForecastIn(Strict):
    days: int = Field(default=14, ge=1, le=28)
    start: date | None = Field(default=None, description="first forecast day (default: tomorrow)")
    interval: Literal[30, 60] = 30


class PlanIn(Strict):
    days: int = Field(default=7, ge=1, le=7)
    start: date | None = Field(default=None, description="first planned day (default: Monday)")
    staff: str | None = Field(default=None, max_length=100_000, description="STAFF.yaml text")
    repair: Literal["simulate", "check"] = "simulate"
    replications: int = Field(default=2, ge=2, le=6)


class ForecastOut(BaseModel):
    source: str
    forecast: dict[str, Any]


class PlanOut(BaseModel):
    plan_id: int | None = Field(default=None, description="the kept plan (plan vs actual)")
    source: str
    forecast: dict[str, Any]
    requirement: dict[str, Any]
    roster: dict[str, Any]
    targets: dict[str, Any] | None = None


class KeptPlanOut(BaseModel):
    id: int
    first_day: date
    last_day: date
    interval_minutes: int
    source: str
    created_by: str
    created_at: datetime


class PlansOut(BaseModel):
    plans: list[KeptPlanOut]


class PlanActualOut(BaseModel):
    plan: KeptPlanOut
    today: date
    comparison: dict[str, Any]


class StaffExampleOut(BaseModel):
    staff: str


@lru_cache(maxsize=2)
def _demo(last: date) -> Arrivals:
    made = generate(last - timedelta(days=364), last, seed=0)
    return Arrivals(
        made.days[0].day,
        made.services,
        OPEN.hour * 60 + OPEN.minute,
        30,
        made.counts.astype(float),
        made.counts * 0.0,
    )


def _history(hall: str, today: date, minutes: int) -> tuple[Arrivals, dict[str, float], str]:
    """The hall's arrivals of the year before ``today``, or the demo hall's."""
    last = today - timedelta(days=1)
    try:
        events = read_events_db(hall_services().db, hall, today - timedelta(days=365), last)
    except NotFound:
        abort(404, f"no hall {hall}")
    issued = events.loc[events["type"] == "ticket.issued"]
    if not issued.empty and issued["ts"].dt.date.nunique() >= MIN_OPEN_DAYS:
        try:
            return arrivals_from_events(events, minutes), handling_minutes(events), "hall"
        except ValueError as exc:
            abort(422, str(exc))
    demo = _demo(last)
    if minutes == 60:
        counts = demo.walk_ins.reshape(*demo.walk_ins.shape[:2], -1, 2).sum(axis=3)
        demo = Arrivals(demo.first_day, demo.services, demo.first_minute, 60, counts, counts * 0)
    return demo, {}, "demo"


def _start(hall: str, start: date | None, default: date) -> date:
    today = _today(hall)
    start = start or default
    if not today <= start <= today + timedelta(days=AHEAD_DAYS):
        abort(422, f"the first day must be between {today} and {today + timedelta(AHEAD_DAYS)}")
    return start


def _booked(hall: str, start: date, days: int) -> Any:
    """The hall's bookings (not cancelled) for the forecast days: known arrivals."""
    return hall_services().appointments.booked(hall, start, start + timedelta(days=days - 1))


def _forecast(arrivals: Arrivals, days: int, start: date, booked: Any) -> Any:
    known_until = booked.bookable_until or start - timedelta(days=1)
    return forecast(
        arrivals, days, start, bookings=booked.slots, fits=_fitted(), known_until=known_until
    )


def _with_bookings(result: dict[str, Any], booked: Any) -> dict[str, Any]:
    until = booked.bookable_until
    result["appointments"] = {
        "source": "database",
        "booked": len(booked.slots),
        "bookable_until": until.isoformat() if until else None,
    }
    return result


def _fitted() -> dict[Any, Any]:
    if len(_fits) > 400:
        _fits.clear()
    return _fits


def _hall() -> str:
    return signed_in_user().hall or "ZMD"


def _today(hall: str) -> date:
    day: date = hall_services().engine.business_date(hall)
    return day


@planner_api.post("/planner/forecast")
@require_roles(*PLANNERS)
@planner_api.input(ForecastIn, arg_name="body")
@planner_api.output(ForecastOut)
@_doc("Arrivals forecast per service and interval with 80% intervals, from the hall's history")
def forecast_route(body: ForecastIn) -> dict[str, Any]:
    hall = _hall()
    start = _start(hall, body.start, _today(hall) + timedelta(days=1))
    arrivals, _, source = _history(hall, _today(hall), body.interval)
    booked = _booked(hall, start, body.days)
    try:
        result = _forecast(arrivals, body.days, start, booked)
    except ValueError as exc:
        abort(422, str(exc))
    return {"source": source, "forecast": _with_bookings(result.as_json(), booked)}


def _staff(text: str | None) -> Staff:
    import yaml

    try:
        raw = yaml.safe_load(text) if text else yaml.safe_load(STAFF_EXAMPLE.read_text("utf-8"))
        staff = parse_staff(raw)
    except (yaml.YAMLError, StaffError) as exc:
        abort(422, f"invalid staff file: {exc}")
    limit = min(staff.time_limit_seconds, solve_seconds())
    return staff.model_copy(update={"time_limit_seconds": limit})


def _plan(body: PlanIn) -> tuple[dict[str, Any], Any]:
    """The plan of ``body`` for the user's hall (kept for the export), and its roster."""
    hall = _hall()
    today = _today(hall)
    start = _start(hall, body.start, today + timedelta(days=7 - today.weekday()))
    booked = _booked(hall, start, body.days)
    slots = [(t.isoformat(), s) for t, s in booked.slots]
    database = hall_services().db.engine.url.render_as_string()  # each its own kept plans
    key = hashlib.sha256(
        json.dumps(
            [database, hall, start.isoformat(), body.model_dump(mode="json"), slots]
        ).encode()
    ).hexdigest()
    with _plans_lock:
        if key in _plans:
            return _plans[key]["json"], _plans[key]["roster"]
    staff = _staff(body.staff)
    arrivals, handling, source = _history(hall, today, 30)
    repair = "check" if repair_cap() == "check" else body.repair
    try:
        fc = _forecast(arrivals, body.days, start, booked)
        template = hall_template(fc.services, handling)
        req = requirement(fc, template, repair, body.replications)
    except ValueError as exc:
        abort(422, str(exc))
    roster = solve(req, staff)
    result: dict[str, Any] = {
        "source": source,
        "forecast": _with_bookings(fc.as_json(), booked),
        "requirement": req.as_json(),
        "roster": roster.as_json(),
        "targets": template.targets.model_dump(mode="json"),
    }
    result["plan_id"] = hall_services().plans.keep(
        hall, start, start + timedelta(days=body.days - 1), 30, source,
        signed_in_user().username, result,
    )  # fmt: skip
    with _plans_lock:
        _plans[key] = {"json": result, "roster": roster}
        while len(_plans) > 8:
            _plans.popitem(last=False)
    return result, roster


@planner_api.post("/planner/plan")
@require_roles(*PLANNERS)
@planner_api.input(PlanIn, arg_name="body")
@planner_api.output(PlanOut)
@_doc("Next week's plan: forecast, windows needed per interval and the clerks' roster")
def plan_route(body: PlanIn) -> dict[str, Any]:
    return _plan(body)[0]


@planner_api.post("/planner/roster.xlsx")
@require_roles(*PLANNERS)
@planner_api.input(PlanIn, arg_name="body")
@planner_api.doc(
    summary="The plan's roster as the XLSX sheet a hall prints (one sheet per day)",
    security="BearerAuth",
    responses={
        200: "the XLSX workbook",
        401: "no or invalid token",
        403: "planners only",
        422: "invalid staff file or history",
    },
)
def roster_xlsx(body: PlanIn) -> Response:
    _, roster = _plan(body)
    buffer = io.BytesIO()
    write_xlsx(roster, buffer, {w.number: w.name for w in DEMO_WINDOWS})
    stamp = roster.requirement.days[0].day.strftime("%Y%m%d")
    response = Response(buffer.getvalue(), mimetype=XLSX)
    response.headers["Content-Disposition"] = f'attachment; filename="roster-{stamp}.xlsx"'
    response.headers["Cache-Control"] = "no-store"
    return response


@planner_api.get("/planner/staff-example")
@require_roles(*PLANNERS)
@planner_api.output(StaffExampleOut)
@_doc("The example staff file (STAFF.yaml) of the demo hall")
def staff_example() -> dict[str, Any]:
    return {"staff": STAFF_EXAMPLE.read_text(encoding="utf-8")}


def _head(kept: Any) -> dict[str, Any]:
    return {
        "id": kept.id,
        "first_day": kept.first_day,
        "last_day": kept.last_day,
        "interval_minutes": kept.interval_minutes,
        "source": kept.source,
        "created_by": kept.created_by,
        "created_at": kept.created_at,
    }


@planner_api.get("/planner/plans")
@require_roles(*PLANNERS)
@planner_api.output(PlansOut)
@_doc("The plans computed for the hall (kept for plan vs actual), newest first")
def kept_plans() -> dict[str, Any]:
    return {"plans": [_head(p) for p in hall_services().plans.plans(_hall())]}


@planner_api.get("/planner/plans/<int:plan_id>/actual")
@require_roles(*PLANNERS)
@planner_api.output(PlanActualOut)
@staff_doc(
    planner_api,
    "Plan vs actual: forecast vs arrivals, planned vs open windows, the waits per interval",
    {"r404": "no such plan of the hall"},
    {401: "no or invalid token", 403: "planners only"},
)
def plan_actual(plan_id: int) -> dict[str, Any]:
    hall = _hall()
    try:
        kept = hall_services().plans.plan(hall, plan_id)
    except NotFound as exc:
        abort(404, str(exc))
    today = _today(hall)
    end = max(kept.first_day, min(kept.last_day, today - timedelta(days=1)))
    events = read_events_db(hall_services().db, hall, kept.first_day, end)
    plan = kept.plan or {}
    targets = plan.get("targets") or hall_template([]).targets.model_dump(mode="json")
    return {
        "plan": _head(kept),
        "today": today,
        "comparison": compare(plan, events, today, targets),
    }
