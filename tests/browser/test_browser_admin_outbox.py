"""Issue 17: the admin pages of the outbox in a browser — the notice templates previewed, the
delivery log with a dead letter and its retry button (a real push refused for good)."""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import expect

from tests.helpers.display import HallServer

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _dead_push_and_sent_sms(server: HallServer) -> None:
    """A remote ticket with a phone (its confirmation is sent, by the log channel here) and a
    push opt-in whose keys are no P-256 point: its call notice is dead at once."""
    taken = requests.post(
        f"{server.url}/api/v1/halls/ZMD/tickets",
        json={"service": "SOCIAL", "channel": "app", "phone": "13900001234"},
        timeout=10,
    )
    assert taken.status_code == 201, taken.text
    ticket = taken.json()
    bogus = {
        "endpoint": "https://push.example.cn/send/abc",
        "keys": {"p256dh": _b64(b"\x04" + b"k" * 64), "auth": _b64(b"a" * 16)},
    }
    url = f"{server.url}/api/v1/tickets/{ticket['id']}/push-subscription"
    assert requests.post(url, json=bogus, timeout=10).status_code == 201
    server.auth("admin", "zmd-admin-2026")
    assert server.window(10, "open", "admin").status_code == 200
    assert server.call_next(10, "admin")["id"] == ticket["id"]


def _wait_for_dead(server: HallServer) -> dict[str, Any]:
    admin = server.auth("admin", "zmd-admin-2026")
    url = f"{server.url}/api/v1/admin/halls/ZMD/deliveries?status=dead"
    for _ in range(100):
        rows = requests.get(url, headers=admin, timeout=10).json()["deliveries"]
        if rows:
            return rows[0]  # type: ignore[no-any-return]
        import time

        time.sleep(0.1)
    raise AssertionError("no dead letter appeared")


def test_templates_and_the_delivery_log_with_a_dead_letter_retried(
    hall_server: HallServer, browser: Any
) -> None:
    _dead_push_and_sent_sms(hall_server)
    dead = _wait_for_dead(hall_server)
    assert dead["kind"] == "called" and "subscription keys" in dead["last_error"]

    context = browser.new_context(
        base_url=hall_server.url, locale="zh-CN", viewport={"width": 1366, "height": 900}
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto("/login")
    page.fill('input[name="username"]', "admin")
    page.fill('input[name="password"]', "zmd-admin-2026")
    page.click('button[type="submit"]')
    expect(page).to_have_url(re.compile(r"/admin/ZMD/$"))

    page.click('a[data-section="notices"]')
    expect(page.locator("h1")).to_have_text("通知模板")
    called = page.locator('#templates-table tr[data-kind="called"]')
    expect(called).to_contain_text("请 A012 号到 5 号窗口办理")
    expect(called).to_contain_text("Number A012, please go to window 5.")
    expect(page.locator('#templates-table tr[data-kind="card_red"]')).to_contain_text("红牌")
    segments = page.eval_on_selector_all(
        "#templates-table .segments", "s => s.map(e => Number(e.dataset.segments))"
    )
    assert segments and all(n == 1 for n in segments)
    page.screenshot(path=str(SCREENSHOTS / "admin-notice-templates.png"), full_page=True)

    page.click('a[data-section="deliveries"]')
    expect(page.locator("h1")).to_have_text("发送记录")
    expect(page.locator("#dead-count")).to_have_text("1")
    row = page.locator(f'#deliveries-table tr[data-delivery="{dead["id"]}"]')
    expect(row).to_have_attribute("data-status", "dead")
    expect(row).to_contain_text("webpush: bad subscription keys")
    sent = page.locator('#deliveries-table tr[data-status="sent"]')
    expect(sent.first).to_be_visible()
    assert "13900001234" not in page.content()
    page.select_option('select[name="status"]', "dead")
    page.click('#delivery-filters button[type="submit"]')
    expect(page).to_have_url(re.compile(r"status=dead"))
    expect(page.locator("#deliveries-table tbody tr")).to_have_count(1)
    page.screenshot(path=str(SCREENSHOTS / "admin-deliveries-dead.png"), full_page=True)

    page.click(f'button[data-retry="{dead["id"]}"]')
    expect(page.locator(".toast")).to_contain_text("已重新排队发送")
    expect(page).to_have_url(re.compile(r"status=dead"))
    # queued again from zero attempts; the worker tries once more and the push is refused again
    again = _wait_for_dead(hall_server)
    assert again["id"] == dead["id"] and again["attempts"] == 1

    page.goto("/admin/ZMD/deliveries")
    page.screenshot(path=str(SCREENSHOTS / "admin-deliveries.png"), full_page=True)
    context.close()
    assert errors == []
