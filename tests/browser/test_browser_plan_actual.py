"""The planner's "plan vs actual" tab in a real browser (issue 21).

A hall of its own: before ``hall serve`` starts, a plan for the last working day is made with
the planner's own functions (demo history, forecast, requirement, roster) and kept, and that
day is then played through the queue engine: citizens drawn around the forecast, windows
opened by the roster, each free window calling the next ticket.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from playwright.sync_api import Browser, Page, expect

from queue_engine.adapters.unit_of_work import Database
from queue_engine.domain.clock import FrozenClock
from queue_engine.domain.errors import DomainError
from queue_engine.services.plans import PlanBook
from queue_engine.services.tickets import QueueEngine
from tests.helpers.display import HallServer
from tests.web.test_week_plan_api import SMALL_STAFF

pytestmark = pytest.mark.browser

ZONE = ZoneInfo("Asia/Shanghai")
WaitUntil = Callable[[Page, str], None]


def last_working_day() -> date:
    from simulations.workdays import classify

    day = datetime.now(ZONE).date() - timedelta(days=1)
    while not classify(day).open:
        day -= timedelta(days=1)
    return day


def make_plan(day: date) -> dict[str, Any]:
    """The plan ``POST /planner/plan`` would have made for ``day`` on the demo history."""
    import yaml

    from hall_app.week_plan import _demo
    from simulations.forecast import forecast
    from simulations.planning import hall_template
    from simulations.requirement import requirement
    from simulations.roster import parse_staff, solve

    fc = forecast(_demo(day - timedelta(days=1)), 1, day)
    template = hall_template(fc.services)
    req = requirement(fc, template, "check", 2)
    roster = solve(req, parse_staff(yaml.safe_load(SMALL_STAFF)))
    return {
        "source": "demo",
        "forecast": fc.as_json(),
        "requirement": req.as_json(),
        "roster": roster.as_json(),
        "targets": template.targets.model_dump(mode="json"),
        "means": {s.code: s.service_time.mean_minutes for s in template.services},
    }


def play_day(db: Database, day: date, plan: dict[str, Any], seed: int = 3) -> int:
    """The day through the engine; the number of tickets issued."""
    start = datetime.combine(day, time(8, 30), ZONE)
    clock = FrozenClock(start)
    engine = QueueEngine(db, clock)
    rng = np.random.default_rng(seed)
    intervals = plan["forecast"]["days"][0]["intervals"]
    grid = plan["roster"]["days"][0]["grid"]
    means = plan.pop("means")
    arrivals = []
    for j, iv in enumerate(intervals):
        surge = 1.2 if j in (2, 3, 4) else 0.9  # a busier mid-morning than forecast
        for code, v in iv["services"].items():
            for _ in range(rng.poisson(v["expected"] * surge)):
                arrivals.append((30 * j + rng.uniform(0, 30), code))
    arrivals.sort()
    busy: dict[int, tuple[str, float]] = {}
    opened: set[int] = set()
    issued, k = 0, 0
    for minute in range(0, 30 * len(intervals) + 30):
        j = minute // 30
        clock.set(start + timedelta(minutes=minute))
        for w_text, seats in grid.items():
            w = int(w_text)
            wanted = j < len(seats) and seats[j] is not None
            if wanted and w not in opened:
                engine.open_window(w, f"clerk{w:02d}")
                opened.add(w)
            elif not wanted and w in opened and w not in busy:
                engine.close_window(w, f"clerk{w:02d}")
                opened.discard(w)
        while k < len(arrivals) and arrivals[k][0] <= minute:
            clock.set(start + timedelta(minutes=arrivals[k][0]))
            try:
                engine.issue("ZMD", arrivals[k][1], "kiosk")
                issued += 1
            except DomainError:
                pass
            k += 1
        clock.set(start + timedelta(minutes=minute))
        for w, (ticket, until) in list(busy.items()):
            if until <= minute:
                engine.finish(ticket, f"clerk{w:02d}")
                del busy[w]
        for w in sorted(opened - set(busy)):
            ticket = engine.call_next(w, f"clerk{w:02d}")
            if ticket is None:
                continue
            engine.start(ticket.id, f"clerk{w:02d}")
            mean = means.get(ticket.service, 8.0)
            busy[w] = (ticket.id, minute + max(1.0, rng.exponential(mean)))
    for w in sorted(opened - set(busy)):
        engine.close_window(w, f"clerk{w:02d}")
    return issued


@pytest.fixture(scope="module")
def played(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[HallServer, int]]:
    server = HallServer(tmp_path_factory.mktemp("plan-actual"))
    server.init()
    day = last_working_day()
    plan = make_plan(day)
    db = Database(server.env["HALL_DATABASE_URL"])
    try:
        issued = play_day(db, day, plan)
        clock = FrozenClock(datetime.combine(day - timedelta(days=3), time(16), ZONE))
        PlanBook(db, clock).keep("ZMD", day, day, 30, "demo", "supervisor", plan)
    finally:
        db.dispose()
    server.start()
    yield server, issued
    server.stop()


def test_a_supervisor_sets_a_plan_against_what_happened(
    browser: Browser, played: tuple[HallServer, int], screenshots: Path, wait_until: WaitUntil
) -> None:
    server, issued = played
    context = browser.new_context(
        base_url=server.url, locale="zh-CN", viewport={"width": 1440, "height": 1000}
    )
    try:
        page = context.new_page()
        page.goto("/login")
        page.fill('input[name="username"]', "supervisor")
        page.fill('input[name="password"]', "zmd-super-2026")
        page.click('button[type="submit"]')
        page.goto("/planner")
        page.click(".planner__tab[data-tab=actual]")
        expect(page.locator("[data-panel=actual]")).to_be_visible()
        expect(page.locator("[data-panel=week]")).to_be_hidden()
        expect(page.locator("#actual-plan option")).to_have_count(1)
        expect(page.locator("#actual-plan option")).to_contain_text("#1")
        page.click("#run-actual")
        expect(page.locator("#actual-note")).to_have_text("已对比天数 1", timeout=60_000)
        expect(page.locator("#actual-stats .stat")).to_have_count(6)
        stat = page.locator("#actual-stats .stat").nth(1).locator(".stat__num")
        expect(stat).to_have_text(str(issued))
        expect(page.locator("#actual-table tbody tr")).to_have_count(1)
        for chart in ("arrivals", "windows", "waits"):
            wait_until(page, f"document.querySelectorAll('#chart-actual-{chart} canvas').length")
        page.wait_for_timeout(800)  # ECharts animations settle before the picture
        page.screenshot(path=screenshots / "planner-plan-vs-actual.png", full_page=True)

        english = context.new_page()
        english.goto("/planner?lang=en")
        expect(english.locator(".planner__tab[data-tab=actual]")).to_have_text("Plan vs actual")
        english.click(".planner__tab[data-tab=actual]")
        english.click("#run-actual")
        expect(english.locator("#actual-note")).to_have_text(re.compile("Days compared 1"))
    finally:
        context.close()
