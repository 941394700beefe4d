"""The push of the 好差评 export to the provincial platform: HTTP POST, signed, retried.

Like registered mail with a seal: each day's document is posted as JSON and signed by the
Standard Webhooks scheme (``webhook-id``, ``webhook-timestamp``, ``webhook-signature: v1,<base64
HMAC-SHA256 of "id.timestamp.body">``), so the platform can tell it is ours and unchanged; the
id is the same on every retry, so a platform that saw it already can drop the copy. A refused
connection, a timeout, 429 or a 5xx is tried again after a growing pause; any other 4xx is
final (retrying an invalid document cannot make it valid).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import requests

RETRYABLE = frozenset({408, 425, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class PushSettings:
    """``HALL_EVALUATIONS_PUSH_URL`` (unset: no push), ``…_SECRET``, ``…_ATTEMPTS`` (4),
    ``…_BACKOFF`` (1 s before the second attempt)."""

    url: str
    secret: bytes
    attempts: int = 4
    timeout: float = 10.0
    backoff: float = 1.0  # seconds before the 2nd attempt; doubled each time

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> PushSettings | None:
        url = env.get("HALL_EVALUATIONS_PUSH_URL", "").strip()
        if not url:
            return None
        secret = env.get("HALL_EVALUATIONS_PUSH_SECRET", "")
        if not secret:
            raise ValueError("HALL_EVALUATIONS_PUSH_URL needs HALL_EVALUATIONS_PUSH_SECRET")
        attempts = int(env.get("HALL_EVALUATIONS_PUSH_ATTEMPTS", "4"))
        if not 1 <= attempts <= 10:
            raise ValueError("HALL_EVALUATIONS_PUSH_ATTEMPTS is 1 to 10")
        backoff = float(env.get("HALL_EVALUATIONS_PUSH_BACKOFF", "1"))
        if not 0 <= backoff <= 300:
            raise ValueError("HALL_EVALUATIONS_PUSH_BACKOFF is 0 to 300 seconds")
        return cls(url=url, secret=secret_bytes(secret), attempts=attempts, backoff=backoff)


def secret_bytes(secret: str) -> bytes:
    """A Standard Webhooks secret (``whsec_<base64>``) or a plain one, as key bytes."""
    if secret.startswith("whsec_"):
        return base64.b64decode(secret.removeprefix("whsec_"))
    return secret.encode()


def signature(secret: bytes, message_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


@dataclass(frozen=True)
class PushResult:
    delivered: bool
    attempts: int
    status: int | None  # the last HTTP status (None: no answer)
    message_id: str


class UpstreamPush:
    def __init__(
        self,
        settings: PushSettings,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.session = session or requests.Session()
        self.sleep = sleep
        self.now = now

    def push(self, document: Mapping[str, Any]) -> PushResult:
        """Post one export document; retried as the module says, the same id every time."""
        body = json.dumps(document, ensure_ascii=False, sort_keys=True).encode()
        message_id = "hpj_" + hashlib.sha256(body).hexdigest()[:32]
        status: int | None = None
        for attempt in range(1, self.settings.attempts + 1):
            if attempt > 1:
                self.sleep(self.settings.backoff * 2 ** (attempt - 2))
            timestamp = int(self.now())
            headers = {
                "Content-Type": "application/json; charset=utf-8",
                "webhook-id": message_id,
                "webhook-timestamp": str(timestamp),
                "webhook-signature": signature(self.settings.secret, message_id, timestamp, body),
            }
            try:
                response = self.session.post(
                    self.settings.url, data=body, headers=headers, timeout=self.settings.timeout
                )
            except requests.RequestException:
                status = None
                continue
            status = response.status_code
            if 200 <= status < 300:
                return PushResult(True, attempt, status, message_id)
            if status not in RETRYABLE:
                return PushResult(False, attempt, status, message_id)
        return PushResult(False, self.settings.attempts, status, message_id)
