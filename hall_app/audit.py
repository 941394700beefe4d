"""The audit trail: every staff request that changes something, with who, what and the outcome.

A staff write request sets the current audit entry; the unit of work that commits the change
writes it in the same transaction. Requests that change nothing (refused, 4xx, or nothing to
call) are recorded afterwards in a transaction of their own.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, g, request

from queue_engine.adapters.staff_store import CURRENT_AUDIT, AuditEntry, record_audit

from .auth import current_user
from .state import hall_state

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
        g.audit_token = CURRENT_AUDIT.set(entry)

    @app.after_request
    def finish_audit(response: Response) -> Response:
        entry: AuditEntry | None = g.get("audit_entry")
        if entry is None or entry.recorded:
            return response
        state = hall_state()
        try:
            with state.writer() as uow:
                record_audit(
                    uow.conn,
                    state.engine.clock.now(),
                    entry.actor,
                    entry.role,
                    entry.action,
                    entry.target,
                    {"status": response.status_code, "method": request.method},
                    entry.remote_addr,
                )
                uow.commit()
            entry.recorded = True
        except Exception:  # the action itself already happened; never turn it into an error
            log.exception("could not write the audit record for %s", request.path)
        return response

    @app.teardown_request
    def end_audit(_: BaseException | None) -> None:
        token = g.pop("audit_token", None)
        if token is not None:
            CURRENT_AUDIT.reset(token)
