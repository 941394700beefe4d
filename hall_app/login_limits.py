"""Sign-in limits that fit a hall: failed attempts are counted, successful ones never are.

At 08:30 the hall's forty clerks sign in within a minute, all from its one NAT address. A limit
on attempts per address would turn most of them away, while somebody guessing one clerk's
password would hardly notice it. So only failures count, twice over:

- per account: after ``HALL_LOGIN_LOCK_AFTER`` failures (within 15 minutes) the account is
  locked for ``HALL_LOGIN_LOCK_SECONDS``, twice as long for each further lock within a day (at
  most an hour). While it is locked no password is even checked; a success forgets the failures.
- per address: past ``HALL_RATE_LIMIT_LOGIN`` failures (one password sprayed over many
  accounts, say) the address waits until the window has passed, whatever it sends.

The counters live in the rate-limit store (``HALL_RATELIMIT_STORAGE``, by default the message
queue): with Redis every server process sees the same counts. Without Redis they are kept in
this process's memory, which is what a single ``hall serve`` needs; they are short-lived, so
keeping them out of the database spares it a write on every failed sign-in, and a restart only
forgets a lock early. While Redis does not answer, the process counts in memory meanwhile (as
the rate limiter itself does).
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from .config import DEFAULT_LIMITS

log = logging.getLogger(__name__)
T = TypeVar("T")

FAILURE_WINDOW = 15 * 60  # failures of an account older than this are forgotten
LOCK_MEMORY = 24 * 3600  # a lock within this long of the last one lasts twice as long
LONGEST_LOCK = 3600
RETRY_STORE = 30.0  # seconds before a store that did not answer is asked again


def lock_seconds(lock: int, first: int) -> int:
    """How long the ``lock``-th lock of an account within a day lasts: doubling, at most 1 h."""
    return min(first << min(lock - 1, 20), max(first, LONGEST_LOCK))


@dataclass(frozen=True)
class Refusal:
    """Why a sign-in is not even tried now: ``account_locked`` or ``too_many_failures``."""

    code: str
    retry_after: int  # seconds


class _Store:
    """The configured store, with this process's memory standing in while it does not answer."""

    def __init__(self, primary: Storage) -> None:
        self.primary = (primary, MovingWindowRateLimiter(primary))
        memory = MemoryStorage()
        self.memory = (memory, MovingWindowRateLimiter(memory))
        self._down_until = 0.0

    def run(self, op: Callable[[Storage, MovingWindowRateLimiter], T]) -> T:
        if time.monotonic() >= self._down_until:
            try:
                return op(*self.primary)
            except Exception as exc:  # any store failure: count here rather than fail sign-in
                log.warning("sign-in counters unavailable (%s); counting in memory", exc)
                self._down_until = time.monotonic() + RETRY_STORE
        return op(*self.memory)


class SignInLimits:
    """The failure counters of accounts and addresses, and the locks they lead to."""

    def __init__(
        self,
        storage: Storage,
        *,
        address_limits: list[RateLimitItem],
        lock_after: int,
        first_lock: int,
        prefix: str = "hall-login",
        enabled: bool = True,
    ) -> None:
        self.store = _Store(storage)
        self.address_limits = address_limits
        self.lock_after = lock_after
        self.first_lock = first_lock
        self.prefix = prefix
        self.enabled = enabled

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SignInLimits:
        uri = str(config.get("RATELIMIT_STORAGE_URI") or "memory://")
        options = dict(config.get("RATELIMIT_STORAGE_OPTIONS") or {}) if "redis" in uri else {}
        limits = dict(config.get("HALL_RATE_LIMITS") or {})
        storage = storage_from_string(uri, **options)
        assert isinstance(storage, Storage), uri  # not an async+ store
        return cls(
            storage,
            address_limits=parse_many(str(limits.get("login", DEFAULT_LIMITS["login"]))),
            lock_after=int(config.get("HALL_LOGIN_LOCK_AFTER", 10)),
            first_lock=int(config.get("HALL_LOGIN_LOCK_SECONDS", 60)),
            prefix=str(config.get("HALL_LOGIN_KEY_PREFIX") or "hall-login"),
            enabled=bool(config.get("RATELIMIT_ENABLED", True)),
        )

    def _key(self, kind: str, username: str) -> str:
        digest = hashlib.sha256(username.encode()).hexdigest()[:32]
        return f"{self.prefix}:{kind}:{digest}"

    def check(self, username: str, address: str) -> Refusal | None:
        """Why an attempt must wait, or None.

        Knocking at a locked account is not counted against the address: no password is
        tried, and one clerk retrying a locked account must not shut out the whole hall.
        """
        if not self.enabled:
            return None
        lock = self._key("lock", username)

        def locked(storage: Storage, _: MovingWindowRateLimiter) -> int:
            return _seconds_left(storage.get_expiry(lock)) if storage.get(lock) else 0

        wait = self.store.run(locked)
        if wait:
            return Refusal("account_locked", wait)
        return self._address_refusal(address)

    def failed(self, username: str, address: str) -> Refusal | None:
        """Count a failed sign-in; the lock it started, if it was one too many."""
        if not self.enabled:
            return None
        self._count_address(address)
        failures, locks, lock = (self._key(k, username) for k in ("failures", "locks", "lock"))

        def count(storage: Storage, _: MovingWindowRateLimiter) -> int:
            if storage.incr(failures, FAILURE_WINDOW) < self.lock_after:
                return 0
            storage.clear(failures)
            seconds = lock_seconds(storage.incr(locks, LOCK_MEMORY), self.first_lock)
            storage.clear(lock)
            storage.incr(lock, seconds)
            return seconds

        seconds = self.store.run(count)
        return Refusal("account_locked", seconds) if seconds else None

    def succeeded(self, username: str) -> None:
        """The right password: the account's failures are forgotten (not its earlier locks)."""
        if self.enabled:
            failures = self._key("failures", username)
            self.store.run(lambda storage, _: storage.clear(failures))

    def _count_address(self, address: str) -> None:
        ids = (self.prefix, "address", address)
        for item in self.address_limits:

            def hit(_: Storage, window: MovingWindowRateLimiter, item: Any = item) -> bool:
                return window.hit(item, *ids)

            self.store.run(hit)

    def _address_refusal(self, address: str) -> Refusal | None:
        ids = (self.prefix, "address", address)
        for item in self.address_limits:

            def wait(_: Storage, window: MovingWindowRateLimiter, item: Any = item) -> int:
                if window.test(item, *ids):
                    return 0
                return _seconds_left(window.get_window_stats(item, *ids).reset_time)

            seconds = self.store.run(wait)
            if seconds:
                return Refusal("too_many_failures", seconds)
        return None


def _seconds_left(until: float) -> int:
    return max(1, math.ceil(until - time.time()))
