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

from dataclasses import dataclass, field
from typing import Any, Protocol


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
    """The provider did not accept the delivery; ``retryable`` says whether trying again may help."""

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
