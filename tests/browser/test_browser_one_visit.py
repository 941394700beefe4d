"""最多跑一次 on the supervisor's dashboard and in the monthly report (issue 18)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import APIRequestContext, BrowserContext, Page, expect

from tests.fakes.card_reader import DEMO_CARDS

pytestmark = pytest.mark.browser

Contexts = Callable[..., BrowserContext]
SignIn = Callable[[Page, str, str], None]
SECOND = "110101199001010031"  # another synthetic card (valid check digit)


def bearer(request: APIRequestContext, username: str, password: str) -> dict[str, str]:
    token = request.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert token.ok, token.text()
    return {"Authorization": f"Bearer {token.json()['token']}"}


def served(request: APIRequestContext, id_number: str, outcome: str) -> None:
    """An identified citizen's SOCIAL visit at window 18, finished with ``outcome``."""
    kiosk = bearer(request, "kiosk", "zmd-kiosk-2026")
    clerk = bearer(request, "clerk18", "zmd-clerk-2026")
    taken = request.post(
        "/api/v1/halls/ZMD/tickets",
        data={"services": ["SOCIAL"], "channel": "kiosk", "id_number": id_number},
        headers=kiosk,
    )
    assert taken.status == 201, taken.text()
    ticket: dict[str, Any] = taken.json()
    windows = request.get("/api/v1/halls/ZMD/windows").json()["windows"]
    window = next(w["id"] for w in windows if w["number"] == 18)
    request.post(f"/api/v1/windows/{window}/open", headers=clerk)  # 409 when already open
    called = request.post(
        f"/api/v1/windows/{window}/call",
        data={"ticket": ticket["id"], "reason": "演示"},
        headers=clerk,
    )
    assert called.ok, called.text()
    assert request.post(f"/api/v1/tickets/{ticket['id']}/start", headers=clerk).ok
    done = request.post(
        f"/api/v1/tickets/{ticket['id']}/finish", data={"outcome": outcome}, headers=clerk
    )
    assert done.ok, done.text()


def test_the_dashboard_and_the_monthly_report_show_one_visit(
    new_context: Contexts, sign_in: SignIn, screenshots: Path
) -> None:
    context = new_context(viewport={"width": 1920, "height": 1080})
    elder = DEMO_CARDS["elder"][0]
    served(context.request, elder, "needs_documents")  # must come back
    served(context.request, elder, "completed")  # the same matter, second visit
    served(context.request, SECOND, "completed")  # done in one visit
    page = context.new_page()
    sign_in(page, "supervisor", "zmd-super-2026")
    page.goto("/supervisor/ZMD")
    share = page.locator('[data-one-visit="share_one_visit"]')
    expect(share).to_have_text(re.compile(r"^\d+\.\d%$"))
    expect(page.locator('[data-one-visit="returns"]')).not_to_have_text("0")
    page.screenshot(path=screenshots / "supervisor-dashboard-one-visit.png", animations="disabled")
    page.goto("/supervisor/ZMD/reports/monthly")
    section = page.locator("#one-visit-month")
    expect(section.locator('[data-field="matters"]')).not_to_have_text("–")
    expect(section.locator("#one-visit-services td").first).to_have_text("社会保障")
    expect(section.locator("#one-visit-returns")).to_contain_text("18")
    section.screenshot(path=screenshots / "supervisor-monthly-one-visit.png", animations="disabled")
