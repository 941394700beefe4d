"""Every error as JSON ``{"error": code, "message": text}``: domain errors mapped in one place."""

from __future__ import annotations

from typing import Any

from apiflask import APIFlask
from apiflask.exceptions import HTTPError
from flask import Response, jsonify, request
from sqlalchemy.exc import DataError, OperationalError, PendingRollbackError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from queue_engine.domain.errors import (
    Busy,
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    NotFound,
)

from .validation import BadJSON

STATUS_FOR: tuple[tuple[type[DomainError], int], ...] = (
    (NotFound, 404),
    (InvalidInput, 422),
    (Conflict, 409),
    (Forbidden, 403),
    (Busy, 503),
)


def status_for(error: DomainError) -> int:
    for kind, status in STATUS_FOR:
        if isinstance(error, kind):
            return status
    return 400


def error_response(status: int, code: str, message: str, **extra: Any) -> Response:
    response = jsonify({"error": code, "message": message, **extra})
    response.status_code = status
    return response


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def register_error_handlers(app: APIFlask) -> None:
    @app.errorhandler(DomainError)
    def domain_error(error: DomainError) -> Response:
        return error_response(status_for(error), error.code, error.message)

    @app.errorhandler(DataError)
    def data_error(error: DataError) -> Response:
        # The database refused a value that validation let through (e.g. NUL in text).
        return error_response(422, "invalid", "a value in the request cannot be stored")

    def retry_later(code: str, message: str) -> Response:
        response = error_response(503, code, message)
        response.headers["Retry-After"] = "2"
        return response

    @app.errorhandler(OperationalError)
    @app.errorhandler(PendingRollbackError)  # a transaction whose connection was lost under it
    def database_unavailable(error: OperationalError | PendingRollbackError) -> Response:
        app.logger.error("database unavailable: %s", error.__class__.__name__)
        return retry_later("database_unavailable", "the database is unavailable; retry")

    @app.errorhandler(PoolTimeout)
    def database_busy(error: PoolTimeout) -> Response:
        app.logger.warning("no database connection free within the pool timeout")
        return retry_later("busy", "the server is busy; retry")

    @app.error_processor
    def api_error(error: HTTPError) -> Response:
        code = {
            400: "bad_request",
            401: "unauthorized",
            403: "forbidden",
            404: "not_found",
            405: "method_not_allowed",
            409: "conflict",
            415: "unsupported_media_type",
            422: "invalid",
            429: "too_many_requests",
        }.get(error.status_code, "error")
        extra = {"detail": error.detail} if error.detail else {}
        return error_response(error.status_code, code, str(error.message), **extra)

    @app.errorhandler(BadJSON)
    def bad_json(error: BadJSON) -> Response:
        return error_response(400, "bad_request", error.description or "the body is not JSON")

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(error: RequestEntityTooLarge) -> Response | RequestEntityTooLarge:
        if not _wants_json():
            return error
        limit = app.config.get("MAX_CONTENT_LENGTH")
        return error_response(
            413, "too_large", f"the request body may have at most {limit} bytes", limit=limit
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response | HTTPException:
        if not _wants_json():
            return error
        status = error.code or 500
        name = (error.name or "error").lower().replace(" ", "_")
        return error_response(status, name, error.description or error.name or "error")
