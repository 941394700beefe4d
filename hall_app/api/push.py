"""Web Push opt-in of the citizen's pages (issue 17).

The ticket page and the appointment page subscribe their browser with the hall's VAPID public
key and store the subscription here; notices about that ticket or appointment then also go to
the browser. The subscription's keys are never logged or shown back.
"""

from __future__ import annotations

from typing import Any

from flask import request

from queue_engine.domain.errors import InvalidInput

from ..extensions import limiter
from ..state import hall_services
from .routes import api


def _body() -> Any:
    body = request.get_json(silent=True)
    if body is None:
        raise InvalidInput("expected the push subscription as JSON")
    return body


@api.get("/push/public-key")
@api.doc(summary="The hall's VAPID public key (base64url), for PushManager.subscribe")
def push_public_key() -> dict[str, Any]:
    return {"public_key": hall_services().push.public_key()}


@api.post("/tickets/<string:ticket_id>/push-subscription")
@limiter.limit("30 per minute")
@api.doc(summary="Store this browser's Web Push subscription for a ticket's notices")
def ticket_push_subscription(ticket_id: str) -> tuple[dict[str, Any], int]:
    hall_services().push.subscribe_ticket(ticket_id, _body())
    return {"subscribed": True}, 201


@api.delete("/tickets/<string:ticket_id>/push-subscription")
@limiter.limit("30 per minute")
@api.doc(summary="Forget a ticket's Web Push subscription")
def ticket_push_unsubscribe(ticket_id: str) -> tuple[str, int]:
    hall_services().engine.ticket(ticket_id)
    hall_services().push.unsubscribe("ticket", ticket_id)
    return "", 204


@api.post("/appointments/<string:code>/push-subscription")
@limiter.limit("30 per minute")
@api.doc(summary="Store this browser's Web Push subscription for an appointment's notices")
def appointment_push_subscription(code: str) -> tuple[dict[str, Any], int]:
    hall_services().push.subscribe_appointment(code, _body())
    return {"subscribed": True}, 201


@api.delete("/appointments/<string:code>/push-subscription")
@limiter.limit("30 per minute")
@api.doc(summary="Forget an appointment's Web Push subscription")
def appointment_push_unsubscribe(code: str) -> tuple[str, int]:
    hall_services().appointments.appointment(code)
    hall_services().push.unsubscribe("appointment", code)
    return "", 204
