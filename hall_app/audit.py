"""The audit trail: every staff request that changes something, with who, what and the outcome."""

from __future__ import annotations

import logging

from flask import Flask, Response, g, request

from queue_engine.adapters.staff import record_audit

from .state import hall_state

log = logging.getLogger(__name__)
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def register_audit(app: Flask) -> None:
    @app.after_request
    def audit_staff_writes(response: Response) -> Response:
        user = g.get("staff_user")
        if user is None or request.method not in WRITES:
            return response
        state = hall_state()
        try:
            with state.writer() as uow:
                record_audit(
                    uow.conn,
                    state.engine.clock.now(),
                    user.username,
                    str(user.role),
                    request.endpoint or request.path,
                    request.path,
                    {"status": response.status_code, "method": request.method},
                    request.remote_addr or "",
                )
                uow.commit()
        except Exception:  # the action itself already happened; never turn it into an error
            log.exception("could not write the audit record for %s", request.path)
        return response
