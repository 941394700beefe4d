"""Web Push opt-in (issue 17): a citizen's ticket or appointment page stores its browser's
subscription here, sealed in ``contacts`` (channel ``webpush``) beside the phone and openid:
one place for a citizen's delivery addresses, purged with them N days after the visit. The
notices read it there like any address. The VAPID key lives in the instance folder,
generated on first use.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from queue_engine.adapters import outbox_store as store
from queue_engine.adapters.channels.webpush import ensure_vapid_key, vapid_public_key
from queue_engine.adapters.database import instance_folder
from queue_engine.adapters.unit_of_work import UnitOfWork
from queue_engine.domain.errors import InvalidInput
from queue_engine.services.appointments import AppointmentDesk
from queue_engine.services.notices import APPOINTMENT, TICKET, NoticeQueue
from queue_engine.services.tickets import QueueEngine

MAX_SUBSCRIPTION = 4096  # bytes of JSON; real ones are ~400


def _b64url(value: Any, *, length: int | None, name: str) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidInput(f"keys.{name} is missing")
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise InvalidInput(f"keys.{name} is not base64url") from None
    if length is not None and len(raw) != length:
        raise InvalidInput(f"keys.{name} has the wrong length")
    return value


def clean_subscription(value: Any) -> str:
    """The browser's ``PushSubscription.toJSON()`` checked and reduced to what a push needs."""
    if not isinstance(value, dict):
        raise InvalidInput("a push subscription is a JSON object")
    endpoint = value.get("endpoint")
    parts = urlsplit(endpoint) if isinstance(endpoint, str) else None
    if parts is None or parts.scheme not in ("https", "http") or not parts.netloc:
        raise InvalidInput("endpoint must be an https URL")
    keys = value.get("keys")
    if not isinstance(keys, dict):
        raise InvalidInput("keys are missing")
    clean = {
        "endpoint": endpoint,
        "keys": {
            "p256dh": _b64url(keys.get("p256dh"), length=65, name="p256dh"),
            "auth": _b64url(keys.get("auth"), length=16, name="auth"),
        },
    }
    text = json.dumps(clean, separators=(",", ":"))
    if len(text) > MAX_SUBSCRIPTION:
        raise InvalidInput("push subscription too long")
    return text


class PushDesk:
    def __init__(
        self,
        engine: QueueEngine,
        appointments: AppointmentDesk,
        environ: Mapping[str, str] | None = None,
        notices: NoticeQueue | None = None,
    ) -> None:
        self.engine = engine
        self.appointments = appointments
        self.notices = notices
        self.environ = environ
        self._public_key: str | None = None

    def key_file(self) -> Path:
        import os

        env = self.environ if self.environ is not None else os.environ
        configured = env.get("HALL_VAPID_PRIVATE_KEY_FILE")
        return Path(configured) if configured else ensure_vapid_key(instance_folder(env))

    def public_key(self) -> str:
        """The VAPID application server key the pages subscribe with."""
        if self._public_key is None:
            self._public_key = vapid_public_key(self.key_file())
        return self._public_key

    def subscribe_ticket(self, ticket_id: str, subscription: Any) -> None:
        ticket = self.engine.ticket(ticket_id).ticket  # NotFound for unknown tickets
        text = clean_subscription(subscription)
        self._save(TICKET, ticket_id, ticket.hall, text, ticket.issued_at)

    def subscribe_appointment(self, code: str, subscription: Any) -> None:
        booking = self.appointments.appointment(code)  # NotFound for unknown codes
        text = clean_subscription(subscription)
        self._save(APPOINTMENT, code, booking.hall, text, booking.slot_start)

    def unsubscribe(self, kind: str, owner_id: str) -> bool:
        with UnitOfWork(self.engine.db) as uow:
            removed = store.remove_contact(uow.conn, kind, owner_id, "webpush")
            uow.commit()
        return removed

    def subscription(self, kind: str, owner_id: str) -> str | None:
        """The stored subscription JSON, opened (tests and tools; the worker opens its own)."""
        with UnitOfWork(self.engine.db, write=False) as uow:
            found = [c for c in store.contacts(uow.conn, kind, owner_id) if c.channel == "webpush"]
        if not found or self.notices is None:
            return None
        return self.notices.outbox.cipher.open(found[0].ciphertext, found[0].key_id, "webpush")

    def _save(self, kind: str, owner_id: str, hall: str, text: str, visit_at: Any) -> None:
        """The latest opt-in replaces an earlier one (one webpush address per owner)."""
        if self.notices is None:
            raise RuntimeError("Web Push opt-ins need the notice queue (bootstrap wires it)")
        with UnitOfWork(self.engine.db) as uow:
            self.notices.remember(
                uow,
                hall=hall,
                subject=kind,
                ref=owner_id,
                channel="webpush",
                to=text,
                visit_at=visit_at,
            )
            uow.commit()
