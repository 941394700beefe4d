"""The admin page of API clients (issue 20) in a real browser: register one, see its secret
once, sign in with it, rotate it, and see webhooks listed."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
from playwright.sync_api import BrowserContext, Page, expect

pytestmark = pytest.mark.browser

DESKTOP = {"viewport": {"width": 1366, "height": 900}}
Contexts = Callable[..., BrowserContext]
SignIn = Callable[[Page, str, str], None]


def _token(server: str, client_id: str, secret: str) -> requests.Response:
    return requests.post(
        f"{server}api/v1/auth/token",
        data={"grant_type": "client_credentials"},
        auth=(client_id, secret),
        timeout=10,
    )


def test_an_administrator_registers_a_client_and_sees_its_secret_once(
    new_context: Contexts, sign_in: SignIn, screenshots: Path, server: str
) -> None:
    admin = new_context(**DESKTOP).new_page()
    sign_in(admin, "admin", "zmd-admin-2026")
    expect(admin).to_have_url(re.compile(r"/admin/ZMD/$"))
    admin.click('a[data-section="clients"]')
    expect(admin.locator("h1")).to_have_text("对接系统")
    admin.fill("#client-name", "城市APP后台")
    admin.check('input[name="scopes"][value="book"]')
    admin.check('input[name="scopes"][value="events:subscribe"]')
    admin.click("#add-client")
    expect(admin.locator("#new-secret")).to_contain_text("请立即保存密钥")
    client_id = admin.locator("#shown-client-id").input_value()
    secret = admin.locator("#shown-client-secret").input_value()
    assert client_id.startswith("hc_") and len(secret) >= 40
    answer = _token(server, client_id, secret)
    assert answer.status_code == 200 and answer.json()["scope"] == "book events:subscribe"
    hook = requests.post(
        f"{server}api/v1/webhooks",
        json={"url": "https://example.org/hall-events", "events": ["ticket.called", "window.*"]},
        headers={"Authorization": f"Bearer {answer.json()['access_token']}"},
        timeout=10,
    )
    assert hook.status_code == 201
    admin.goto("/admin/ZMD/clients")
    expect(admin.locator("#new-secret")).to_have_count(0)  # shown once only
    row = admin.locator(f'#clients-table tr[data-client="{client_id}"]')
    expect(row).to_contain_text("代为预约")
    expect(admin.locator("#webhooks-table")).to_contain_text("https://example.org/hall-events")
    admin.screenshot(path=screenshots / "admin-clients.png", full_page=True, animations="disabled")
    admin.fill("#client-name", "缺权限")
    admin.click("#add-client")
    expect(admin.locator("#client-error")).to_contain_text("at least one scope")
    row = admin.locator(f'#clients-table tr[data-client="{client_id}"]')
    row.get_by_role("button", name="重新生成密钥").click()
    fresh = admin.locator("#shown-client-secret").input_value()
    assert fresh != secret
    assert _token(server, client_id, secret).status_code == 401
    assert _token(server, client_id, fresh).status_code == 200
