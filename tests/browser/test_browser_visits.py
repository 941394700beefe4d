"""The board says "第 2 项,共 3 项" when a multi-service ticket is called for a later service."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import expect

from tests.helpers.display import HallServer

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
ADMIN = ("admin", "zmd-admin-2026")


def post(server: HallServer, path: str, body: Any = None) -> Any:
    headers = server.auth(*ADMIN)
    response = requests.post(f"{server.url}/api/v1{path}", json=body, headers=headers, timeout=10)
    assert response.status_code in (200, 201), response.text
    return response.json()


def test_the_board_shows_which_service_of_the_visit_is_called(
    hall_server: HallServer, browser: Any
) -> None:
    context = browser.new_context(timezone_id="Asia/Shanghai", locale="zh-CN", bypass_csp=True)
    errors: list[str] = []
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.set_viewport_size({"width": 1920, "height": 1080})
    page.goto(f"{hall_server.url}/display/board/ZMD?silent=1")
    page.wait_for_function("window.hallBoard && hallBoard.status === 'live'")

    ticket = requests.post(
        f"{hall_server.url}/api/v1/halls/ZMD/tickets",
        json={"services": ["HPF", "SOCIAL", "MEDICAL"], "channel": "app"},
        timeout=10,
    ).json()
    for window in (13, 14):
        post(hall_server, f"/windows/{window}/open")
    reason = {"ticket": ticket["id"], "reason": "演示"}
    post(hall_server, "/windows/13/call", reason)
    expect(page.locator("#now-number")).to_have_text(ticket["number"])
    expect(page.locator("#now-segment")).to_have_text("第 1 项,共 3 项")
    post(hall_server, f"/tickets/{ticket['id']}/start")
    moved = post(hall_server, f"/tickets/{ticket['id']}/finish", {"outcome": "completed"})
    assert moved["current_service"] == "SOCIAL"
    post(hall_server, "/windows/14/call", reason)
    expect(page.locator("#now-window")).to_have_text("14")
    expect(page.locator("#now-segment")).to_have_text("第 2 项,共 3 项")
    tags = page.locator("#recent li .recent-tag")
    expect(tags.nth(0)).to_have_text("2/3 项")
    expect(tags.nth(1)).to_have_text("1/3 项")  # as it was called
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "board-visit-segment.png"), animations="disabled")
    context.close()
    assert errors == []
