"""Messages to citizens: booking confirmations, reminders and "your turn is near".

The hall only hands a message to a ``Notifier``; how it travels (SMS gateway, app push) is the
notifier's business. The default writes a log line with the masked phone only. A plain phone
number exists only in the booking request's memory: it is passed with the confirmation (for a
gateway that must keep its own contact list) and never logged, stored or put in an event.
Appointment codes are keys too: the log shows them redacted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol


class NoticeKind(StrEnum):
    BOOKED = "booked"
    REMINDER = "reminder"
    TURN_NEAR = "turn_near"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Notice:
    kind: NoticeKind
    hall: str
    text: str
    phone_masked: str | None = None  # None for remote tickets taken without a phone
    phone_hash: str | None = None  # lets a gateway find its own contact record
    ticket_id: str | None = None
    phone: str | None = field(default=None, repr=False)  # only with BOOKED, never logged


class Notifier(Protocol):
    def send(self, notice: Notice) -> None: ...


APPOINTMENT_CODE = re.compile(r"\b[2-9A-Z]{10}\b")


def redact_codes(text: str) -> str:
    """Appointment codes are the holder's key: logs show only their last two characters."""
    return APPOINTMENT_CODE.sub(lambda m: "********" + m.group(0)[-2:], text)
