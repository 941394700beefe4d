"""Issue 19 on the window's evaluator device: after 不满意/非常不满意 it asks for the reasons,
it shows the hall's indicators when its rules ask for them, and a visit of several services
is rated once per service (一次一评), each right after it is finished."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import expect

from tests.helpers.display import HallServer

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
INDICATORS = ["overall", "efficiency", "quality", "attitude"]


def _finish(server: HallServer, ticket_id: str, outcome: str | None) -> None:
    assert server.ticket(ticket_id, "start", "clerk10").status_code == 200
    response = requests.post(
        f"{server.url}/api/v1/tickets/{ticket_id}/finish",
        json={"outcome": outcome} if outcome else None,
        headers=server.auth("clerk10"),
        timeout=10,
    )
    assert response.status_code == 200, response.text


def test_the_evaluator_asks_reasons_and_indicators_and_rates_each_service(
    hall_server: HallServer, browser: Any
) -> None:
    server = hall_server
    admin = server.auth("admin", "zmd-admin-2026")
    rules = requests.put(
        f"{server.url}/api/v1/halls/ZMD/evaluation-rules",
        json={"rules": {"indicators": INDICATORS}},
        headers=admin,
        timeout=10,
    )
    assert rules.status_code == 200, rules.text
    taken = requests.post(
        f"{server.url}/api/v1/halls/ZMD/tickets",
        json={"services": ["SOCIAL", "MEDICAL"], "channel": "app"},
        timeout=10,
    )
    assert taken.status_code == 201, taken.text
    ticket = taken.json()

    context = browser.new_context(
        base_url=server.url, locale="zh-CN", viewport={"width": 1280, "height": 800}
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto("/login")
    page.fill('input[name="username"]', "clerk10")
    page.fill('input[name="password"]', "zmd-clerk-2026")
    page.click('button[type="submit"]')
    page.wait_for_url(re.compile(r"/clerk"))
    page.goto("/evaluator/10")
    expect(page.locator("#live-state")).to_have_attribute("data-state", "online")

    assert server.window(10, "open", "clerk10").status_code == 200
    assert server.call_next(10, "clerk10")["id"] == ticket["id"]
    _finish(server, ticket["id"], "completed")  # SOCIAL done; MEDICAL next
    expect(page.locator("#rate-buttons")).to_be_visible()
    expect(page.locator("#ev-text")).to_have_text("第 1 项,共 2 项:社会保障")
    page.click('.rate[data-score="2"]')  # 不满意
    expect(page.locator("#ev-details")).to_be_visible()
    expect(page.locator("#ev-reasons")).to_be_visible()
    page.click('.ev-reason[data-reason="效率"]')
    page.click('.ev-reason[data-reason="一次性告知不到位"]')
    for code, level in zip(INDICATORS, (2, 2, 3, 4), strict=True):
        page.click(f'.ev-indicator[data-indicator="{code}"] .ev-level[data-level="{level}"]')
    page.screenshot(path=str(SCREENSHOTS / "evaluator-reasons-indicators.png"))
    page.click("#ev-submit")
    expect(page.locator("#ev-title")).to_have_text("感谢您的反馈,我们将尽快回访整改。")

    assert server.call_next(10, "clerk10")["id"] == ticket["id"]  # its MEDICAL service
    _finish(server, ticket["id"], None)
    expect(page.locator("#ev-text")).to_have_text("第 2 项,共 2 项:医疗保障", timeout=15_000)
    page.click('.rate[data-score="5"]')
    expect(page.locator("#ev-details")).to_be_visible()
    expect(page.locator("#ev-reasons")).to_be_hidden()  # no reasons for a good rating
    page.click("#ev-submit")  # indicators are optional: none sent
    expect(page.locator("#ev-title")).to_have_text("感谢您的评价!")
    context.close()

    with sqlite3.connect(server.root / "hall.db") as db:
        rows = db.execute(
            "SELECT segment, service, score, reasons, indicators, source FROM evaluations "
            "ORDER BY segment"
        ).fetchall()
    db.close()
    assert [(r[0], r[1], r[2]) for r in rows] == [(0, "SOCIAL", 2), (1, "MEDICAL", 5)]
    assert json.loads(rows[0][3]) == ["效率", "一次性告知不到位"]
    assert json.loads(rows[0][4]) == dict(zip(INDICATORS, (2, 2, 3, 4), strict=True))
    assert not json.loads(rows[1][4] or "null") and all(r[5] == "evaluator_clerk" for r in rows)
    assert errors == []
