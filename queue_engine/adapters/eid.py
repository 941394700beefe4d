"""The identity platform (电子证照 / 政务 app) that turns a scanned QR code into an identity.

A citizen shows the electronic ID (or the province's government app) as a QR code; the kiosk's
reader bridge scans it (``GET {reader}/qr`` → ``{code}``) and the kiosk page hands the text to
the server, which asks the platform here. One ``POST`` of JSON ``{"app_id", "code", "nonce",
"timestamp"}`` to ``HALL_EID_URL``, with headers:

- ``X-Hall-App-Id``: the hall system's id at the platform (``HALL_EID_APP_ID``);
- ``X-Hall-Timestamp``: Unix seconds; ``X-Hall-Nonce``: 32 random hex digits, never reused;
- ``X-Hall-Signature``: ``sha256=`` + hex HMAC-SHA256 with the key ``HALL_EID_KEY`` over
  ``<timestamp> + "." + <nonce> + "." + <raw body bytes>`` (``signature``).

Answers: ``200 {"id_number", "name"}``; ``410 {"error": "expired"}`` for a code past its
lifetime (the app's codes live a minute or two); ``400``/``404 {"error": "invalid"}`` for a
code the platform does not know or has already resolved. Anything else (a refused signature,
5xx, a time-out) means the platform cannot be asked now. Nothing of the answer is logged.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass

import requests

from queue_engine.domain.errors import Busy, InvalidInput

APP_ID_HEADER = "X-Hall-App-Id"
TIMESTAMP_HEADER = "X-Hall-Timestamp"
NONCE_HEADER = "X-Hall-Nonce"
SIGNATURE_HEADER = "X-Hall-Signature"
MAX_CODE_LENGTH = 512


def signature(key: str, timestamp: str, nonce: str, body: bytes) -> str:
    """The ``X-Hall-Signature`` of one request (the platform verifies with the same)."""
    message = timestamp.encode() + b"." + nonce.encode() + b"." + body
    return "sha256=" + hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def check_code(code: str) -> str:
    """A scanned code as the platform may receive it: printable ASCII, 1–512 characters."""
    code = code.strip()
    if not code or len(code) > MAX_CODE_LENGTH or not all(" " < ch <= "~" for ch in code):
        raise InvalidInput("not an electronic ID code", code="eid_invalid")
    return code


@dataclass(frozen=True)
class EidIdentity:
    id_number: str
    name: str | None


class EidPlatform:
    """The platform's client (``resolve``); ``from_config`` gives None when none is set up."""

    def __init__(self, url: str, app_id: str, key: str, *, timeout: float = 5.0) -> None:
        self.url = url
        self.app_id = app_id
        self.key = key
        self.timeout = timeout
        self.session = requests.Session()

    @classmethod
    def from_config(cls, config: Mapping[str, object]) -> EidPlatform | None:
        url = str(config.get("HALL_EID_URL") or "")
        if not url:
            return None
        return cls(
            url, str(config.get("HALL_EID_APP_ID") or ""), str(config.get("HALL_EID_KEY") or "")
        )

    def resolve(self, code: str) -> EidIdentity:
        """The identity behind a scanned code (422 ``eid_expired``/``eid_invalid`` for a bad
        code, 503 ``eid_unavailable`` when the platform cannot answer)."""
        code = check_code(code)
        timestamp, nonce = str(int(time.time())), secrets.token_hex(16)
        body = json.dumps(
            {"app_id": self.app_id, "code": code, "nonce": nonce, "timestamp": int(timestamp)},
            separators=(",", ":"),
        ).encode()
        headers = {
            "Content-Type": "application/json",
            APP_ID_HEADER: self.app_id,
            TIMESTAMP_HEADER: timestamp,
            NONCE_HEADER: nonce,
            SIGNATURE_HEADER: signature(self.key, timestamp, nonce, body),
        }
        try:
            response = self.session.post(self.url, data=body, headers=headers, timeout=self.timeout)
        except requests.RequestException:
            raise _unavailable() from None
        if response.status_code == 410:
            raise InvalidInput("the electronic ID code has expired", code="eid_expired")
        if response.status_code in (400, 404, 422):
            error = _error_of(response)
            if error == "expired":
                raise InvalidInput("the electronic ID code has expired", code="eid_expired")
            raise InvalidInput("the electronic ID code is not valid", code="eid_invalid")
        if response.status_code != 200:
            raise _unavailable()
        try:
            found = response.json()
            id_number = str(found["id_number"])
            name = found.get("name")
        except (ValueError, KeyError, TypeError, AttributeError):
            raise _unavailable() from None
        return EidIdentity(id_number, None if not name else str(name))


def _error_of(response: requests.Response) -> str:
    try:
        return str(response.json().get("error") or "")
    except (ValueError, AttributeError):
        return ""


def _unavailable() -> Busy:
    return Busy(
        "the identity platform cannot be reached; use the card or the keypad",
        code="eid_unavailable",
    )
