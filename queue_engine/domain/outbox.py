"""The outbox's shared words: what a channel is handed, and how it says a delivery failed.

A notice (SMS, WeChat subscribe message, Web Push) or a webhook call is first a row in the
outbox, written in the same transaction as the change that caused it. A delivery worker claims due
rows and hands each to its ``Channel``. A channel sends exactly one ``Delivery`` per call and either
returns (the provider accepted it) or raises ``DeliveryError`` saying whether a retry can help.
The delivery's ``key`` is the idempotency key: channels pass it to providers that honour one
(``X-Idempotency-Key``, the Standard Webhooks ``webhook-id``, Aliyun's ``OutId``...), so a worker
killed between send and commit makes a provider see one key twice, never two notices.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import Any, Protocol
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Delivery:
    """One message as a channel sees it, decrypted by the worker just before the send."""

    key: str  # idempotency key, stable across retries of the same row
    channel: str  # "sms", "wechat", "webpush", "webhook", "log"
    kind: str  # notice kind ("booked", "reminder", "turn_near", "called", ...) or event type
    hall: str
    text: str  # rendered text in the citizen's language ("" for webhooks)
    params: dict[str, Any] = field(default_factory=dict)  # template parameters / webhook payload
    # the address, decrypted only inside the worker: a phone, a WeChat openid, a Web Push
    # subscription as JSON, or a webhook URL; never logged (repr hides it)
    to: str = field(default="", repr=False)
    attempt: int = 1


class DeliveryError(Exception):
    """The provider refused the delivery; ``retryable`` says whether trying again may help."""

    def __init__(self, reason: str, *, retryable: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable


class Channel(Protocol):
    """An adapter that hands one delivery to one provider (SMS gateway, WeChat, push service)."""

    name: str

    def send(self, delivery: Delivery) -> None:
        """Returns when the provider accepted ``delivery``; raises ``DeliveryError`` otherwise."""
        ...


# -- the delivery rules (issue 17): pure functions the worker applies ------------------------

PERSONAL_CHANNELS = frozenset({"sms", "wechat", "webpush"})  # their ``to`` is encrypted at rest


class OutboxStatus(StrEnum):
    PENDING = "pending"  # waiting for its due time
    SENDING = "sending"  # claimed by a worker holding a lease
    SENT = "sent"  # handed over: the provider accepted it
    FAILED = "failed"  # the last attempt failed; tried again at due_at
    DEAD = "dead"  # given up: last_error says why; an admin may retry it


@dataclass(frozen=True)
class DeliveryRules:
    """How hard the worker tries, and when it keeps quiet (``HALL_OUTBOX_*``, ``HALL_NOTIFY_*``)."""

    base_delay: float = 5.0  # seconds before the first retry, doubled each time
    max_delay: float = 600.0  # the longest wait between two attempts
    max_age: timedelta = timedelta(hours=1)  # from the first attempt; then dead
    lease: timedelta = timedelta(seconds=60)  # a claim not settled by then is taken back
    per_phone_hour: int = 10  # notices per phone per hour (urgent ones are never held)
    quiet_start: time | None = time(21, 0)  # non-urgent notices wait from here...
    quiet_end: time = time(8, 0)  # ...until here, in the hall's zone
    purge_days: int = 30  # ciphertexts are purged this many days after the visit
    remind_day_hours: int = 24  # the day-before reminder goes this long before (0: none)


def retry_delay(attempt: int, rules: DeliveryRules, rand: random.Random | None = None) -> float:
    """Exponential backoff with full jitter: somewhere in [d/2, d], d = base * 2^(attempt-1)."""
    ceiling = min(rules.max_delay, rules.base_delay * 2.0 ** max(0, attempt - 1))
    jitter: float = (rand or random).random()
    return ceiling / 2 + jitter * ceiling / 2


def quiet_until(now: datetime, zone: ZoneInfo, rules: DeliveryRules) -> datetime | None:
    """When the quiet hours end, if ``now`` is inside them (else None)."""
    if rules.quiet_start is None or rules.quiet_start == rules.quiet_end:
        return None
    local = now.astimezone(zone)
    at = local.time()
    start, end = rules.quiet_start, rules.quiet_end
    inside = (start <= at or at < end) if start > end else (start <= at < end)
    if not inside:
        return None
    day = local.date() if at < end else local.date() + timedelta(days=1)
    return datetime.combine(day, end, tzinfo=zone)


def sms_segments(text: str) -> int:
    """SMS segments a text takes: 70 characters in one (UCS-2), 67 each when it is split.

    Providers in China count every character alike (a Latin letter as a Chinese one) once the
    text holds any non-GSM character, and the sign name 【...】 counts too; we count the text.
    """
    if all(ord(c) < 128 for c in text):
        return 1 if len(text) <= 160 else -(-len(text) // 153)
    return 1 if len(text) <= 70 else -(-len(text) // 67)
