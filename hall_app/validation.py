"""What a request may carry: strict bodies, bounded JSON, and dates in a sane range.

Every body model is ``Strict`` (unknown fields and control characters refused); every JSON body
is read by ``LimitedJSONProvider`` (depth) after ``MAX_CONTENT_LENGTH`` (size); every date in a
query string goes through ``parse_day`` or ``parse_month`` (format and range).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import date
from typing import Any

from flask import Request, current_app, request
from flask.json.provider import DefaultJSONProvider
from pydantic import BaseModel, ConfigDict, field_validator
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge

from queue_engine.domain.errors import InvalidInput


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def no_control_characters(cls, value: Any) -> Any:
        if isinstance(value, str) and any(ord(ch) < 32 and ch not in "\t\n" for ch in value):
            raise ValueError("control characters are not allowed")
        return value


# -- bodies: how deep and how large -------------------------------------------------------

MAX_JSON_DEPTH = 32  # arrays and objects inside each other; real bodies nest a few


class BadJSON(BadRequest):
    """A body that is not JSON, or JSON nested deeper than the app reads."""


class LimitedJSONProvider(DefaultJSONProvider):
    """The app's JSON: bodies nested deeper than ``MAX_JSON_DEPTH`` are refused, not parsed.

    Every JSON body (``request.get_json``, so every ``@input`` of the API) is read here, so the
    limit holds for every route at once. The size of a body is limited before this, by
    ``MAX_CONTENT_LENGTH`` (413 without reading it).
    """

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        limit = int(self._app.config.get("MAX_JSON_DEPTH", MAX_JSON_DEPTH))
        try:
            value = json.loads(s, **kwargs)
        except RecursionError:
            raise ValueError(f"JSON nested deeper than {limit} levels") from None
        if _depth_exceeds(value, limit):
            raise ValueError(f"JSON nested deeper than {limit} levels")
        return value


def _depth_exceeds(value: Any, limit: int) -> bool:
    """Whether arrays and objects in ``value`` nest more than ``limit`` deep (no recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Iterable[Any] = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def refuse_large_bodies() -> None:
    """413 for a body over ``MAX_CONTENT_LENGTH``, before any view (or extension) reads it.

    Werkzeug refuses such a body when it is read; this refuses it on every route, also where
    nothing reads it, so that a request too large is never acted on.
    """
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if limit is not None and (request.content_length or 0) > limit:
        raise RequestEntityTooLarge()


class HallRequest(Request):
    """Flask's request, with a JSON body that cannot be read as a clear 400 ``bad_request``."""

    def on_json_loading_failed(self, e: ValueError | None) -> Any:
        if e is None:
            return super().on_json_loading_failed(e)  # not JSON at all: 415
        raise BadJSON(f"the body is not JSON this app reads: {e}"[:200])


# -- dates in query strings -----------------------------------------------------------------

EARLIEST_DAY = date(2000, 1, 1)
LATEST_DAY = date(2100, 12, 31)  # far from both ends of ``date``: a day or month more is safe
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_MONTH = re.compile(r"[0-9]{4}-[0-9]{2}")


def parse_day(text: str, name: str = "date") -> date:
    """A ``YYYY-MM-DD`` argument between ``EARLIEST_DAY`` and ``LATEST_DAY``, else 422.

    The one rule of every date a request names (reports, figures, slots, bookings): the code
    behind it adds and subtracts days and months, which near year 1 or 9999 overflows.
    """
    try:
        day = date.fromisoformat(text) if _DAY.fullmatch(text) else None
    except ValueError:
        day = None
    if day is None:
        raise InvalidInput(f"{name} must be a day written YYYY-MM-DD", code="invalid_date")
    return _in_range(day, name)


def parse_month(text: str, name: str = "month") -> date:
    """A ``YYYY-MM`` argument in the same range: the first day of that month, else 422."""
    try:
        first = date.fromisoformat(f"{text}-01") if _MONTH.fullmatch(text) else None
    except ValueError:
        first = None
    if first is None:
        raise InvalidInput(f"{name} must be a month written YYYY-MM", code="invalid_date")
    return _in_range(first, name)


def _in_range(day: date, name: str) -> date:
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise InvalidInput(
            f"{name} must lie between {EARLIEST_DAY.isoformat()} and {LATEST_DAY.isoformat()}",
            code="invalid_date",
        )
    return day
