"""Administration of API clients and their webhooks (issue 20), under ``/api/v1/admin``.

Supervisors and administrators read them; an administrator of every hall (an account
without a hall) adds, rotates and revokes any, an administrator of one hall those of that
hall alone. A
secret is in the answer of ``add`` and ``rotate`` only. Every change is audited.
"""

from __future__ import annotations

from typing import Any

from apiflask import abort
from flask import request
from pydantic import BaseModel, Field, ValidationError

from queue_engine.domain.errors import InvalidInput
from queue_engine.domain.integrations import ApiClient

from ..auth import require_roles, signed_in_user
from ..state import hall_services
from .api import READ, WRITE, admin_api, doc


class ClientIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    scopes: list[str] = Field(min_length=1, max_length=10)
    halls: list[str] = Field(default_factory=list, max_length=50)
    quotas: dict[str, str] = Field(default_factory=dict)


class AdminSubscriptionIn(BaseModel):
    url: str = Field(min_length=1, max_length=500)
    events: list[str] = Field(min_length=1, max_length=50)
    halls: list[str] = Field(default_factory=list, max_length=50)


def client_out(client: ApiClient) -> dict[str, Any]:
    def iso(moment: Any) -> str | None:
        return None if moment is None else moment.isoformat()

    return {
        "client_id": client.client_id,
        "name": client.name,
        "scopes": list(client.scopes),
        "halls": list(client.halls),
        "quotas": dict(client.quotas),
        "active": client.active,
        "created_at": iso(client.created_at),
        "rotated_at": iso(client.rotated_at),
        "revoked_at": iso(client.revoked_at),
    }


def _body(model: type[BaseModel]) -> Any:
    data = request.get_json() if request.is_json else None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        names = ", ".join(".".join(str(p) for p in e["loc"]) or "body" for e in exc.errors())
        raise InvalidInput(f"invalid or missing: {names}") from None


def _administers(client_id: str) -> ApiClient:
    """The client, if this administrator may change it: an administrator of every hall may
    change any; one of a hall only the clients of that hall alone."""
    client = hall_services().clients.client(client_id)
    hall = signed_in_user().hall
    if hall is not None and tuple(client.halls) != (hall,):
        abort(403, f"this client is not one of hall {hall} alone")
    return client


def _own_halls(halls: list[str]) -> list[str]:
    """An administrator of one hall registers clients of that hall only."""
    hall = signed_in_user().hall
    if hall is None:
        return halls
    if any(h.strip().upper() != hall for h in halls):
        abort(403, f"an administrator of hall {hall} registers clients of that hall only")
    return [hall]


@admin_api.get("/clients")
@require_roles(*READ)
@doc("API clients (never their secrets)")
def list_clients() -> dict[str, Any]:
    return {"clients": [client_out(c) for c in hall_services().clients.clients()]}


@admin_api.post("/clients")
@require_roles(*WRITE)
@doc(
    "Register an API client: {name, scopes, halls?, quotas?}; the secret is shown this once",
    r201="the client with client_id and client_secret",
    r422="unknown scope or hall, malformed quota",
)
def add_client() -> tuple[dict[str, Any], int]:
    body = _body(ClientIn)
    halls = _own_halls(body.halls)
    client, secret = hall_services().clients.add(body.name, body.scopes, halls, body.quotas)
    return {**client_out(client), "client_secret": secret}, 201


@admin_api.post("/clients/<string:client_id>/rotate")
@require_roles(*WRITE)
@doc(
    "A new secret for a client (shown once); the old secret and its tokens stop working",
    r404="no such client",
    r409="the client is revoked",
)
def rotate_client(client_id: str) -> dict[str, Any]:
    _administers(client_id)
    client, secret = hall_services().clients.rotate(client_id)
    return {**client_out(client), "client_secret": secret}


@admin_api.post("/clients/<string:client_id>/revoke")
@require_roles(*WRITE)
@doc("Revoke a client for good: its secret, tokens and webhooks stop", r404="no such client")
def revoke_client(client_id: str) -> dict[str, Any]:
    _administers(client_id)
    return client_out(hall_services().clients.revoke(client_id))


@admin_api.get("/webhooks")
@require_roles(*READ)
@doc("Webhook subscriptions of every client (?client=ID), with their health")
def list_webhooks() -> dict[str, Any]:
    client = request.args.get("client") or None
    subs = hall_services().webhooks.subscriptions(client)
    return {"webhooks": [s.to_json() for s in subs]}


@admin_api.post("/clients/<string:client_id>/webhooks")
@require_roles(*WRITE)
@doc(
    "Subscribe a client to events by webhook: {url, events, halls?}; the secret is shown once",
    r201="the subscription and its whsec_ secret",
    r404="no such client",
    r422="invalid URL or event type, a hall the client may not see, no events:subscribe",
)
def add_webhook(client_id: str) -> tuple[dict[str, Any], int]:
    client = _administers(client_id)
    body = _body(AdminSubscriptionIn)
    services = hall_services()
    sub, secret = services.webhooks.subscribe(client, body.url, body.events, body.halls)
    return {**sub.to_json(), "secret": secret}, 201


@admin_api.post("/webhooks/<int:subscription_id>/enable")
@require_roles(*WRITE)
@doc(
    "Switch a disabled webhook subscription back on (its failures forgotten)",
    r404="no such subscription",
    r409="its client is revoked",
)
def enable_webhook(subscription_id: int) -> dict[str, Any]:
    _administers(hall_services().webhooks.subscription(subscription_id).client_id)
    return hall_services().webhooks.enable(subscription_id).to_json()


@admin_api.delete("/webhooks/<int:subscription_id>")
@require_roles(*WRITE)
@doc("Delete a webhook subscription", r204="deleted", r404="no such subscription")
def delete_webhook(subscription_id: int) -> tuple[str, int]:
    _administers(hall_services().webhooks.subscription(subscription_id).client_id)
    hall_services().webhooks.unsubscribe(subscription_id)
    return "", 204
