"""The hall board and a window screen in chromium, against a real server driven by its API.

Calls made in quick succession appear on the board and are queued for announcement in call
order; a pause shows on the window screen; the board says it is reconnecting when the server
goes away and recovers by itself when it is back. Boards run with ``?silent=1`` (the whole
announcement queue, without sound) except where the server's own voice is under test. The
screenshots of docs/screenshots/ are taken here too.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.helpers.display import HallServer
from tests.helpers.live_relay import RefuseFirstSnapshot

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
# What clerks are called on public screens (the demo's display names are their usernames).
DISPLAY_NAMES = {
    "clerk01": "张敏 · 工号 0101",
    "clerk02": "刘洋 · 工号 0102",
    "clerk03": "陈静 · 工号 0103",
    "clerk04": "王磊 · 工号 0104",
    "clerk05": "赵雪 · 工号 0105",
    "clerk06": "孙丽娟 · 工号 0106",
}
TIMEOUT_MS = 12_000


@pytest.fixture(scope="module")
def server(hall_server: HallServer) -> HallServer:
    with sqlite3.connect(hall_server.root / "hall.db") as db:
        db.executemany(
            "UPDATE users SET display_name = ? WHERE username = ?",
            [(name, user) for user, name in DISPLAY_NAMES.items()],
        )
    db.close()
    return hall_server


@pytest.fixture
def pages(browser: Any) -> Iterator[Any]:
    """New tabs of a fresh browser context (hall time zone); page errors fail the test."""
    # bypass_csp: the predicates of wait_for_function below are evaluated from strings, which
    # the pages' Content-Security-Policy (no 'unsafe-eval') forbids. The pages themselves are
    # exercised under the policy in tests/cluster/test_cluster.py.
    context = browser.new_context(timezone_id="Asia/Shanghai", locale="zh-CN", bypass_csp=True)
    errors: list[str] = []

    def new_page(width: int = 1920, height: int = 1080) -> Any:
        page = context.new_page()
        page.set_viewport_size({"width": width, "height": height})
        page.set_default_timeout(TIMEOUT_MS)
        page.on("pageerror", lambda error: errors.append(str(error)))
        return page

    yield new_page
    context.close()
    assert errors == []


def open_board(new_page: Any, server: HallServer, query: str = "silent=1") -> Any:
    page = new_page()
    page.goto(f"{server.url}/display/board/ZMD?{query}")
    page.wait_for_function("window.hallBoard && hallBoard.status === 'live'")
    return page


def board(page: Any, key: str) -> Any:
    return page.evaluate(f"window.hallBoard.{key}")


def text_of(number: str, window: int) -> str:
    return f"请 {number} 号到 {window} 号窗口办理"


def test_three_calls_in_quick_succession_appear_and_are_announced_in_order(
    server: HallServer, pages: Any
) -> None:
    page = open_board(pages, server)
    for service in ("ENT", "ENT", "PERMIT"):
        server.issue(service)
    for n in (1, 2, 3):
        assert server.window(n, "open", f"clerk0{n}").status_code == 200
    called = [server.call_next(n, f"clerk0{n}")["number"] for n in (1, 2, 3)]
    expected = [text_of(number, n) for number, n in zip(called, (1, 2, 3), strict=True)]

    page.wait_for_function("n => hallBoard.announcements.length >= n", arg=3)
    assert board(page, "announcements") == expected  # queued in call order
    # Each call is shown at once: newest first in the recent list, on its window's card.
    recent = page.eval_on_selector_all("#recent li", "items => items.map(i => i.dataset.number)")
    assert recent[:3] == called[::-1]
    for number, n in zip(called, (1, 2, 3), strict=True):
        card = page.locator(f'.win[data-window="{n}"]')
        expect(card.locator(".win-ticket")).to_have_text(number)
        expect(card).to_have_class("win win--called win--fresh")
    # ... and said one after another, in order, none cut off or dropped.
    page.wait_for_function("n => hallBoard.played.length >= n", arg=3)
    assert board(page, "played") == expected
    expect(page.locator("#now-number")).to_have_text(called[-1])
    expect(page.locator("#now-window")).to_have_text("3")

    # A recall is announced again, and marked as one.
    assert server.window(1, "recall", "clerk01").status_code == 200
    page.wait_for_function("hallBoard.played.length >= 4")
    assert board(page, "played") == [*expected, expected[0]]
    expect(page.locator("#recent li").first).to_have_class("recent-recall")
    expect(page.locator("#now-label")).to_have_text("再次呼叫")


def test_a_pause_shows_on_the_window_screen(server: HallServer, pages: Any) -> None:
    assert server.window(4, "open", "clerk04").status_code == 200
    page = pages(640, 160)
    page.goto(f"{server.url}/display/window/4")
    page.wait_for_function("window.windowScreen && windowScreen.snapshots >= 1")
    expect(page.locator("#w-message")).to_have_text("欢迎光临")
    expect(page.locator("#w-clerk")).to_have_text(f"工作人员:{DISPLAY_NAMES['clerk04']}")
    assert "clerk04" not in page.inner_text("body")

    assert server.window(4, "pause", "clerk04", reason="午休").status_code == 200
    expect(page.locator("#stage")).to_have_attribute("data-state", "paused")
    expect(page.locator("#w-message")).to_have_text("暂停服务")
    expect(page.locator("#w-sub")).to_contain_text("午休")

    assert server.window(4, "resume", "clerk04").status_code == 200
    expect(page.locator("#w-message")).to_have_text("欢迎光临")


def test_the_window_screen_follows_its_ticket(server: HallServer, pages: Any) -> None:
    page = pages(640, 160)
    page.goto(f"{server.url}/display/window/4")
    page.wait_for_function("window.windowScreen && windowScreen.snapshots >= 1")
    server.issue("REALTY")
    ticket = server.call_next(4, "clerk04")
    expect(page.locator("#w-message")).to_have_text(f"请 {ticket['number']} 号")
    assert server.ticket(ticket["id"], "start", "clerk04").status_code == 200
    expect(page.locator("#w-message")).to_have_text(f"正在办理 {ticket['number']}")
    assert server.ticket(ticket["id"], "finish", "clerk04").status_code == 200
    expect(page.locator("#w-message")).to_have_text("欢迎光临")


def test_without_a_chinese_voice_the_board_plays_the_servers_recording(
    server: HallServer, pages: Any
) -> None:
    page = open_board(pages, server, "voice=server&repeat=1")
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    server.issue("REALTY")
    assert server.window(5, "open", "clerk05").status_code == 200
    number = server.call_next(5, "clerk05")["number"]
    page.wait_for_function("hallBoard.played.length >= 1", timeout=25_000)
    assert board(page, "played") == [text_of(number, 5)]
    audio_requests = [u for u in asked if "/display/api/announcement/audio?" in u]
    assert audio_requests and f"number={number}" in audio_requests[0]
    if shutil.which("espeak-ng"):
        assert board(page, "speaker.mode") == "server"
        assert any(u.endswith(".wav") and "/display/audio/" in u for u in asked)
    else:  # the server answered 503: the board stays text-only, the queue goes on
        assert board(page, "speaker.mode") == "text"


def test_screenshots_of_the_board_and_a_window_screen(server: HallServer, pages: Any) -> None:
    """docs/screenshots/board.png (1920×1080) and window-screen.png (640×160)."""
    for service, count in [
        ("ENT", 4), ("PERMIT", 2), ("REALTY", 6), ("DEEDTAX", 2), ("TAX", 3), ("SOCIAL", 9),
        ("MEDICAL", 5), ("HPF", 4), ("RESIDENCE", 7), ("TALENT", 1), ("ELDER", 3),
        ("POLICY", 2), ("COMPLAINT", 1),
    ]:  # fmt: skip
        for _ in range(count):
            server.issue(service)
    admin = "admin"
    server.auth(admin, "zmd-admin-2026")
    # A busy morning, whichever tests ran before: calls waiting, visits under way, a pause.
    serving, calling = (8, 10, 12, 17), (1, 2, 3, 5, 11, 15, 19)
    windows = server.windows()
    for n in (*serving, *calling, 21):
        if windows[n]["state"] == "closed":
            assert server.window(n, "open", admin).status_code == 200
    for n in (*serving, *calling):
        if windows[n]["current_ticket"] is None:
            ticket = server.call_next(n, admin)
            if n in serving:
                assert server.ticket(ticket["id"], "start", admin).status_code == 200
    if windows[21]["state"] != "paused":
        assert server.window(21, "pause", admin, reason="午休").status_code == 200

    page = open_board(pages, server)
    # Two calls while the board watches: the newest is "now calling", both windows blink.
    server.issue("ELDER")
    server.issue("REALTY")
    assert server.window(20, "open", admin).status_code == 200
    assert server.window(6, "open", "clerk06").status_code == 200
    server.call_next(20, admin)
    number = server.call_next(6, "clerk06")["number"]
    page.wait_for_function("t => hallBoard.played.includes(t)", arg=text_of(number, 6))
    expect(page.locator("#now-number")).to_have_text(number)
    page.evaluate("""() => {
        document.getElementById("now").classList.add("now--calling");
        for (const a of document.getAnimations()) { a.pause(); a.currentTime = 450; }
    }""")  # the highlight at its brightest, as the hall sees it for a few seconds
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "board.png"))

    screen = pages(640, 160)
    screen.goto(f"{server.url}/display/window/6")
    screen.wait_for_function("window.windowScreen && windowScreen.snapshots >= 1")
    expect(screen.locator("#w-message")).to_have_text(f"请 {number} 号")
    expect(screen.locator("#w-clerk")).to_contain_text(DISPLAY_NAMES["clerk06"])
    screen.screenshot(path=str(SCREENSHOTS / "window-screen.png"), animations="disabled")


def test_a_zone_board_shows_and_announces_its_own_zone_only(server: HallServer, pages: Any) -> None:
    page = open_board(pages, server, "silent=1&zone=社保医保公积金区")
    windows = page.eval_on_selector_all(
        "#windows .win", "cards => cards.map(c => c.dataset.window)"
    )
    assert windows == ["10", "11", "12", "13", "14"]
    services = page.eval_on_selector_all("#queues tr", "rows => rows.map(r => r.dataset.service)")
    assert services == ["SOCIAL", "MEDICAL", "HPF"]

    server.auth("admin", "zmd-admin-2026")
    server.issue("TAX")
    server.issue("HPF")
    for n in (9, 14):
        assert server.window(n, "open", "admin").status_code == 200
    elsewhere = server.call_next(9, "admin")["number"]  # 不动产与税务区: not this board's
    here = server.call_next(14, "admin")["number"]
    page.wait_for_function("hallBoard.played.length >= 1")
    assert board(page, "announcements") == [text_of(here, 14)]
    assert elsewhere not in page.inner_text("#recent")


def test_a_call_made_while_the_board_was_away_is_announced_when_it_is_back(
    server: HallServer, pages: Any
) -> None:
    server.auth("admin", "zmd-admin-2026")
    assert server.window(16, "open", "admin").status_code == 200
    page = open_board(pages, server)
    page.evaluate("hallBoard.live.socket.disconnect()")  # the board's network goes away
    expect(page.locator("#reconnect")).to_be_visible()
    server.issue("TALENT")
    number = server.call_next(16, "admin")["number"]
    page.wait_for_timeout(300)
    assert board(page, "announcements") == []  # it heard nothing while away
    page.evaluate("hallBoard.live.socket.connect()")  # back: a snapshot, and the missed call
    page.wait_for_function("hallBoard.played.length >= 1")
    assert board(page, "played") == [text_of(number, 16)]
    expect(page.locator("#reconnect")).to_be_hidden()
    expect(page.locator("#recent li").first).to_have_attribute("data-number", number)


def test_the_board_recovers_after_the_server_restarts(server: HallServer, pages: Any) -> None:
    page = open_board(pages, server)
    reconnecting = page.locator("#reconnect")
    expect(reconnecting).to_be_hidden()

    server.stop()
    expect(reconnecting).to_be_visible()
    expect(reconnecting).to_contain_text("正在重新连接")
    assert board(page, "status") in ("reconnecting", "connecting")

    server.start()  # the same database, folder and port
    page.wait_for_function("hallBoard.status === 'live' && hallBoard.snapshots >= 2")
    expect(reconnecting).to_be_hidden()

    server.issue("HPF")
    # The hall's administrator opens it: clerk03 may still have window 3 open from an earlier
    # test on this server, and a clerk has one window open at a time.
    server.auth("admin", "zmd-admin-2026")
    assert server.window(13, "open", "admin").status_code == 200
    number = server.call_next(13, "admin")["number"]
    page.wait_for_function("hallBoard.played.length >= 1")
    # Only the new call: the snapshot after the restart replays none of the earlier ones.
    assert board(page, "announcements") == [text_of(number, 13)]
    expect(page.locator("#recent li").first).to_have_attribute("data-number", number)


def test_a_board_whose_join_is_answered_503_joins_again(server: HallServer, pages: Any) -> None:
    """The server could not answer the join (database busy or away): the board asks again."""
    page = pages()
    relay = RefuseFirstSnapshot(page)
    page.goto(f"{server.url}/display/board/ZMD?silent=1")
    # Without asking again it would stay in "error" until the 10-minute resynchronisation.
    page.wait_for_function("window.hallBoard && hallBoard.status === 'live'")
    assert len(relay.snapshots) >= 2 and board(page, "snapshots") >= 1
