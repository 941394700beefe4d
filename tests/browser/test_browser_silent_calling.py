"""无声叫号 (issue 17): a silent zone's calls are neither shown nor spoken by the hall board;
the citizen hears of them by their notice channel. Set by an admin in the hall's rules."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import expect

from tests.helpers.display import HallServer

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
SILENT = "社保医保公积金区"


@pytest.fixture
def silent_hall(hall_server: HallServer) -> Iterator[HallServer]:
    admin = hall_server.auth("admin", "zmd-admin-2026")
    url = f"{hall_server.url}/api/v1/admin/halls/ZMD/rules"
    rules = requests.get(url, headers=admin, timeout=10).json()
    silent = {**rules, "calling": {"silent_zones": [SILENT]}}
    response = requests.put(url, json=silent, headers=admin, timeout=10)
    assert response.status_code == 200, response.text
    assert response.json()["calling"] == {"silent_zones": [SILENT]}
    yield hall_server
    requests.put(url, json=rules, headers=admin, timeout=10)


def test_a_silent_zone_is_quiet_on_the_board_and_the_rest_is_called_aloud(
    silent_hall: HallServer, browser: Any
) -> None:
    server = silent_hall
    context = browser.new_context(timezone_id="Asia/Shanghai", locale="zh-CN", bypass_csp=True)
    errors: list[str] = []
    pages = []
    for query in ("silent=1", f"silent=1&zone={SILENT}"):
        page = context.new_page()
        page.set_viewport_size({"width": 1920, "height": 1080})
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(f"{server.url}/display/board/ZMD?{query}")
        page.wait_for_function("window.hallBoard && hallBoard.status === 'live'")
        pages.append(page)
    whole, zone = pages

    server.issue("HPF")
    server.issue("TAX")
    for n in (13, 9):
        assert server.window(n, "open", "admin").status_code == 200
    quiet = server.call_next(13, "admin")["number"]  # 住房公积金1: the silent zone
    aloud = server.call_next(9, "admin")["number"]  # 税务2: called on the board
    whole.wait_for_function("hallBoard.played.length >= 1")
    assert whole.evaluate("hallBoard.announcements") == [f"请 {aloud} 号到 9 号窗口办理"]
    assert quiet not in whole.inner_text("#recent") and aloud in whole.inner_text("#recent")
    card = whole.locator('.win[data-window="13"]')
    expect(card).to_have_class("win win--silent")
    expect(card.locator(".win-state")).to_have_text("无声叫号")
    assert quiet not in whole.inner_text("#windows")

    expect(zone.locator("#silent-note")).to_be_visible()
    expect(zone.locator("#now")).to_be_hidden()
    zone.wait_for_timeout(500)
    assert zone.evaluate("hallBoard.announcements") == []
    assert quiet not in zone.inner_text("body")

    # The server's voice does not speak a silent window's call either.
    audio = requests.get(
        f"{server.url}/display/api/announcement/audio",
        params={"hall": "ZMD", "number": quiet, "window": 13},
        timeout=10,
    )
    assert audio.status_code == 409 and audio.json()["error"] == "silent_zone"

    whole.wait_for_timeout(300)
    whole.screenshot(path=str(SCREENSHOTS / "board-silent-zone.png"))
    zone.screenshot(path=str(SCREENSHOTS / "board-silent-zone-only.png"))
    context.close()
    assert errors == []
