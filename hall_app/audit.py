"""The audit trail: every staff request that changes something, with who, what and the outcome.

A staff write request makes an audit entry and hands it to the desks it calls
(``hall_services()`` acts for it); the unit of work that commits the change writes it in the
same transaction. Requests that change nothing (refused, 4xx, or nothing to
call) are recorded afterwards in a transaction of their own.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, current_app, g, request

from queue_engine.domain.access import AuditEntry

from .auth import current_user

log = logging.getLogger(__name__)
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def register_audit(app: Flask) -> None:
    @app.before_request
    def start_audit() -> None:
        if request.method not in WRITES:
            return
        user = current_user()
        if user is None:
            return
        entry = AuditEntry(
            user.username,
            str(user.role),
            request.endpoint or request.path,
            request.path,
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
            log.exception("could not write the audit record for %s", request.path)
        return response
