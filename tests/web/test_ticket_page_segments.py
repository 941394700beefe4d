"""The phone's ticket page embeds the visit's services for its rate card (一次一评): each with
its names, status, whether it is rated and whether its 追评 is open."""

from __future__ import annotations

import json
import re
from typing import Any

from flask.testing import FlaskClient

from tests.helpers.api import API, Hall


def page_data(client: FlaskClient, path: str) -> dict[str, Any]:
    body = client.get(path).get_data(as_text=True)
    found = re.search(r'<script id="page-data" type="application/json">(.*?)</script>', body, re.S)
    assert found, body[:500]
    return json.loads(found.group(1))  # type: ignore[no-any-return]


def test_the_ticket_page_embeds_each_service_with_its_rating_state(
    client: FlaskClient, hall: Hall
) -> None:
    taken = client.post(
        f"{API}/halls/ZMD/tickets", json={"services": ["SOCIAL", "MEDICAL"], "channel": "web"}
    )
    assert taken.status_code == 201, taken.get_data(as_text=True)
    ticket = taken.get_json()
    hall.open(10, "clerk10")
    assert hall.call_next(10, "clerk10")["id"] == ticket["id"]
    assert hall.ticket_post(ticket["id"], "start", "clerk10").status_code == 200
    finished = hall.ticket_post(ticket["id"], "finish", "clerk10", json={"outcome": "completed"})
    assert finished.status_code == 200, finished.get_data(as_text=True)
    rated = hall.ticket_post(
        ticket["id"], "evaluation", None, json={"key": ticket["rating_key"], "score": 5}
    )
    assert rated.status_code == 201, rated.get_data(as_text=True)

    data = page_data(client, f"/t/{ticket['id']}")
    first, second = data["ticket"]["services"]
    assert (first["index"], first["service"], first["status"]) == (0, "SOCIAL", "done")
    assert (first["rated"], first["follow_up_open"], first["rectification_open"]) == (
        True,
        True,
        False,
    )
    assert first["name"] and first["name_en"] and first["name"] != first["name_en"]
    assert (second["index"], second["service"], second["rated"]) == (1, "MEDICAL", False)
    assert second["status"] != "done" and not second["follow_up_open"]
    assert data["strings"]["rate_service"] == "第 {n} 项(共 {total} 项):{name}"
    assert data["service_names"]["MEDICAL"]["zh"] == second["name"]
    assert ticket["rating_key"] not in json.dumps(data)  # it stays in the address's fragment
    english = page_data(client, f"/t/{ticket['id']}?lang=en")
    assert english["strings"]["rate_service"] == "Service {n} of {total}: {name}"
