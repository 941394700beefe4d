"""Integrations (issue 20): API clients, their webhooks, and the case numbers they attach.

Like the hall's desk for partner offices: it hands out badges (client id and a secret shown
once), changes and withdraws them, keeps the list of who wants to hear of what, and for every
change in the hall drops one envelope per interested partner into the same out-tray as the
citizens' notices (the outbox), in the same movement as the change. A partner who stops
answering is taken off the list after a run of failures, and the supervisors are told.
"""

from __future__ import annotations

import ipaddress
import logging
import secrets
import socket
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from queue_engine.adapters import alert_store, visit_store
from queue_engine.adapters import integration_store as store
from queue_engine.adapters.channels.standard_webhooks import (
    StandardWebhooksChannel,
    new_secret,
)
from queue_engine.adapters.pii_crypto import PiiCipher
from queue_engine.adapters.unit_of_work import UnitOfWork
from queue_engine.domain.access import AuditEntry
from queue_engine.domain.alerts import AlertKind, Severity, describe
from queue_engine.domain.errors import Conflict, InvalidInput, NotFound
from queue_engine.domain.events import DomainEvent, EventType
from queue_engine.domain.integrations import (
    CLIENT_NAME_MAX,
    ApiClient,
    check_case_number,
    check_events,
    check_scopes,
    secret_hash,
    secret_matches,
    wants,
    webhook_payload,
)
from queue_engine.domain.outbox import Delivery, DeliveryError
from queue_engine.services.desk import Desk
from queue_engine.services.outbox import Outbox
from queue_engine.services.tickets import QueueEngine

log = logging.getLogger(__name__)

HOOK_CHANNEL = "hook"
SUBSCRIPTIONS_TTL = 5.0  # seconds another process's new subscription may wait to be seen
SECRET_CONTEXT = "webhook-secret"


@dataclass(frozen=True)
class Subscription:
    id: int
    client_id: str
    url: str
    events: tuple[str, ...]
    halls: tuple[str, ...]
    active: bool
    failures: int
    disabled_at: datetime | None
    disabled_reason: str | None
    created_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "client_id": self.client_id,
            "url": self.url,
            "events": list(self.events),
            "halls": list(self.halls),
            "active": self.active,
            "failures": self.failures,
            "disabled_at": None if self.disabled_at is None else self.disabled_at.isoformat(),
            "disabled_reason": self.disabled_reason,
            "created_at": self.created_at.isoformat(),
        }


def _subscription(row: Any) -> Subscription:
    return Subscription(
        id=row.id,
        client_id=row.client_id,
        url=row.url,
        events=tuple(row.events or ()),
        halls=tuple(row.halls or ()),
        active=bool(row.active),
        failures=row.failures,
        disabled_at=row.disabled_at,
        disabled_reason=row.disabled_reason,
        created_at=row.created_at,
    )


def check_url(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("https", "http") or not parts.hostname or len(url) > 500:
        raise InvalidInput("a webhook URL is an http(s) URL of at most 500 characters", code="url")
    return url.strip()


def private_host(url: str) -> bool:
    """Whether ``url``'s host is (or resolves to) an address inside the network.

    Webhook URLs come from outside systems: in production they must not reach the hall's own
    services (``HALL_WEBHOOK_ALLOW_PRIVATE``). A name that does not resolve is not private: the
    send fails and is retried.
    """
    host = urlsplit(url).hostname or ""
    try:
        infos = socket.getaddrinfo(host, None)
    except (OSError, UnicodeError):
        return False
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if not address.is_global:
            return True
    return False


class ClientDesk(Desk):
    """Registered API clients: add (the secret shown once), rotate, revoke, authenticate."""

    def __init__(self, engine: QueueEngine) -> None:
        self.engine = engine
        self.db = engine.db

    def _audit(self, uow: UnitOfWork, detail: dict[str, Any]) -> None:
        uow.record_audit(self.engine.clock.now(), detail)

    def add(
        self,
        name: str,
        scopes: Sequence[str],
        halls: Sequence[str] = (),
        quotas: dict[str, str] | None = None,
    ) -> tuple[ApiClient, str]:
        """A new client and its secret (the only time the secret is seen)."""
        name = name.strip()
        if not name or len(name) > CLIENT_NAME_MAX:
            raise InvalidInput(f"a client's name is 1 to {CLIENT_NAME_MAX} characters")
        chosen = check_scopes(scopes)
        known = {c.code for c in self.engine.halls()}
        halls = tuple(dict.fromkeys(h.strip().upper() for h in halls if h.strip()))
        unknown = [h for h in halls if h not in known]
        if unknown:
            raise InvalidInput(f"unknown hall(s) {', '.join(unknown)}", code="hall")
        quotas = _check_quotas(quotas or {}, chosen)
        client_id = "hc_" + secrets.token_hex(10)
        secret = secrets.token_urlsafe(32)
        now = self.engine.clock.now()
        with self.unit() as uow:
            store.add_client(
                uow.conn,
                {
                    "client_id": client_id,
                    "name": name,
                    "secret_hash": secret_hash(secret),
                    "scopes": list(chosen),
                    "halls": list(halls),
                    "quotas": quotas,
                    "credential_version": 0,
                    "created_at": now,
                },
            )
            self._audit(uow, {"client": client_id, "name": name, "scopes": list(chosen)})
            uow.commit()
        return self.client(client_id), secret

    def clients(self) -> list[ApiClient]:
        with UnitOfWork(self.db, write=False) as uow:
            return store.clients(uow.conn)

    def client(self, client_id: str) -> ApiClient:
        with UnitOfWork(self.db, write=False) as uow:
            found = store.client(uow.conn, client_id)
        if found is None:
            raise NotFound(f"no API client {client_id!r}")
        return found

    def rotate(self, client_id: str) -> tuple[ApiClient, str]:
        """A new secret; the old one and every token issued under it stop working."""
        secret = secrets.token_urlsafe(32)
        now = self.engine.clock.now()
        with self.unit() as uow:
            current = store.client(uow.conn, client_id)
            if current is None:
                raise NotFound(f"no API client {client_id!r}")
            if not current.active:
                raise Conflict("a revoked client cannot be given a new secret")
            store.update_client(
                uow.conn, client_id, secret_hash=secret_hash(secret), rotated_at=now
            )
            self._audit(uow, {"client": client_id, "rotated": True})
            uow.commit()
        return self.client(client_id), secret

    def revoke(self, client_id: str) -> ApiClient:
        """The client's secret and tokens stop working for good; its webhooks stop too."""
        now = self.engine.clock.now()
        with self.unit() as uow:
            current = store.client(uow.conn, client_id)
            if current is None:
                raise NotFound(f"no API client {client_id!r}")
            if current.active:
                store.update_client(uow.conn, client_id, revoked_at=now)
                for row in store.subscriptions(uow.conn, client_id):
                    store.update_subscription(
                        uow.conn, row.id, active=False, disabled_at=now, disabled_reason="revoked"
                    )
            self._audit(uow, {"client": client_id, "revoked": True})
            uow.commit()
        return self.client(client_id)

    def authenticate(self, client_id: str, secret: str) -> ApiClient | None:
        """The client if the secret is its current one and it is not revoked."""
        if len(client_id) > 40 or len(secret) > 200:
            return None
        with UnitOfWork(self.db, write=False) as uow:
            stored = store.client_secret_hash(uow.conn, client_id)
            found = store.client(uow.conn, client_id) if stored else None
        if found is None or stored is None or not found.active:
            return None
        return found if secret_matches(secret, stored) else None

    def badge(self, client_id: str, version: int) -> ApiClient | None:
        """The client behind a token of ``version``, if that token is still good."""
        with UnitOfWork(self.db, write=False) as uow:
            found = store.client(uow.conn, client_id)
        if found is None or not found.active or found.credential_version != version:
            return None
        return found


def _check_quotas(quotas: dict[str, str], scopes: Sequence[str]) -> dict[str, str]:
    from limits import parse_many  # the rate-limit grammar flask-limiter reads

    out: dict[str, str] = {}
    for scope, limit in quotas.items():
        if scope not in scopes:
            raise InvalidInput(f"a quota for {scope!r}, which the client does not have")
        try:
            parse_many(str(limit))
        except ValueError:
            raise InvalidInput(f"quota {limit!r} is not like '600 per minute'") from None
        out[scope] = str(limit)
    return out


class WebhookDesk(Desk):
    """Subscriptions, the outbox rows of their events, and the health of their receivers."""

    def __init__(
        self,
        engine: QueueEngine,
        outbox: Outbox,
        cipher: PiiCipher,
        *,
        disable_after: int = 10,
        timeout: float = 10.0,
        allow_private: bool = True,
    ) -> None:
        self.engine = engine
        self.allow_private = allow_private
        self.db = engine.db
        self.outbox = outbox
        self.cipher = cipher
        self.disable_after = disable_after
        self.channel = StandardWebhooksChannel(self.resolve, self.settled, timeout=timeout)
        self._cache: tuple[float, list[tuple[Subscription, ApiClient]]] | None = None
        self._lock = threading.Lock()

    # -- subscriptions ---------------------------------------------------------------------

    def subscribe(
        self, client: ApiClient, url: str, events: Sequence[str], halls: Sequence[str] = ()
    ) -> tuple[Subscription, str]:
        """A new subscription of ``client`` and its signing secret (shown this once)."""
        if not client.may("events:subscribe"):
            raise InvalidInput("the client lacks the scope events:subscribe", code="scope")
        chosen = check_events(events)
        wanted = tuple(dict.fromkeys(h.strip().upper() for h in halls if h.strip()))
        outside = [h for h in wanted if client.halls and h not in client.halls]
        if outside:
            raise InvalidInput(f"the client may not see hall(s) {', '.join(outside)}", code="hall")
        secret = new_secret()
        sealed, key_id = self.cipher.seal(secret, SECRET_CONTEXT)
        now = self.engine.clock.now()
        with self.unit() as uow:
            sub_id = store.add_subscription(
                uow.conn,
                {
                    "client_id": client.client_id,
                    "url": check_url(url),
                    "secret_ciphertext": sealed,
                    "key_id": key_id,
                    "events": list(chosen),
                    "halls": list(wanted),
                    "active": True,
                    "failures": 0,
                    "created_at": now,
                },
            )
            uow.record_audit(now, {"webhook": sub_id, "client": client.client_id})
            uow.commit()
        self._cache = None
        return self.subscription(sub_id), secret

    def subscription(self, sub_id: int) -> Subscription:
        with UnitOfWork(self.db, write=False) as uow:
            row = store.subscription(uow.conn, sub_id)
        if row is None:
            raise NotFound(f"no webhook subscription {sub_id}")
        return _subscription(row)

    def subscriptions(self, client_id: str | None = None) -> list[Subscription]:
        with UnitOfWork(self.db, write=False) as uow:
            return [_subscription(r) for r in store.subscriptions(uow.conn, client_id)]

    def unsubscribe(self, sub_id: int, client_id: str | None = None) -> None:
        with self.unit() as uow:
            row = store.subscription(uow.conn, sub_id)
            if row is None or (client_id is not None and row.client_id != client_id):
                raise NotFound(f"no webhook subscription {sub_id}")
            store.delete_subscription(uow.conn, sub_id)
            uow.record_audit(self.engine.clock.now(), {"webhook": sub_id, "deleted": True})
            uow.commit()
        self._cache = None

    def enable(self, sub_id: int) -> Subscription:
        """Switch a disabled subscription back on, its run of failures forgotten."""
        with self.unit() as uow:
            row = store.subscription(uow.conn, sub_id)
            if row is None:
                raise NotFound(f"no webhook subscription {sub_id}")
            owner = store.client(uow.conn, row.client_id)
            if owner is None or not owner.active:
                raise Conflict("the subscription's client is revoked")
            store.update_subscription(
                uow.conn, sub_id, active=True, failures=0, disabled_at=None, disabled_reason=None
            )
            uow.record_audit(self.engine.clock.now(), {"webhook": sub_id, "enabled": True})
            uow.commit()
        self._cache = None
        return self.subscription(sub_id)

    # -- the events: one outbox row per interested subscription, in the change's transaction

    def _active(self, uow: UnitOfWork) -> list[tuple[Subscription, ApiClient]]:
        cached = self._cache
        if cached is not None and time.monotonic() - cached[0] < SUBSCRIPTIONS_TTL:
            return cached[1]
        found = []
        clients = {c.client_id: c for c in store.clients(uow.conn)}
        for row in store.active_subscriptions(uow.conn):
            owner = clients.get(row.client_id)
            if owner is not None and owner.may("events:subscribe"):
                found.append((_subscription(row), owner))
        self._cache = (time.monotonic(), found)
        return found

    def interested(self, uow: UnitOfWork, events: Sequence[DomainEvent]) -> bool:
        """Whether any active subscription takes any of ``events`` (else: no savepoint).

        Answered from the cached subscriptions only: when they are due for a new read, yes, and
        the handler reads them in its own savepoint (a failed read must not abort the command).
        """
        cached = self._cache
        if cached is None or time.monotonic() - cached[0] >= SUBSCRIPTIONS_TTL:
            return True
        return any(wants(s.events, str(e.type)) for e in events for s, _ in cached[1])

    def __call__(self, uow: UnitOfWork, events: Sequence[DomainEvent]) -> None:
        """The ``MessageBus.within`` handler: queue each event for each subscription."""
        subscribers = self._active(uow)
        if not subscribers:
            return
        for event in events:
            for sub, owner in subscribers:
                if not wants(sub.events, str(event.type)):
                    continue
                if not owner.may("events:subscribe", event.hall):
                    continue
                if sub.halls and event.hall not in sub.halls:
                    continue
                self._enqueue(uow, sub, owner, event)

    def _enqueue(
        self, uow: UnitOfWork, sub: Subscription, owner: ApiClient, event: DomainEvent
    ) -> None:
        message_id = "msg_" + uuid.uuid4().hex
        body = webhook_payload(
            message_id,
            str(event.type),
            event.hall,
            event.ts.isoformat(),
            {
                "ticket_id": event.ticket_id,
                "ticket_number": event.ticket_number,
                "service": event.service,
                "window": event.window,
                "channel": event.channel,
                "priority": event.priority,
            },
            event.payload,
            with_ticket_id=owner.may("cases:link"),
        )
        self.outbox.enqueue(
            uow,
            channel=HOOK_CHANNEL,
            kind=str(event.type),
            hall=event.hall,
            key=message_id,
            to=sub.url,
            params={"subscription": sub.id, "body": body},
            urgent=True,
        )

    # -- the channel's two questions: where to, and how did it go ----------------------------

    def resolve(self, delivery: Delivery) -> tuple[str, str]:
        sub_id = delivery.params.get("subscription")
        with UnitOfWork(self.db, write=False) as uow:
            row = store.subscription(uow.conn, int(sub_id)) if isinstance(sub_id, int) else None
        if row is None:
            raise DeliveryError("the webhook subscription was deleted", retryable=False)
        if not row.active:
            raise DeliveryError("the webhook subscription is disabled", retryable=False)
        url = delivery.to or row.url
        if not self.allow_private and private_host(url):
            raise DeliveryError(
                "the webhook URL leads to a private, loopback or link-local address",
                retryable=False,
            )
        secret = self.cipher.open(row.secret_ciphertext, row.key_id, SECRET_CONTEXT)
        return url, secret

    def settled(self, delivery: Delivery, error: DeliveryError | None) -> None:
        """A success ends the subscription's run of failures; a long run disables it."""
        sub_id = int(delivery.params["subscription"])
        now = self.engine.clock.now()
        with UnitOfWork(self.db) as uow:
            if error is None:
                store.update_subscription(uow.conn, sub_id, failures=0)
                uow.commit()
                return
            run = store.count_failure(uow.conn, sub_id)
            row = store.subscription(uow.conn, sub_id)
            disable = row is not None and row.active and run >= self.disable_after
            if disable and row is not None:
                reason = f"{run} failed deliveries in a row: {error.reason}"[:300]
                store.update_subscription(
                    uow.conn, sub_id, active=False, disabled_at=now, disabled_reason=reason
                )
                self._alert(uow, _subscription(row), run, now)
                log.warning("webhook subscription %s disabled after %s failures", sub_id, run)
            self.engine.bus.commit(uow)
        if disable:
            self._cache = None

    def _alert(self, uow: UnitOfWork, sub: Subscription, run: int, now: datetime) -> None:
        """A red alert in each hall of the subscription (every hall when it names none)."""
        owner = store.client(uow.conn, sub.client_id)
        name = sub.client_id if owner is None else owner.name
        halls = (
            sub.halls
            or (owner.halls if owner is not None else ())
            or tuple(c.code for c in self.engine.halls())
        )
        data = {"client": name, "client_id": sub.client_id, "failures": run, "url": sub.url}
        for hall in halls:
            try:
                hall_id, _ = self.db.hall_config(uow.conn, hall)
            except NotFound:
                continue
            kind = AlertKind.WEBHOOK_DISABLED
            alert_id = alert_store.insert_alert(
                uow.conn,
                {
                    "hall_id": hall_id,
                    "key": f"{kind}:{sub.id}:{int(now.timestamp())}",
                    "kind": str(kind),
                    "severity": str(Severity.RED),
                    "subject": str(sub.id),
                    "window": None,
                    "service": None,
                    "data": data,
                    "raised_at": now,
                    "updated_at": now,
                    "note": "",
                },
            )
            payload = {
                "alert": alert_id,
                "kind": str(kind),
                "severity": str(Severity.RED),
                "subject": str(sub.id),
                "data": data,
                "message": describe(str(kind), str(sub.id), data),
            }
            uow.record(DomainEvent(EventType.ALERT_RAISED, hall, now, payload=payload))


class CaseNumbers(Desk):
    """办件编号: the approval system's number of the matter being handled for a ticket."""

    def __init__(self, engine: QueueEngine) -> None:
        self.engine = engine
        self.db = engine.db

    def attach(self, ticket_id: str, case_number: str, by: str) -> dict[str, Any]:
        """Attach ``case_number`` to the ticket's current matter; an event records it."""
        number = check_case_number(case_number)
        ticket = self.engine.ticket(ticket_id).ticket
        now = self.engine.clock.now()
        with self.unit() as uow:
            hall_id, _ = self.db.hall_config(uow.conn, ticket.hall)
            record = visit_store.load_visit(uow.conn, ticket.id)
            segment = 0 if record is None else record.visit.index
            service = ticket.service
            if record is not None and segment < len(record.visit.segments):
                service = record.visit.segments[segment].service
            before = store.set_case_number(
                uow.conn,
                ticket_id=ticket.id,
                segment=segment,
                hall_id=hall_id,
                case_number=number,
                by=by[:64],
                at=now,
            )
            payload = {"case_number": number, "segment": segment}
            if before is not None:
                payload["replaced"] = before
            uow.record(
                DomainEvent(
                    EventType.TICKET_CASE_NUMBER,
                    ticket.hall,
                    now,
                    ticket_id=ticket.id,
                    ticket_number=ticket.number,
                    service=service,
                    window=ticket.window_label,
                    channel=str(ticket.channel),
                    priority=str(ticket.priority),
                    payload=payload,
                )
            )
            uow.record_audit(now, {"case_number": number, "segment": segment})
            self.engine.bus.commit(uow)
        return {"ticket_id": ticket.id, "segment": segment, "service": service, **payload}

    def of(self, ticket_ids: list[str]) -> dict[tuple[str, int], str]:
        with UnitOfWork(self.db, write=False) as uow:
            return store.case_numbers(uow.conn, ticket_ids)


def cli_entry(action: str, target: str = "") -> AuditEntry:
    """The audit entry of a ``hall client`` / ``hall services import`` command."""
    return AuditEntry("cli", "admin", action, target, "")
