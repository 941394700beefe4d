"""Small HTTP helpers every area of the web app shares: private responses, OpenAPI staff docs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from apiflask import APIBlueprint
from flask import Response, make_response

STAFF_ERRORS = {401: "no or invalid bearer token", 403: "the token's role or hall may not do this"}


def no_store(body: Any) -> Response:
    """A response no cache keeps: staff pages, a citizen's ticket, downloads of reports."""
    response = body if isinstance(body, Response) else make_response(body)
    response.headers["Cache-Control"] = "no-store"
    return response


def private_page(body: Any) -> Response:
    """A citizen's own page (ticket, appointment): never cached, never indexed."""
    response = no_store(body)
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def staff_doc(
    blueprint: APIBlueprint,
    summary: str,
    responses: Mapping[str, str],
    errors: Mapping[int, str] = STAFF_ERRORS,
) -> Any:
    """OpenAPI documentation of a staff operation: bearer security, 401/403, and ``{"r409": …}``."""
    codes = {**errors, **{int(code[1:]): text for code, text in responses.items()}}
    return blueprint.doc(summary=summary, security="BearerAuth", responses=codes)
