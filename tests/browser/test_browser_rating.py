"""In a real browser: the slip's QR code carries the rating key, and the phone rates with it.

Issue 15, row 3, as a citizen meets it: the kiosk's slip links to the ticket page with the
rating key in the address's fragment; that page offers the rating once the visit is done,
while the same page opened by its bare address (all a clerk knows) only follows the ticket.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import BrowserContext, Page, expect

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
PORTRAIT_KIOSK = {"viewport": {"width": 1080, "height": 1920}}
WINDOW = 22  # 办不成事反映: COMPLAINT, a service no other test of this server takes

Contexts = Callable[..., BrowserContext]
SignIn = Callable[[Page, str, str], None]
WaitUntil = Callable[[Page, str], None]


def test_the_slips_qr_code_rates_the_visit_and_the_bare_ticket_page_does_not(
    new_context: Contexts, sign_in: SignIn, wait_until: WaitUntil
) -> None:
    kiosk = new_context(**PORTRAIT_KIOSK).new_page()
    sign_in(kiosk, "kiosk", "zmd-kiosk-2026")
    expect(kiosk).to_have_url(re.compile(r"/kiosk/ZMD$"))
    kiosk.locator('.tile[data-service="COMPLAINT"]').click()
    kiosk.click("#take-button")
    expect(kiosk.locator("#slip-number")).to_have_text(re.compile(r"^[A-Z]\d{3}$"))
    wait_until(kiosk, "document.getElementById('slip-qr').naturalWidth > 0")
    ticket_id = kiosk.locator("#slip").get_attribute("data-ticket-id")
    qr = urlparse(kiosk.locator("#slip-qr").get_attribute("src") or "")
    (key,) = parse_qs(qr.query)["key"]
    assert ticket_id and key

    bare = new_context(**PHONE).new_page()  # what a clerk could open: the id, no key
    bare.goto(f"/t/{ticket_id}")
    phone = new_context(**PHONE).new_page()
    phone.goto(f"/t/{ticket_id}#k={key}")
    expect(phone.locator("#live-state")).to_have_attribute("data-state", "online")

    api = new_context().request
    token = api.post(
        "/api/v1/auth/token", data={"username": f"clerk{WINDOW}", "password": "zmd-clerk-2026"}
    ).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    window_id = next(
        w["id"]
        for w in api.get("/api/v1/halls/ZMD/windows").json()["windows"]
        if w["number"] == WINDOW
    )
    assert api.post(f"/api/v1/windows/{window_id}/open", headers=headers).ok
    called = api.post(f"/api/v1/windows/{window_id}/call-next", headers=headers).json()
    assert called["id"] == ticket_id and "rating_key" not in called
    assert api.post(f"/api/v1/tickets/{ticket_id}/start", headers=headers).ok
    assert api.post(f"/api/v1/tickets/{ticket_id}/finish", headers=headers).ok

    expect(phone.locator("#t-status")).to_have_text("已办结")
    expect(phone.locator("#rate-card")).to_be_visible()
    expect(phone.locator("#rate-service")).to_be_hidden()  # one service: no "第 1 项(共 1 项)"
    bare.reload()
    expect(bare.locator("#t-status")).to_have_text("已办结")
    expect(bare.locator("#rate-card")).to_be_hidden()
    expect(bare.locator("#rate-hint")).to_be_visible()

    phone.locator("#rate-card .rate--5").click()
    expect(phone.locator("#rate-done")).to_contain_text("感谢您的评价")
    expect(phone.locator("#rate-card")).to_be_hidden()
    assert api.post(f"/api/v1/windows/{window_id}/close", headers=headers).ok
