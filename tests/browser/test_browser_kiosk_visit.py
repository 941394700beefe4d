"""The kiosk with the card reader (issue 18): an identity read, three services, one slip."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.fakes.card_reader import DEMO_CARDS, FakeCardReader

pytestmark = pytest.mark.browser

KIOSK = ("kiosk", "zmd-kiosk-2026")
PORTRAIT_KIOSK = {"viewport": {"width": 1080, "height": 1920}}
Contexts = Callable[..., BrowserContext]
SignIn = Callable[[Page, str, str], None]


def open_kiosk(new_context: Contexts, sign_in: SignIn) -> Page:
    kiosk = new_context(**PORTRAIT_KIOSK).new_page()
    sign_in(kiosk, *KIOSK)
    expect(kiosk).to_have_url(re.compile(r"/kiosk/ZMD$"))
    expect(kiosk.locator("#live-state")).to_have_attribute("data-state", "online")
    return kiosk


def cancel(page: Page, ticket_id: str | None) -> None:
    """Leave the queues as they were for the other tests of the session."""
    assert ticket_id
    response = page.context.request.post(f"/api/v1/tickets/{ticket_id}/cancel")
    assert response.status == 200, response.text()


def test_the_kiosk_reads_the_card_and_issues_one_ticket_for_three_services(
    new_context: Contexts, sign_in: SignIn, screenshots: Path, card_reader: FakeCardReader
) -> None:
    id_number, name = DEMO_CARDS["adult"]
    card_reader.take()
    kiosk = open_kiosk(new_context, sign_in)
    kiosk.locator('.tile[data-service="SOCIAL"]').click()
    expect(kiosk.locator("#reader-status")).to_have_attribute("data-state", "waiting")
    card_reader.place(id_number, name)
    expect(kiosk.locator("#identity")).to_have_attribute("data-state", "done")
    expect(kiosk.locator("#identity-who")).to_have_text("李*  1101**********0025")
    for code in ("MEDICAL", "HPF"):
        kiosk.click("#visit-add")
        expect(kiosk.locator("#basket")).to_be_visible()
        kiosk.locator(f'.tile[data-service="{code}"]').click()
    expect(kiosk.locator("#visit-list li")).to_have_count(3)
    expect(kiosk.locator("#visit-list .visit__name")).to_have_text(
        ["社会保障", "医疗保障", "住房公积金"]
    )
    kiosk.locator("#confirm .sheet").screenshot(
        path=screenshots / "kiosk-visit-identity.png", animations="disabled"
    )
    kiosk.click("#take-button")
    expect(kiosk.locator("#slip-number")).to_have_text(re.compile(r"^[A-Z]\d{3}$"))
    expect(kiosk.locator("#slip-services li")).to_have_text(["社会保障", "医疗保障", "住房公积金"])
    expect(kiosk.locator("#slip-identity")).to_have_text("已核验身份")
    expect(kiosk.locator("#slip-card")).to_be_visible()
    kiosk.locator("#slip").screenshot(
        path=screenshots / "kiosk-slip-visit.png", animations="disabled"
    )
    number = kiosk.locator("#slip-number").text_content()
    ticket_id = kiosk.locator("#slip").get_attribute("data-ticket-id")
    # the number lives in the page's memory only: not in its storage, address or cookies
    stored = kiosk.evaluate("() => JSON.stringify([localStorage, sessionStorage]) + location.href")
    assert id_number not in stored
    assert all(id_number not in c["value"] for c in kiosk.context.cookies())
    kiosk.click('[data-action="done"]')

    # 一人一号: the same card again for one of those services: the number held, clearly
    kiosk.locator('.tile[data-service="SOCIAL"]').click()
    expect(kiosk.locator("#identity")).to_have_attribute("data-state", "reader")
    assert card_reader.reads >= 1
    reads = card_reader.reads
    kiosk.wait_for_timeout(1500)
    assert card_reader.reads > reads  # still polled
    expect(kiosk.locator("#reader-status")).to_have_attribute("data-state", "used")
    card_reader.take()
    expect(kiosk.locator("#reader-status")).to_have_attribute("data-state", "waiting")
    card_reader.place(id_number, name)
    expect(kiosk.locator("#identity")).to_have_attribute("data-state", "done")
    kiosk.click("#take-button")
    expect(kiosk.locator("#already-held")).to_be_visible()
    expect(kiosk.locator("#already-number")).to_have_text(f"您已取 {number} 号")
    kiosk.locator("#confirm .sheet").screenshot(
        path=screenshots / "kiosk-already-waiting.png", animations="disabled"
    )
    kiosk.click('#confirm [data-action="cancel"]')
    card_reader.take()
    cancel(kiosk, ticket_id)


def test_the_number_typed_on_the_keypad_identifies_an_elderly_citizen(
    new_context: Contexts, sign_in: SignIn, card_reader: FakeCardReader
) -> None:
    card_reader.take()
    kiosk = open_kiosk(new_context, sign_in)
    kiosk.locator('.tile[data-service="TAX"]').click()
    kiosk.click('#identity [data-action="keypad"]')
    expect(kiosk.locator("#keypad-ok")).to_be_disabled()
    for key in "11010119500307123" + "4":  # a wrong check digit
        kiosk.click(f'.keypad__key[data-key="{key}"]')
    expect(kiosk.locator("#keypad-display")).to_have_text("110101 19500307 1234")
    kiosk.click("#keypad-ok")
    expect(kiosk.locator("#keypad-display")).to_have_text("身份证号码有误,请核对")
    for key in "11010119500307123" + "5":
        kiosk.click(f'.keypad__key[data-key="{key}"]')
    kiosk.click("#keypad-ok")
    expect(kiosk.locator("#identity")).to_have_attribute("data-state", "done")
    expect(kiosk.locator("#identity-elder")).to_be_visible()
    expect(kiosk.locator('input[name="priority"][value="elderly"]')).to_be_checked()
    expect(kiosk.locator("body")).to_have_class(re.compile(r"\bkiosk--elder\b"))  # by itself
    kiosk.click("#take-button")
    expect(kiosk.locator("#slip-priority")).to_be_visible()
    expect(kiosk.locator("#slip-card")).to_be_hidden()  # typed: no card to take back
    cancel(kiosk, kiosk.locator("#slip").get_attribute("data-ticket-id"))


# A Mandarin voice that writes down what it says (headless chromium has no voice of its own).
FAKE_VOICE = """
(() => {
  window.__spoken = [];
  const voice = { name: "Fake Mandarin", lang: "zh-CN", localService: true, default: true };
  const fake = {
    speaking: false, paused: false, pending: false,
    getVoices: () => [voice], addEventListener: () => {}, resume: () => {},
    cancel: () => { fake.speaking = false; },
    speak: (u) => { window.__spoken.push(u.text); setTimeout(() => u.onend && u.onend(), 20); },
  };
  Object.defineProperty(window, "speechSynthesis", { value: fake, configurable: true });
  window.SpeechSynthesisUtterance = class { constructor(text) { this.text = text; } };
})();
"""


def test_the_elder_mode_reads_choices_aloud_puts_the_most_used_first_and_never_times_out(
    new_context: Contexts, sign_in: SignIn, screenshots: Path, card_reader: FakeCardReader
) -> None:
    card_reader.take()
    context = new_context(**PORTRAIT_KIOSK)
    context.add_init_script(FAKE_VOICE)
    kiosk = context.new_page()
    sign_in(kiosk, *KIOSK)
    expect(kiosk.locator("#live-state")).to_have_attribute("data-state", "online")
    most_used = kiosk.evaluate("() => window.Hall.data.most_used")
    expect(kiosk.locator("#most-used")).to_be_hidden()
    kiosk.click("#elder-toggle")  # one touch from the start screen
    expect(kiosk.locator("body")).to_have_class(re.compile(r"\bkiosk--elder\b"))
    expect(kiosk.locator("#elder-toggle")).to_have_attribute("aria-pressed", "true")
    tiles = kiosk.locator("#most-used .tile")
    expect(tiles).to_have_count(6)
    assert [tiles.nth(i).get_attribute("data-service") for i in range(6)] == most_used[:6]
    assert kiosk.evaluate("() => window.__spoken") == ["已切换到长辈版"]
    size = kiosk.locator("#elder-size")
    expect(size).to_have_text("大")
    before = kiosk.evaluate(
        "() => getComputedStyle(document.querySelector('.tile__name')).fontSize"
    )
    kiosk.click('[data-size="1"]')
    expect(size).to_have_text("较大")
    after = kiosk.evaluate("() => getComputedStyle(document.querySelector('.tile__name')).fontSize")
    assert float(after[:-2]) > float(before[:-2]) > 28
    kiosk.screenshot(path=screenshots / "kiosk-elder.png", animations="disabled")
    first = tiles.nth(0)
    name = first.locator(".tile__name").text_content()
    first.click()
    expect(kiosk.locator("#confirm")).to_be_visible()
    assert kiosk.evaluate("() => window.__spoken")[-1] == name
    kiosk.screenshot(path=screenshots / "kiosk-elder-confirm.png", animations="disabled")
    kiosk.click("#take-button")
    expect(kiosk.locator("#slip-number")).to_be_visible()
    assert any(text.startswith("取号成功") for text in kiosk.evaluate("() => window.__spoken"))
    expect(kiosk.locator("#slip-countdown")).to_have_text("")  # no countdown to the start
    kiosk.click('[data-action="done"]')
    expect(kiosk.locator("body")).not_to_have_class(re.compile(r"\bkiosk--elder\b"))
    cancel(kiosk, kiosk.locator("#slip").get_attribute("data-ticket-id"))
