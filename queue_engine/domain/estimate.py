"""Estimated waiting time: a typical and a pessimistic figure for one place in the queue.

Think of a supermarket with several tills, some of which also serve another queue. Your wait is
the time until enough tills have finished with the people ahead of you. Each open window that
serves your service gives it a share of its time, in proportion to how much of its waiting work
is yours (primary skills count double); idle windows take the first people at once. The time for
the remaining ``n`` completions is modelled as a Gamma distribution whose mean is ``n`` handling
times divided by the effective number of windows, and whose spread follows the variability of
recent handling times. Median and 90th percentile come from the Wilson–Hilferty approximation,
exact enough for a display and cheap enough to compute for every ticket.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from queue_engine.domain.model import WaitEstimate

Z_MEDIAN = 0.0
Z_P90 = 1.2815515655446004
SECONDARY_WEIGHT = 0.5
MIN_SAMPLES = 5


@dataclass(frozen=True)
class HandlingStats:
    """Mean and coefficient of variation of a service's handling time, in minutes."""

    mean_minutes: float
    cv: float = 1.0


def handling_stats(samples: Sequence[float]) -> HandlingStats | None:
    """Mean and variability of recent handling times; None when there are too few of them."""
    usable = [s for s in samples if s > 0]
    if len(usable) < MIN_SAMPLES:
        return None
    mean = math.fsum(usable) / len(usable)
    variance = math.fsum((s - mean) ** 2 for s in usable) / len(usable)
    return HandlingStats(mean, min(max(math.sqrt(variance) / mean, 0.2), 3.0))


@dataclass(frozen=True)
class OpenWindow:
    """An open window as the estimate sees it: its skills and whether it is free right now."""

    skills: Mapping[str, bool]
    idle: bool


def service_share(service: str, window: OpenWindow, waiting: Mapping[str, int]) -> float:
    """The part of ``window``'s effort that goes to ``service``, from the waiting work mix."""
    if service not in window.skills:
        return 0.0

    def weight(code: str) -> float:
        load = waiting.get(code, 0) + (1 if code == service else 0)
        return load * (1.0 if window.skills[code] else SECONDARY_WEIGHT)

    total = sum(weight(code) for code in window.skills)
    return weight(service) / total if total > 0 else 0.0


def estimate_wait(
    service: str,
    ahead: int,
    windows: Iterable[OpenWindow],
    waiting: Mapping[str, int],
    stats: HandlingStats,
    fallback_servers: int = 1,
) -> WaitEstimate:
    """Median and p90 wait for a ticket with ``ahead`` people of its service in front of it.

    ``waiting`` counts waiting tickets per service (the ticket itself excluded);
    ``fallback_servers`` is used when no open window serves the service yet (the windows that
    have the skill are assumed to open).
    """
    shares = [(service_share(service, w, waiting), w.idle) for w in windows]
    servers = sum(share for share, _ in shares)
    idle = sum(share for share, is_idle in shares if is_idle)
    if servers <= 0:
        servers, idle = float(max(fallback_servers, 1)), 0.0
    needed = ahead + 1 - idle
    if needed <= 0:
        return WaitEstimate(0.0, 0.0)
    return gamma_quantiles(needed, servers, stats)


def gamma_quantiles(completions: float, servers: float, stats: HandlingStats) -> WaitEstimate:
    """Median and p90 of the time until ``completions`` departures from ``servers`` windows."""
    # Departures from c parallel windows are nearly Poisson when c is large, whatever the
    # handling-time distribution; with one window they keep its variability.
    cv2 = (stats.cv**2 + servers - 1) / servers if servers >= 1 else stats.cv**2
    cv2 = max(cv2, 0.04)
    shape = completions / cv2
    scale = stats.mean_minutes / servers * cv2
    return WaitEstimate(
        round(_wilson_hilferty(shape, scale, Z_MEDIAN), 1),
        round(_wilson_hilferty(shape, scale, Z_P90), 1),
    )


def _wilson_hilferty(shape: float, scale: float, z: float) -> float:
    term = 1.0 - 1.0 / (9.0 * shape) + z * math.sqrt(1.0 / (9.0 * shape))
    return max(shape * scale * max(term, 0.0) ** 3, 0.0)
