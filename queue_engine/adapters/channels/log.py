"""The log channel: the default when no provider is configured; a masked log line per delivery."""

from __future__ import annotations

import logging

from queue_engine.domain.notices import redact_codes
from queue_engine.domain.outbox import Delivery

log = logging.getLogger(__name__)


class LogChannel:
    """Logs each delivery without its address; keeps the last 200 for admins and tests."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.sent: list[Delivery] = []

    def send(self, delivery: Delivery) -> None:
        self.sent.append(delivery)
        del self.sent[:-200]
        log.info(
            "%s %s (hall %s, key %s): %s",
            self.name,
            delivery.kind,
            delivery.hall,
            delivery.key,
            redact_codes(delivery.text),
        )
