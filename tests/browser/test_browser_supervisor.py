"""The supervisor dashboard in a real browser: windows, queues and alerts change live."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import APIRequestContext, BrowserContext, Page, expect

pytestmark = pytest.mark.browser

WALL = {"viewport": {"width": 1920, "height": 1080}}
LIVE = 10_000
Contexts = Callable[..., BrowserContext]
SignIn = Callable[[Page, str, str], None]
WaitUntil = Callable[[Page, str], None]


def bearer(request: APIRequestContext, username: str, password: str) -> dict[str, str]:
    response = request.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert response.status == 200, response.text()
    return {"Authorization": f"Bearer {response.json()['token']}"}


def window_ids(request: APIRequestContext) -> dict[int, int]:
    windows = request.get("/api/v1/halls/ZMD/windows").json()["windows"]
    return {w["number"]: w["id"] for w in windows}


def waiting(request: APIRequestContext, service: str) -> int:
    """How many wait for ``service`` now (other browser tests share the hall)."""
    services = request.get("/api/v1/halls/ZMD/services").json()["services"]
    return next(int(s["waiting"]) for s in services if s["code"] == service)


def post(request: APIRequestContext, url: str, headers: dict[str, str], **data: Any) -> Any:
    response = request.post(url, headers=headers, data=data or None)
    assert response.ok, f"{url}: {response.status} {response.text()}"
    return response.json() if response.status != 204 else None


def test_the_dashboard_follows_the_hall_live(
    new_context: Contexts, sign_in: SignIn, screenshots: Path, wait_until: WaitUntil
) -> None:
    wall = new_context(**WALL)
    page = wall.new_page()
    sign_in(page, "supervisor", "zmd-super-2026")
    expect(page).to_have_url(re.compile(r"/supervisor/ZMD$"))
    expect(page.locator("#live-state")).to_have_attribute("data-state", "online")
    expect(page.locator(".sv-win")).to_have_count(22)

    request = wall.request
    ids = window_ids(request)
    residence_before = waiting(request, "RESIDENCE")
    clerks = {n: bearer(request, f"clerk{n:02d}", "zmd-clerk-2026") for n in (13, 15, 16, 19)}
    for number, service, count in ((15, "RESIDENCE", 4), (13, "HPF", 3), (19, "ELDER", 2)):
        post(request, f"/api/v1/windows/{ids[number]}/open", clerks[number])
        for _ in range(count):
            post(request, "/api/v1/halls/ZMD/tickets", {}, service=service, channel="web")
    called = post(request, f"/api/v1/windows/{ids[15]}/call-next", clerks[15])

    card = page.locator('.sv-win[data-window="15"]')
    expect(card).to_have_attribute("data-state", "open", timeout=LIVE)
    expect(card.locator(".sv-win__ticket")).to_have_text(called["number"], timeout=LIVE)
    expect(card.locator(".sv-win__clerk")).to_have_text("clerk15")
    row = page.locator('#queue-rows tr[data-service="RESIDENCE"]')
    left = residence_before + 4 - (called["service"] == "RESIDENCE")
    expect(row.locator("td").nth(1)).to_have_text(str(left), timeout=LIVE)

    post(request, f"/api/v1/tickets/{called['id']}/start", clerks[15])
    expect(card.locator(".sv-win__status")).to_have_text("办理中", timeout=LIVE)
    post(request, f"/api/v1/tickets/{called['id']}/finish", clerks[15])
    expect(page.locator('[data-kpi="served"]')).not_to_have_text("0", timeout=LIVE)
    second = post(request, f"/api/v1/windows/{ids[15]}/call-next", clerks[15])
    post(request, f"/api/v1/tickets/{second['id']}/start", clerks[15])
    post(request, f"/api/v1/windows/{ids[13]}/call-next", clerks[13])
    post(request, f"/api/v1/windows/{ids[16]}/open", clerks[16])
    post(request, f"/api/v1/windows/{ids[16]}/pause", clerks[16], reason="业务培训")
    expect(page.locator('.sv-win[data-window="16"]')).to_have_attribute(
        "data-state", "paused", timeout=LIVE
    )

    # An administrator schedules window 21: it is not open, so an alert is raised live.
    admin = bearer(request, "admin", "zmd-admin-2026")
    thresholds = request.put(
        "/api/v1/halls/ZMD/alert-thresholds",
        headers=admin,
        data={"hall": {"scheduled_windows": [21, 22]}},
    )
    assert thresholds.ok, thresholds.text()
    alert = page.locator('.sv-alert[data-open="1"]', has_text="21号窗口按排班应开放")
    expect(alert).to_be_visible(timeout=LIVE)
    expect(page.locator("#alert-count")).not_to_have_text("0")
    expect(page.locator('[data-kpi="tickets"]')).not_to_have_text("–", timeout=LIVE)
    wait_until(page, "document.querySelector('#chart-hourly canvas') !== null")
    page.evaluate("document.getElementById('toasts').hidden = true")
    page.wait_for_timeout(300)
    page.screenshot(path=screenshots / "supervisor-dashboard.png", animations="disabled")

    page.evaluate("document.getElementById('toasts').hidden = false")
    alert.get_by_role("button", name="确认").click()
    page.fill("#ack-note", "已通知窗口负责人开窗")
    page.locator("#ack-form button[type=submit]").click()
    expect(alert.locator(".sv-alert__ack")).to_contain_text("已通知窗口负责人开窗")

    clerk21 = bearer(request, "clerk21", "zmd-clerk-2026")
    post(request, f"/api/v1/windows/{ids[21]}/open", clerk21)
    cleared = page.locator('.sv-alert[data-open="0"]', has_text="21号窗口按排班应开放")
    expect(cleared).to_be_visible(timeout=LIVE)

    back = request.put("/api/v1/halls/ZMD/alert-thresholds", headers=admin, data={})
    assert back.ok


def test_thresholds_page_for_admins(
    new_context: Contexts, sign_in: SignIn, screenshots: Path
) -> None:
    page = new_context(viewport={"width": 1366, "height": 900}).new_page()
    sign_in(page, "admin", "zmd-admin-2026")
    page.goto("/supervisor/ZMD/thresholds")
    field = page.locator('[data-hall-field="paused_minutes"]')
    expect(field).to_have_value("15")
    field.fill("20")
    page.locator('#service-rows tr[data-service="ENT"] input[data-key="wait_red_minutes"]').fill(
        "40"
    )
    page.click("#save-thresholds")
    expect(page.locator(".toast", has_text="阈值已保存")).to_be_visible()
    saved = page.request.get("/supervisor/ZMD/thresholds")
    assert saved.ok
    page.reload()
    expect(page.locator('[data-hall-field="paused_minutes"]')).to_have_value("20")
    page.screenshot(
        path=screenshots / "supervisor-thresholds.png", animations="disabled", full_page=True
    )
    page.locator('[data-hall-field="paused_minutes"]').fill("15")
    page.locator('#service-rows tr[data-service="ENT"] input[data-key="wait_red_minutes"]').fill("")
    page.click("#save-thresholds")
    expect(page.locator(".toast", has_text="阈值已保存").last).to_be_visible()


def test_daily_and_monthly_reports(
    new_context: Contexts, sign_in: SignIn, screenshots: Path, wait_until: WaitUntil
) -> None:
    context = new_context(viewport={"width": 1440, "height": 900})
    request = context.request
    ids = window_ids(request)
    admin = bearer(request, "admin", "zmd-admin-2026")
    for number, service in ((5, "REALTY"), (6, "REALTY")):
        clerk = bearer(request, f"clerk{number:02d}", "zmd-clerk-2026")
        post(request, f"/api/v1/windows/{ids[number]}/open", clerk)
        for k in range(3):
            post(request, "/api/v1/halls/ZMD/tickets", {}, service=service, channel="web")
            ticket = post(request, f"/api/v1/windows/{ids[number]}/call-next", clerk)
            if number == 6 and k == 0:  # more no-shows than window 5 at the same service
                post(request, f"/api/v1/tickets/{ticket['id']}/no-show", clerk)
                continue
            post(request, f"/api/v1/tickets/{ticket['id']}/start", clerk)
            post(request, f"/api/v1/tickets/{ticket['id']}/finish", clerk)
    others = ("satisfaction", "waiting", "handling", "alerts", "attendance")
    weights = {**dict.fromkeys(others, 0.0), "no_show": 1.0}  # real-time handling is noise here
    settings = {"min_visits": 1, "red": 1, "black": 1, "weights": weights}
    assert request.put("/api/v1/halls/ZMD/flag-settings", headers=admin, data=settings).ok

    page = context.new_page()
    sign_in(page, "supervisor", "zmd-super-2026")
    page.get_by_role("link", name="日报").click()
    expect(page.locator("h1")).to_contain_text("日报")
    expect(page.locator('table[data-table="window"] tbody tr').first).to_be_visible()
    wait_until(page, "Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)")
    page.screenshot(path=screenshots / "supervisor-daily-report.png", full_page=True)
    with page.expect_download() as download:
        page.get_by_role("link", name="XLSX").click()
    assert download.value.suggested_filename.endswith(".xlsx")

    page.get_by_role("link", name="月报与红黑旗").click()
    expect(page.locator("#flag-table .sv-flag--red")).to_have_count(1)
    expect(page.locator("#flag-table .sv-flag--black")).to_have_count(1)
    wait_until(page, "Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)")
    page.screenshot(path=screenshots / "supervisor-monthly-flags.png", full_page=True)
    expect(page.locator('#flag-table tr[data-window="5"] .sv-flag--red')).to_be_visible()
    expect(page.locator('#flag-table tr[data-window="6"] .sv-flag--black')).to_be_visible()
    page.locator("#flag-table tr.is-red").get_by_role("link", name="明细").click()
    expect(page.locator("#visit-rows tbody tr").first).to_be_visible()
    page.screenshot(path=screenshots / "supervisor-flag-drill-down.png", full_page=True)
    assert request.put("/api/v1/halls/ZMD/flag-settings", headers=admin, data={}).ok
