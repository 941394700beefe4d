"""The admin pages through the test client: forms, validation messages, read-only, languages.

Pages do not depend on the database dialect: SQLite only (the API tests cover PostgreSQL).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from hall_app.admin.cli import load_yaml
from queue_engine.adapters.unit_of_work import Database
from queue_engine.domain.access import Role
from queue_engine.domain.clock import FrozenClock
from queue_engine.seed import demo_hall
from queue_engine.services.admin import AdminDesk, NewUser
from tests.helpers.api import add_staff, make_app

PAGES = [
    "/admin/ZMD/",
    "/admin/ZMD/services",
    "/admin/ZMD/services/SOCIAL",
    "/admin/ZMD/windows",
    "/admin/ZMD/windows/10",
    "/admin/ZMD/rules",
    "/admin/ZMD/users",
    "/admin/ZMD/users/clerk10",
    "/admin/ZMD/history",
    "/admin/ZMD/notices",
    "/admin/ZMD/deliveries",
]


@pytest.fixture
def site(app_env: None, tmp_path: Path, sqlite_template: Path, clock: FrozenClock) -> Iterator[Any]:
    target = tmp_path / "pages.db"
    shutil.copy(sqlite_template, target)
    url = f"sqlite:///{target}"
    db = Database(url)
    AdminDesk(db, clock).seed_hall(demo_hall(always_open=True))
    add_staff(db, clock.now())
    db.dispose()
    app = make_app(url, clock, WTF_CSRF_ENABLED=False)
    yield app
    app.extensions["hall"].db.dispose()


def signed_in(app: Any, username: str) -> FlaskClient:
    client: FlaskClient = app.test_client()
    with client.session_transaction() as session:
        session["username"] = username
    return client


def text(response: Any) -> str:
    return str(response.get_data(as_text=True))


def test_every_admin_page_is_chinese_first_and_english_on_request(site: Any) -> None:
    admin = signed_in(site, "admin")
    assert admin.get("/admin/").headers["Location"].endswith("/admin/ZMD/")
    for page in PAGES:
        response = admin.get(page)
        assert response.status_code == 200, page
        body = text(response)
        assert 'lang="zh-CN"' in body and "系统管理" in body, page
        assert 'id="read-only"' not in body and "可编辑" in body, page
    english = text(admin.get("/admin/ZMD/windows/10?lang=en"))
    assert (
        "Windows and skills" in english and "Primary" in english and "Evaluator device" in english
    )
    assert "主要技能" not in english and 'lang="en"' in english
    hall = text(admin.get("/admin/ZMD/?lang=en"))
    assert "Opening hours" in hall and "Lunch from" in hall and "Saturday" in hall


def test_supervisors_see_every_page_read_only_and_cannot_post(site: Any) -> None:
    supervisor = signed_in(site, "supervisor")
    for page in PAGES:
        body = text(supervisor.get(page))
        assert 'id="read-only"' in body and 'id="save"' not in body and 'id="new-' not in body, page
    assert "disabled" in text(supervisor.get("/admin/ZMD/services/SOCIAL"))
    assert supervisor.post("/admin/ZMD/", data={"name_zh": "x"}).status_code == 403
    assert supervisor.get("/admin/ZMD/services/new").status_code == 403


def test_clerks_and_kiosks_are_refused_and_strangers_sent_to_sign_in(site: Any) -> None:
    for username in ("clerk10", "kiosk"):
        assert signed_in(site, username).get("/admin/ZMD/services").status_code == 403
    stranger = site.test_client().get("/admin/ZMD/services")
    assert stranger.status_code == 302 and "/login" in stranger.headers["Location"]


def hall_form(**changes: str) -> dict[str, str]:
    form = {
        "name_zh": "驻马店市民中心",
        "name_en": "Zhumadian Citizen Centre",
        "timezone": "Asia/Shanghai",
        "notice": "周六上午开放",
        "follow_holidays": "on",
    }
    for day in ("mon", "tue", "wed", "thu", "fri"):
        form |= {f"{day}_on": "on", f"{day}_open": "09:00", f"{day}_close": "17:30"}
        form |= {f"{day}_lunch_start": "12:00", f"{day}_lunch_end": "13:30"}
    form |= {"sat_on": "on", "sat_open": "09:00", "sat_close": "12:00"}
    return form | changes


def test_the_hall_form_shows_each_mistake_next_to_its_field(site: Any) -> None:
    admin = signed_in(site, "admin")
    bad = hall_form(timezone="Asia/Nowhere", tue_close="08:00", wed_lunch_start="18:00", name_zh="")
    response = admin.post("/admin/ZMD/", data=bad)
    body = text(response)
    assert response.status_code == 200
    assert "没有保存:请修改标红的内容。" in body
    assert re.search(r'data-error="timezone">未知的时区<', body)
    assert re.search(r'data-error="tue">下班时间须晚于上班时间<', body)
    assert re.search(r'data-error="wed">午休须在办公时间之内<', body)
    assert re.search(r'data-error="name_zh">必填<', body)
    assert 'value="Asia/Nowhere"' in body  # what was typed stays in the form

    saved = admin.post("/admin/ZMD/", data=hall_form())
    assert saved.status_code == 302
    hours = site.extensions["hall"].engine.hall_config("ZMD").hours
    assert [str(p) for p in hours.to_mapping()["weekly"]["sat"]] == ["09:00-12:00"]  # type: ignore[index]
    assert "sun" not in hours.to_mapping()["weekly"]  # type: ignore[operator]
    assert "已保存" in text(admin.get("/admin/ZMD/"))


def test_service_and_window_forms_validate_and_save(site: Any) -> None:
    admin = signed_in(site, "admin")
    service = {
        "code": "notary",
        "prefix": "F",
        "name_zh": "公证服务",
        "name_en": "Notary",
        "zone": "综合受理区",
        "standard_minutes": "7",
        "active": "on",
        "daily_cap": "0",
    }
    body = text(admin.post("/admin/ZMD/services/new", data=service))
    assert 'data-error="daily_cap">数值超出允许范围<' in body
    body = text(admin.post("/admin/ZMD/services/new", data={**service, "daily_cap": ""}))
    assert 'data-error="prefix">该字母已被本大厅的其他事项使用<' in body
    saved = admin.post("/admin/ZMD/services/new", data={**service, "prefix": "p", "daily_cap": ""})
    assert saved.status_code == 302
    assert "NOTARY" in text(admin.get("/admin/ZMD/services"))

    window = {"number": "11", "name": "公证窗口", "zone": "综合受理区", "active": "on"}
    body = text(admin.post("/admin/ZMD/windows/new", data=window))
    assert 'data-error="number">该窗口号已被使用<' in body
    body = text(admin.post("/admin/ZMD/windows/new", data={**window, "number": "23"}))
    assert 'data-error="skills">启用的窗口至少要办理一个事项<' in body
    form = {**window, "number": "23", "skill_NOTARY": "primary", "skill_SOCIAL": "secondary"}
    assert admin.post("/admin/ZMD/windows/new", data=form).status_code == 302
    config = site.extensions["hall"].engine.hall_config("ZMD")
    assert dict(config.window_by_number(23).skills) == {"NOTARY": True, "SOCIAL": False}


def test_users_are_managed_from_the_pages(site: Any) -> None:
    admin = signed_in(site, "admin")
    new = {"username": "li.na", "password": "short", "role": "clerk", "hall": "ZMD", "active": "on"}
    body = text(admin.post("/admin/ZMD/users/new", data=new))
    assert 'data-error="password"' in body
    new["password"] = "Window-7-ok"
    assert admin.post("/admin/ZMD/users/new", data=new).status_code == 302
    reset = admin.post("/admin/ZMD/users/li.na", data={"form": "password", "password": "abc"})
    assert 'data-error="password">密码至少 8 位' in text(reset)
    own = admin.post("/admin/ZMD/users/admin", data={"role": "admin", "hall": "ZMD"})
    assert 'data-error="active">不能停用自己的账号' in text(own)
    history = text(admin.get("/admin/ZMD/history"))
    assert "ZMD/user/li.na" in history and "admin.user.create" in history


def test_a_bound_evaluator_device_opens_only_its_own_window(site: Any, clock: FrozenClock) -> None:
    db = site.extensions["hall"].db
    AdminDesk(db, clock).seed_users([NewUser("eval10", "Device-10-ok", Role.KIOSK, "ZMD")])
    admin = signed_in(site, "admin")
    form = {"number": "10", "name": "社会保障1", "zone": "社保医保公积金区", "active": "on"}
    form |= {"skill_SOCIAL": "primary", "skill_MEDICAL": "secondary"}
    body = text(admin.post("/admin/ZMD/windows/10", data={**form, "evaluator_device": "clerk10"}))
    assert 'data-error="evaluator_device"' in body
    assert (
        admin.post("/admin/ZMD/windows/10", data={**form, "evaluator_device": "eval10"}).status_code
        == 302
    )

    device = site.test_client()
    landed = device.post("/login", data={"username": "eval10", "password": "Device-10-ok"})
    assert landed.headers["Location"].endswith("/evaluator/10")
    assert device.get("/evaluator/10").status_code == 200
    assert device.get("/evaluator/11").status_code == 403
    assert signed_in(site, "kiosk").get("/evaluator/10").status_code == 403
    assert signed_in(site, "kiosk").get("/evaluator/11").status_code == 200
    assert signed_in(site, "clerk10").get("/evaluator/10").status_code == 200


def test_the_whole_configuration_downloads_as_the_yaml_file_of_hall_config(site: Any) -> None:
    response = signed_in(site, "supervisor").get("/admin/ZMD/config.yaml")
    assert response.status_code == 200 and response.mimetype == "application/yaml"
    assert "ZMD-config.yaml" in response.headers["Content-Disposition"]
    config = load_yaml(text(response))
    assert config.hall.code == "ZMD" and len(config.windows) == 22
    assert "导出配置 (YAML)" in text(signed_in(site, "admin").get("/admin/ZMD/"))
    assert signed_in(site, "clerk10").get("/admin/ZMD/config.yaml").status_code == 403


def test_silent_zones_are_ticked_on_the_rules_page_and_reach_the_hall(site: Any) -> None:
    admin = signed_in(site, "admin")
    page = text(admin.get("/admin/ZMD/rules"))
    assert "无声叫号" in page and "社保医保公积金区" in page
    rules = site.extensions["hall"].admin.rules(
        site.extensions["hall"].accounts.find("admin"), "ZMD"
    )
    form = {f"no_show_{k}": str(v) for k, v in rules["no_show"].items()}
    form |= {f"dispatch_{k}": str(v) for k, v in rules["dispatch"].items()}
    form |= {f"appointments_{k}": str(v) for k, v in rules["appointments"].items()}
    zones = site.extensions["hall"].engine.hall_config("ZMD").zones
    form[f"calling_silent_{zones.index('社保医保公积金区')}"] = "on"
    saved = admin.post("/admin/ZMD/rules", data=form)
    assert saved.status_code == 302, text(saved)
    config = site.extensions["hall"].engine.hall_config("ZMD")
    assert config.silent_zones == {"社保医保公积金区"}
    assert config.silent_window(13) and not config.silent_window(9)
    again = text(admin.get("/admin/ZMD/rules"))
    index = zones.index("社保医保公积金区")
    assert re.search(rf'name="calling_silent_{index}" id="f-calling_silent_{index}" checked', again)


def test_the_delivery_log_page_is_english_on_request_and_retries_for_admins_only(
    site: Any,
) -> None:
    english = text(signed_in(site, "admin").get("/admin/ZMD/deliveries?lang=en"))
    assert "Delivery log" in english and "Dead letters" in english and "发送记录" not in english
    templates = text(signed_in(site, "admin").get("/admin/ZMD/notices?lang=en"))
    assert "Notice templates" in templates and "Number A012, please go to window 5." in templates
    supervisor = signed_in(site, "supervisor")
    assert supervisor.post("/admin/ZMD/deliveries/1/retry").status_code == 403
    assert signed_in(site, "admin").post("/admin/ZMD/deliveries/999/retry").status_code == 404
