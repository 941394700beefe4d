"""How HTTP answers map onto ``DeliveryError``: shared by the channels that speak HTTP."""

from __future__ import annotations

import logging

from queue_engine.domain.outbox import DeliveryError


def from_status(provider: str, status: int, detail: str = "") -> DeliveryError:
    """429 and 5xx may pass (retryable); any other 4xx will not (the request itself is wrong)."""
    reason = f"{provider} answered HTTP {status}" + (f": {detail[:200]}" if detail else "")
    return DeliveryError(reason, retryable=status == 429 or status >= 500)


def kind_template(templates: dict[str, object], kind: str, provider: str) -> object:
    """The provider's template for a notice kind; a kind without one cannot be sent (ever)."""
    try:
        return templates[kind]
    except KeyError:
        raise DeliveryError(
            f"{provider}: no template for notice kind {kind!r}", retryable=False
        ) from None


class _NoQueryStrings(logging.Filter):
    """urllib3's debug line shows each request's path with its query: SDKs that put the phone
    in the query (Dysms) would log it. This filter keeps the path and drops the query."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                a.split("?", 1)[0] + "?…" if isinstance(a, str) and "?" in a else a
                for a in record.args
            )
        return True


_FILTER = _NoQueryStrings()


def hide_query_strings() -> None:
    """Install the filter on urllib3's connection pool logger (once)."""
    logger = logging.getLogger("urllib3.connectionpool")
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)
