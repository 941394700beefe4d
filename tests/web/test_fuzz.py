"""A bounded schemathesis run over the app's own OpenAPI document: no input gives a 500.

After it, a hand-written pass sends what schemathesis does not draw (bodies nested a thousand
levels deep, bodies over ``MAX_CONTENT_LENGTH``, dates at the ends of the calendar) to every
operation of the document and to every page route.

In-process (WSGI), on SQLite, with an administrator's bearer token so that the protected
operations are exercised past their role checks (an admin passes every role check and acts
as the system on every window). A few windows are open and tickets wait, so that generated
requests meet a hall with some life in it.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from hall_app.auth import issue_token
from hall_app.live import LivePublisher
from queue_engine.adapters.unit_of_work import Database
from queue_engine.domain.access import Actor
from queue_engine.domain.clock import FrozenClock
from queue_engine.seed import demo_hall
from queue_engine.services.admin import AdminDesk, NewUser
from tests.helpers.api import API, SECRET, STAFF, make_app

MAX_EXAMPLES = 40
HALL_MORNING = "2026-11-26T02:00:00+00:00"  # Thursday 10:00 in Zhumadian


@pytest.fixture(scope="module")
def fuzz_app(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    folder = tmp_path_factory.mktemp("fuzz")
    shutil.copy(sqlite_template, folder / "hall.db")
    url = f"sqlite:///{folder / 'hall.db'}"
    clock = FrozenClock(datetime.fromisoformat(HALL_MORNING))
    database = Database(url)
    desk = AdminDesk(database, clock)
    desk.seed_hall(demo_hall(always_open=True))
    staff = ("admin", "clerk10", "clerk11", "clerk12")
    desk.seed_users(NewUser(name, *STAFF[name], "ZMD") for name in staff)
    database.dispose()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HALL_INSTANCE_PATH", str(folder / "instance"))
        patch.setenv("HALL_SECRET_KEY", SECRET)
        patch.setenv("HALL_PLANNER_REPAIR", "check")
        patch.setenv("HALL_PLANNER_SOLVE_SECONDS", "1")
        patch.delenv("HALL_MESSAGE_QUEUE", raising=False)
        patch.setattr(LivePublisher, "ensure_refresher", lambda self: None)
        app = make_app(url, clock)
        client = app.test_client()
        with app.test_request_context():
            clerks = {  # one open window per clerk
                window: issue_token(Actor(name, STAFF[name][1], "ZMD", name))
                for window, name in ((1, "clerk11"), (10, "clerk10"), (12, "clerk12"))
            }
        tickets = []
        for service in ("SOCIAL", "SOCIAL", "TAX", "ENT"):
            body = {"service": service, "channel": "app"}
            response = client.post(f"{API}/halls/ZMD/tickets", json=body)
            assert response.status_code == 201
            tickets.append(response.get_json()["id"])
        for window, clerk in clerks.items():
            headers = {"Authorization": f"Bearer {clerk}"}
            assert client.post(f"{API}/windows/{window}/open", headers=headers).status_code == 200
        headers = {"Authorization": f"Bearer {clerks[10]}"}
        assert client.post(f"{API}/windows/10/call-next", headers=headers).status_code == 200
        app.config["FUZZ_PATH_VALUES"] = {
            "hall": ["ZMD"],
            "window_id": [1, 10, 12, 22],
            "ticket_id": tickets,
        }
        yield app
        app.extensions["hall"].db.dispose()


@pytest.fixture(scope="module")
def admin_headers(fuzz_app: Any) -> dict[str, str]:
    with fuzz_app.test_request_context():
        token = issue_token(Actor("admin", STAFF["admin"][1], "ZMD", "admin"))
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def api_schema(fuzz_app: Any) -> Any:
    return schemathesis.openapi.from_wsgi(f"{API}/openapi.json", fuzz_app)


# Every operation of routes.py (test_the_list_is_complete keeps this in step with the app).
OPERATIONS = [
    "POST /api/v1/auth/token",
    "GET /api/v1/halls/{hall}/services",
    "POST /api/v1/halls/{hall}/tickets",
    "GET /api/v1/tickets/{ticket_id}",
    "POST /api/v1/tickets/{ticket_id}/cancel",
    "GET /api/v1/windows/{window_id}",
    "POST /api/v1/windows/{window_id}/open",
    "POST /api/v1/windows/{window_id}/pause",
    "POST /api/v1/windows/{window_id}/resume",
    "POST /api/v1/windows/{window_id}/close",
    "POST /api/v1/windows/{window_id}/call-next",
    "POST /api/v1/windows/{window_id}/recall",
    "POST /api/v1/tickets/{ticket_id}/start",
    "POST /api/v1/tickets/{ticket_id}/finish",
    "POST /api/v1/tickets/{ticket_id}/no-show",
    "POST /api/v1/tickets/{ticket_id}/transfer",
    "GET /api/v1/halls/{hall}/live",
    "GET /api/v1/halls/{hall}/windows",
    # appointments and 好差评
    "GET /api/v1/halls/{hall}/services/{service}/slots",
    "POST /api/v1/halls/{hall}/appointments",
    "GET /api/v1/appointments/{code}",
    "DELETE /api/v1/appointments/{code}",
    "POST /api/v1/appointments/{code}/check-in",
    "POST /api/v1/halls/{hall}/appointments/check-in",
    "POST /api/v1/halls/{hall}/appointments/lookup",
    "POST /api/v1/appointments/{code}/confirm",
    "POST /api/v1/appointments/{code}/cancel",
    "POST /api/v1/tickets/{ticket_id}/evaluation",
    "GET /api/v1/halls/{hall}/cases",
    "POST /api/v1/cases/{case_id}/call-back",
    "POST /api/v1/cases/{case_id}/rectify",
    "POST /api/v1/cases/{case_id}/close",
    "POST /api/v1/cases/{case_id}/appeal",
    # 好差评 to the national rules (issue 19)
    "POST /api/v1/tickets/{ticket_id}/evaluation/follow-up",
    "POST /api/v1/tickets/{ticket_id}/evaluation/rectification",
    "GET /api/v1/halls/{hall}/rating-form",
    "POST /api/v1/windows/{window_id}/rate-later",
    "POST /api/v1/cases/{case_id}/explain",
    "GET /api/v1/cases/{case_id}",
    "POST /api/v1/appeals/{appeal_id}/evidence",
    "POST /api/v1/appeals/{appeal_id}/decide",
    "GET /api/v1/halls/{hall}/evaluation-rules",
    "PUT /api/v1/halls/{hall}/evaluation-rules",
    "GET /api/v1/halls/{hall}/cards",
    "POST /api/v1/halls/{hall}/cards/sweep",
    "GET /api/v1/cards/{card_id}/notice.pdf",
    "GET /api/v1/halls/{hall}/evaluations/figures",
    "GET /api/v1/halls/{hall}/evaluations/report",
    "GET /api/v1/halls/{hall}/evaluations/export",
    # supervision
    "GET /api/v1/halls/{hall}/alerts",
    "POST /api/v1/alerts/{alert_id}/acknowledge",
    "GET /api/v1/halls/{hall}/alert-thresholds",
    "PUT /api/v1/halls/{hall}/alert-thresholds",
    "GET /api/v1/halls/{hall}/board",
    "GET /api/v1/halls/{hall}/figures",
    "GET /api/v1/halls/{hall}/flag-settings",
    "PUT /api/v1/halls/{hall}/flag-settings",
    # administration
    "GET /api/v1/admin/halls",
    "POST /api/v1/admin/halls",
    "GET /api/v1/admin/halls/{hall}",
    "PUT /api/v1/admin/halls/{hall}",
    "GET /api/v1/admin/halls/{hall}/rules",
    "PUT /api/v1/admin/halls/{hall}/rules",
    "GET /api/v1/admin/halls/{hall}/services",
    "POST /api/v1/admin/halls/{hall}/services",
    "PUT /api/v1/admin/halls/{hall}/services/{code}",
    "GET /api/v1/admin/halls/{hall}/windows",
    "POST /api/v1/admin/halls/{hall}/windows",
    "PUT /api/v1/admin/halls/{hall}/windows/{window_id}",
    "GET /api/v1/admin/users",
    "POST /api/v1/admin/users",
    "PATCH /api/v1/admin/users/{username}",
    "POST /api/v1/admin/users/{username}/password",
    "GET /api/v1/admin/halls/{hall}/history",
    "GET /api/v1/admin/halls/{hall}/config",
    "POST /api/v1/admin/halls/{hall}/close-day",
    "GET /api/v1/admin/notices/templates",
    "GET /api/v1/admin/halls/{hall}/deliveries",
    "POST /api/v1/admin/halls/{hall}/deliveries/{delivery_id}/retry",
    # planning (bounded: at most 2,000,000 simulated citizens a request)
    "GET /api/v1/planner/example",
    "POST /api/v1/planner/simulate",
    "POST /api/v1/planner/staff",
    # next week's plan (issue 21; bounded by HALL_PLANNER_REPAIR and _SOLVE_SECONDS below)
    "POST /api/v1/planner/forecast",
    "POST /api/v1/planner/plan",
    "POST /api/v1/planner/roster.xlsx",
    "GET /api/v1/planner/staff-example",
    # plan vs actual (issue 21): the kept plans
    "GET /api/v1/planner/plans",
    "GET /api/v1/planner/plans/{plan_id}/actual",
    # the window's own actions (issue 18)
    "POST /api/v1/windows/{window_id}/call",
    "POST /api/v1/windows/{window_id}/serve-walk-in",
    "POST /api/v1/tickets/{ticket_id}/hold",
    "POST /api/v1/tickets/{ticket_id}/resume",
    "PUT /api/v1/tickets/{ticket_id}/services",
    "GET /api/v1/halls/{hall}/tickets/by-number/{number}",
    "POST /api/v1/halls/{hall}/kiosk/identity",
    "POST /api/v1/halls/{hall}/kiosk/eid",
    "GET /api/v1/admin/halls/{hall}/identity-rules",
    "PUT /api/v1/admin/halls/{hall}/identity-rules",
    "GET /api/v1/halls/{hall}/one-visit",
    # Web Push opt-in of the citizen's pages (issue 17)
    "GET /api/v1/push/public-key",
    "POST /api/v1/tickets/{ticket_id}/push-subscription",
    "DELETE /api/v1/tickets/{ticket_id}/push-subscription",
    "POST /api/v1/appointments/{code}/push-subscription",
    "DELETE /api/v1/appointments/{code}/push-subscription",
    # staff addresses for escalation cards (issue 19)
    "GET /api/v1/admin/users/{username}/contact",
    "PUT /api/v1/admin/users/{username}/contact",
    # integrations: API clients, webhooks, case numbers, today's queues (issue 20)
    "PUT /api/v1/tickets/{ticket_id}/case-number",
    "GET /api/v1/halls/{hall}/queues/today",
    "GET /api/v1/webhooks",
    "POST /api/v1/webhooks",
    "DELETE /api/v1/webhooks/{subscription_id}",
    "GET /api/v1/admin/clients",
    "POST /api/v1/admin/clients",
    "POST /api/v1/admin/clients/{client_id}/rotate",
    "POST /api/v1/admin/clients/{client_id}/revoke",
    "POST /api/v1/admin/clients/{client_id}/webhooks",
    "GET /api/v1/admin/webhooks",
    "POST /api/v1/admin/webhooks/{subscription_id}/enable",
    "DELETE /api/v1/admin/webhooks/{subscription_id}",
]


def test_the_list_is_complete(api_schema: Any) -> None:
    labels = {result.ok().label for result in api_schema.get_all_operations()}
    assert labels == set(OPERATIONS)


@pytest.mark.parametrize("label", OPERATIONS)
def test_no_request_gives_a_server_error(
    fuzz_app: Any, api_schema: Any, admin_headers: dict[str, str], label: str
) -> None:
    operation = api_schema.find_operation_by_label(label)
    assert operation is not None, label
    strategies = [
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    ]
    # Half of the cases use real path parameters, so that bodies reach the engine.
    (parameter, *_) = re.findall(r"{(\w+)}", label) or [None]
    for value in fuzz_app.config["FUZZ_PATH_VALUES"].get(parameter, []):
        strategies.append(
            operation.as_strategy(GenerationMode.POSITIVE, path_parameters={parameter: value})
        )
    real = st.one_of(strategies[2:]) if len(strategies) > 2 else strategies[0]
    cases = st.one_of(st.one_of(strategies[:2]), real)

    @given(case=cases)
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def check(case: Any) -> None:
        response = case.call(headers=admin_headers)
        case.validate_response(response, checks=[not_a_server_error])

    check()


# -- a hand-written pass: nested and oversized bodies, extreme dates, on every route -------
# Schemathesis draws bodies that fit the schema (or break one rule of it); these are the
# inputs that broke the app before: bodies nested a thousand levels deep, bodies larger than
# the app reads, and dates at the ends of the calendar, on every operation of the OpenAPI
# document and on every page route. None may give a 5xx.

NESTED_BODIES = ("[" * 1000 + "]" * 1000, '{"a":' * 600 + "1" + "}" * 600, "[" * 40 + "]" * 40)
OVERSIZED = b" " * (3 * 1024 * 1024)  # over the default MAX_CONTENT_LENGTH of 2 MiB
EXTREME_DAYS = ("9999-12-31", "0001-01-01", "2101-01-01", "1999-12-31", "2026-02-30")
EXTREME_MONTHS = ("9999-12", "0001-01", "2101-01", "1999-12", "2026-13")
WRITES = frozenset({"post", "put", "patch", "delete"})
# Path parameters the fixture's hall has no list of: a plausible value each.
OTHER_PATH_VALUES: dict[str, Any] = {
    "service": "SOCIAL",
    "code": "ABCDEFGHJK",
    "case_id": 1,
    "alert_id": 1,
    "appeal_id": 1,
    "card_id": 1,
    "username": "clerk10",
    "window": "10",
    "fmt": "xlsx",
    "package": "echarts",
    "delivery_id": 1,
    "filename": "x.js",
    "name": "x",
    "client_id": "hc_00000000000000000000",
    "subscription_id": 1,
    "plan_id": 1,
}


def _doc(fuzz_app: Any) -> dict[str, Any]:
    doc: dict[str, Any] = fuzz_app.test_client().get(f"{API}/openapi.json").get_json()
    return doc


def _operation(doc: dict[str, Any], label: str) -> tuple[str, str, dict[str, Any]]:
    method, template = label.split(" ", 1)
    return method.lower(), template, doc["paths"][template][method.lower()]


def _path(fuzz_app: Any, template: str) -> str:
    """The template with a real value for each parameter (the fixture's, else a plausible one)."""
    real = fuzz_app.config["FUZZ_PATH_VALUES"]

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        return str(real[name][0] if name in real else OTHER_PATH_VALUES.get(name, "x"))

    return re.sub(r"[{<](?:\w+:)?(\w+)[}>]", value, template)


def _resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _datelike(name: str) -> str | None:
    if "month" in name:
        return "month"
    if name in ("date", "day", "from", "to") or name.endswith(("_date", "_dates", "_day")):
        return "day"
    return None


def _body(doc: dict[str, Any], schema: dict[str, Any], day: str, month: str, depth: int = 0) -> Any:
    """A body shaped like ``schema`` (every property filled), its dates ``day`` and ``month``."""
    schema = _resolve(doc, schema)
    for key in ("anyOf", "oneOf", "allOf"):
        options = [s for s in schema.get(key, []) if _resolve(doc, s).get("type") != "null"]
        if options:
            return _body(doc, options[0], day, month, depth)
    kind = schema.get("type")
    if depth > 6:
        return None
    if kind == "object" or "properties" in schema:
        out = {}
        for name, prop in schema.get("properties", {}).items():
            value = _body(doc, prop, day, month, depth + 1)
            dated = _datelike(name)
            if dated is not None and not isinstance(value, dict | bool | int | float):
                text = day if dated == "day" else month
                value = [text] if isinstance(value, list) else text
            out[name] = value
        return out
    if kind == "array":
        return [_body(doc, schema.get("items", {}), day, month, depth + 1)]
    if "enum" in schema:
        return schema["enum"][0]
    if schema.get("format") == "date":
        return day
    if schema.get("format") == "date-time":
        return f"{day}T10:00:00+08:00"
    if kind == "string":
        examples = schema.get("examples") or [schema.get("default") or "SOCIAL"]
        return examples[0]
    if kind in ("integer", "number"):
        return schema.get("minimum", 1)
    if kind == "boolean":
        return False
    return None


def _no_server_error(response: Any, what: str) -> None:
    assert response.status_code < 500, f"{what} → {response.status_code}: {response.text[:300]}"


@pytest.mark.parametrize("label", OPERATIONS)
def test_nested_bodies_are_4xx_on_every_operation(
    fuzz_app: Any, admin_headers: dict[str, str], label: str
) -> None:
    method, template, operation = _operation(_doc(fuzz_app), label)
    client = fuzz_app.test_client()
    for body in NESTED_BODIES:
        response = client.open(
            _path(fuzz_app, template),
            method=method.upper(),
            data=body,
            headers={**admin_headers, "Content-Type": "application/json"},
        )
        _no_server_error(response, f"{label} with a nested body")
        if "requestBody" in operation:
            assert response.status_code == 400, (label, response.text[:300])


@pytest.mark.parametrize("label", OPERATIONS)
def test_oversized_bodies_are_413_on_every_operation(
    fuzz_app: Any, admin_headers: dict[str, str], label: str
) -> None:
    method, template, _ = _operation(_doc(fuzz_app), label)
    response = fuzz_app.test_client().open(
        _path(fuzz_app, template),
        method=method.upper(),
        data=OVERSIZED,
        headers={**admin_headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 413, (label, response.text[:300])
    assert response.get_json()["error"] == "too_large"


@pytest.mark.parametrize("label", OPERATIONS)
def test_extreme_dates_are_4xx_or_fine_on_every_operation(
    fuzz_app: Any, admin_headers: dict[str, str], label: str
) -> None:
    doc = _doc(fuzz_app)
    method, template, operation = _operation(doc, label)
    client = fuzz_app.test_client()
    names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
    schema = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
    for day, month in zip(EXTREME_DAYS, EXTREME_MONTHS, strict=True):
        declared = {n: day if _datelike(n) == "day" else month for n in names if _datelike(n)}
        # The operation's own date parameters, then also a stray ``date`` and ``month``.
        for query in (declared, {"date": day, "month": month, **declared}):
            kwargs: dict[str, Any] = {"query_string": query}
            if method in WRITES and "schema" in schema:
                kwargs["json"] = _body(doc, schema["schema"], day, month)
            response = client.open(
                _path(fuzz_app, template), method=method.upper(), headers=admin_headers, **kwargs
            )
            _no_server_error(response, f"{label} with {query}")
            if query is declared and "date" in declared:
                assert response.status_code == 422, (label, day, response.text[:300])


def _page_rules(fuzz_app: Any) -> list[Any]:
    skip = ("/api/", "/socket.io", "/static/", "/display/static/", "/vendor/", "/docs/")
    return sorted(
        (r for r in fuzz_app.url_map.iter_rules() if not r.rule.startswith(skip)),
        key=lambda r: r.rule,
    )


def test_every_page_route_survives_extreme_dates_nested_and_oversized_bodies(
    fuzz_app: Any,
) -> None:
    client = fuzz_app.test_client()
    with client.session_transaction() as session:
        session["username"] = "admin"  # every role: each page is reached past its role check
    rules = _page_rules(fuzz_app)
    assert len(rules) > 30, [r.rule for r in rules]
    for rule in rules:
        if rule.endpoint == "pages.logout":
            continue  # it would end this client's session for the routes after it
        path = _path(fuzz_app, rule.rule)
        for day, month in zip(EXTREME_DAYS, EXTREME_MONTHS, strict=True):
            response = client.get(path, query_string={"date": day, "month": month})
            _no_server_error(response, f"GET {rule.rule}?date={day}&month={month}")
            reads = "GET" in (rule.methods or ())  # a POST-only report action answers 405
            if reads and "/reports/" in rule.rule and day[:4] in ("9999", "0001"):
                assert response.status_code in (404, 422), (rule.rule, response.status_code)
        if "POST" not in (rule.methods or ()):
            continue
        for body in NESTED_BODIES:
            response = client.post(path, data=body, content_type="application/json")
            _no_server_error(response, f"POST {rule.rule} with a nested body")
        response = client.post(
            path, data=OVERSIZED, content_type="application/x-www-form-urlencoded"
        )
        assert response.status_code == 413, (rule.rule, response.status_code)
