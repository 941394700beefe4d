"""Webhooks to API clients (issue 20), signed per the Standard Webhooks scheme.

Each delivery is one ``POST`` of the event as JSON to the subscription's URL, with the headers
of https://www.standardwebhooks.com/ (signed with the official ``standardwebhooks`` package):

- ``webhook-id``: the delivery's key (``msg_…``), the same on every retry and on a replay:
  the receiver's idempotency key;
- ``webhook-timestamp``: Unix seconds of this attempt;
- ``webhook-signature``: ``v1,`` + base64 of HMAC-SHA256, keyed with the base64-decoded part
  of the subscription's secret ``whsec_…``, over ``<id>.<timestamp>.<raw body>``.

2xx = accepted; 429, 5xx, timeouts and refused connections are retryable; other 4xx are not.
The channel does not know where a subscription's URL and secret live: ``resolve`` finds them
for a delivery, and ``settled`` hears how each attempt went (the subscription's run of
failures, issue 20's automatic disabling).
"""

from __future__ import annotations

import base64
import json
import logging
import secrets
from collections.abc import Callable
from datetime import UTC, datetime

import requests
from standardwebhooks.webhooks import Webhook

from queue_engine.adapters.channels._errors import from_status
from queue_engine.domain.outbox import Delivery, DeliveryError

log = logging.getLogger(__name__)

SECRET_PREFIX = "whsec_"

Resolve = Callable[[Delivery], tuple[str, str]]  # delivery -> (url, whsec_ secret)
Settled = Callable[[Delivery, DeliveryError | None], None]


def new_secret() -> str:
    """A signing secret as Standard Webhooks writes them: ``whsec_`` + base64 of 32 bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value (receivers verify with ``Webhook(secret).verify``)."""
    moment = datetime.fromtimestamp(timestamp, tz=UTC)
    return Webhook(secret).sign(msg_id, moment, body.decode())


def encode(body: object) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


class StandardWebhooksChannel:
    def __init__(
        self,
        resolve: Resolve,
        settled: Settled | None = None,
        *,
        timeout: float = 10.0,
        now: Callable[[], float] | None = None,
        name: str = "hook",
    ) -> None:
        self.name = name
        self.resolve = resolve
        self.settled = settled
        self.timeout = timeout
        self.now = now or (lambda: datetime.now(UTC).timestamp())
        self.session = requests.Session()

    def send(self, delivery: Delivery) -> None:
        url, secret = self.resolve(delivery)
        body = encode(delivery.params.get("body", {}))
        timestamp = int(self.now())
        headers = {
            "Content-Type": "application/json",
            "webhook-id": delivery.key,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(secret, delivery.key, timestamp, body),
        }
        error: DeliveryError | None = None
        try:
            response = self.session.post(
                url, data=body, headers=headers, timeout=self.timeout, allow_redirects=False
            )
            if not 200 <= response.status_code < 300:
                error = from_status("webhook receiver", response.status_code, response.text)
        except requests.RequestException as exc:
            error = DeliveryError(f"webhook receiver unreachable: {type(exc).__name__}")
        if self.settled is not None:
            self.settled(delivery, error)
        if error is not None:
            raise error
        log.info(
            "webhook %s (hall %s, id %s) delivered", delivery.kind, delivery.hall, delivery.key
        )
