"""The admin pages in a real browser: forms with their messages, tables, and a live kiosk.

This file runs after the other browser tests of the shared demo server (file order), so
their screenshots never show the service it adds.

It adds a service (then disables it) and a window (then disables it again), so the other browser
tests on the same demo server still find the demo hall's 22 windows.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, expect

pytestmark = pytest.mark.browser

DESKTOP = {"viewport": {"width": 1366, "height": 900}}
PORTRAIT_KIOSK = {"viewport": {"width": 1080, "height": 1920}}
Contexts = Callable[..., BrowserContext]
SignIn = Callable[[Page, str, str], None]


def test_an_administrator_adds_a_service_and_a_window_and_a_kiosk_follows_live(
    new_context: Contexts, sign_in: SignIn, screenshots: Path
) -> None:
    admin = new_context(**DESKTOP).new_page()
    sign_in(admin, "admin", "zmd-admin-2026")
    expect(admin).to_have_url(re.compile(r"/admin/ZMD/$"))
    expect(admin.locator("h1")).to_have_text("大厅设置")
    expect(admin.locator('tr[data-day="mon"] input[name="mon_open"]')).to_have_value("00:00")
    # Earlier browser tests of the shared server may have saved the hall's rules already.
    version = int(admin.locator(".admin-head__meta strong").inner_text())
    # Office hours with a lunch break and Saturday mornings; "open 24 hours" stays ticked
    # (it wins over the weekly hours), so that the other browser tests find the hall open.
    for day in ("mon", "tue", "wed", "thu", "fri"):
        for part, value in (("open", "09:00"), ("lunch_start", "12:00"), ("lunch_end", "13:30")):
            admin.fill(f'input[name="{day}_{part}"]', value)
        admin.fill(f'input[name="{day}_close"]', "17:30")
    admin.fill('input[name="sat_open"]', "09:00")
    admin.fill('input[name="sat_close"]', "12:00")
    admin.uncheck('input[name="sun_on"]')
    admin.fill('input[name="tue_lunch_end"]', "11:00")
    admin.click("#save")
    expect(admin.locator('[data-error="tue"]')).to_have_text("午休须在办公时间之内")
    admin.fill('input[name="tue_lunch_end"]', "13:30")
    admin.click("#save")
    expect(admin.locator(".toast")).to_contain_text("已保存")
    admin.goto("/admin/ZMD/")
    expect(admin.locator('input[name="sat_close"]')).to_have_value("12:00")
    expect(admin.locator(".admin-head__meta strong")).to_have_text(str(version + 1))
    admin.screenshot(path=screenshots / "admin-hall.png", full_page=True, animations="disabled")

    # A new service: first with mistakes, each shown next to its field.
    admin.click('a[data-section="services"]')
    expect(admin.locator('#services-table tr[data-service="SOCIAL"]')).to_contain_text("社会保障")
    admin.screenshot(path=screenshots / "admin-services.png", full_page=True, animations="disabled")
    admin.click("#new-service")
    admin.fill("#f-code", "NOTARY")
    admin.fill("#f-prefix", "F")
    admin.fill("#f-name_en", "Notary")
    admin.fill("#f-zone", "综合受理区")
    admin.fill("#f-standard_minutes", "7")
    admin.check("#f-own_slots")
    admin.fill("#f-slot_minutes", "2")
    admin.click("#save")
    expect(admin.locator("#form-errors")).to_be_visible()
    expect(admin.locator('[data-error="name_zh"]')).to_have_text("必填")
    expect(admin.locator('[data-error="slot_minutes"]')).to_have_text("数值超出允许范围")
    admin.screenshot(
        path=screenshots / "admin-service-errors.png", full_page=True, animations="disabled"
    )
    admin.fill("#f-name_zh", "公证服务")
    admin.fill("#f-slot_minutes", "20")
    admin.click("#save")
    expect(admin.locator('[data-error="prefix"]')).to_have_text("该字母已被本大厅的其他事项使用")
    expect(admin.locator('[data-error="name_zh"]')).to_have_count(0)
    admin.fill("#f-prefix", "P")
    admin.click("#save")
    expect(admin.locator('#services-table tr[data-service="NOTARY"]')).to_contain_text("公证服务")
    expect(admin.locator(".toast")).to_contain_text("已保存")

    # A new window serving it, chosen in the skills grid.
    admin.click('a[data-section="windows"]')
    admin.click("#new-window")
    expect(admin.locator("#f-number")).to_have_value("23")
    admin.fill("#f-name", "公证窗口")
    admin.fill("#f-zone", "综合受理区")
    admin.check('input[name="skill_NOTARY"][value="primary"]')
    admin.check('input[name="skill_POLICY"][value="secondary"]')
    admin.screenshot(path=screenshots / "admin-window.png", full_page=True, animations="disabled")
    admin.click("#save")
    expect(admin.locator(".toast")).to_contain_text("已保存")
    admin.goto("/admin/ZMD/windows")
    row = admin.locator('#windows-table tr[data-window="23"]')
    expect(row.locator(".skill--primary")).to_contain_text("公证服务")
    admin.screenshot(path=screenshots / "admin-windows.png", full_page=True, animations="disabled")

    # The kiosk shows the new service; disabling it greys the tile out live.
    kiosk = new_context(**PORTRAIT_KIOSK).new_page()
    sign_in(kiosk, "kiosk", "zmd-kiosk-2026")
    expect(kiosk.locator("#live-state")).to_have_attribute("data-state", "online")
    tile = kiosk.locator('.tile[data-service="NOTARY"]')
    expect(tile).to_be_enabled()
    admin.goto("/admin/ZMD/services/NOTARY")
    admin.uncheck("#f-active")
    admin.click("#save")
    expect(admin.locator('tr[data-service="NOTARY"] .pill')).to_have_text("已停用")
    expect(tile).to_be_disabled()

    admin.click('a[data-section="users"]')
    expect(admin.locator('tr[data-user="clerk10"]')).to_contain_text("窗口人员")
    admin.screenshot(path=screenshots / "admin-users.png", full_page=True, animations="disabled")
    admin.click('tr[data-user="clerk10"] a')
    admin.fill("#password-form #f-password", "short")
    admin.click("#reset-password")
    expect(admin.locator('#password-form [data-error="password"]')).to_contain_text("至少 8 位")
    admin.screenshot(path=screenshots / "admin-user.png", full_page=True, animations="disabled")
    admin.click('a[data-section="users"]')
    admin.click('a[data-section="history"]')
    expect(admin.locator("#history-table")).to_contain_text("ZMD/service/NOTARY")
    expect(admin.locator("#history-table del").first).to_have_text("True")
    admin.screenshot(path=screenshots / "admin-history.png", full_page=True, animations="disabled")

    # Window 23 goes out of service again (the other browser tests count 22 windows).
    admin.goto("/admin/ZMD/windows")
    admin.click('tr[data-window="23"] a')
    admin.uncheck("#f-active")
    admin.click("#save")
    expect(admin.locator('tr[data-window="23"] .pill')).to_have_text("已停用")

    admin.goto("/admin/ZMD/rules?lang=en")
    expect(admin.locator("h1")).to_have_text("No-show and fairness rules")
    admin.screenshot(path=screenshots / "admin-rules-en.png", full_page=True, animations="disabled")


def test_a_supervisor_sees_the_configuration_read_only(
    new_context: Contexts, sign_in: SignIn
) -> None:
    page = new_context(**DESKTOP).new_page()
    sign_in(page, "supervisor", "zmd-super-2026")
    page.goto("/admin/ZMD/windows/10")
    expect(page.locator("#read-only")).to_be_visible()
    expect(page.locator("#f-name")).to_be_disabled()
    expect(page.locator("#save")).to_have_count(0)
