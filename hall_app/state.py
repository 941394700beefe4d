"""The service layer as a request sees it: built once by the composition root, per request
acting for the request's audit entry (the staff action it records with its changes)."""

from __future__ import annotations

from flask import current_app, g

from queue_engine.bootstrap import HallServices


def hall_services() -> HallServices:
    """The app's desks; during a staff write request, recording that request's audit entry."""
    services: HallServices = current_app.extensions["hall"]
    entry = g.get("audit_entry")
    if entry is None:
        return services
    acting: HallServices | None = g.get("acting_services")
    if acting is None:
        acting = g.acting_services = services.acting(entry)
    return acting
