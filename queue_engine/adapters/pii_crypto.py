"""Addresses at rest: AES-GCM with a key id per row, so keys can rotate.

Like a key cabinet with numbered keys: each sealed envelope says which key locked it, a new
key is hung for new envelopes, and old keys stay on their hooks until the last envelope they
locked is shredded (purged N days after the visit). ``HALL_PII_KEY`` is the current key
(``ID:BASE64`` or bare base64 of 32 bytes, id "k1"); ``HALL_PII_KEYS`` lists older ones
(``ID:BASE64,ID:BASE64``) that still decrypt. Production refuses to start without a key;
development generates one into the instance folder.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12
DEFAULT_KEY_ID = "k1"


class PiiKeyError(ValueError):
    """A missing, malformed or unknown PII key."""


def _parse_key(spec: str) -> tuple[str, bytes]:
    spec = spec.strip()
    key_id, _, encoded = spec.rpartition(":") if ":" in spec else ("", "", spec)
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise PiiKeyError("a PII key must be base64 of 32 bytes") from None
    if len(raw) != 32:
        raise PiiKeyError("a PII key must be base64 of 32 bytes (AES-256)")
    key_id = key_id.strip() or DEFAULT_KEY_ID
    if not key_id.isalnum() or len(key_id) > 32:
        raise PiiKeyError("a PII key id is letters and digits, at most 32")
    return key_id, raw


def new_key_spec(key_id: str = DEFAULT_KEY_ID) -> str:
    """A fresh key as ``HALL_PII_KEY`` takes it."""
    return f"{key_id}:{base64.b64encode(secrets.token_bytes(32)).decode()}"


class PiiCipher:
    """Seals and opens addresses; ``seal`` uses the current key, ``open`` any known one."""

    def __init__(self, current: str, older: str = "") -> None:
        self.key_id, key = _parse_key(current)
        self._keys: dict[str, AESGCM] = {self.key_id: AESGCM(key)}
        for spec in (s for s in older.split(",") if s.strip()):
            key_id, raw = _parse_key(spec)
            self._keys.setdefault(key_id, AESGCM(raw))

    def seal(self, plain: str, context: str = "") -> tuple[bytes, str]:
        """The ciphertext (nonce first) and the id of the key that sealed it."""
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._keys[self.key_id].encrypt(nonce, plain.encode(), context.encode())
        return nonce + sealed, self.key_id

    def open(self, ciphertext: bytes, key_id: str, context: str = "") -> str:
        key = self._keys.get(key_id)
        if key is None:
            raise PiiKeyError(f"no PII key with id {key_id!r} is configured")
        try:
            plain = key.decrypt(
                ciphertext[:NONCE_BYTES], ciphertext[NONCE_BYTES:], context.encode()
            )
        except InvalidTag:
            raise PiiKeyError(f"the ciphertext does not open with key {key_id!r}") from None
        return plain.decode()


def cipher_from_env(env: Mapping[str, str], instance: Path, *, production: bool) -> PiiCipher:
    """``HALL_PII_KEY`` (+ ``HALL_PII_KEYS``); in development a key kept in the instance folder."""
    current = (env.get("HALL_PII_KEY") or "").strip()
    if not current:
        if production:
            raise PiiKeyError(
                "HALL_ENV=production needs HALL_PII_KEY (base64 of 32 bytes, optionally ID:...) "
                "from the environment to encrypt phones at rest"
            )
        instance.mkdir(parents=True, exist_ok=True)
        path = instance / "pii_key"
        if not path.exists():
            path.write_text(new_key_spec("dev1"))
            path.chmod(0o600)
        current = path.read_text().strip()
    return PiiCipher(current, env.get("HALL_PII_KEYS") or "")
