"""Web Push (RFC 8030/8291/8292) through ``pywebpush``, signed with the hall's VAPID key.

``to`` is the browser's subscription as JSON (``{"endpoint", "keys": {"p256dh", "auth"}}``),
stored when the citizen opts in on the ticket or appointment page. The payload is JSON
``{"title", "body", "kind", "url"}`` which the service worker (``/sw.js``) shows as a
notification. 404/410 mean the subscription is gone (never retried); 429/5xx and the network are
retryable. The ``Topic`` header is derived from the delivery's key, so a push service holding an
undelivered copy replaces it instead of showing it twice.

VAPID keys are generated once into the instance folder (``vapid_private.pem``); the public key
(uncompressed P-256 point, base64url) is what the page passes to ``PushManager.subscribe``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from pathlib import Path
from typing import Any

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pywebpush import WebPushException, webpush

from queue_engine.adapters.channels._errors import from_status
from queue_engine.domain.outbox import Delivery, DeliveryError

log = logging.getLogger(__name__)

VAPID_FILE = "vapid_private.pem"
URGENT_KINDS = {"called", "turn_near", "recalled"}


def ensure_vapid_key(folder: str | Path) -> Path:
    """The instance folder's VAPID private key (PEM), generated on first use (mode 0600)."""
    path = Path(folder) / VAPID_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        key = ec.generate_private_key(ec.SECP256R1())
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(pem)
        tmp.chmod(0o600)
        tmp.replace(path)
    return path


def vapid_public_key(private_pem: str | Path) -> str:
    """The application server key for ``PushManager.subscribe`` (base64url, no padding)."""
    key = serialization.load_pem_private_key(Path(private_pem).read_bytes(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    raw = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def topic(key: str) -> str:
    """A Topic header value (≤ 32 base64url characters) standing for the idempotency key."""
    return base64.urlsafe_b64encode(hashlib.sha256(key.encode()).digest()).decode()[:32]


class WebPushChannel:
    def __init__(
        self,
        *,
        private_key_file: str | Path,
        subject: str = "mailto:admin@localhost",
        ttl: int = 3600,
        timeout: float = 10.0,
        name: str = "webpush",
    ) -> None:
        self.name = name
        self.private_key_file = str(private_key_file)
        self.subject = subject
        self.ttl = ttl
        self.timeout = timeout

    def send(self, delivery: Delivery) -> None:
        try:
            subscription: dict[str, Any] = json.loads(delivery.to)
            subscription["endpoint"], subscription["keys"]["p256dh"]
        except (ValueError, KeyError, TypeError):
            raise DeliveryError("webpush: not a push subscription", retryable=False) from None
        payload = json.dumps(
            {
                "title": delivery.params.get("title") or delivery.hall,
                "body": delivery.text,
                "kind": delivery.kind,
                "url": delivery.params.get("url", ""),
            },
            ensure_ascii=False,
        )
        headers = {
            "Topic": topic(delivery.key),
            "Urgency": "high" if delivery.kind in URGENT_KINDS else "normal",
        }
        try:
            webpush(
                subscription,
                data=payload,
                vapid_private_key=self.private_key_file,
                vapid_claims={"sub": self.subject},
                ttl=self.ttl,
                timeout=self.timeout,
                headers=headers,
            )
        except WebPushException as exc:
            status = exc.response.status_code if exc.response is not None else None
            if status in (404, 410):
                raise DeliveryError("webpush: subscription gone", retryable=False) from None
            if status is None:
                raise DeliveryError("webpush: no answer") from None
            raise from_status("push service", status) from None
        except requests.RequestException as exc:
            raise DeliveryError(f"push service unreachable: {type(exc).__name__}") from None
        log.info(
            "webpush %s (hall %s, key %s) accepted", delivery.kind, delivery.hall, delivery.key
        )
