"""The board says "第 2 项,共 3 项" when a multi-service ticket is called for a later service."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

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


def test_the_clerk_finishes_with_an_outcome_and_the_ticket_moves_on(
    new_context: Any, sign_in: Any, screenshots: Path
) -> None:
    import re

    clerk = new_context(viewport={"width": 1366, "height": 768}).new_page()
    taken = clerk.context.request.post(
        "/api/v1/halls/ZMD/tickets", data={"services": ["SOCIAL", "MEDICAL"], "channel": "web"}
    )
    assert taken.status == 201, taken.text()
    ticket = taken.json()
    # window 11 (SOCIAL, then MEDICAL): the pages test leaves window 10 open with clerk10
    sign_in(clerk, "clerk11", "zmd-clerk-2026")
    clerk.locator(".window-card").filter(
        has=clerk.locator(".window-card__number", has_text=re.compile(r"^11$"))
    ).click()
    expect(clerk.locator("#window-state")).to_have_text("服务中")
    # the chosen ticket, out of turn: other tests of this server leave tickets waiting
    window_id = clerk.url.rstrip("/").rsplit("/", 1)[-1]
    token = clerk.context.request.post(
        "/api/v1/auth/token", data={"username": "clerk11", "password": "zmd-clerk-2026"}
    ).json()["token"]
    called = clerk.context.request.post(
        f"/api/v1/windows/{window_id}/call",
        data={"ticket": ticket["id"], "reason": "演示"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert called.ok, called.text()
    clerk.reload()
    expect(clerk.locator("#now-number")).to_have_text(ticket["number"])
    clerk.locator('.action[data-action="start"]').click()
    expect(clerk.locator('.action[data-action="finish"]')).to_be_enabled()
    clerk.locator(".outcome__choice", has_text="补正材料").click()
    clerk.screenshot(path=str(screenshots / "clerk-console-outcome.png"), animations="disabled")
    clerk.keyboard.press("f")
    expect(clerk.locator("#now-number")).to_have_text("当前没有号")
    # Its next service (MEDICAL, window 11's second skill) at once, in its original place.
    # (a priority ticket other tests leave waiting may be ahead; the place is proven in
    # tests/service/test_visit_desk.py)
    expect(clerk.locator(".queue__item", has_text=ticket["number"])).to_have_count(1)
    expect(clerk.locator('#outcome input[value="completed"]')).to_be_checked()
    after = clerk.context.request.get(f"/api/v1/tickets/{ticket['id']}").json()
    assert after["current_service"] == "MEDICAL"
    assert after["services"][0]["outcome"] == "needs_documents"


def test_the_phone_rates_each_service_of_the_visit_one_after_another(
    hall_server: HallServer, browser: Any
) -> None:
    """一次一评 from the phone's ticket page: a three-service ticket is rated once per service,
    each as it is finished, with the ticket page's key (channel ``ticket_page``)."""
    server = hall_server
    taken = requests.post(
        f"{server.url}/api/v1/halls/ZMD/tickets",
        json={"services": ["REALTY", "TAX", "ENT"], "channel": "web"},
        timeout=10,
    )
    assert taken.status_code == 201, taken.text
    ticket = taken.json()
    context = browser.new_context(
        base_url=server.url,
        locale="zh-CN",
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
    )
    errors: list[str] = []
    phone = context.new_page()
    phone.on("pageerror", lambda error: errors.append(str(error)))
    phone.goto(f"/t/{ticket['id']}#k={ticket['rating_key']}")
    expect(phone.locator("#live-state")).to_have_attribute("data-state", "online")
    expect(phone.locator("#rate-card")).to_be_hidden()  # nothing finished yet

    def serve(window: int) -> None:
        post(server, f"/windows/{window}/open")
        post(server, f"/windows/{window}/call", {"ticket": ticket["id"], "reason": "演示"})
        post(server, f"/tickets/{ticket['id']}/start")
        post(server, f"/tickets/{ticket['id']}/finish", {"outcome": "completed"})

    card, line = phone.locator("#rate-card"), phone.locator("#rate-service")
    serve(4)  # 不动产登记 done; the ticket waits for 税务办理
    expect(card).to_be_visible()
    expect(line).to_be_visible()
    expect(line).to_have_text("第 1 项(共 3 项):不动产登记")
    serve(8)  # 税务办理 done too before the citizen rates: the card takes them in turn
    expect(phone.locator("#t-service")).to_have_text("企业开办")  # the page has seen it
    # … and read the ticket again (a live message names the service, not the statuses)
    expect(card).to_have_attribute("data-to-rate", "2")
    card.locator('[data-score="5"]').click()
    expect(phone.locator("#rate-done")).to_contain_text("感谢您的评价")
    expect(phone.locator("#rate-done")).to_contain_text("已评价第 1 项,请继续评价下一项")
    expect(line).to_have_text("第 2 项(共 3 项):税务办理")
    expect(phone.locator("#rate-comment")).to_have_value("")
    phone.check('#rate-reasons input[value="效率"]')
    phone.fill("#rate-comment", "等候时间太长")
    card.locator('[data-score="2"]').click()  # a bad review with a reason
    expect(phone.locator("#rate-done")).to_contain_text("我们将尽快回访整改")
    expect(phone.locator("#rate-done")).to_contain_text("下一项办结后,可在本页继续评价")
    expect(card).to_be_hidden()  # 企业开办 is not finished yet

    serve(1)  # 企业开办, the last: the ticket is done
    expect(phone.locator("#t-status")).to_have_text("已办结")
    expect(line).to_have_text("第 3 项(共 3 项):企业开办")
    expect(phone.locator("#rate-done")).to_be_hidden()  # the thanks for the 2nd are said
    expect(phone.locator('#rate-reasons input[value="效率"]')).not_to_be_checked()
    phone.screenshot(
        path=str(SCREENSHOTS / "ticket-rate-segments.png"), animations="disabled", full_page=True
    )
    card.locator('[data-score="4"]').click()
    expect(phone.locator("#rate-done")).to_have_text("感谢您的评价! 满意")
    expect(card).to_be_hidden()
    expect(phone.locator("#follow-card")).to_be_hidden()  # 追评 is for coming back later
    phone.reload()  # rated per service on the server: no rating is offered again
    expect(phone.locator("#t-status")).to_have_text("已办结")
    expect(card).to_be_hidden()
    # 追评 per service, once: the card takes the first service, then the next
    follow = phone.locator("#follow-card")
    expect(follow).to_be_visible()
    expect(phone.locator("#follow-service")).to_have_text("第 1 项(共 3 项):不动产登记")
    phone.fill("#follow-comment", "材料一次就齐了,点赞")
    phone.click("#follow-button")
    expect(phone.locator("#rate-done")).to_have_text("已收到您的追评,感谢您的反馈!")
    expect(phone.locator("#follow-service")).to_have_text("第 2 项(共 3 项):税务办理")
    follow_up = f"{server.url}/api/v1/tickets/{ticket['id']}/evaluation/follow-up"
    body = {"key": ticket["rating_key"], "segment": 0, "comment": "再追一次"}
    again = requests.post(follow_up, json=body, timeout=10)
    assert again.status_code == 409 and again.json()["error"] == "already_followed_up"

    day = datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()
    export = requests.get(
        f"{server.url}/api/v1/halls/ZMD/evaluations/export",
        params={"date": day},
        headers=server.auth("supervisor", "zmd-super-2026"),
        timeout=10,
    )
    assert export.status_code == 200, export.text
    rated = sorted(
        (
            r["service_segment"],
            r["matter_code"],
            r["channel"],
            r["level"],
            r["bad_reasons"],
            (r["follow_up"] or {}).get("comment"),
        )
        for r in export.json()["records"]
        if r["matter_code"] in ("REALTY", "TAX", "ENT")
    )
    assert rated == [
        (0, "REALTY", "ticket_page", 5, [], "材料一次就齐了,点赞"),
        (1, "TAX", "ticket_page", 2, ["效率"], None),
        (2, "ENT", "ticket_page", 4, [], None),
    ]
    context.close()
    assert errors == []


def test_a_service_finished_before_the_phone_joined_its_room_is_offered_for_rating(
    hall_server: HallServer, browser: Any
) -> None:
    """The join's snapshot carries no services: the page reads the ticket again on it, so a
    service finished before its join (a slow connection, a reconnect after being offline) is
    offered for rating. The page's join is held back while the first service is served."""
    server = hall_server
    taken = requests.post(
        f"{server.url}/api/v1/halls/ZMD/tickets",
        json={"services": ["REALTY", "TAX"], "channel": "web"},
        timeout=10,
    )
    assert taken.status_code == 201, taken.text
    ticket = taken.json()
    context = browser.new_context(base_url=server.url, locale="zh-CN", is_mobile=True)
    held: list[tuple[Any, Any]] = []  # (link to the server, the page's join message)
    holding = {"join": True}

    def websocket(ws: Any) -> None:
        upstream = ws.connect_to_server()

        def to_server(message: Any) -> None:
            if holding["join"] and '"join"' in str(message):
                held.append((upstream, message))
            else:
                upstream.send(message)

        ws.on_message(to_server)

    context.route_web_socket(re.compile(r".*/socket\.io/.*"), websocket)
    phone = context.new_page()
    phone.goto(f"/t/{ticket['id']}#k={ticket['rating_key']}")
    expect(phone.locator("#live-state")).to_have_attribute("data-state", "online")
    opened = requests.post(  # open, or left open by a test before on the shared server
        f"{server.url}/api/v1/windows/4/open", headers=server.auth(*ADMIN), timeout=10
    )
    assert opened.status_code in (200, 409), opened.text
    post(server, "/windows/4/call", {"ticket": ticket["id"], "reason": "演示"})
    post(server, f"/tickets/{ticket['id']}/start")
    post(server, f"/tickets/{ticket['id']}/finish", {"outcome": "completed"})
    phone.wait_for_timeout(1500)  # the page heard none of it: it had not joined
    expect(phone.locator("#rate-card")).to_be_hidden()
    assert held, "the page's join was not seen"
    holding["join"] = False
    for upstream, message in held:
        upstream.send(message)
    expect(phone.locator("#t-service")).to_have_text("税务办理")
    expect(phone.locator("#rate-card")).to_be_visible()
    expect(phone.locator("#rate-service")).to_have_text("第 1 项(共 2 项):不动产登记")
    context.close()
