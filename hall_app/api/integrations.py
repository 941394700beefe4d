"""Integrations over HTTP (issue 20): case numbers, today's queues, a client's webhooks.

- ``PUT /tickets/{id}/case-number``: a clerk of the ticket's hall, or a client with
  ``cases:link`` for that hall, attaches the 办件编号 of the matter being handled;
- ``GET /halls/{hall}/queues/today``: public (the city app's widget), cached in this process
  for ``HALL_QUEUES_CACHE_SECONDS`` with an ETag, so a million phones reach one query a few
  seconds;
- ``GET|POST /webhooks``, ``DELETE /webhooks/{id}``: a client with ``events:subscribe``
  manages its own subscriptions (the signing secret is shown once, at creation).
"""

from __future__ import annotations

import hashlib
import threading
import time
from typing import Any

from apiflask import abort
from flask import Response, current_app, json, request
from pydantic import BaseModel, Field

from queue_engine.domain.access import Role, has_role
from queue_engine.domain.errors import InvalidInput

from ..auth import current_user, require_hall
from ..clients import client_may, current_client, insufficient_scope
from ..serialize import estimate_json
from ..state import hall_services
from .routes import _config_of, _engine, api

CLIENT_DOC = {401: "no or invalid client token", 403: "insufficient_scope"}


class CaseNumberIn(BaseModel):
    case_number: str = Field(min_length=1, max_length=64)


class SubscriptionIn(BaseModel):
    url: str = Field(min_length=1, max_length=500)
    events: list[str] = Field(min_length=1, max_length=50)
    halls: list[str] = Field(default_factory=list, max_length=50)


def _body(model: type[BaseModel]) -> Any:
    from pydantic import ValidationError

    data = request.get_json() if request.is_json else None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        names = ", ".join(".".join(str(p) for p in e["loc"]) or "body" for e in exc.errors())
        raise InvalidInput(f"invalid or missing: {names}") from None


# -- case numbers ----------------------------------------------------------------------------


@api.put("/tickets/<string:ticket_id>/case-number")
@api.doc(
    summary="Attach a case number (办件编号) to the matter a ticket is being served for",
    description="A clerk, supervisor or admin of the ticket's hall (staff token), or an API "
    "client with the scope `cases:link` for that hall. Body `{case_number}`: 1-64 letters, "
    "digits, `-`, `_`, `.`. A second number replaces the first; the event `ticket.case_number` "
    "records it, webhooks carry it, the evaluation export shows it as 办件编号.",
    security=[{"BearerAuth": []}, {"ClientCredentials": ["cases:link"]}],
    responses={
        401: "no credentials",
        403: "another hall, a kiosk, or a client without cases:link",
        404: "no such ticket",
        422: "malformed case number",
    },
)
def attach_case_number(ticket_id: str) -> Any:
    services = hall_services()
    hall = _engine().ticket(ticket_id).ticket.hall
    user = current_user()
    if user is not None:
        if not has_role(user, Role.CLERK, Role.SUPERVISOR):
            abort(403, "kiosk accounts do not attach case numbers")
        require_hall(hall)
        by = user.username
    else:
        client = current_client()
        if client is None:
            abort(401, "sign in first (a staff token, or an API client's token)")
        if not client_may("cases:link", hall):
            return insufficient_scope("cases:link")
        by = f"client:{client.client_id}"
    body = _body(CaseNumberIn)
    return services.cases.attach(ticket_id, body.case_number, by)


# -- today's queues (the city app's widget) --------------------------------------------------


class _TodayCache:
    """The last answer per hall, for a few seconds: the widget's readers share one query."""

    def __init__(self) -> None:
        self._entries: dict[str, tuple[float, bytes, str]] = {}
        self._lock = threading.Lock()

    def get(self, hall: str, seconds: int) -> tuple[bytes, str]:
        now = time.monotonic()
        entry = self._entries.get(hall)
        if entry is not None and entry[0] > now:
            return entry[1], entry[2]
        with self._lock:  # one reader refreshes; the others wait for its answer
            entry = self._entries.get(hall)
            if entry is not None and entry[0] > time.monotonic():
                return entry[1], entry[2]
            body = json.dumps(_today(hall), ensure_ascii=False).encode()
            etag = hashlib.sha256(body).hexdigest()[:32]
            self._entries[hall] = (time.monotonic() + seconds, body, etag)
            return body, etag


def _today(hall: str) -> dict[str, Any]:
    config = _config_of(hall)
    catalogue = hall_services().catalogue.of_hall(config.code)
    services = []
    for queue in _engine().queues(config.code):
        service = config.service(queue.code)
        if not service.active:
            continue
        code, department = catalogue.get(service.code, (None, None))
        services.append(
            {
                "code": service.code,
                "name_zh": service.name_zh,
                "name_en": service.name_en,
                "zone": service.zone,
                "catalogue_code": code,
                "department": department,
                "waiting": queue.waiting,
                "estimated_wait": estimate_json(queue.estimate),
            }
        )
    now = _engine().clock.now()
    return {
        "hall": config.code,
        "name_zh": config.name_zh,
        "name_en": config.name_en,
        "date": config.business_date(now).isoformat(),
        "as_of": now.astimezone(config.zone).isoformat(timespec="seconds"),
        "services": services,
    }


@api.get("/halls/<string:hall>/queues/today")
@api.doc(
    summary="Today's queues of a hall for apps and websites: waiting and estimate per service",
    description="Public (an API client's `queues:read` token is accepted too). Cacheable: "
    "`ETag` and `Cache-Control: public, max-age=HALL_QUEUES_CACHE_SECONDS` (5); a request "
    "with a matching `If-None-Match` gets 304. Answers come from a short in-process cache.",
    responses={200: "services with waiting count and estimate", 304: "unchanged", 404: "no hall"},
)
def queues_today(hall: str) -> Any:
    seconds = int(current_app.config.get("HALL_QUEUES_CACHE_SECONDS", 5))
    cache: _TodayCache = current_app.extensions.setdefault("hall_today", _TodayCache())
    body, etag = cache.get(hall.upper(), seconds)
    response = Response(body, mimetype="application/json")
    response.set_etag(etag)
    response.headers["Cache-Control"] = f"public, max-age={seconds}"
    response.headers["Access-Control-Allow-Origin"] = "*"  # an embeddable widget
    return response.make_conditional(request)


# -- a client's own webhooks -----------------------------------------------------------------


def _subscriber() -> Any:
    client = current_client()
    if client is None:
        abort(401, "sign in with an API client's token (client credentials)")
    if not client_may("events:subscribe"):
        return None
    return client


@api.get("/webhooks")
@api.doc(
    summary="The calling client's webhook subscriptions",
    security=[{"ClientCredentials": ["events:subscribe"]}],
    responses=CLIENT_DOC,
)
def my_webhooks() -> Any:
    client = _subscriber()
    if client is None:
        return insufficient_scope("events:subscribe")
    subs = hall_services().webhooks.subscriptions(client.client_id)
    return {"webhooks": [s.to_json() for s in subs]}


@api.post("/webhooks")
@api.doc(
    summary="Subscribe the calling client to events by webhook (the secret is shown once)",
    description='Body `{url, events: ["ticket.called", "window.*", ...], halls?}`. '
    "Deliveries are signed per Standard Webhooks (`webhook-id`, `webhook-timestamp`, "
    "`webhook-signature: v1,<base64 HMAC-SHA256 of id.timestamp.body>` with the `whsec_` "
    "secret returned here).",
    security=[{"ClientCredentials": ["events:subscribe"]}],
    responses={**CLIENT_DOC, 201: "the subscription and its secret", 422: "invalid body"},
)
def subscribe_webhook() -> Any:
    client = _subscriber()
    if client is None:
        return insufficient_scope("events:subscribe")
    body = _body(SubscriptionIn)
    sub, secret = hall_services().webhooks.subscribe(client, body.url, body.events, body.halls)
    return {**sub.to_json(), "secret": secret}, 201


@api.delete("/webhooks/<int:subscription_id>")
@api.doc(
    summary="Delete one of the calling client's webhook subscriptions",
    security=[{"ClientCredentials": ["events:subscribe"]}],
    responses={**CLIENT_DOC, 204: "deleted", 404: "no such subscription of this client"},
)
def unsubscribe_webhook(subscription_id: int) -> Any:
    client = _subscriber()
    if client is None:
        return insufficient_scope("events:subscribe")
    hall_services().webhooks.unsubscribe(subscription_id, client.client_id)
    return "", 204
