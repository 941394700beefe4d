"""End to end in a real browser: kiosk → citizen's phone → clerk console, live, in two languages."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.helpers.live_relay import RefuseFirstSnapshot

pytestmark = pytest.mark.browser

KIOSK = ("kiosk", "zmd-kiosk-2026")
CLERK_PASSWORD = "zmd-clerk-2026"
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1366, "height": 768}}
PORTRAIT_KIOSK = {"viewport": {"width": 1080, "height": 1920}}
LIVE = 10_000  # ms: how long a live update may take to arrive

Contexts = Callable[..., BrowserContext]
SignIn = Callable[[Page, str, str], None]
WaitUntil = Callable[[Page, str], None]


def issue_web_tickets(context: BrowserContext, counts: dict[str, int]) -> None:
    """Citizens taking tickets online (public channel), so that queues are not empty."""
    for service, count in counts.items():
        for _ in range(count):
            response = context.request.post(
                "/api/v1/halls/ZMD/tickets", data={"service": service, "channel": "web"}
            )
            assert response.status == 201, response.text()


def test_a_kiosk_ticket_is_called_live_on_the_citizens_phone(
    new_context: Contexts, sign_in: SignIn, screenshots: Path, wait_until: WaitUntil
) -> None:
    kiosk_context = new_context(**PORTRAIT_KIOSK)
    issue_web_tickets(
        kiosk_context, {"ENT": 3, "REALTY": 5, "TAX": 2, "RESIDENCE": 4, "HPF": 2, "POLICY": 1}
    )

    kiosk = kiosk_context.new_page()
    sign_in(kiosk, *KIOSK)
    expect(kiosk).to_have_url(re.compile(r"/kiosk/ZMD$"))
    expect(kiosk.locator("#live-state")).to_have_attribute("data-state", "online")
    social = kiosk.locator('.tile[data-service="SOCIAL"]')
    expect(social).to_contain_text("社会保障")
    kiosk.screenshot(path=screenshots / "kiosk.png", animations="disabled")

    social.click()
    kiosk.locator(".choice", has_text="老年人").click()
    kiosk.locator(".choice", has_text="无需优先").click()
    kiosk.click("#take-button")
    number = kiosk.locator("#slip-number")
    expect(number).to_have_text(re.compile(r"^F\d{3}$"))
    expect(kiosk.locator("#slip-service")).to_have_text("社会保障")
    wait_until(kiosk, "document.getElementById('slip-qr').naturalWidth > 0")
    ticket_number = number.inner_text()
    ticket_id = kiosk.locator("#slip").get_attribute("data-ticket-id")
    assert ticket_id
    kiosk.locator("#slip").screenshot(path=screenshots / "ticket-slip.png", animations="disabled")
    kiosk.click('[data-action="done"]')

    # More citizens for the same window, online; the kiosk's figures follow live.
    issue_web_tickets(kiosk_context, {"SOCIAL": 3, "MEDICAL": 2})
    expect(social.locator('[data-field="waiting"]')).to_have_text("等候 4 人", timeout=LIVE)

    phone = new_context(**PHONE).new_page()
    phone.goto(f"/t/{ticket_id}")
    expect(phone.locator("#t-number")).to_have_text(ticket_number)
    expect(phone.locator("#t-status")).to_have_text("排队中")
    expect(phone.locator("#t-callout-title")).to_have_text("您是下一位")
    expect(phone.locator("#live-state")).to_have_attribute("data-state", "online")

    clerk = new_context(**DESKTOP).new_page()
    sign_in(clerk, "clerk10", CLERK_PASSWORD)
    expect(clerk).to_have_url(re.compile(r"/clerk$"))
    clerk.locator(".window-card").filter(
        has=clerk.locator(".window-card__number", has_text=re.compile(r"^10$"))
    ).click()
    expect(clerk).to_have_url(re.compile(r"/clerk/window/\d+$"))
    expect(clerk.locator("#window-state")).to_have_text("服务中")
    expect(clerk.locator(".queue__item").first).to_contain_text(ticket_number)
    expect(clerk.locator("#queue-count")).to_have_text("6")
    expect(clerk.locator("#live-state")).to_have_attribute("data-state", "online")

    clerk.keyboard.press("n")  # the shortcut of "call next"
    expect(phone.locator("#t-callout-title")).to_have_text("请到 10 号窗口办理", timeout=LIVE)
    expect(clerk.locator("#now-number")).to_have_text(ticket_number)
    expect(phone.locator("#t-status")).to_have_text("已叫号")
    expect(phone.locator("#t-callout-text")).to_have_text("社会保障1")
    phone.screenshot(path=screenshots / "ticket-page.png", animations="disabled")
    expect(clerk.locator("#queue-count")).to_have_text("5")
    # A priority ticket comes from the kiosk (a public web request may not claim one).
    kiosk_token = kiosk.evaluate(
        "JSON.parse(document.getElementById('page-data').textContent).token"
    )
    elderly = clerk.context.request.post(
        "/api/v1/halls/ZMD/tickets",
        data={"service": "MEDICAL", "channel": "kiosk", "priority": "elderly"},
        headers={"Authorization": f"Bearer {kiosk_token}"},
    )
    assert elderly.status == 201
    expect(clerk.locator(".queue__item").first).to_contain_text("优先", timeout=LIVE)
    clerk.screenshot(path=screenshots / "clerk-console.png", animations="disabled")

    clerk.locator('.action[data-action="start"]').click()
    expect(phone.locator("#t-callout-title")).to_have_text("正在 10 号窗口办理", timeout=LIVE)
    clerk.keyboard.press("f")
    expect(phone.locator("#t-callout-title")).to_have_text("业务已办结", timeout=LIVE)
    expect(clerk.locator("#today-served")).to_have_text("1")
    expect(clerk.locator("#now-number")).to_have_text("当前没有号")


def test_a_clerk_pauses_with_a_reason_resumes_and_closes(
    new_context: Contexts, sign_in: SignIn
) -> None:
    clerk = new_context(**DESKTOP).new_page()
    sign_in(clerk, "clerk11", CLERK_PASSWORD)
    clerk.locator(".window-card").filter(
        has=clerk.locator(".window-card__number", has_text=re.compile(r"^11$"))
    ).click()
    expect(clerk.locator("#window-state")).to_have_text("服务中")

    clerk.keyboard.press("p")
    clerk.locator("#pause-presets .choice", has_text="午休").click()
    clerk.click('#pause-dialog button[type="submit"]')
    expect(clerk.locator("#window-state")).to_have_text("暂停服务")
    expect(clerk.locator("#paused-reason")).to_contain_text("午休")
    expect(clerk.locator('.action[data-action="call_next"]')).to_be_disabled()

    clerk.keyboard.press("p")
    expect(clerk.locator("#window-state")).to_have_text("服务中")
    clerk.keyboard.press("c")
    clerk.click('#close-dialog button[type="submit"]')
    expect(clerk).to_have_url(re.compile(r"/clerk$"))


def phone_with_a_ticket(new_context: Contexts) -> tuple[Page, dict[str, str]]:
    """A citizen's phone that has just taken a ticket online (nobody calls POLICY here)."""
    context = new_context(**PHONE)
    response = context.request.post(
        "/api/v1/halls/ZMD/tickets", data={"service": "POLICY", "channel": "web"}
    )
    assert response.status == 201, response.text()
    return context.new_page(), response.json()


def test_a_citizen_cancels_a_waiting_ticket(new_context: Contexts) -> None:
    phone, ticket = phone_with_a_ticket(new_context)
    phone.goto(f"/t/{ticket['id']}")
    phone.click("#cancel-button")
    phone.click('[data-action="confirm-cancel"]')
    expect(phone.locator("#t-status")).to_have_text("已取消")
    expect(phone.locator("#cancel-button")).to_be_hidden()


def test_a_page_whose_join_is_answered_503_joins_again(new_context: Contexts) -> None:
    """common.js: a join the server could not answer (database busy or away) is sent again."""
    phone, ticket = phone_with_a_ticket(new_context)
    relay = RefuseFirstSnapshot(phone)
    phone.goto(f"/t/{ticket['id']}")
    for _ in range(100):  # the routes run while Playwright waits
        if len(relay.snapshots) >= 2:
            break
        phone.wait_for_timeout(100)
    assert len(relay.snapshots) >= 2, relay.snapshots
    assert ticket["id"] in relay.snapshots[1]
    expect(phone.locator("#live-state")).to_have_attribute("data-state", "online")


def test_a_wrong_password_is_refused_with_a_message(
    new_context: Contexts, sign_in: SignIn, screenshots: Path
) -> None:
    page = new_context(**DESKTOP).new_page()
    page.goto("/login")
    expect(page.locator("h1")).to_have_text("工作人员登录")
    page.screenshot(path=screenshots / "login.png", animations="disabled")
    sign_in(page, "clerk01", "not-the-password")
    expect(page.locator("#login-error")).to_have_text("用户名或密码错误")
    expect(page.locator('input[name="username"]')).to_have_value("clerk01")


def test_staff_pages_need_a_session_and_unknown_tickets_are_404(new_context: Contexts) -> None:
    page = new_context(**DESKTOP).new_page()
    page.goto("/kiosk/ZMD")
    expect(page).to_have_url(re.compile(r"/login\?next=/kiosk/ZMD$"))
    response = page.goto("/t/no-such-ticket")
    assert response is not None and response.status == 404
    expect(page.locator("h1")).to_have_text("没有找到这个页面")


def test_english_is_one_click_away_and_remembered(new_context: Contexts) -> None:
    page = new_context(**DESKTOP).new_page()
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    page.click('.lang-switch a[lang="en"]')
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("Queueing and service supervision")
    page.goto("/login")  # no ?lang=: the cookie keeps English
    expect(page.locator("h1")).to_have_text("Staff sign-in")
    page.click('.lang-switch a[lang="zh-CN"]')
    expect(page.locator("h1")).to_have_text("工作人员登录")
