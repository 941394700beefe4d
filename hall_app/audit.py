"""The audit trail: every staff request that changes something, with who, what and the outcome.

A staff write request makes an audit entry (its route template, never the raw path with a
ticket id or appointment code) and hands it to the desks it calls
(``hall_services()`` acts for it); the unit of work that commits the change writes it in the
same transaction. Requests that change nothing (refused, 4xx, or nothing to
call) are recorded afterwards in a transaction of their own.
"""

from __future__ import annotations

import logging
import re

from flask import Flask, Response, current_app, g, request

from queue_engine.domain.access import AuditEntry

from .auth import current_user

log = logging.getLogger(__name__)
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Path parts that are their holder's key (ticket ids, appointment codes): kept masked only.
SECRET_ARGS = frozenset({"ticket_id", "code"})
_CONVERTER = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


def audit_target() -> str:
    """What a request acted on: its route template and the path's values, secrets masked.

    ``/api/v1/tickets/<ticket_id>/start ticket_id=3f2…`` rather than the raw path, whose
    ticket id or appointment code would let a reader of the log act as the citizen. A request
    that matched no route has no target.
    """
    rule = request.url_rule
    if rule is None:
        return ""
    values = [
        f"{name}={_masked(value) if name in SECRET_ARGS else value}"
        for name, value in (request.view_args or {}).items()
    ]
    return " ".join([_CONVERTER.sub(r"<\1>", rule.rule), *values])


def _masked(value: object) -> str:
    return f"{str(value)[:3]}…"


def _start_client_audit() -> None:
    """An API client's write (issue 20) is audited as ``client:<id>`` with role ``client``."""
    from .clients import current_client

    client = current_client()
    if client is not None:
        g.audit_entry = AuditEntry(
            f"client:{client.client_id}"[:64],
            "client",
            request.endpoint or "unmatched",
            audit_target(),
            request.remote_addr or "",
        )


def register_audit(app: Flask) -> None:
    @app.before_request
    def start_audit() -> None:
        if request.method not in WRITES:
            return
        user = current_user()
        if user is None:
            _start_client_audit()
            return
        entry = AuditEntry(
            user.username,
            str(user.role),
            request.endpoint or "unmatched",
            audit_target(),
            request.remote_addr or "",
        )
        g.audit_entry = entry

    @app.after_request
    def finish_audit(response: Response) -> Response:
        entry: AuditEntry | None = g.get("audit_entry")
        if entry is None or entry.recorded:
            return response
        try:
            services = current_app.extensions["hall"]
            services.accounts.record(
                entry, {"status": response.status_code, "method": request.method}
            )
        except Exception:  # the action itself already happened; never turn it into an error
            log.exception("could not write the audit record for %s", entry.target)
        return response
