"""The default notifier: each notice becomes a masked log line (no gateway configured)."""

from __future__ import annotations

import logging
from dataclasses import replace

from queue_engine.domain.notices import Notice, redact_codes

log = logging.getLogger(__name__)


class LogNotifier:
    """Writes each notice to the log, masked: the default until an SMS gateway is configured."""

    def __init__(self) -> None:
        self.sent: list[Notice] = []

    def send(self, notice: Notice) -> None:
        kept = replace(notice, phone=None)  # memory and log never hold a plain phone
        self.sent.append(kept)
        del self.sent[:-200]  # a short memory for tests and the admin's curiosity
        log.info(
            "notice %s to %s (hall %s): %s",
            notice.kind,
            notice.phone_masked or "ticket page",
            notice.hall,
            redact_codes(notice.text),
        )
