"""One small hierarchy of domain errors; the web layer maps each class to one HTTP status."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error the engine raises on purpose."""

    code = "domain_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class NotFound(DomainError):
    """The hall, service, window or ticket does not exist."""

    code = "not_found"


class InvalidInput(DomainError):
    """The request is well-formed but its values break a rule (422)."""

    code = "invalid"


class Conflict(DomainError):
    """The thing exists but is in the wrong state for this action (409)."""

    code = "conflict"


class InvalidTransition(Conflict):
    """A ticket or window cannot move from its current state to the one asked for."""

    code = "invalid_transition"


class HallClosed(Conflict):
    """The hall is outside its opening hours."""

    code = "hall_closed"


class Forbidden(DomainError):
    """The actor is known but may not do this (403)."""

    code = "forbidden"


class Busy(DomainError):
    """The database stayed contended after bounded retries (503-like; retry later)."""

    code = "busy"
