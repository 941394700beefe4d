"""The kiosk page's identity step (issue 18): the card reader in its CSP, the server's check."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from flask.testing import FlaskClient

from hall_app.config import ConfigError, Settings, card_reader_origin
from hall_app.security import CSP, csp_connecting
from tests.helpers.api import API, assert_error
from tests.web.test_api_visits import synthetic_id

Auth = Callable[[str], dict[str, str]]
IDENTITY = f"{API}/halls/ZMD/kiosk/identity"


def kiosk_page(client: FlaskClient) -> tuple[Any, dict[str, Any]]:
    with client.session_transaction() as session:
        session["username"] = "kiosk"
    response = client.get("/kiosk/ZMD")
    found = re.search(r'<script[^>]*id="page-data"[^>]*>(.*?)</script>', response.text, re.S)
    assert found is not None
    return response, json.loads(found.group(1))


def test_the_kiosk_page_may_connect_to_its_card_reader_and_no_other_page_may(
    client: FlaskClient,
) -> None:
    response, data = kiosk_page(client)
    assert data["card_reader_url"] == "http://127.0.0.1:18650"
    policy = response.headers["Content-Security-Policy"]
    assert "connect-src 'self' http://127.0.0.1:18650;" in policy
    assert policy == csp_connecting("http://127.0.0.1:18650")
    assert client.get("/login").headers["Content-Security-Policy"] == CSP
    assert data["max_services"] == 5 and data["identity_required"] is False
    assert sorted(data["most_used"]) == sorted(data["services"])


def test_the_card_reader_address_is_an_origin_or_the_app_refuses_to_start() -> None:
    assert card_reader_origin("http://127.0.0.1:18650/") == "http://127.0.0.1:18650"
    assert card_reader_origin("https://reader.local:9443") == "https://reader.local:9443"
    settings = Settings.from_env({"HALL_CARD_READER_URL": "http://localhost:8765"})
    assert settings.web_config()["HALL_CARD_READER_URL"] == "http://localhost:8765"
    for bad in ("127.0.0.1:18650", "file:///dev/reader", "http://127.0.0.1:1/card", "http://"):
        with pytest.raises(ConfigError, match="HALL_CARD_READER_URL"):
            card_reader_origin(bad)


def test_the_identity_step_returns_the_age_band_and_never_the_number(
    client: FlaskClient, auth: Auth
) -> None:
    elder, adult = synthetic_id(date(1950, 3, 1)), synthetic_id(date(1995, 3, 1))
    answer = client.post(IDENTITY, json={"id_number": elder}, headers=auth("kiosk"))
    assert answer.status_code == 200, answer.text
    assert answer.get_json() == {
        "masked_id": elder[:4] + "*" * 10 + elder[-4:],
        "age_band": "70+",
        "elderly": True,
    }
    young = client.post(IDENTITY, json={"id_number": adult}, headers=auth("kiosk")).get_json()
    assert young["age_band"] == "30-39" and young["elderly"] is False
    wrong = adult[:-1] + ("0" if adult[-1] != "0" else "1")
    refused = client.post(IDENTITY, json={"id_number": wrong}, headers=auth("kiosk"))
    assert_error(refused, 422, "id_number")
    assert wrong not in refused.text
    assert_error(client.post(IDENTITY, json={"id_number": elder}), 401)
    assert_error(client.post(IDENTITY, json={"id_number": elder}, headers=auth("clerk10")), 403)
