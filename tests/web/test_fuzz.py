"""A bounded schemathesis run over the app's own OpenAPI document: no input gives a 500.

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
from queue_engine.adapters.setup import add_user, create_hall
from queue_engine.adapters.unit_of_work import Database, UnitOfWork
from queue_engine.domain.access import Actor
from queue_engine.domain.clock import FrozenClock
from queue_engine.seed import demo_hall
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
    with UnitOfWork(database) as uow:
        create_hall(uow.session, demo_hall(always_open=True))
        for username in ("admin", "clerk10", "clerk11", "clerk12"):
            password, role = STAFF[username]
            add_user(uow.session, username, password, role, clock.now(), "ZMD")
        uow.commit()
    database.dispose()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HALL_INSTANCE_PATH", str(folder / "instance"))
        patch.setenv("HALL_SECRET_KEY", SECRET)
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
    "POST /api/v1/tickets/{ticket_id}/evaluation",
    "GET /api/v1/halls/{hall}/cases",
    "POST /api/v1/cases/{case_id}/call-back",
    "POST /api/v1/cases/{case_id}/rectify",
    "POST /api/v1/cases/{case_id}/close",
    "POST /api/v1/cases/{case_id}/appeal",
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
    # planning (bounded: at most 2,000,000 simulated citizens a request)
    "GET /api/v1/planner/example",
    "POST /api/v1/planner/simulate",
    "POST /api/v1/planner/staff",
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
