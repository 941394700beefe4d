"""The planner page in a real browser: run a scenario and a staffing plan, see charts; roles."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect

pytestmark = pytest.mark.browser

DESKTOP = {"viewport": {"width": 1440, "height": 1000}}
SCENARIO = """name: 上午窗口测算
open: "09:00"
close: "13:00"
services:
  - code: SOCIAL
    arrivals_per_hour: [40, 60, 50, 30]
    service_time: {dist: lognormal, mean_minutes: 4, cv: 0.8}
    priority_share: 0.1
  - code: TAX
    arrivals_per_hour: [10, 16, 14, 8]
    service_time: {dist: exponential, mean_minutes: 7}
windows:
  - {count: 3, services: [SOCIAL]}
  - {count: 1, services: [TAX], secondary: [SOCIAL]}
  - {count: 1, services: [SOCIAL, TAX]}
targets: {mean_wait_minutes: 5, within_minutes: 10, share: 0.85}
"""

Contexts = Callable[..., BrowserContext]
SignIn = Callable[[Page, str, str], None]
WaitUntil = Callable[[Page, str], None]


def test_a_supervisor_runs_a_scenario_and_gets_a_staffing_plan(
    new_context: Contexts, sign_in: SignIn, screenshots: Path, wait_until: WaitUntil
) -> None:
    page = new_context(**DESKTOP).new_page()
    sign_in(page, "supervisor", "zmd-super-2026")
    page.goto("/")
    page.locator("a.entry", has_text="规划仿真").first.click()
    expect(page).to_have_url(re.compile(r"/planner$"))
    expect(page.locator("h1")).to_have_text("窗口需要开几个?")
    expect(page.locator("#scenario-text")).to_have_value(re.compile("services:"))

    page.fill("#scenario-text", SCENARIO.replace("services: [SOCIAL, TAX]", "services: [BAD]"))
    page.click("#run-simulation")
    expect(page.locator("#scenario-error")).to_contain_text("unknown services ['BAD']")

    page.fill("#scenario-text", SCENARIO)
    page.fill("#replications", "3")
    page.click("#run-simulation")
    expect(page.locator("#sim-note")).to_contain_text("上午窗口测算", timeout=30_000)
    expect(page.locator("#sim-stats .stat")).to_have_count(6)
    expect(page.locator("#scenario-error")).to_be_hidden()
    wait_until(page, "document.querySelectorAll('#chart-hours canvas').length > 0")

    page.click("#run-staffing")
    expect(page.locator("#plan-table tbody tr")).to_have_count(4, timeout=60_000)
    expect(page.locator("#plan-compare .stat")).to_have_count(3)
    first = page.locator("#plan-table tbody tr").first
    expect(first.locator("td").first).to_have_text("09:00–10:00")
    assert int(first.locator("td").nth(1).inner_text()) >= 1
    page.wait_for_timeout(600)  # ECharts animations settle before the picture
    page.screenshot(path=screenshots / "planner.png", full_page=True)

    english = page.context.new_page()
    english.goto("/planner?lang=en")
    expect(english.locator("h1")).to_have_text("How many windows should be open?")


def test_clerks_may_not_open_the_planner(new_context: Contexts, sign_in: SignIn) -> None:
    page = new_context(**DESKTOP).new_page()
    sign_in(page, "clerk01", "zmd-clerk-2026")
    response = page.goto("/planner")
    assert response is not None and response.status == 403


def test_a_supervisor_plans_next_week_and_exports_the_roster(
    new_context: Contexts, sign_in: SignIn, screenshots: Path, wait_until: WaitUntil
) -> None:
    page = new_context(accept_downloads=True, **DESKTOP).new_page()
    sign_in(page, "supervisor", "zmd-super-2026")
    page.goto("/planner")
    page.click(".planner__tab[data-tab=week]")
    expect(page.locator("[data-panel=week]")).to_be_visible()
    expect(page.locator("[data-panel=scenario]")).to_be_hidden()
    expect(page.locator("#week-staff")).to_have_value(re.compile("clerks:"))
    page.fill("#week-days", "2")
    page.select_option("#week-repair", "check")
    page.click("#run-week")
    expect(page.locator("#week-note")).to_contain_text("演示历史", timeout=120_000)
    expect(page.locator("#roster-grid tbody tr")).to_have_count(22)
    expect(page.locator("#week-stats .stat")).to_have_count(4)
    assert page.locator("#roster-grid td.is-seated").count() > 50
    wait_until(page, "document.querySelectorAll('#chart-forecast canvas').length > 0")
    wait_until(page, "document.querySelectorAll('#chart-need canvas').length > 0")
    page.wait_for_timeout(800)  # ECharts animations settle before the picture
    page.screenshot(path=screenshots / "planner-next-week.png", full_page=True)
    with page.expect_download() as download:
        page.click("#export-week")
    assert download.value.suggested_filename.endswith(".xlsx")

    english = page.context.new_page()
    english.goto("/planner?lang=en")
    expect(english.locator(".planner__tab[data-tab=week]")).to_have_text("Next week")
