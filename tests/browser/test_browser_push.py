"""Issue 17: the Web Push opt-in on the citizen's ticket and appointment pages.

Chromium cannot reach a vendor push service here, so ``PushManager.subscribe`` is stubbed to
answer a subscription with real P-256 keys; the push itself is handed to the page's service
worker by the DevTools protocol (``ServiceWorker.deliverPushMessage``), as a push service would.
"""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from playwright.sync_api import BrowserContext, Page, expect

from queue_engine.domain.identity import id_check_char

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
Contexts = Callable[..., BrowserContext]
ID_NUMBER = "41170219850304051" + id_check_char("41170219850304051")
TEXT = "您的号码即将叫号,请到 5 号窗口附近等候。"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def stub_subscribe(context: BrowserContext) -> None:
    """``PushManager.subscribe`` answers at once with a subscription made of real keys."""
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    p256dh = _b64(
        key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )
    subscription = {
        "endpoint": "https://push.example.cn/send/browser-test",
        "expirationTime": None,
        "keys": {"p256dh": p256dh, "auth": _b64(b"browser-test-16b")},
    }
    context.add_init_script(
        f"""
        (function () {{
          if (!window.PushManager) return;
          var sub = {json.dumps(subscription)};
          PushManager.prototype.subscribe = function (options) {{
            window.__pushKey = options && options.applicationServerKey
              ? options.applicationServerKey.byteLength : 0;
            var made = {{ endpoint: sub.endpoint, toJSON: function () {{ return sub; }} }};
            return Promise.resolve(made);
          }};
          PushManager.prototype.getSubscription = function () {{ return Promise.resolve(null); }};
        }})();
        """
    )


def push_to_service_worker(context: BrowserContext, page: Page, server: str, payload: Any) -> None:
    cdp = context.new_cdp_session(page)
    registrations: list[str] = []
    cdp.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda event: registrations.extend(
            r["registrationId"] for r in event["registrations"] if not r.get("isDeleted")
        ),
    )
    cdp.send("ServiceWorker.enable")
    deadline = time.monotonic() + 10
    while not registrations and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert registrations, "no service worker registration"
    cdp.send(
        "ServiceWorker.deliverPushMessage",
        {
            "origin": server.rstrip("/"),
            "registrationId": registrations[-1],
            "data": json.dumps(payload, ensure_ascii=False),
        },
    )


def test_ticket_page_opts_in_and_shows_a_push(
    new_context: Contexts, server: str, screenshots: Path
) -> None:
    context = new_context(**PHONE)
    context.grant_permissions(["notifications"])
    stub_subscribe(context)
    response = context.request.post(
        "/api/v1/halls/ZMD/tickets", data={"service": "SOCIAL", "channel": "web"}
    )
    assert response.status == 201, response.text()
    ticket = response.json()
    page = context.new_page()
    page.goto(f"/t/{ticket['id']}")
    optin = page.locator("#push-optin")
    expect(optin).to_be_visible()
    expect(optin).to_have_attribute("data-ready", "1")
    expect(page.locator("#push-button")).to_have_text("开启到号提醒")
    assert page.evaluate("navigator.serviceWorker.getRegistration('/').then(r => !!r)")
    page.screenshot(path=str(screenshots / "push-optin-ticket.png"), full_page=True)

    page.click("#push-button")
    expect(optin).to_have_attribute("data-subscribed", "1")
    expect(page.locator("#push-state")).to_have_text("已开启到号提醒,请留意手机通知。")
    assert page.evaluate("window.__pushKey") == 65  # subscribed with the hall's VAPID key

    page.evaluate("navigator.serviceWorker.ready")
    push_to_service_worker(
        context, page, server, {"title": "驻马店市民之家", "body": TEXT, "kind": "turn_near"}
    )
    expect(page.locator("#push-state")).to_have_text("收到提醒:" + TEXT)
    shown = page.evaluate(
        "navigator.serviceWorker.ready.then(r => r.getNotifications())"
        ".then(list => list.map(n => [n.title, n.body]))"
    )
    assert ["驻马店市民之家", TEXT] in shown
    page.screenshot(path=str(screenshots / "push-received-ticket.png"), full_page=True)


def test_the_opt_in_stores_the_subscription_with_the_api(
    new_context: Contexts, server: str
) -> None:
    """The page's POST reached the API: a second opt-in for the same ticket replaces it (201)."""
    context = new_context(**PHONE, locale="en-US")
    context.grant_permissions(["notifications"])
    stub_subscribe(context)
    ticket = context.request.post(
        "/api/v1/halls/ZMD/tickets", data={"service": "SOCIAL", "channel": "web"}
    ).json()
    page = context.new_page()
    posted: list[int] = []
    page.on(
        "response",
        lambda r: posted.append(r.status) if r.url.endswith("/push-subscription") else None,
    )
    page.goto(f"/t/{ticket['id']}?lang=en")
    expect(page.locator("#push-button")).to_be_visible()
    page.click("#push-button")
    expect(page.locator("#push-optin")).to_have_attribute("data-subscribed", "1")
    assert posted == [201]
    expect(page.locator("#push-state")).to_contain_text("Turn reminders are on")


def test_appointment_page_opts_in(new_context: Contexts, screenshots: Path) -> None:
    context = new_context(**PHONE)
    context.grant_permissions(["notifications"])
    stub_subscribe(context)
    page = context.new_page()
    page.goto("/book/ZMD")
    page.locator(".choice--service", has_text="社会保障").click()
    page.locator(".date-tab").first.wait_for()
    if page.locator(".slot:not([disabled])").count() == 0:
        page.locator(".date-tab").nth(1).click()  # late in the evening: tomorrow's slots
    page.locator(".slot:not([disabled])").first.click()
    page.fill('input[name="name"]', "李四")
    page.fill('input[name="phone"]', "13712345670")
    page.fill('input[name="id_number"]', ID_NUMBER)
    page.click("#book-button")
    expect(page).to_have_url(re.compile(r"/a/[2-9A-Z]{10}$"))
    expect(page.locator("#push-optin")).to_have_attribute("data-ready", "1")
    page.click("#push-button")
    expect(page.locator("#push-optin")).to_have_attribute("data-subscribed", "1")
    expect(page.locator("#push-state")).to_have_text("已开启到号提醒,请留意手机通知。")
    page.screenshot(path=str(screenshots / "push-optin-appointment.png"), full_page=True)
