"""Who a citizen is, checked and kept as little as possible: ID numbers, phones and names.

Like a hotel desk that glances at your passport and writes down only a reference, the hall
checks an 18-digit resident ID number (GB 11643: 17 digits and a check character) and a
mainland mobile number, then keeps only a keyed hash (to recognise the same person again)
and a masked form (to greet them and let them recognise their own booking).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from enum import StrEnum

from queue_engine.domain.errors import InvalidInput

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"
PHONE_PATTERN = re.compile(r"1[3-9]\d{9}")
_PHONE_NOISE = re.compile(r"[\s\-()]")
MAX_NAME_LENGTH = 40


def id_check_char(first17: str) -> str:
    """The GB 11643 check character of the first 17 digits (ISO 7064 MOD 11-2)."""
    if len(first17) != 17 or not first17.isdigit() or not first17.isascii():
        raise ValueError("need exactly 17 digits")
    total = sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True))
    return ID_CHECK_CHARS[total % 11]


def is_valid_id_number(value: str) -> bool:
    text = value.strip().upper()
    if len(text) != 18 or not text[:17].isascii() or not text[:17].isdigit():
        return False
    return id_check_char(text[:17]) == text[17]


def check_id_number(value: str) -> str:
    """The ID number normalised (upper-case X), or InvalidInput that never echoes it."""
    text = value.strip().upper()
    if not is_valid_id_number(text):
        raise InvalidInput(
            "the resident ID number is not a valid 18-digit number", code="id_number"
        )
    return text


def normalize_phone(value: str) -> str:
    text = _PHONE_NOISE.sub("", value.strip())
    for prefix in ("+86", "0086"):
        if text.startswith(prefix):
            text = text[len(prefix) :]
    return text


def is_valid_phone(value: str) -> bool:
    return PHONE_PATTERN.fullmatch(normalize_phone(value)) is not None


def check_phone(value: str) -> str:
    """A mainland mobile number (11 digits, 13x–19x), or InvalidInput that never echoes it."""
    phone = normalize_phone(value)
    if PHONE_PATTERN.fullmatch(phone) is None:
        raise InvalidInput("the mobile number is not a valid mainland number", code="phone")
    return phone


def check_name(value: str) -> str:
    name = " ".join(value.split())
    if not name or len(name) > MAX_NAME_LENGTH or not name.isprintable():
        raise InvalidInput(f"the name must be 1 to {MAX_NAME_LENGTH} characters", code="name")
    return name


def mask_phone(phone: str) -> str:
    """``13812345678`` → ``138****5678``."""
    return f"{phone[:3]}****{phone[-4:]}"


def mask_id_number(id_number: str) -> str:
    """``410102199001011234`` → ``4101**********1234``."""
    return f"{id_number[:4]}{'*' * 10}{id_number[-4:]}"


def mask_name(name: str) -> str:
    """``张三`` → ``张*``, ``欧阳娜娜`` → ``欧***``: enough to greet, not to identify."""
    return name[0] + "*" * max(1, min(len(name) - 1, 3))


def keyed_hash(value: str, pepper: bytes, purpose: str) -> str:
    """HMAC-SHA256 of a value under the deployment's pepper (hex): same person, same hash."""
    message = f"{purpose}:{value}".encode()
    return hmac.new(pepper, message, hashlib.sha256).hexdigest()


def subkey(pepper: bytes, purpose: str) -> bytes:
    """A key of its own for one purpose, derived from the deployment's pepper (HMAC-SHA256).

    The rating keys of tickets are MACs under ``subkey(pepper, "rating-keys")``: knowing
    one never tells the ID hashes, and the other way round.
    """
    return hmac.new(pepper, f"subkey:{purpose}".encode(), hashlib.sha256).digest()


class ProofMethod(StrEnum):
    """How a person showed that they hold an ID number."""

    KIOSK = "kiosk"  # the ID number entered (its card read) at a kiosk of the hall
    # The SMS notification issue adds SMS_CODE: a one-time code sent to the phone on file of
    # the ID's verified bookings, checked by its own door, which then builds an IdProof too.


@dataclass(frozen=True)
class IdProof:
    """Evidence, checked by the door that builds it, that the person at hand holds an ID.

    The appointment desk lets an ``IdProof`` see, confirm and cancel the bookings made under
    that ID number, whoever made them. Only a door that did its own check builds one: today
    the kiosk (a kiosk token and the ID number typed in or read from the card); a remote door
    with a one-time code can later do the same without changing the desk.
    """

    id_number: str
    method: ProofMethod

    @classmethod
    def at_kiosk(cls, id_number: str) -> IdProof:
        """The ID number shown at a kiosk (checked and normalised here)."""
        return cls(check_id_number(id_number), ProofMethod.KIOSK)
