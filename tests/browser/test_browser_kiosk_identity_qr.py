"""The kiosk's identity step (issue 18): an electronic ID's QR code scanned, a 代办 ticket with
the agent's and the principal's cards, and the hall's identity rule (required / off)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.test_browser_kiosk_visit import cancel, open_kiosk
from tests.fakes.card_reader import DEMO_CARDS, FakeCardReader
from tests.fakes.eid_platform import FakeEidPlatform

pytestmark = pytest.mark.browser

Contexts = Callable[..., BrowserContext]
SignIn = Callable[[Page, str, str], None]


@pytest.fixture
def identity_rules(server: str) -> Iterator[Callable[..., None]]:
    """Set the hall's identity rule as its admin does (back to the defaults afterwards)."""
    token = requests.post(
        f"{server}api/v1/auth/token",
        json={"username": "admin", "password": "zmd-admin-2026"},
        timeout=10,
    ).json()["token"]
    url = f"{server}api/v1/admin/halls/ZMD/identity-rules"
    headers = {"Authorization": f"Bearer {token}"}

    def put(**rule: Any) -> None:
        response = requests.put(url, json=rule, headers=headers, timeout=10)
        assert response.status_code == 200, response.text

    yield put
    put()


def test_an_electronic_id_qr_code_scanned_at_the_kiosk_identifies_the_citizen(
    new_context: Contexts,
    sign_in: SignIn,
    screenshots: Path,
    card_reader: FakeCardReader,
    eid_platform: FakeEidPlatform,
) -> None:
    id_number, name = DEMO_CARDS["adult"]
    card_reader.take()
    kiosk = open_kiosk(new_context, sign_in)
    kiosk.locator('.tile[data-service="HPF"]').click()
    expect(kiosk.locator("#qr-prompt")).to_contain_text("二维码")
    expect(kiosk.locator("#reader-status")).to_have_attribute("data-state", "waiting")
    kiosk.locator("#confirm .sheet").screenshot(
        path=screenshots / "kiosk-identity-qr.png", animations="disabled"
    )
    card_reader.scan(eid_platform.issue(id_number, name, ttl=-1))  # refreshed too late
    expect(kiosk.locator("#reader-status")).to_have_attribute("data-state", "qr_expired")
    expect(kiosk.locator("#reader-status")).to_have_text("二维码已过期,请在手机上刷新后重新扫码")
    card_reader.scan("not-a-code-of-the-platform")
    expect(kiosk.locator("#reader-status")).to_have_attribute("data-state", "qr_invalid")
    card_reader.scan(eid_platform.issue(id_number, name))
    expect(kiosk.locator("#identity")).to_have_attribute("data-state", "done")
    expect(kiosk.locator("#identity-who")).to_have_text("李*  1101**********0025")
    kiosk.click("#take-button")
    expect(kiosk.locator("#slip-identity")).to_have_text("已核验身份")
    expect(kiosk.locator("#slip-card")).to_be_hidden()  # a phone's code: no card to take back
    expect(kiosk.locator("#slip-proxy-row")).to_be_hidden()
    stored = kiosk.evaluate("() => JSON.stringify([localStorage, sessionStorage]) + location.href")
    assert id_number not in stored
    cancel(kiosk, kiosk.locator("#slip").get_attribute("data-ticket-id"))


def test_a_proxy_ticket_reads_the_agent_then_the_principal_and_the_slip_says_so(
    new_context: Contexts, sign_in: SignIn, screenshots: Path, card_reader: FakeCardReader
) -> None:
    agent, principal = DEMO_CARDS["adult"], DEMO_CARDS["elder"]
    card_reader.take()
    kiosk = open_kiosk(new_context, sign_in)
    kiosk.locator('.tile[data-service="TAX"]').click()
    kiosk.click("#proxy-toggle")
    expect(kiosk.locator("#proxy-toggle")).to_have_attribute("aria-pressed", "true")
    expect(kiosk.locator("#reader-prompt")).to_have_text("第 1 步:请代办人将身份证放在读卡区")
    expect(kiosk.locator("#take-button")).to_be_disabled()  # not before both are read
    card_reader.place(*agent)
    expect(kiosk.locator("#proxy-agent-who")).to_have_text("李*  1101**********0025")
    expect(kiosk.locator("#reader-prompt")).to_have_text("第 2 步:请放置被代办人(办事群众)的身份证")
    expect(kiosk.locator("#take-button")).to_be_disabled()
    kiosk.wait_for_timeout(1200)  # the agent's card still lies there: not read again
    expect(kiosk.locator("#identity")).to_have_attribute("data-state", "reader")
    card_reader.take()
    expect(kiosk.locator("#reader-status")).to_have_attribute("data-state", "waiting")
    card_reader.place(*principal)
    expect(kiosk.locator("#identity")).to_have_attribute("data-state", "done")
    expect(kiosk.locator("#identity-who")).to_have_text("王**  1101**********1235")
    expect(kiosk.locator("#identity-proxy")).to_have_text("代办人 李*  1101**********0025")
    expect(kiosk.locator('input[name="priority"][value="elderly"]')).to_be_checked()
    expect(kiosk.locator("body")).not_to_have_class(re.compile(r"\bkiosk--elder\b"))
    expect(kiosk.locator("#take-button")).to_be_enabled()
    kiosk.locator("#confirm .sheet").screenshot(
        path=screenshots / "kiosk-proxy.png", animations="disabled"
    )
    kiosk.click("#take-button")
    expect(kiosk.locator("#slip-proxy-row")).to_be_visible()
    expect(kiosk.locator("#slip-proxy")).to_have_text("代办取号")
    expect(kiosk.locator("#slip-priority")).to_be_visible()
    ticket_id = kiosk.locator("#slip").get_attribute("data-ticket-id")
    ticket = kiosk.context.request.get(f"/api/v1/tickets/{ticket_id}").json()
    assert ticket["proxy"] is True and ticket["identified"] is True
    card_reader.take()
    cancel(kiosk, ticket_id)


def test_a_required_service_waits_for_an_identity_and_an_off_one_asks_none(
    new_context: Contexts,
    sign_in: SignIn,
    card_reader: FakeCardReader,
    identity_rules: Callable[..., None],
) -> None:
    identity_rules(services={"SOCIAL": "required", "TAX": "off"})
    card_reader.take()
    kiosk = open_kiosk(new_context, sign_in)
    kiosk.locator('.tile[data-service="SOCIAL"]').click()
    expect(kiosk.locator("#identity-need")).to_have_text("(此事项取号需核验身份)")
    expect(kiosk.locator("#identity-first")).to_be_visible()
    expect(kiosk.locator("#take-button")).to_be_disabled()
    kiosk.click('#confirm [data-action="cancel"]')
    kiosk.locator('.tile[data-service="TAX"]').click()
    expect(kiosk.locator("#identity")).to_be_hidden()
    expect(kiosk.locator("#take-button")).to_be_enabled()
    kiosk.click('#confirm [data-action="cancel"]')


def test_the_admin_sets_the_identity_rule_on_the_rules_page(
    new_context: Contexts,
    sign_in: SignIn,
    screenshots: Path,
    identity_rules: Callable[..., None],
) -> None:
    admin = new_context(viewport={"width": 1280, "height": 900}).new_page()
    sign_in(admin, "admin", "zmd-admin-2026")
    admin.goto("/admin/ZMD/rules")
    card = admin.locator("#identity-rules")
    expect(card.locator("h2")).to_have_text("身份核验与一人一号")
    admin.select_option('select[name="identity_service_SOCIAL"]', "required")
    admin.fill('input[name="identity_per_service"]', "2")
    admin.fill('input[name="identity_total"]', "4")
    admin.click("#save")
    expect(admin.locator('select[name="identity_service_SOCIAL"]')).to_have_value("required")
    expect(admin.locator('input[name="identity_total"]')).to_have_value("4")
    admin.goto("/admin/ZMD/rules")  # without the "已保存" toast
    card.screenshot(path=screenshots / "admin-identity-rules.png", animations="disabled")
    admin.fill('input[name="identity_total"]', "1")  # fewer in all than per service
    admin.click("#save")
    expect(admin.locator("#form-errors")).to_be_visible()
