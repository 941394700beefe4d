"""In a real browser: book a slot online, check in at the kiosk, get called, rate the visit.

It lives beside the other browser tests so that it shares their server and their one
Playwright instance (a second Playwright in the same process cannot start).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from queue_engine.domain.identity import id_check_char

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
PORTRAIT_KIOSK = {"viewport": {"width": 1080, "height": 1920}}
EVALUATOR = {"viewport": {"width": 1280, "height": 720}}

ID_NUMBER = "41170219900101042" + id_check_char("41170219900101042")

Contexts = Callable[..., BrowserContext]
SignIn = Callable[[Page, str, str], None]
WaitUntil = Callable[[Page, str], None]


def test_book_check_in_get_called_and_rate(
    new_context: Contexts, sign_in: SignIn, screenshots: Path, wait_until: WaitUntil
) -> None:
    citizen = new_context(**PHONE).new_page()
    citizen.goto("/book/ZMD")
    expect(citizen.locator("h1")).to_have_text("网上预约")
    citizen.locator(".choice--service", has_text="社会保障").click()
    citizen.locator(".date-tab").first.wait_for()
    if citizen.locator(".slot:not([disabled])").count() == 0:
        # Late in the evening today has no slot left: tomorrow's first one is still close
        # enough to check in for (check-in opens 30 minutes before a slot).
        citizen.locator(".date-tab").nth(1).click()
    first_slot = citizen.locator(".slot:not([disabled])").first
    expect(first_slot).to_be_visible()
    first_slot.click()
    citizen.fill('input[name="name"]', "王小明")
    citizen.fill('input[name="phone"]', "13912345678")
    citizen.fill('input[name="id_number"]', ID_NUMBER)
    expect(citizen.locator("#chosen")).to_contain_text("社会保障")
    citizen.screenshot(path=screenshots / "booking.png", full_page=True, animations="disabled")
    citizen.click("#book-button")

    expect(citizen).to_have_url(re.compile(r"/a/[2-9A-Z]{10}$"))
    code = citizen.url.rsplit("/", 1)[1]
    expect(citizen.locator("#a-status")).to_have_text("已预约")
    page_text = citizen.locator("body").inner_text()
    assert "139****5678" in page_text and "13912345678" not in page_text
    assert ID_NUMBER not in citizen.content()
    citizen.screenshot(path=screenshots / "appointment.png", full_page=True, animations="disabled")

    kiosk = new_context(**PORTRAIT_KIOSK).new_page()
    sign_in(kiosk, "kiosk", "zmd-kiosk-2026")
    expect(kiosk).to_have_url(re.compile(r"/kiosk/ZMD$"))
    kiosk.click("#checkin-open")
    kiosk.fill('input[name="code"]', code.lower())
    kiosk.click("#checkin-button")
    expect(kiosk.locator("#slip-number")).to_have_text(re.compile(r"^F\d{3}$"))
    expect(kiosk.locator("#slip-appointment")).to_contain_text("预约签到成功")
    wait_until(kiosk, "document.getElementById('slip-qr').naturalWidth > 0")
    number = kiosk.locator("#slip-number").inner_text()
    ticket_id = kiosk.locator("#slip").get_attribute("data-ticket-id")
    rating_key = parse_qs(urlparse(kiosk.locator("#slip-qr").get_attribute("src") or "").query)
    kiosk.screenshot(path=screenshots / "kiosk-checkin.png", animations="disabled")

    clerk = new_context(**EVALUATOR)
    api = clerk.request
    token = api.post(
        "/api/v1/auth/token", data={"username": "clerk17", "password": "zmd-clerk-2026"}
    ).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    windows = api.get("/api/v1/halls/ZMD/windows").json()["windows"]
    window_id = next(w["id"] for w in windows if w["number"] == 17)
    evaluator = clerk.new_page()
    sign_in(evaluator, "clerk17", "zmd-clerk-2026")
    evaluator.goto(f"/evaluator/{window_id}")
    expect(evaluator.locator("#live-state")).to_have_attribute("data-state", "online")
    expect(evaluator.locator("#ev-title")).to_have_text("欢迎评价我们的服务")

    assert api.post(f"/api/v1/windows/{window_id}/open", headers=headers).ok
    called = api.post(f"/api/v1/windows/{window_id}/call-next", headers=headers).json()
    assert (called["number"], called["channel"]) == (number, "appointment")
    assert api.post(f"/api/v1/tickets/{ticket_id}/start", headers=headers).ok
    assert api.post(f"/api/v1/tickets/{ticket_id}/finish", headers=headers).ok

    expect(evaluator.locator("#rate-buttons")).to_be_visible()
    expect(evaluator.locator("#ev-title")).to_contain_text(number)
    evaluator.screenshot(path=screenshots / "evaluator.png", animations="disabled")
    evaluator.locator(".rate", has_text="满意").filter(has_not_text="非常").filter(
        has_not_text="不"
    ).filter(has_not_text="基本").click()
    expect(evaluator.locator("#ev-title")).to_have_text("感谢您的评价!")
    evaluator.screenshot(path=screenshots / "evaluator-thanks.png", animations="disabled")

    citizen.reload()
    expect(citizen.locator("#a-status")).to_have_text("已签到")
    citizen.click("#a-ticket")
    expect(citizen.locator("#t-number")).to_have_text(number)
    expect(citizen.locator("#t-status")).to_have_text("已办结")
    expect(citizen.locator("#rate-card")).to_be_hidden()  # rated at the window already
    rated = citizen.request.post(
        f"/api/v1/tickets/{ticket_id}/evaluation",
        data={"score": 5, "key": rating_key["key"][0]},
    )
    assert rated.status == 409
    assert api.post(f"/api/v1/windows/{window_id}/close", headers=headers).ok
