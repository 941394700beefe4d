"""HTTP API routes of SPEC §5: thin adapters from JSON to QueueEngine commands."""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint, abort
from flask import Response, request
from pydantic import ValidationError

from queue_engine.domain.access import Role, may
from queue_engine.domain.errors import InvalidInput
from queue_engine.domain.model import HallConfig, Ticket
from queue_engine.services.notices import check_contact

from .. import http
from ..auth import (
    TOKEN_MAX_AGE,
    acting_clerk_at,
    current_user,
    issue_token,
    require_hall,
    require_roles,
    sign_in,
)
from ..clients import (
    client_key,
    client_may,
    client_quota,
    client_token_response,
    current_client,
    insufficient_scope,
    wants_client_credentials,
)
from ..extensions import configured_limit, limiter
from ..serialize import alert_json, queue_json, view_json, window_json
from ..state import hall_services
from . import schemas as s
from .booking_schemas import IssuedTicketOut
from .rating_keys import with_rating_key

api = APIBlueprint("api", __name__, url_prefix="/api/v1", tag="Hall API")

CLERK = (Role.CLERK,)


def _engine() -> Any:
    return hall_services().engine


def _ticket_out(ticket: Ticket) -> dict[str, Any]:
    engine = _engine()
    return _with_visit(view_json(engine.view(ticket), engine.config_for(ticket.hall)), ticket)


def _with_visit(out: dict[str, Any], ticket: Ticket) -> dict[str, Any]:
    """The ticket's services (each with status and outcome) and its current one."""
    return {**out, **hall_services().visits.view(ticket).to_json(ticket)}


def _config_of(hall: str) -> HallConfig:
    return _engine().config_for(hall)  # type: ignore[no-any-return]


def staff_doc(summary: str, **responses: str) -> Any:
    """OpenAPI documentation of a staff-only operation of ``/api/v1``."""
    return http.staff_doc(api, summary, responses)


def _clerk_at_window(window_id: int) -> str | None:
    """Whose window this must be: the caller's own, unless its hall's admin says
    ``X-Hall-Override: true`` (``auth.acting_clerk_at``)."""
    return acting_clerk_at(lambda: _engine().window(window_id).hall)


def _clerk_at_ticket(ticket_id: str) -> str | None:
    return acting_clerk_at(lambda: _engine().ticket(ticket_id).ticket.hall)


# -- auth ---------------------------------------------------------------------------------


@api.post("/auth/token")
@api.output(s.TokenOut)
@api.doc(
    summary="A bearer token: staff username and password, or an API client's credentials",
    description="Staff: JSON `{username, password}`. Failed sign-ins are counted per account "
    "and per client address, successful ones never: too many failures lock the account for a "
    "while (429 `account_locked`) or throttle the address (429 `too_many_failures`), with "
    "`Retry-After`.\n\nAPI clients (issue 20): OAuth 2.0 client credentials, "
    "`grant_type=client_credentials` with `client_id` and `client_secret` in HTTP Basic "
    "(client_secret_basic) or in the body (client_secret_post; form or JSON), optional "
    "`scope`; answers `{access_token, token_type: Bearer, expires_in, scope}` or an RFC 6749 "
    "error (`invalid_client` 401, `invalid_scope` / `unsupported_grant_type` 400).",
    responses={
        400: "invalid_scope, invalid_request or unsupported_grant_type (client credentials)",
        401: "wrong username or password; invalid_client",
        422: "malformed username/password body",
        429: "account locked, or address throttled",
    },
)
def token() -> Any:
    if wants_client_credentials():
        return client_token_response()
    body = _token_body()
    user = sign_in(body.username, body.password)
    if user is None:
        abort(401, "wrong username or password")
    return {
        "token": issue_token(user),
        "username": user.username,
        "role": str(user.role),
        "hall": user.hall,
        "expires_in": TOKEN_MAX_AGE,
    }


def _token_body() -> s.TokenIn:
    data = request.get_json() if request.is_json else None
    try:
        return s.TokenIn.model_validate(data)
    except ValidationError as exc:
        fields = ", ".join(".".join(str(p) for p in e["loc"]) or "body" for e in exc.errors())
        raise InvalidInput(f"expected JSON {{username, password}} ({fields})") from None


# -- public: services and tickets ---------------------------------------------------------


@api.get("/halls/<string:hall>/services")
@api.output(s.ServicesOut)
@api.doc(summary="Services of a hall with their waiting count and estimated wait")
def services(hall: str) -> dict[str, Any]:
    config = _config_of(hall)
    return {
        "hall": config.code,
        "name_zh": config.name_zh,
        "name_en": config.name_en,
        "services": [queue_json(q, config) for q in _engine().queues(hall)],
    }


def _staff_request() -> bool:
    """Kiosks and staff (a valid token) are not limited; a bogus header does not help.

    An API client (issue 20) is not limited per address either: its own quota applies
    (``client_quota``), and the citizens it acts for are limited each on their own.
    """
    return current_user() is not None or current_client() is not None


def _not_a_client() -> bool:
    return current_client() is None


def _verified_priority(hall: str) -> None:
    """A priority ticket jumps the queue: only someone who can check the reason issues one.

    That is a kiosk of the hall (a guide sees the citizen take it) or the hall's staff; an
    anonymous app or web request gets 422 ``priority_unverified`` and takes a regular ticket.
    """
    if current_user() is None:
        raise InvalidInput(
            "a priority ticket is taken at the hall's kiosk or given by its staff, who check "
            "the reason; take a regular ticket here",
            code="priority_unverified",
        )
    require_hall(hall)


@api.post("/halls/<string:hall>/tickets")
@limiter.limit(configured_limit("tickets"), exempt_when=_staff_request)
@limiter.limit(
    client_quota("tickets:remote"), key_func=client_key("tickets"), exempt_when=_not_a_client
)
@api.input(s.TicketIn, arg_name="body")
@api.output(IssuedTicketOut, status_code=201)
@api.doc(
    summary="Take a ticket",
    description="Kiosks need a kiosk token; the app and web channels are public. A `priority` "
    "other than `none` needs a kiosk or staff token of the hall (else 422 "
    "`priority_unverified`). Send an `Idempotency-Key` header so that a retry returns the "
    "same ticket.",
    responses={
        403: "kiosk channel without a kiosk token",
        409: "the hall is closed",
        422: "invalid values, or a priority from an unverified source",
        429: "too many tickets from this client address (an API client: over its quota)",
    },
    security=[{}, {"BearerAuth": []}, {"ClientCredentials": ["tickets:remote"]}],
)
def issue(hall: str, body: s.TicketIn) -> Any:
    if current_client() is not None and not client_may("tickets:remote", hall.upper()):
        return insufficient_scope("tickets:remote")
    if body.channel == "kiosk":
        user = current_user()
        if user is None:
            abort(401, "kiosk tickets need a kiosk token")
        if user.role not in (Role.KIOSK, Role.ADMIN):
            abort(403, "only kiosks issue kiosk tickets")
        require_hall(hall)
    if body.priority != "none":
        _verified_priority(hall)
    key = request.headers.get("Idempotency-Key")
    contact = check_contact(body.phone, body.wechat_openid)
    if body.plain and not hall_services().visits.requires_identity(hall, body.codes):
        view = _engine().issue(
            hall, body.service, body.channel, body.priority, idempotency_key=key, contact=contact
        )
    else:
        view = hall_services().visits.issue(
            hall,
            body.codes,
            body.channel,
            body.priority,
            id_number=body.id_number,
            name=body.id_name,
            proxy_id_number=body.proxy_id_number,
            idempotency_key=key,
            contact=contact,
        )
    out = _with_visit(view_json(view, _config_of(hall)), view.ticket)
    return with_rating_key(out), 201


@api.get("/tickets/<string:ticket_id>")
@api.output(s.TicketOut)
@api.doc(summary="A ticket with its position and live estimate (ids are unguessable)")
def get_ticket(ticket_id: str) -> dict[str, Any]:
    view = _engine().ticket(ticket_id)
    return _with_visit(view_json(view, _config_of(view.ticket.hall)), view.ticket)


@api.post("/tickets/<string:ticket_id>/cancel")
@api.output(s.TicketOut)
@api.doc(summary="Cancel a waiting ticket (its holder, or staff)")
def cancel(ticket_id: str) -> dict[str, Any]:
    user = current_user()
    by = f"staff:{user.username}" if user is not None else "holder"
    return _ticket_out(_engine().cancel(ticket_id, by=by))


# -- clerks: windows ----------------------------------------------------------------------


def _window_out(window_id: int) -> dict[str, Any]:
    engine = _engine()
    return window_json(engine.window(window_id), engine.current_ticket(window_id), staff=True)


@api.get("/windows/<int:window_id>")
@api.output(s.WindowQueueOut)
@require_roles(Role.CLERK, Role.SUPERVISOR)
@staff_doc("A window: state, current ticket, eligible queue in call order, today's figures")
def window_detail(window_id: int) -> dict[str, Any]:
    wq = _engine().window_queue(window_id)
    require_hall(wq.window.hall)
    config = _config_of(wq.window.hall)
    return {
        "window": window_json(wq.window, wq.current, staff=True),
        "current": _ticket_out(wq.current) if wq.current is not None else None,
        "queue": [
            {
                "id": c.ticket_id,
                "number": wq.numbers.get(c.ticket_id)
                or f"{config.service(c.service).prefix}{c.seq:03d}",
                "service": c.service,
                "priority": "priority" if c.priority else "none",
                "waited_minutes": round((wq.now - c.queued_at).total_seconds() / 60, 1),
                "appointment": c.slot_start is not None,
            }
            for c in wq.queue
        ],
        "held": [
            {"id": i, "number": n, "service": code}
            for i, n, code in hall_services().counter.held_at(window_id)
        ],
        "today": wq.today,
    }


@api.post("/windows/<int:window_id>/open")
@api.output(s.WindowOut)
@require_roles(*CLERK)
@staff_doc(
    "Open a window: it is then this clerk's until closed",
    r409="already open, or the clerk has another window open (`clerk_has_window`) and the "
    "hall's rules allow one each",
)
def open_window(window_id: int) -> dict[str, Any]:
    user = current_user()
    assert user is not None
    require_hall(_engine().window(window_id).hall)
    # One open window per clerk; the hall's administrator may open more.
    _engine().open_window(window_id, user.username, override=user.is_admin)
    return _window_out(window_id)


@api.post("/windows/<int:window_id>/pause")
@api.input(s.PauseIn, arg_name="body")
@api.output(s.WindowOut)
@require_roles(*CLERK)
@staff_doc(
    "Pause a window with a reason; public screens show only its category",
    r409="not open, or a ticket is active",
)
def pause(window_id: int, body: s.PauseIn) -> dict[str, Any]:
    _engine().pause(window_id, body.reason, _clerk_at_window(window_id), body.category)
    return _window_out(window_id)


@api.post("/windows/<int:window_id>/resume")
@api.output(s.WindowOut)
@require_roles(*CLERK)
@staff_doc("Resume a paused window", r409="not paused")
def resume(window_id: int) -> dict[str, Any]:
    _engine().resume(window_id, _clerk_at_window(window_id))
    return _window_out(window_id)


@api.post("/windows/<int:window_id>/close")
@api.output(s.WindowOut)
@require_roles(*CLERK)
@staff_doc("Close a window (it must have no active ticket)", r409="closed, or a ticket is active")
def close_window(window_id: int) -> dict[str, Any]:
    _engine().close_window(window_id, _clerk_at_window(window_id))
    return _window_out(window_id)


@api.post("/windows/<int:window_id>/call-next")
@api.output(s.TicketOut, description="the called ticket")
@require_roles(*CLERK)
@staff_doc(
    "Call the next ticket the dispatch policy picks for this window",
    r204="nothing is eligible",
    r409="window not open, or it still has a ticket",
)
def call_next(window_id: int) -> Any:
    ticket = _engine().call_next(window_id, _clerk_at_window(window_id))
    if ticket is None:
        return Response(status=204)
    return _ticket_out(ticket)


@api.post("/windows/<int:window_id>/recall")
@api.output(s.TicketOut)
@require_roles(*CLERK)
@staff_doc("Announce the window's called ticket again", r409="no called ticket")
def recall(window_id: int) -> dict[str, Any]:
    return _ticket_out(_engine().recall(window_id, _clerk_at_window(window_id)))


# -- clerks: the ticket at their window ---------------------------------------------------


@api.post("/tickets/<string:ticket_id>/start")
@api.output(s.TicketOut)
@require_roles(*CLERK)
@staff_doc("The citizen has come: start handling", r409="wrong state")
def start(ticket_id: str) -> dict[str, Any]:
    return _ticket_out(_engine().start(ticket_id, _clerk_at_ticket(ticket_id)))


@api.post("/tickets/<string:ticket_id>/finish")
@api.output(s.TicketOut)
@require_roles(*CLERK)
@staff_doc(
    "Handling finished, with its outcome: a multi-service ticket waits for its next service",
    r409="wrong state",
)
def finish(ticket_id: str) -> dict[str, Any]:
    raw = request.get_json(silent=True)
    try:
        body = s.FinishIn.model_validate({} if raw is None else raw)
    except ValidationError as error:
        raise InvalidInput(f"finish body: {error.errors()[0]['msg']}", code="outcome") from None
    clerk = _clerk_at_ticket(ticket_id)
    ticket = hall_services().visits.finish(ticket_id, clerk, body.outcome, body.reason)
    return _ticket_out(ticket)


@api.post("/tickets/<string:ticket_id>/no-show")
@api.output(s.TicketOut)
@require_roles(*CLERK)
@staff_doc("The called citizen did not come", r409="wrong state")
def no_show(ticket_id: str) -> dict[str, Any]:
    return _ticket_out(_engine().no_show(ticket_id, _clerk_at_ticket(ticket_id)))


@api.post("/tickets/<string:ticket_id>/transfer")
@api.input(s.TransferIn, arg_name="body")
@api.output(s.TicketOut)
@require_roles(*CLERK)
@staff_doc(
    "Send the ticket to another service and/or one window",
    r404="no such ticket, target service or target window",
    r409="wrong state",
    r422="no target, or a window without that skill",
)
def transfer(ticket_id: str, body: s.TransferIn) -> dict[str, Any]:
    if body.service is None and body.window is None:
        raise InvalidInput("say which service or window to transfer to")
    return _ticket_out(
        _engine().transfer(
            ticket_id, _clerk_at_ticket(ticket_id), service=body.service, window=body.window
        )
    )


# -- supervisors --------------------------------------------------------------------------


@api.get("/halls/<string:hall>/live")
@api.output(s.LiveOut)
@require_roles(Role.SUPERVISOR)
@staff_doc("Every window and queue of a hall, today's KPIs and open alerts")
def live(hall: str) -> dict[str, Any]:
    require_hall(hall)
    snapshot = _engine().live(hall)
    config = snapshot.config
    return {
        "hall": config.code,
        "business_date": snapshot.business_date.isoformat(),
        "windows": [window_json(w, t, staff=True) for w, t in snapshot.windows],
        "queues": [queue_json(q, config) for q in snapshot.queues],
        "kpis": snapshot.kpis,
        "alerts": overdue_alerts(hall),
    }


def overdue_alerts(hall: str) -> list[dict[str, Any]]:
    """The hall's open supervision alerts (overdue follow-up cases among them)."""

    supervision = hall_services().supervision
    supervision.evaluate(hall)
    return [alert_json(a) for a in supervision.open_alerts(hall)]


@api.get("/halls/<string:hall>/windows")
@api.output(s.WindowsOut)
@api.doc(
    summary="Every window of a hall with its state and current ticket number",
    description="Public; the `clerk` field is filled only for staff of the hall (clerks, "
    "supervisors, admins: never for kiosks).",
)
def windows(hall: str) -> dict[str, Any]:
    config = _config_of(hall)
    user = current_user()
    staff = user is not None and may(user, config.code, Role.CLERK, Role.SUPERVISOR)
    windows = _engine().windows(hall)
    return {"hall": config.code, "windows": [window_json(w, t, staff=staff) for w, t in windows]}
