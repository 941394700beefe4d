"""The clerk console's own actions (issue 18), by keyboard: a chosen call, the services of the
visit, hold and resume, a walk-in, and a look-up with its reprintable slip."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, expect

pytestmark = pytest.mark.browser

Contexts = Callable[..., BrowserContext]
SignIn = Callable[[Page, str, str], None]
NONE = "当前没有号"


def web_ticket(page: Page, services: list[str]) -> dict[str, Any]:
    taken = page.context.request.post(
        "/api/v1/halls/ZMD/tickets", data={"services": services, "channel": "web"}
    )
    assert taken.status == 201, taken.text()
    return taken.json()  # type: ignore[no-any-return]


def ticket(page: Page, ticket_id: str) -> dict[str, Any]:
    return page.context.request.get(f"/api/v1/tickets/{ticket_id}").json()  # type: ignore[no-any-return]


def test_the_clerk_calls_out_of_turn_edits_the_visit_holds_resumes_and_serves_a_walk_in(
    new_context: Contexts, sign_in: SignIn, screenshots: Path
) -> None:
    clerk = new_context(viewport={"width": 1366, "height": 768}).new_page()
    first = web_ticket(clerk, ["MEDICAL"])
    visit = web_ticket(clerk, ["MEDICAL", "HPF"])
    sign_in(clerk, "clerk18", "zmd-clerk-2026")
    clerk.locator(".window-card").filter(
        has=clerk.locator(".window-card__number", has_text=re.compile(r"^18$"))
    ).click()
    expect(clerk.locator("#window-state")).to_have_text("服务中")
    expect(clerk.locator(".queue__item", has_text=visit["number"])).to_have_count(1)

    # Z: a chosen ticket out of turn, with a reason
    clerk.keyboard.press("z")
    dialog = clerk.locator("#chosen-dialog")
    expect(dialog).to_be_visible()
    dialog.locator(".choice", has_text=visit["number"]).click()
    dialog.locator("#chosen-text").fill("补正材料后返回")
    clerk.keyboard.press("Enter")
    expect(clerk.locator("#now-number")).to_have_text(visit["number"])
    expect(clerk.locator("#now-visit li").first).to_have_text("第 1 项,共 2 项")
    assert ticket(clerk, first["id"])["status"] == "waiting"  # passed over, still in place

    # M: one more service for the visit
    clerk.keyboard.press("m")
    expect(clerk.locator("#services-dialog")).to_be_visible()
    clerk.click('[data-add-service="RESIDENCE"]')
    expect(clerk.locator("#services-list li")).to_have_count(3)
    clerk.locator("#services-dialog").screenshot(
        path=screenshots / "clerk-visit-services.png", animations="disabled"
    )
    clerk.locator('#services-dialog button[type="submit"]').click()
    expect(clerk.locator("#now-visit li").first).to_have_text("第 1 项,共 3 项")
    codes = [s["service"] for s in ticket(clerk, visit["id"])["services"]]
    assert codes == ["MEDICAL", "HPF", "RESIDENCE"]

    # H: hold (the citizen fetches a document); the window is free; U: resume it here
    clerk.keyboard.press("h")
    expect(clerk.locator("#now-number")).to_have_text(NONE)
    expect(clerk.locator("#held-list .held-list__item")).to_have_count(1)
    expect(clerk.locator("#held-list")).to_contain_text(visit["number"])
    assert ticket(clerk, visit["id"])["status"] == "held"
    clerk.screenshot(path=str(screenshots / "clerk-console-held.png"), animations="disabled")
    clerk.keyboard.press("u")
    expect(clerk.locator("#now-number")).to_have_text(visit["number"])
    expect(clerk.locator("#held-list .held-list__item")).to_have_count(0)
    clerk.keyboard.press("s")
    expect(clerk.locator('.action[data-action="finish"]')).to_be_enabled()
    clerk.keyboard.press("f")
    expect(clerk.locator("#now-number")).to_have_text(NONE)
    assert ticket(clerk, visit["id"])["current_service"] == "HPF"

    # W: a citizen without a ticket, served on the spot (the reason chosen by a click)
    clerk.keyboard.press("w")
    walk_in = clerk.locator("#walkin-dialog")
    expect(walk_in.locator('input[name="walkin-service"]').first).to_be_checked()
    walk_in.locator(".choice", has_text="群众未取号").click()
    walk_in.locator('button[type="submit"]').click()
    expect(clerk.locator("#now-number")).to_have_text(re.compile(r"^[A-Z]\d{3}$"))
    walked = clerk.locator("#now-number").text_content()
    clerk.keyboard.press("s")
    expect(clerk.locator('.action[data-action="finish"]')).to_be_enabled()
    clerk.keyboard.press("f")
    expect(clerk.locator("#now-number")).to_have_text(NONE)

    # Q: look a number up; the slip shows each service of the visit, ready to reprint
    clerk.keyboard.press("q")
    clerk.locator("#lookup-number").fill(visit["number"].lower())
    clerk.keyboard.press("Enter")
    services = clerk.locator("#lookup-slip-services li")
    expect(services).to_have_count(3)
    expect(services.nth(0)).to_have_text("医疗保障 · 已办 · 办结")
    expect(services.nth(1)).to_have_text("住房公积金 · 当前")
    expect(clerk.locator("#lookup-print")).to_be_enabled()
    clerk.locator("#lookup-dialog .sheet").screenshot(
        path=screenshots / "clerk-lookup.png", animations="disabled"
    )
    clerk.locator("#lookup-number").fill("Z999")
    clerk.keyboard.press("Enter")
    expect(clerk.locator("#lookup-error")).to_have_text("今天没有这个号")
    clerk.keyboard.press("Escape")
    assert walked and walked != visit["number"]
    for done in (first, visit):
        clerk.context.request.post(f"/api/v1/tickets/{done['id']}/cancel")
