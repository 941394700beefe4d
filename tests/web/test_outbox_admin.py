"""Admins preview the notice templates and retry dead letters; the address never shows."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from queue_engine.adapters.unit_of_work import UnitOfWork
from queue_engine.domain.outbox import DeliveryError
from tests.helpers.api import API

ADMIN = f"{API}/admin"


def test_templates_are_previewed_with_their_sms_segments(
    client: Any, auth: Callable[[str], dict[str, str]]
) -> None:
    body = client.get(f"{ADMIN}/notices/templates", headers=auth("admin")).get_json()
    called = next(t for t in body["templates"] if t["kind"] == "called" and t["lang"] == "zh")
    assert called["sample"] == "请 A012 号到 5 号窗口办理" and called["sms_segments"] == 1
    assert all(t["sms_segments"] == 1 for t in body["templates"] if t["lang"] == "zh")
    assert client.get(f"{ADMIN}/notices/templates").status_code == 401


def test_a_dead_letter_is_listed_with_its_reason_and_retried(
    app: Any, client: Any, auth: Callable[[str], dict[str, str]]
) -> None:
    services = app.extensions["hall"]
    with UnitOfWork(services.db) as uow:
        services.outbox.enqueue(
            uow, channel="sms", kind="called", hall="ZMD", key="d1", to="13800001111", urgent=True
        )
        uow.commit()

    class Refusing:
        name = "sms"

        def send(self, delivery: Any) -> None:
            raise DeliveryError("template not approved", retryable=False)

    worker = services.worker("t")
    worker.channels = {"sms": Refusing()}
    worker.drain()
    url = f"{ADMIN}/halls/ZMD/deliveries?status=dead"
    [dead] = client.get(url, headers=auth("admin")).get_json()["deliveries"]
    assert dead["last_error"] == "template not approved"
    assert "13800001111" not in str(dead)
    retry = client.post(f"{ADMIN}/halls/ZMD/deliveries/{dead['id']}/retry", headers=auth("admin"))
    assert retry.status_code == 200 and retry.get_json()["status"] == "pending"
    missing = client.post(f"{ADMIN}/halls/ZMD/deliveries/999/retry", headers=auth("admin"))
    assert missing.status_code == 404
    bad = client.get(f"{ADMIN}/halls/ZMD/deliveries?status=nope", headers=auth("admin"))
    assert bad.status_code == 422 or bad.status_code == 400
    worker.channels = services.channels
    assert worker.drain() == 1


def test_metrics_show_the_outbox(app: Any, client: Any) -> None:
    services = app.extensions["hall"]
    with UnitOfWork(services.db) as uow:
        services.outbox.enqueue(uow, channel="sms", kind="called", hall="ZMD", key="m1", to="1")
        uow.commit()
    services.worker("m").drain()
    text = client.get("/metrics").get_data(as_text=True)
    assert 'hall_outbox_rows{status="sent"} 1.0' in text
    assert "hall_outbox_latency_seconds" in text


def test_close_day_needs_a_date_and_an_admin(
    client: Any, auth: Callable[[str], dict[str, str]]
) -> None:
    url = f"{ADMIN}/halls/ZMD/close-day"
    assert client.post(url, json={"date": "x"}, headers=auth("admin")).status_code == 422
    ok = client.post(url, json={"date": "2026-11-30"}, headers=auth("admin"))
    assert ok.status_code == 200 and ok.get_json()["cancelled"] == 0


def test_a_staff_accounts_card_addresses_are_set_by_admins_and_never_shown(
    client: Any, auth: Any
) -> None:
    url = f"{ADMIN}/users/clerk10/contact"
    body = {"phone": "13900001010", "heads_department": "人社局"}
    response = client.put(url, json=body, headers=auth("admin"))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json() == {
        "username": "clerk10",
        "phone": True,
        "wechat": False,
        "heads_department": "人社局",
    }
    seen = client.get(url, headers=auth("supervisor"))
    assert seen.status_code == 200 and "13900001010" not in seen.get_data(as_text=True)
    assert client.put(url, json={"phone": None}, headers=auth("supervisor")).status_code == 403
    bad = client.put(url, json={"phone": "12345"}, headers=auth("admin"))
    assert bad.status_code == 422 and "12345" not in bad.get_data(as_text=True)
    assert client.get(f"{ADMIN}/users/nobody/contact", headers=auth("admin")).status_code == 404
    cleared = client.put(url, json={"phone": ""}, headers=auth("admin")).get_json()
    assert cleared["phone"] is False and cleared["heads_department"] == "人社局"
