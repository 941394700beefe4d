"""The planner (规划仿真): a page and two API calls to run scenarios and staffing plans.

A supervisor pastes or uploads a scenario (SPEC §5), runs the SimPy model of the hall on it and
asks for the fewest windows per hour that meet the targets; the page draws the results with
ECharts. The work is done by ``simulations``; this module only adapts it to HTTP and pages.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from apiflask import APIBlueprint, abort
from flask import render_template
from flask_babel import gettext
from pydantic import BaseModel, Field

from queue_engine.domain.access import Role
from simulations.replicate import replicate
from simulations.scenario import Scenario, ScenarioError, loads_scenario
from simulations.staffing import staff

from .auth import issue_token, require_roles, signed_in_user
from .http import staff_doc
from .pages.blueprint import pages
from .pages.i18n import common_strings
from .validation import Strict

planner_api = APIBlueprint("planner_api", __name__, url_prefix="/api/v1", tag="Planner")

EXAMPLE = Path(__file__).resolve().parent.parent / "simulations" / "scenarios" / "weekday.yaml"
STAFF_EXAMPLE = EXAMPLE.with_name("staff.yaml")
MAX_DAYS = 31  # keeps a request to seconds; longer studies belong to `hall simulate`
MAX_TEXT = 200_000
MAX_CITIZENS = 2_000_000  # expected citizens × replications in one request (~10 s of work)
MAX_WINDOWS = 500
PLANNERS = (Role.SUPERVISOR,)


class SimulateIn(Strict):
    scenario: str = Field(min_length=1, max_length=MAX_TEXT, description="YAML or JSON (SPEC §5)")
    replications: int = Field(default=10, ge=1, le=50)
    seed: int = Field(default=0, ge=0, le=2**31)


class StaffIn(Strict):
    scenario: str = Field(min_length=1, max_length=MAX_TEXT, description="YAML or JSON (SPEC §5)")
    interval: Literal[60, 30] = 60
    replications: int = Field(default=6, ge=2, le=20)
    seed: int = Field(default=0, ge=0, le=2**31)
    compare: bool = True


class SimulationOut(BaseModel):
    scenario: str
    seed: int
    replications: int
    overall: dict[str, Any]
    by_service: dict[str, Any]
    by_hour: list[dict[str, Any]]
    by_window: dict[str, Any]


class StaffOut(BaseModel):
    layout: str
    intervals: list[dict[str, Any]]
    window_hours: float
    pools: list[dict[str, Any]]
    comparison: dict[str, Any] | None = None
    replications: int
    simulated_plans: int


class ExampleOut(BaseModel):
    scenario: str


def _scenario(text: str, replications: int) -> Scenario:
    try:
        scenario = loads_scenario(text)
    except ScenarioError as exc:
        abort(422, str(exc))
    if scenario.horizon_minutes is None and scenario.days > MAX_DAYS:
        abort(422, f"at most {MAX_DAYS} days here; run longer studies with `hall simulate`")
    if scenario.horizon_minutes is not None and scenario.horizon_minutes > MAX_DAYS * 1440:
        abort(422, f"at most {MAX_DAYS * 1440} minutes here")
    if scenario.window_count > MAX_WINDOWS:
        abort(422, f"at most {MAX_WINDOWS} windows here")
    if scenario.expected_arrivals * replications > MAX_CITIZENS:
        abort(
            422,
            f"about {scenario.expected_arrivals * replications:,.0f} citizens to simulate; at "
            f"most {MAX_CITIZENS:,} here (fewer days or replications, or `hall simulate`)",
        )
    return scenario


def _doc(summary: str) -> Any:
    errors = {401: "no or invalid token", 403: "planners only"}
    return staff_doc(planner_api, summary, {"r422": "invalid scenario"}, errors)


@planner_api.post("/planner/simulate")
@require_roles(*PLANNERS)
@planner_api.input(SimulateIn, arg_name="body")
@planner_api.output(SimulationOut)
@_doc("Simulate a scenario: KPIs with 95% intervals, by service, hour and window")
def simulate(body: SimulateIn) -> dict[str, Any]:
    return replicate(
        _scenario(body.scenario, body.replications), body.replications, body.seed, workers=1
    )


@planner_api.post("/planner/staff")
@require_roles(*PLANNERS)
@planner_api.input(StaffIn, arg_name="body")
@planner_api.output(StaffOut)
@_doc("The fewest open windows per interval meeting the scenario's targets")
def staffing(body: StaffIn) -> dict[str, Any]:
    scenario = _scenario(body.scenario, body.replications)
    return staff(scenario, body.seed, body.interval, body.replications, 1, body.compare)


@planner_api.get("/planner/example")
@require_roles(*PLANNERS)
@planner_api.output(ExampleOut)
@_doc("An example scenario to start from")
def example() -> dict[str, Any]:
    return {"scenario": EXAMPLE.read_text(encoding="utf-8")}


@pages.get("/planner")
@require_roles(*PLANNERS)
def planner_page() -> str:
    """Edit a scenario, run it, and see the staffing plan and charts."""
    user = signed_in_user()
    data = {
        "token": issue_token(user),
        "example": EXAMPLE.read_text(encoding="utf-8"),
        "simulate_url": "/api/v1/planner/simulate",
        "staff_url": "/api/v1/planner/staff",
        "forecast_url": "/api/v1/planner/forecast",
        "plan_url": "/api/v1/planner/plan",
        "xlsx_url": "/api/v1/planner/roster.xlsx",
        "plans_url": "/api/v1/planner/plans",
        "staff_example": STAFF_EXAMPLE.read_text(encoding="utf-8"),
        "strings": {**common_strings(), **planner_strings()},
    }
    return render_template("pages/planner.html", user=user, data=data)


def planner_strings() -> dict[str, str]:
    return {
        "running": gettext("正在计算…"),
        "failed": gettext("计算失败"),
        "mean_wait": gettext("平均等候(分钟)"),
        "p90_wait": gettext("90% 等候不超过(分钟)"),
        "within": gettext("目标时间内办理占比"),
        "utilization": gettext("窗口利用率"),
        "abandon": gettext("中途离开占比"),
        "served": gettext("办结人数"),
        "arrivals": gettext("到达人数"),
        "windows": gettext("开放窗口数"),
        "theory": gettext("理论初值"),
        "window_hours": gettext("窗口·小时"),
        "layout_scenario": gettext("当前窗口设置"),
        "layout_dedicated": gettext("分部门专窗"),
        "layout_comprehensive": gettext("无差别综合受理"),
        "hour": gettext("时段"),
        "ci": gettext("95% 置信区间"),
        "file_error": gettext("无法读取该文件"),
        **week_strings(),
    }


def week_strings() -> dict[str, str]:
    """The "next week" tab (issue 21)."""
    return {
        "expected": gettext("预测到达"),
        "band": gettext("80% 预测区间"),
        "required": gettext("需要窗口"),
        "rostered": gettext("排班窗口"),
        "source_demo": gettext("大厅历史不足,使用演示历史数据"),
        "source_hall": gettext("基于本大厅近一年取号记录"),
        "status_OPTIMAL": gettext("已证明最优"),
        "status_FEASIBLE": gettext("可行方案"),
        "status_INFEASIBLE": gettext("无法排班"),
        "status_UNKNOWN": gettext("限时内未找到方案"),
        "gap": gettext("与下界差距"),
        "clerk_hours": gettext("人员工时"),
        "window_changes": gettext("换窗次数"),
        "lunch": gettext("午休"),
        "closed": gettext("休息日"),
        "window": gettext("窗口"),
        "planning": gettext("正在预测并排班…(约一分钟)"),
        "exporting": gettext("正在导出…"),
        **actual_strings(),
    }


def actual_strings() -> dict[str, str]:
    """The "plan vs actual" tab (issue 21)."""
    return {
        "actual_arrivals": gettext("实际到达"),
        "open_windows": gettext("实际开放窗口"),
        "forecast_error": gettext("预测误差"),
        "no_plans": gettext("还没有保存的计划:请先在“下周排班”中预测并排班"),
        "not_over": gettext("计划的日期尚未过去,还没有实际数据"),
        "days_compared": gettext("已对比天数"),
        "comparing": gettext("正在读取实际数据…"),
        "rostered_hours": gettext("排班窗口·小时"),
        "open_hours": gettext("实际开放窗口·小时"),
        "plan_label": gettext("计划"),
        "target_line": gettext("目标"),
    }


from . import week_plan as week_plan  # noqa: E402  (its routes join planner_api)
