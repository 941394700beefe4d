"""Limits on what a request may carry: nesting depth and size of bodies, dates in range.

A body nested a thousand levels deep, a 40 MiB body, a date in the year 9999: each is a clear
4xx JSON error from one place (the app's JSON provider, ``MAX_CONTENT_LENGTH``, the shared date
rule of ``hall_app.validation``), never a 500 and never a body read in full.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.test import EnvironBuilder, run_wsgi_app

from tests.helpers.api import API, Hall, assert_error

Auth = Callable[[str], dict[str, str]]
NESTED = "[" * 1000 + "]" * 1000
MiB = 1024 * 1024


def _nested_targets(hall: Hall) -> list[tuple[str, dict[str, str]]]:
    ticket = hall.issue("SOCIAL")
    hall.open(10, "clerk10")
    return [
        (f"{API}/halls/ZMD/tickets", {}),
        (f"{API}/tickets/{ticket['id']}/evaluation", {}),
        (f"{API}/windows/{hall.window_id(10)}/pause", hall.auth("clerk10")),
        (f"{API}/auth/token", {}),
    ]


def test_deeply_nested_bodies_are_400_json_not_500(client: FlaskClient, hall: Hall) -> None:
    for url, headers in _nested_targets(hall):
        for body in (NESTED, '{"a":' * 600 + "1" + "}" * 600, "[" * 40 + "]" * 40):
            response = client.post(
                url, data=body, headers={**headers, "Content-Type": "application/json"}
            )
            assert_error(response, 400, "bad_request")


def test_a_body_of_ordinary_depth_still_passes(client: FlaskClient) -> None:
    response = client.post(f"{API}/halls/ZMD/tickets", json={"service": "SOCIAL", "channel": "web"})
    assert response.status_code == 201, response.get_data(as_text=True)


class CountingInput(io.RawIOBase):
    """A request body of ``size`` bytes that counts how much of it the server reads."""

    def __init__(self, size: int) -> None:
        self.size, self.read_bytes = size, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        n = min(len(buffer), self.size - self.read_bytes)
        buffer[:n] = b" " * n
        self.read_bytes += n
        return n


def _post_stream(app: Any, path: str, size: int, content_type: str) -> tuple[Any, int]:
    """POST ``size`` bytes straight to the WSGI app (the test client would buffer them)."""
    environ = EnvironBuilder(path=path, method="POST", content_type=content_type).get_environ()
    stream = CountingInput(size)
    environ.update({"wsgi.input": stream, "CONTENT_LENGTH": str(size)})
    body, status, headers = run_wsgi_app(app, environ, buffered=True)
    response = app.response_class(b"".join(body), status=status, headers=headers)
    return response, stream.read_bytes


def test_a_40_mib_body_is_413_json_before_it_is_read(app: Any) -> None:
    response, read = _post_stream(app, f"{API}/halls/ZMD/tickets", 40 * MiB, "application/json")
    assert_error(response, 413, "too_large")
    assert read == 0


def test_a_large_form_post_is_413_before_it_is_read(app: Any) -> None:
    response, read = _post_stream(app, "/login", 40 * MiB, "application/x-www-form-urlencoded")
    assert response.status_code == 413
    assert read == 0


def test_the_body_limit_is_configurable(app: Any, client: FlaskClient) -> None:
    assert app.config["MAX_CONTENT_LENGTH"] == 2 * MiB  # the default (HALL_MAX_CONTENT_LENGTH)
    app.config["MAX_CONTENT_LENGTH"] = 1000
    body = {"service": "SOCIAL", "channel": "web", "x": "y" * 2000}
    assert_error(client.post(f"{API}/halls/ZMD/tickets", json=body), 413, "too_large")


def as_supervisor(client: FlaskClient) -> None:
    with client.session_transaction() as session:
        session["username"] = "supervisor"


@pytest.mark.parametrize(
    "path",
    [
        "/supervisor/ZMD/reports/daily?date=9999-12-31",
        "/supervisor/ZMD/reports/daily?date=0001-01-01",
        "/supervisor/ZMD/reports/daily.xlsx?date=9999-12-31",
        "/supervisor/ZMD/reports/daily.csv?date=0001-01-01",
        "/supervisor/ZMD/reports/monthly?month=9999-12",
        "/supervisor/ZMD/reports/monthly?month=0001-01",
        "/supervisor/ZMD/reports/monthly.xlsx?month=9999-12",
        "/supervisor/ZMD/reports/monthly/window/10?month=9999-12",
        "/supervisor/ZMD/reports/daily?date=2101-01-01",
        "/supervisor/ZMD/reports/monthly?month=1999-12",
        "/supervisor/ZMD/reports/daily?date=26/11",
        "/supervisor/ZMD/reports/monthly?month=2026-13",
    ],
)
def test_report_dates_outside_the_sane_range_are_422(client: FlaskClient, path: str) -> None:
    as_supervisor(client)
    assert_error(client.get(path), 422, "invalid_date")


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "2101-01-01", "1999-12-31"])
def test_api_dates_outside_the_sane_range_are_422(
    client: FlaskClient, auth: Auth, day: str
) -> None:
    figures = client.get(f"{API}/halls/ZMD/figures?date={day}", headers=auth("supervisor"))
    assert_error(figures, 422, "invalid_date")
    slots = client.get(f"{API}/halls/ZMD/services/SOCIAL/slots?date={day}")
    assert_error(slots, 422, "invalid_date")


def test_dates_inside_the_range_still_work(client: FlaskClient, auth: Auth) -> None:
    figures = client.get(f"{API}/halls/ZMD/figures?date=2026-11-25", headers=auth("supervisor"))
    assert figures.status_code == 200, figures.get_data(as_text=True)
    as_supervisor(client)
    assert client.get("/supervisor/ZMD/reports/daily?date=2000-01-01").status_code == 200
    assert client.get("/supervisor/ZMD/reports/monthly?month=2100-12").status_code == 200


def test_a_large_body_is_refused_even_where_the_route_reads_none(
    app: Any, hall: Hall, auth: Auth
) -> None:
    """A call-next with a 40 MiB body is 413 and calls nobody: the limit is not per route."""
    hall.issue("SOCIAL")
    hall.open(10, "clerk10")
    environ = EnvironBuilder(
        path=f"{API}/windows/{hall.window_id(10)}/call-next",
        method="POST",
        content_type="application/json",
        headers=auth("clerk10"),
    ).get_environ()
    stream = CountingInput(40 * MiB)
    environ.update({"wsgi.input": stream, "CONTENT_LENGTH": str(40 * MiB)})
    body, status, headers = run_wsgi_app(app, environ, buffered=True)
    response = app.response_class(b"".join(body), status=status, headers=headers)
    assert_error(response, 413, "too_large")
    assert stream.read_bytes == 0
    window = hall.client.get(f"{API}/windows/{hall.window_id(10)}", headers=auth("clerk10"))
    assert window.get_json()["current"] is None


def test_hall_max_content_length_sets_the_limit() -> None:
    from hall_app.config import ConfigError, Settings

    assert Settings.from_env({}).max_content_length == 2 * MiB
    assert Settings.from_env({"HALL_MAX_CONTENT_LENGTH": "100000"}).max_content_length == 100000
    for bad in ("1000", "2MB", "-1"):
        with pytest.raises(ConfigError):
            Settings.from_env({"HALL_MAX_CONTENT_LENGTH": bad})
