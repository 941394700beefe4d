"""Queueing theory for a hall in steady state: Erlang C, Erlang A and square-root staffing.

Think of a bank with ``c`` tellers and citizens arriving at random (Poisson, rate ``lam`` per
minute) who each need an exponential time (mean ``1/mu``). Erlang C says how likely a citizen
must wait and for how long; Erlang A adds impatience: a waiting citizen gives up after an
exponential patience (rate ``theta``). The formulas are exact for those assumptions; they give
the staffing optimizer its starting point and the simulation its validation.

Erlang B is computed by its recursion ``B(k) = a·B(k−1) / (k + a·B(k−1))``, which never
overflows, so ``c`` in the thousands is fine.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


def erlang_b(c: int, load: float) -> float:
    """Blocking probability of ``c`` servers offered ``load`` Erlangs (M/M/c/c)."""
    if c < 0 or load < 0:
        raise ValueError("servers and load cannot be negative")
    b = 1.0
    for k in range(1, c + 1):
        b = load * b / (k + load * b)
    return b


def erlang_c(c: int, load: float) -> float:
    """Probability that an arrival waits in M/M/c with offered ``load`` = λ/μ (1 if unstable)."""
    if c <= load:
        return 1.0
    b = erlang_b(c, load)
    return c * b / (c - load * (1.0 - b))


@dataclass(frozen=True)
class ErlangC:
    """M/M/c: ``lam`` arrivals and ``mu`` services per minute per server, ``c`` servers."""

    lam: float
    mu: float
    c: int

    @property
    def load(self) -> float:
        return self.lam / self.mu

    @property
    def stable(self) -> bool:
        return self.c > self.load

    @property
    def utilization(self) -> float:
        return self.load / self.c if self.c else math.inf

    @property
    def prob_wait(self) -> float:
        return erlang_c(self.c, self.load)

    @property
    def mean_wait(self) -> float:
        """Mean waiting time (minutes) of all arrivals."""
        if not self.stable:
            return math.inf
        return self.prob_wait / (self.c * self.mu - self.lam)

    def share_within(self, minutes: float) -> float:
        """P(wait ≤ ``minutes``)."""
        if not self.stable:
            return 0.0
        return 1.0 - self.prob_wait * math.exp(-(self.c * self.mu - self.lam) * minutes)


@dataclass(frozen=True)
class ErlangA:
    """M/M/c+M (Palm): like ``ErlangC`` plus patience with rate ``theta`` per minute."""

    lam: float
    mu: float
    c: int
    theta: float

    def _distribution(self) -> tuple[list[float], list[float]]:
        """Unnormalised probabilities of n ≤ c and of the queue lengths beyond c, in log space."""
        a = self.lam / self.mu
        log_low = [
            k * math.log(a) - math.lgamma(k + 1) if a > 0 else 0.0 for k in range(self.c + 1)
        ]
        if a == 0:
            log_low = [0.0] + [-math.inf] * self.c
        log_high = []
        log_p = log_low[-1]
        k = 1
        while True:
            log_p += math.log(self.lam / (self.c * self.mu + k * self.theta))
            log_high.append(log_p)
            # terms shrink once cμ + kθ > λ; stop when they are negligible
            if self.c * self.mu + k * self.theta > self.lam and log_p < log_low[-1] - 40:
                break
            k += 1
        top = max(*log_low, *log_high)
        return [math.exp(x - top) for x in log_low], [math.exp(x - top) for x in log_high]

    def _metrics(self) -> tuple[float, float, float]:
        low, high = self._distribution()
        total = math.fsum(low) + math.fsum(high)
        prob_wait = (low[-1] + math.fsum(high)) / total
        queue = math.fsum((n + 1) * p for n, p in enumerate(high)) / total
        return prob_wait, queue, total

    @property
    def prob_wait(self) -> float:
        """Probability that an arrival finds all servers busy."""
        return self._metrics()[0]

    @property
    def mean_queue(self) -> float:
        return self._metrics()[1]

    @property
    def mean_wait(self) -> float:
        """Mean time in queue (minutes) of all arrivals, served or not (Little's law)."""
        return self.mean_queue / self.lam if self.lam else 0.0

    @property
    def abandon_share(self) -> float:
        """Share of arrivals that give up: θ·Lq / λ."""
        return self.theta * self.mean_queue / self.lam if self.lam else 0.0


def square_root_staffing(load: float, beta: float = 1.0) -> int:
    """Halfin–Whitt's rule of thumb: ``c = ⌈a + β·√a⌉`` servers for ``a`` Erlangs."""
    return max(1, math.ceil(load + beta * math.sqrt(load) - 1e-12))


def meets(
    model: ErlangC,
    mean_wait: float | None,
    within: float,
    share: float | None,
) -> bool:
    """Does ``model`` meet a mean-wait target and/or a share-within-``within`` target?"""
    if not model.stable:
        return False
    if mean_wait is not None and model.mean_wait > mean_wait:
        return False
    return share is None or model.share_within(within) >= share


def min_servers(
    lam: float,
    mu: float,
    mean_wait: float | None = None,
    within: float = 0.0,
    share: float | None = None,
) -> int:
    """The exact fewest servers meeting the targets in M/M/c, searched from square-root staffing.

    The waiting measures improve with every added server, so the answer is the first ``c`` that
    meets the targets; the search starts a little below the square-root rule and moves from
    there, which takes a handful of Erlang C evaluations even for thousands of servers.
    """
    if lam <= 0:
        return 0
    load = lam / mu
    c = max(1, math.floor(load) + 1, square_root_staffing(load, beta=-0.5))
    if meets(ErlangC(lam, mu, c), mean_wait, within, share):
        while c > 1 and c - 1 > load and meets(ErlangC(lam, mu, c - 1), mean_wait, within, share):
            c -= 1
        return c
    while not meets(ErlangC(lam, mu, c), mean_wait, within, share):
        c += 1
    return c
