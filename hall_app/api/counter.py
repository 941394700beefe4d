"""The window's own actions (issue 18): a chosen ticket, a walk-in, hold/resume, look-up."""

from __future__ import annotations

from typing import Any

from flask import current_app

from queue_engine.domain.access import Role
from queue_engine.domain.errors import NotFound
from queue_engine.services.visits import identity_platform

from ..auth import require_hall, require_roles
from ..serialize import view_json
from ..state import hall_services
from . import schemas as s
from .routes import _clerk_at_ticket, _clerk_at_window, _ticket_out, _with_visit, api, staff_doc

CLERK = (Role.CLERK,)


@api.post("/windows/<int:window_id>/call")
@api.input(s.CallChosenIn, arg_name="body")
@api.output(s.TicketOut, description="the called ticket")
@require_roles(*CLERK)
@staff_doc(
    "Call a chosen waiting ticket out of turn, with a reason (audited)",
    r409="window not open or busy, or the ticket is not waiting",
)
def call_chosen(window_id: int, body: s.CallChosenIn) -> dict[str, Any]:
    clerk = _clerk_at_window(window_id)
    return _ticket_out(hall_services().counter.call(window_id, body.ticket, body.reason, clerk))


@api.post("/windows/<int:window_id>/serve-walk-in")
@api.input(s.WalkInIn, arg_name="body")
@api.output(s.TicketOut, status_code=201, description="the ticket made and called")
@require_roles(*CLERK)
@staff_doc(
    "Serve a citizen who has no ticket (无号办件): a ticket is made and called", r409="window busy"
)
def serve_walk_in(window_id: int, body: s.WalkInIn) -> tuple[dict[str, Any], int]:
    clerk = _clerk_at_window(window_id)
    ticket = hall_services().counter.serve_walk_in(window_id, body.service, body.reason, clerk)
    return _ticket_out(ticket), 201


@api.post("/tickets/<string:ticket_id>/hold")
@api.output(s.TicketOut)
@require_roles(*CLERK)
@staff_doc("挂起: the citizen fetches a document; the window is free", r409="wrong state")
def hold(ticket_id: str) -> dict[str, Any]:
    return _ticket_out(hall_services().counter.hold(ticket_id, _clerk_at_ticket(ticket_id)))


@api.post("/tickets/<string:ticket_id>/resume")
@api.output(s.TicketOut)
@require_roles(*CLERK)
@staff_doc("The held citizen is back: called again at the same window", r409="not held")
def resume_ticket(ticket_id: str) -> dict[str, Any]:
    clerk = _clerk_at_ticket(ticket_id)
    return _ticket_out(hall_services().counter.resume(ticket_id, clerk))


@api.put("/tickets/<string:ticket_id>/services")
@api.input(s.NextServicesIn, arg_name="body")
@api.output(s.TicketOut)
@require_roles(*CLERK)
@staff_doc("Add or remove services still to come of the visit (at the ticket's window)")
def next_services(ticket_id: str, body: s.NextServicesIn) -> dict[str, Any]:
    clerk = _clerk_at_ticket(ticket_id)
    ticket = hall_services().visits.set_next_services(ticket_id, body.services, clerk)
    return _ticket_out(ticket)


@api.get("/halls/<string:hall>/tickets/by-number/<string:number>")
@api.output(s.TicketOut)
@require_roles(Role.CLERK, Role.SUPERVISOR)
@staff_doc("Today's ticket of a number (look-up, reprint)", r404="no such ticket today")
def by_number(hall: str, number: str) -> dict[str, Any]:
    require_hall(hall)
    services = hall_services()
    view = services.counter.find(hall, number)
    return _with_visit(view_json(view, services.engine.config_for(hall)), view.ticket)


@api.post("/halls/<string:hall>/kiosk/identity")
@api.input(s.IdentityIn, arg_name="body")
@api.output(s.IdentityOut)
@require_roles(Role.KIOSK)
@staff_doc(
    "The kiosk's identity step: a card's age band (for the 长辈版) before the ticket; nothing kept",
    r422="not a valid resident ID number (never echoed)",
)
def kiosk_identity(hall: str, body: s.IdentityIn) -> dict[str, Any]:
    require_hall(hall)
    citizen, elderly = hall_services().visits.identify(hall, body.id_number)
    return {"masked_id": citizen.masked_id, "age_band": citizen.band, "elderly": elderly}


@api.post("/halls/<string:hall>/kiosk/eid")
@api.input(s.EidIn, arg_name="body")
@api.output(s.EidOut)
@require_roles(Role.KIOSK)
@staff_doc(
    "The kiosk's identity step by an electronic ID / app QR code: the identity platform "
    "(HALL_EID_URL) resolves it; nothing is kept",
    r404="eid_off: no identity platform configured (HALL_EID_URL)",
    r422="eid_expired, eid_invalid, or the platform's number not a valid resident ID",
    r503="eid_unavailable: the platform cannot be reached now",
)
def kiosk_eid(hall: str, body: s.EidIn) -> dict[str, Any]:
    require_hall(hall)
    platform = eid_platform()
    if platform is None:
        raise NotFound("this hall takes no electronic IDs", code="eid_off")
    found, citizen, elderly = hall_services().visits.identify_code(hall, body.code, platform)
    return {
        "masked_id": citizen.masked_id,
        "age_band": citizen.band,
        "elderly": elderly,
        "id_number": found.id_number,
        "name": found.name,
    }


def eid_platform() -> Any:
    """The identity platform of ``HALL_EID_URL`` (one client per app), None without one."""
    config = current_app.config
    wanted = tuple(
        str(config.get(k) or "") for k in ("HALL_EID_URL", "HALL_EID_APP_ID", "HALL_EID_KEY")
    )
    cached = current_app.extensions.get("hall_eid")
    if cached is None or cached[0] != wanted:
        cached = current_app.extensions["hall_eid"] = (wanted, identity_platform(config))
    return cached[1]
