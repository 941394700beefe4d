"""The generic HTTP SMS gateway (``HALL_SMS_PROVIDER=webhook``).

Each delivery is one ``POST`` of JSON ``{"id", "kind", "hall", "phone", "text", "params"}`` to
``HALL_SMS_WEBHOOK_URL``. Headers:

- ``X-Hall-Timestamp``: Unix seconds of the send;
- ``X-Hall-Signature``: ``sha256=`` + hex HMAC-SHA256 with key ``HALL_SMS_WEBHOOK_SECRET`` over
  ``<timestamp> + "." + <raw body bytes>`` (the gateway recomputes it and rejects a mismatch or
  a timestamp older than a few minutes);
- ``X-Idempotency-Key``: the delivery's key (also the body's ``id``), the same on every retry.

2xx = accepted; 429 and 5xx, timeouts and refused connections are retryable; other 4xx are not.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time

import requests

from queue_engine.adapters.channels._errors import from_status
from queue_engine.domain.outbox import Delivery, DeliveryError

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Hall-Signature"
TIMESTAMP_HEADER = "X-Hall-Timestamp"
IDEMPOTENCY_HEADER = "X-Idempotency-Key"


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Hall-Signature`` value for one body (gateways verify with the same function)."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


class WebhookSmsChannel:
    def __init__(self, url: str, secret: str, *, timeout: float = 10.0, name: str = "sms") -> None:
        self.name = name
        self.url = url
        self.secret = secret
        self.timeout = timeout
        self.session = requests.Session()

    def send(self, delivery: Delivery) -> None:
        body = json.dumps(
            {
                "id": delivery.key,
                "kind": delivery.kind,
                "hall": delivery.hall,
                "phone": delivery.to,
                "text": delivery.text,
                "params": delivery.params,
            },
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: signature(self.secret, timestamp, body),
            IDEMPOTENCY_HEADER: delivery.key,
        }
        try:
            response = self.session.post(self.url, data=body, headers=headers, timeout=self.timeout)
        except requests.RequestException as exc:
            raise DeliveryError(f"sms gateway unreachable: {type(exc).__name__}") from None
        if not 200 <= response.status_code < 300:
            raise from_status("sms gateway", response.status_code, response.text)
        log.info(
            "sms %s (hall %s, key %s) handed to the gateway",
            delivery.kind,
            delivery.hall,
            delivery.key,
        )
