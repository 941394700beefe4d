"""Priority tickets jump the queue, so the reason is taken only from someone who can check it.

A kiosk of the hall (where a guide sees the citizen) and the hall's staff may issue a priority
ticket; an anonymous app or web request asking for one is refused with 422
``priority_unverified`` and leaves no ticket behind.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient

from tests.helpers.api import API, Hall, assert_error

Auth = Callable[[str], dict[str, str]]
TICKETS = f"{API}/halls/ZMD/tickets"


@pytest.mark.parametrize("channel", ["web", "app"])
@pytest.mark.parametrize("priority", ["military", "elderly", "disabled", "pregnant"])
def test_public_channels_cannot_claim_a_priority(
    client: FlaskClient, hall: Hall, channel: str, priority: str
) -> None:
    earlier = hall.issue("MEDICAL", channel="web")
    body = {"service": "MEDICAL", "channel": channel, "priority": priority}
    assert_error(client.post(TICKETS, json=body), 422, "priority_unverified")
    later = hall.issue("MEDICAL", channel="web")
    assert later["position"] == 1 and later["number"] == "G002"  # nothing was queued
    assert earlier["position"] == 0


def test_a_kiosk_issues_priority_tickets_as_its_page_does(client: FlaskClient) -> None:
    """The kiosk page's own request: its token, channel ``kiosk``, the chosen reason."""
    with client.session_transaction() as session:
        session["username"] = "kiosk"
    page = client.get("/kiosk/ZMD").get_data(as_text=True)
    found = re.search(r'<script[^>]*id="page-data"[^>]*>(.*?)</script>', page, re.S)
    assert found is not None
    data = json.loads(found.group(1))
    regular = client.post(
        data["issue_url"],
        json={"service": "MEDICAL", "channel": "kiosk", "priority": "none"},
        headers={"Authorization": f"Bearer {data['token']}"},
    )
    assert regular.status_code == 201
    response = client.post(
        data["issue_url"],
        json={"service": "MEDICAL", "channel": "kiosk", "priority": "military"},
        headers={"Authorization": f"Bearer {data['token']}"},
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["priority"] == "military"
    assert response.get_json()["position"] == 0  # ahead of the regular ticket


@pytest.mark.parametrize("user", ["kiosk", "clerk10", "supervisor", "admin"])
def test_the_halls_kiosk_and_staff_may_issue_priority_on_any_channel(
    client: FlaskClient, auth: Auth, user: str
) -> None:
    body = {"service": "MEDICAL", "channel": "web", "priority": "elderly"}
    response = client.post(TICKETS, json=body, headers=auth(user))
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["priority"] == "elderly"


def test_a_bogus_token_does_not_verify_a_priority(client: FlaskClient) -> None:
    body = {"service": "MEDICAL", "channel": "web", "priority": "military"}
    response = client.post(TICKETS, json=body, headers={"Authorization": "Bearer forged"})
    assert_error(response, 422, "priority_unverified")


def test_public_tickets_without_a_priority_stay_public(client: FlaskClient) -> None:
    for priority in (None, "none"):
        body = {"service": "MEDICAL", "channel": "web"}
        if priority is not None:
            body["priority"] = priority
        assert client.post(TICKETS, json=body).status_code == 201
