"""In a real browser: at the kiosk, the ID's holder finds and cancels a booking made in their name.

Issue 15, row 7, as a citizen meets it: somebody booked with the citizen's ID number and
another phone; at the kiosk the citizen enters the ID number, sees that booking (with the
other phone, masked) and cancels it.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.helpers.people import id_number

pytestmark = pytest.mark.browser

PORTRAIT_KIOSK = {"viewport": {"width": 1080, "height": 1920}}
HOLDER_ID = id_number(321, region="410102")
SERVICE = "TALENT"

Contexts = Callable[..., BrowserContext]
SignIn = Callable[[Page, str, str], None]


def test_the_ids_holder_cancels_a_booking_made_in_their_name_at_the_kiosk(
    new_context: Contexts, sign_in: SignIn
) -> None:
    api = new_context().request
    slots = api.get(f"/api/v1/halls/ZMD/services/{SERVICE}/slots").json()
    if not any(s["bookable"] for s in slots["slots"]):  # late at night: tomorrow's
        day = slots["bookable_dates"][1]
        slots = api.get(f"/api/v1/halls/ZMD/services/{SERVICE}/slots?date={day}").json()
    slot = next(s for s in slots["slots"] if s["bookable"])
    made = api.post(
        "/api/v1/halls/ZMD/appointments",
        data={
            "service": SERVICE,
            "date": slots["date"],
            "start": slot["start"],
            "name": "冒用者",
            "phone": "13700001234",
            "id_number": HOLDER_ID,
        },
    )
    assert made.status == 201, made.text()

    kiosk = new_context(**PORTRAIT_KIOSK).new_page()
    sign_in(kiosk, "kiosk", "zmd-kiosk-2026")
    expect(kiosk).to_have_url(re.compile(r"/kiosk/ZMD$"))
    kiosk.click("#checkin-open")
    kiosk.click('[data-mode="id"]')
    expect(kiosk.locator("#checkin-button")).to_have_text("查询预约")
    kiosk.fill('input[name="id_number"]', HOLDER_ID)
    kiosk.click("#checkin-button")
    item = kiosk.locator(f'.held[data-code="{made.json()["code"]}"]')
    expect(item).to_contain_text("137****1234")
    expect(item.locator(".pill")).to_have_text("已预约")
    assert HOLDER_ID not in kiosk.content()
    item.locator('[data-held="cancel"]').click()
    expect(item.locator(".pill")).to_have_text("已取消")
    assert api.get(f"/api/v1/appointments/{made.json()['code']}").json()["status"] == "cancelled"
    kiosk.click('#checkin [data-action="cancel"]')
    expect(kiosk.locator("#held-list")).to_be_hidden()
