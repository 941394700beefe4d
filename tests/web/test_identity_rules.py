"""Issue 18's remainders over HTTP: the hall's identity rule (admin API, engine, kiosk page),
electronic ID / app QR codes through the identity platform, and 代办 tickets."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.fakes.eid_platform import APP_ID, KEY, FakeEidPlatform
from tests.helpers.api import API, Hall, assert_error
from tests.web.test_api_visits import synthetic_id
from tests.web.test_kiosk_identity import kiosk_page

Auth = Callable[[str], dict[str, str]]
ADMIN = f"{API}/admin"
RULES = f"{ADMIN}/halls/ZMD/identity-rules"
TICKETS = f"{API}/halls/ZMD/tickets"
EID = f"{API}/halls/ZMD/kiosk/eid"


def put_rule(client: FlaskClient, auth: Auth, **rule: Any) -> dict[str, Any]:
    response = client.put(RULES, json=rule, headers=auth("admin"))
    assert response.status_code == 200, response.text
    return response.get_json()  # type: ignore[no-any-return]


def take(client: FlaskClient, auth: Auth, **body: Any) -> Any:
    return client.post(TICKETS, json={"channel": "kiosk", **body}, headers=auth("kiosk"))


@pytest.fixture
def platform() -> Iterator[FakeEidPlatform]:
    fake = FakeEidPlatform()
    yield fake
    fake.close()


def use(app: Any, platform: FakeEidPlatform, key: str = KEY) -> None:
    app.config.update(HALL_EID_URL=platform.url, HALL_EID_APP_ID=APP_ID, HALL_EID_KEY=key)


def test_the_admin_sets_the_identity_rule_and_bad_values_get_4xx_json(
    client: FlaskClient, auth: Auth
) -> None:
    default = client.get(RULES, headers=auth("supervisor")).get_json()
    assert default == {
        "mode": "optional",
        "services": {},
        "per_service": 1,
        "total": 3,
        "elderly_age": 70,
        "zone_ages": {"老年服务专区": 60},
    }
    saved = put_rule(
        client,
        auth,
        mode="required",
        services={"TAX": "off"},
        per_service=2,
        total=4,
        elderly_age=65,
        zone_ages={"老年服务专区": 60},
    )
    assert saved["services"] == {"TAX": "off"} and saved["per_service"] == 2
    rules = client.get(f"{ADMIN}/halls/ZMD/rules", headers=auth("admin")).get_json()
    assert rules["identity"] == saved  # the same section of the hall's rules
    for bad, code in (
        ({"mode": "sometimes"}, None),
        ({"per_service": 0}, None),
        ({"per_service": 4, "total": 3}, None),
        ({"elderly_age": 130}, None),
        ({"zone_ages": {"老年服务专区": 10}}, None),
        ({"services": {"NOPE": "required"}}, "unknown_service"),
        ({"zone_ages": {"月球区": 60}}, "unknown_zone"),
        ({"colour": "red"}, None),
    ):
        assert_error(client.put(RULES, json=bad, headers=auth("admin")), 422, code)
    assert client.get(RULES, headers=auth("admin")).get_json() == saved  # nothing half-saved
    assert_error(client.put(RULES, json={}, headers=auth("supervisor")), 403)
    assert_error(client.get(RULES), 401)


def test_a_required_service_refuses_a_ticket_without_an_id_and_off_refuses_one_with(
    client: FlaskClient, auth: Auth
) -> None:
    put_rule(client, auth, services={"SOCIAL": "required", "TAX": "off"})
    number = synthetic_id(date(1985, 6, 1))
    assert_error(take(client, auth, service="SOCIAL"), 422, "identity_required")
    assert_error(take(client, auth, services=["MEDICAL", "SOCIAL"]), 422, "identity_required")
    assert take(client, auth, service="SOCIAL", id_number=number).status_code == 201
    assert take(client, auth, service="MEDICAL").status_code == 201  # the hall: optional
    assert_error(take(client, auth, service="TAX", id_number=number), 422, "identity_off")
    assert take(client, auth, service="TAX").status_code == 201
    _, data = kiosk_page(client)
    assert data["identity"]["mode"] == "optional"
    assert data["identity"]["services"]["SOCIAL"] == "required"
    assert data["identity"]["services"]["TAX"] == "off"
    assert data["identity"]["services"]["MEDICAL"] == "optional"


def test_the_limits_and_the_ages_are_the_halls(client: FlaskClient, auth: Auth) -> None:
    put_rule(client, auth, per_service=2, total=2, elderly_age=65)
    number = synthetic_id(date(1960, 1, 1))  # 66 on 2026-11-26: elderly at 65, not at 70
    first = take(client, auth, service="SOCIAL", id_number=number)
    assert first.status_code == 201 and first.get_json()["priority"] == "elderly"
    assert take(client, auth, service="SOCIAL", id_number=number).status_code == 201
    again = assert_error(take(client, auth, service="MEDICAL", id_number=number), 409)
    assert again["error"] == "already_waiting"
    identity = client.post(
        f"{API}/halls/ZMD/kiosk/identity", json={"id_number": number}, headers=auth("kiosk")
    )
    assert identity.get_json()["elderly"] is True
    put_rule(client, auth)  # back to the defaults: 70
    other = synthetic_id(date(1959, 1, 1))
    assert take(client, auth, service="SOCIAL", id_number=other).get_json()["priority"] == "none"


def test_a_qr_code_resolves_through_the_platform_and_bad_codes_get_a_clear_4xx(
    app: Any,
    client: FlaskClient,
    auth: Auth,
    platform: FakeEidPlatform,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    assert_error(client.post(EID, json={"code": "X"}, headers=auth("kiosk")), 404, "eid_off")
    use(app, platform)
    number = synthetic_id(date(1950, 3, 1))
    code = platform.issue(number, "王秀英")
    answer = client.post(EID, json={"code": code}, headers=auth("kiosk"))
    assert answer.status_code == 200, answer.text
    assert answer.get_json() == {
        "masked_id": number[:4] + "*" * 10 + number[-4:],
        "age_band": "70+",
        "elderly": True,
        "id_number": number,  # for the kiosk page's memory, until the ticket is taken
        "name": "王秀英",
    }
    assert_error(client.post(EID, json={"code": code}, headers=auth("kiosk")), 422, "eid_invalid")
    expired = platform.issue(number, "王秀英", ttl=-1)
    assert_error(
        client.post(EID, json={"code": expired}, headers=auth("kiosk")), 422, "eid_expired"
    )
    assert_error(client.post(EID, json={"code": "a b"}, headers=auth("kiosk")), 422, "eid_invalid")
    assert_error(client.post(EID, json={"code": ""}, headers=auth("kiosk")), 422)
    wrong = platform.issue("110101195003071230", "某某")  # a wrong check digit at the platform
    assert_error(client.post(EID, json={"code": wrong}, headers=auth("kiosk")), 422, "id_number")
    use(app, platform, key="not-the-platforms-key-0123456789abcdef")
    refused = client.post(EID, json={"code": platform.issue(number, "王")}, headers=auth("kiosk"))
    assert_error(refused, 503, "eid_unavailable")
    assert platform.refused == 1
    assert_error(client.post(EID, json={"code": code}), 401)
    assert_error(client.post(EID, json={"code": code}, headers=auth("clerk10")), 403)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert number not in logged and "王秀英" not in logged and code not in logged


def test_a_proxy_ticket_records_both_and_counts_the_person_served(
    client: FlaskClient, auth: Auth, hall: Hall
) -> None:
    agent, principal = synthetic_id(date(1990, 1, 1)), synthetic_id(date(1948, 1, 1))
    put_rule(client, auth, services={"SOCIAL": "required"})
    ticket = take(client, auth, service="SOCIAL", id_number=principal, proxy_id_number=agent)
    assert ticket.status_code == 201, ticket.text
    body = ticket.get_json()
    assert body["proxy"] is True and body["identified"] is True
    assert body["priority"] == "elderly"  # the principal's age, not the agent's
    assert agent not in ticket.text and principal not in ticket.text
    # the agent may still take a ticket of their own: the limits count the person served
    own = take(client, auth, service="SOCIAL", id_number=agent)
    assert own.status_code == 201 and own.get_json()["proxy"] is False
    assert_error(take(client, auth, service="MEDICAL", proxy_id_number=agent), 422)
    hall.open(10, "clerk10")
    assert hall.call_next(10, "clerk10")["id"] == body["id"]
    hall.act(body["id"], "start", "clerk10")
    hall.act(body["id"], "finish", "clerk10", json={"outcome": "completed"})
    figures = client.get(f"{API}/halls/ZMD/one-visit", headers=auth("supervisor")).get_json()
    assert figures["proxy_visits"] == 1 and figures["visits"] == 1  # a proxy visit, counted


def test_the_admins_rules_page_has_the_identity_card_and_saves_it(
    app: Any, client: FlaskClient
) -> None:
    app.config["WTF_CSRF_ENABLED"] = False  # the form's token is tested elsewhere
    with client.session_transaction() as session:
        session["username"] = "admin"
    page = client.get("/admin/ZMD/rules").text
    assert "身份核验与一人一号" in page and 'name="identity_service_SOCIAL"' in page
    services = app.extensions["hall"]
    rules = services.admin.rules(services.accounts.find("admin"), "ZMD")
    form = {f"no_show_{k}": str(v) for k, v in rules["no_show"].items()}
    form |= {f"dispatch_{k}": str(v) for k, v in rules["dispatch"].items()}
    form |= {f"appointments_{k}": str(v) for k, v in rules["appointments"].items()}
    zones = services.engine.hall_config("ZMD").zones
    form |= {
        "identity_mode": "required",
        "identity_service_TAX": "off",
        "identity_service_SOCIAL": "",
        "identity_per_service": "2",
        "identity_total": "5",
        "identity_elderly_age": "65",
        f"identity_zone_age_{zones.index(zones[0])}": "60",
    }
    saved = client.post("/admin/ZMD/rules", data=form)
    assert saved.status_code == 302, saved.text
    rule = services.admin.rules(services.accounts.find("admin"), "ZMD")["identity"]
    assert rule == {
        "mode": "required",
        "services": {"TAX": "off"},
        "per_service": 2,
        "total": 5,
        "elderly_age": 65,
        "zone_ages": {zones[0]: 60},
    }
    refused = client.post("/admin/ZMD/rules", data={**form, "identity_total": "1"})
    assert refused.status_code == 200 and 'id="form-errors"' in refused.text  # not saved
    assert services.admin.rules(services.accounts.find("admin"), "ZMD")["identity"] == rule


def test_a_platform_that_cannot_answer_is_a_503_and_a_bad_answer_too() -> None:
    import socket

    from queue_engine.adapters.eid import EidPlatform
    from queue_engine.domain.errors import Busy

    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]  # nobody listens here once the socket is closed
    down = EidPlatform(f"http://127.0.0.1:{port}/resolve", APP_ID, KEY, timeout=1)
    with pytest.raises(Busy) as error:
        down.resolve("EID1.code")
    assert error.value.code == "eid_unavailable"
    assert EidPlatform.from_config({"HALL_EID_URL": ""}) is None
