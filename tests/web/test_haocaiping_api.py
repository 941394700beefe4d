"""好差评 to the national rules over HTTP: the citizen's doors, rate-later, appeals' permissions,
the rules, cards and their notice, and the public figures (no personal data)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask.testing import FlaskClient

from queue_engine.domain.clock import FrozenClock
from tests.helpers.api import API, Hall, assert_error

Auth = Callable[[str], dict[str, str]]


def finished(hall: Hall, clock: FrozenClock, window: int = 10) -> dict[str, Any]:
    ticket = hall.issue("SOCIAL", "web")
    hall.open(window, f"clerk{window}")
    called = hall.call_next(window, f"clerk{window}")
    assert called["id"] == ticket["id"]
    hall.act(ticket["id"], "start", f"clerk{window}")
    clock.advance(minutes=3)
    return {
        **hall.act(ticket["id"], "finish", f"clerk{window}"),
        "rating_key": ticket["rating_key"],
    }


def test_a_citizen_rates_with_the_halls_indicators_and_reasons_then_follows_up_once(
    client: FlaskClient, hall: Hall, auth: Auth, clock: FrozenClock
) -> None:
    rules = {"rules": {"indicators": ["overall", "attitude"], "reasons": ["态度", "排队久"]}}
    assert_error(
        client.put(f"{API}/halls/ZMD/evaluation-rules", json=rules, headers=auth("supervisor")), 403
    )
    bad_rules = {"rules": {"follow_up_days": 0}}
    assert_error(
        client.put(f"{API}/halls/ZMD/evaluation-rules", json=bad_rules, headers=auth("admin")), 422
    )
    put = client.put(f"{API}/halls/ZMD/evaluation-rules", json=rules, headers=auth("admin"))
    assert put.status_code == 200
    form = client.get(f"{API}/halls/ZMD/rating-form").get_json()
    assert form["indicators"] == ["overall", "attitude"] and form["reasons"] == ["态度", "排队久"]

    ticket = finished(hall, clock)
    url, key = f"{API}/tickets/{ticket['id']}/evaluation", ticket["rating_key"]
    assert_error(client.post(url, json={"score": 2, "key": key, "reasons": ["天气"]}), 422)
    assert_error(client.post(url, json={"score": 2, "key": key, "indicators": {"overall": 2}}), 422)
    body = {
        "score": 2,
        "key": key,
        "indicators": {"overall": 2, "attitude": 1},
        "reasons": ["态度"],
    }
    rated = client.post(url, json=body)
    assert rated.status_code == 201
    assert rated.get_json()["reasons"] == ["态度"] and rated.get_json()["follow_up"] is True
    follow = f"{url}/follow-up"
    assert_error(client.post(follow, json={"key": "x" * 20, "comment": "补充"}), 403, "rating_key")
    assert client.post(follow, json={"key": key, "comment": "后来办好了"}).status_code == 200
    assert_error(
        client.post(follow, json={"key": key, "comment": "再说"}), 409, "already_followed_up"
    )
    staff = client.post(follow, json={"key": key, "comment": "x"}, headers=auth("clerk10"))
    assert_error(staff, 403, "staff_rating")

    (case,) = client.get(f"{API}/halls/ZMD/cases", headers=auth("supervisor")).get_json()["cases"]
    assert case["reasons"] == ["态度"] and case["callback_deadline"] is not None
    base = f"{API}/cases/{case['id']}"
    rect = f"{url}/rectification"
    assert_error(client.post(rect, json={"key": key, "rating": "satisfied"}), 409, "not_rectified")
    client.post(f"{base}/call-back", json={}, headers=auth("supervisor"))
    assert_error(client.post(f"{base}/explain", json={}, headers=auth("supervisor")), 422)
    explained = client.post(
        f"{base}/explain", json={"note": "无法律依据,已解释"}, headers=auth("supervisor")
    )
    assert (
        explained.get_json()["status"] == "closed"
        and explained.get_json()["resolution"] == "explained"
    )
    rated_fix = client.post(rect, json={"key": key, "rating": "basic"})
    assert rated_fix.get_json()["rectification_rating"] == "basic"


def test_the_rated_clerk_appeals_but_only_a_second_supervisor_decides(
    client: FlaskClient, hall: Hall, auth: Auth, clock: FrozenClock
) -> None:
    ticket = finished(hall, clock)
    client.post(
        f"{API}/tickets/{ticket['id']}/evaluation", json={"score": 1, "key": ticket["rating_key"]}
    )
    (case,) = client.get(f"{API}/halls/ZMD/cases", headers=auth("supervisor")).get_json()["cases"]
    appeal_url = f"{API}/cases/{case['id']}/appeal"
    assert_error(client.post(appeal_url, json={"reason": "不是我"}, headers=auth("clerk11")), 403)
    filed = client.post(appeal_url, json={"reason": "群众误按"}, headers=auth("clerk10"))
    assert filed.status_code == 201
    appeal = filed.get_json()["id"]
    evidence = client.post(
        f"{API}/appeals/{appeal}/evidence", json={"note": "录像"}, headers=auth("clerk10")
    )
    assert evidence.get_json()["evidence"][0]["text"] == "录像"
    decide = f"{API}/appeals/{appeal}/decide"
    assert_error(
        client.post(decide, json={"decision": "upheld", "note": "x"}, headers=auth("clerk10")), 403
    )
    assert_error(
        client.post(decide, json={"decision": "sure", "note": "x"}, headers=auth("supervisor")), 422
    )
    upheld = client.post(
        decide, json={"decision": "upheld", "note": "录像为证"}, headers=auth("supervisor")
    )
    assert upheld.get_json()["decided_by"] == "supervisor"
    month = clock.now().strftime("%Y-%m")
    figures = client.get(f"{API}/halls/ZMD/evaluations/figures?month={month}").get_json()
    assert figures["overall"]["ratings"] == 0 and figures["overall"]["finished"] == 1  # excluded
    assert_error(client.get(f"{API}/halls/ZMD/evaluations/figures?month=2026-13"), 422)
    detail = client.get(f"{API}/cases/{case['id']}", headers=auth("supervisor")).get_json()
    assert detail["case"]["status"] == "excluded" and detail["appeals"][0]["status"] == "upheld"


def test_rate_later_and_the_public_figures_carry_no_personal_data(
    client: FlaskClient, hall: Hall, auth: Auth, clock: FrozenClock
) -> None:
    ticket = finished(hall, clock)
    windows = client.get(f"{API}/halls/ZMD/windows").get_json()["windows"]
    window = next(w["id"] for w in windows if w["number"] == 10)
    assert_error(client.post(f"{API}/windows/{window}/rate-later", headers=auth("clerk11")), 403)
    later = client.post(f"{API}/windows/{window}/rate-later", headers=auth("clerk10"))
    assert later.status_code == 201 and later.get_json() == {
        "ticket": ticket["id"],
        "channel": "rate_later",
    }
    assert_error(client.post(f"{API}/windows/{window}/rate-later", headers=auth("clerk10")), 409)
    page = client.get("/halls/ZMD/haocaiping")
    assert page.status_code == 200 and "好差评" in page.get_data(as_text=True)
    assert ticket["number"] not in page.get_data(as_text=True) and "clerk10" not in page.get_data(
        as_text=True
    )
    assert client.get("/halls/NOPE/haocaiping").status_code == 404
    assert client.get("/halls/ZMD/haocaiping?month=x").status_code == 422
    assert_error(client.get(f"{API}/cards/1/notice.pdf", headers=auth("supervisor")), 404)
    assert (
        client.post(f"{API}/halls/ZMD/cards/sweep", headers=auth("supervisor")).get_json()["cards"]
        == []
    )
    report = client.get(
        f"{API}/halls/ZMD/evaluations/report?month=2026-11", headers=auth("supervisor")
    )
    assert report.status_code == 200 and report.get_json()["cards_by_window"] == {}
    assert_error(client.get(f"{API}/halls/ZMD/evaluations/report?month=2026-11"), 401)


def test_the_case_page_and_the_black_flag_confirmation_are_for_supervisors(
    app: Any, hall: Hall, auth: Auth, clock: FrozenClock
) -> None:
    from tests.helpers.pages import csrf_token, page_login

    client = hall.client
    ticket = finished(hall, clock)
    client.post(
        f"{API}/tickets/{ticket['id']}/evaluation", json={"score": 1, "key": ticket["rating_key"]}
    )
    (case,) = client.get(f"{API}/halls/ZMD/cases", headers=auth("supervisor")).get_json()["cases"]
    clerk = app.test_client()
    page_login(clerk, "clerk10", "zmd-clerk-2026")
    assert clerk.get(f"/supervisor/cases/{case['id']}").status_code == 403
    boss = app.test_client()
    page_login(boss, "supervisor", "zmd-super-2026")
    page = boss.get(f"/supervisor/cases/{case['id']}")
    assert page.status_code == 200 and "待回访" in page.get_data(as_text=True)
    assert boss.get("/supervisor/cases/999").status_code == 404
    month = clock.now().strftime("%Y-%m")
    report = boss.get(f"/supervisor/ZMD/reports/monthly?month={month}")
    assert "好差评与效能监察" in report.get_data(as_text=True)
    confirm = boss.post(
        f"/supervisor/ZMD/reports/monthly/black-flags?month={month}",
        data={"csrf_token": csrf_token(report)},
    )
    assert confirm.status_code == 302 and f"month={month}" in confirm.headers["Location"]
    refused = boss.post(f"/supervisor/ZMD/reports/monthly/black-flags?month={month}")
    assert refused.status_code == 400  # no CSRF token


def test_the_window_evaluator_takes_the_halls_reasons_with_a_bad_review(
    app: Any, hall: Hall, auth: Auth, clock: FrozenClock
) -> None:
    from tests.helpers.pages import page_login

    finished(hall, clock)
    windows = hall.client.get(f"{API}/halls/ZMD/windows").get_json()["windows"]
    window = next(w["id"] for w in windows if w["number"] == 10)
    device = app.test_client()
    page_login(device, "clerk10", "zmd-clerk-2026")
    page = device.get(f"/evaluator/{window}").get_data(as_text=True)
    found = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert found is not None
    token = found[1]
    url, headers = f"/evaluator/{window}/rate", {"X-CSRFToken": token}
    bad = device.post(url, json={"score": 1, "reasons": ["天气"]}, headers=headers)
    assert bad.status_code == 422
    assert (
        device.post(url, json={"score": 1, "reasons": "态度"}, headers=headers).status_code == 422
    )
    rated = device.post(url, json={"score": 1, "reasons": ["态度", "效率"]}, headers=headers)
    assert rated.status_code == 201
    (case,) = hall.client.get(f"{API}/halls/ZMD/cases", headers=auth("supervisor")).get_json()[
        "cases"
    ]
    assert case["reasons"] == ["态度", "效率"]
