"""The outbox and its delivery worker: notices are written with the change, sent after it.

Like the hall's out-tray: the clerk who books an appointment drops the confirmation into the
tray in the same movement as the booking is filed (one transaction: no booking without its
letter, no letter for a booking that was torn up). A messenger (the worker) empties the tray:
he signs each letter out for a while (a lease), hands it to the post (a channel), and signs
it back as sent; if the post is closed he tries again later, further apart each time, and after
an hour he puts it in the dead-letter box with the reason, for an admin to look at. If the
messenger collapses, his signature runs out and another takes the letter, with the same key,
so a post office that honours the key delivers it once.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from queue_engine.adapters import outbox_store as store
from queue_engine.adapters.pii_crypto import PiiCipher, PiiKeyError
from queue_engine.adapters.unit_of_work import Database, UnitOfWork
from queue_engine.domain.clock import Clock
from queue_engine.domain.errors import Conflict, InvalidInput, NotFound
from queue_engine.domain.outbox import (
    PERSONAL_CHANNELS,
    Channel,
    Delivery,
    DeliveryError,
    DeliveryRules,
    OutboxStatus,
    quiet_until,
    retry_delay,
)
from queue_engine.services.desk import Desk

log = logging.getLogger(__name__)

DEFAULT_ZONE = ZoneInfo("Asia/Shanghai")
LATENCY_SAMPLES = 5000


@dataclass
class OutboxMetrics:
    """What the workers of this process did: counts, and cause → hand-over latencies."""

    sent: int = 0
    failed: int = 0
    dead: int = 0
    postponed: int = 0
    latencies: list[float] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def note(self, outcome: str, latency: float | None = None) -> None:
        with self._lock:
            setattr(self, outcome, getattr(self, outcome) + 1)
            if latency is not None:
                self.latencies.append(latency)
                del self.latencies[:-LATENCY_SAMPLES]

    def quantile(self, q: float) -> float | None:
        with self._lock:
            values = sorted(self.latencies)
        if not values:
            return None
        return values[min(len(values) - 1, int(q * len(values)))]


METRICS = OutboxMetrics()  # one per process, read by the /metrics endpoint


class Outbox:
    """Writes deliveries into the caller's unit of work: the same transaction as the change."""

    def __init__(self, cipher: PiiCipher, clock: Clock, rules: DeliveryRules | None = None) -> None:
        self.cipher = cipher
        self.clock = clock
        self.rules = rules or DeliveryRules()

    def enqueue(
        self,
        uow: UnitOfWork,
        *,
        channel: str,
        kind: str,
        hall: str,
        key: str,
        to: str,
        text: str = "",
        params: Mapping[str, Any] | None = None,
        urgent: bool = False,
        due_at: datetime | None = None,
        phone_hash: str | None = None,
        sealed: tuple[bytes, str] | None = None,
        purge_after: datetime | None = None,
    ) -> int:
        """Queue one delivery (once per ``key``: a second call returns the first row's id).

        ``to`` is the address: for sms/wechat/webpush it is sealed with the PII key before it
        reaches the table; a webhook URL is kept as it is. ``sealed`` passes an address already
        encrypted (from a contact row) so that it is never decrypted outside the worker.
        """
        if not key or len(key) > 160:
            raise InvalidInput("an outbox key is 1 to 160 characters")
        now = self.clock.now()
        values: dict[str, Any] = {
            "hall": hall,
            "channel": channel,
            "kind": kind,
            "key": key,
            "text": text,
            "params": dict(params or {}),
            "urgent": urgent,
            "status": OutboxStatus.PENDING.value,
            "attempts": 0,
            "due_at": due_at or now,
            "created_at": now,
            "phone_hash": phone_hash,
            "purge_after": purge_after or now + timedelta(days=self.rules.purge_days),
        }
        if sealed is not None:
            values["to_ciphertext"], values["key_id"] = sealed
        elif channel in PERSONAL_CHANNELS:
            values["to_ciphertext"], values["key_id"] = self.cipher.seal(to, channel)
        else:
            values["to_plain"] = to
        return store.insert(uow.conn, values)

    def seal(self, channel: str, to: str) -> tuple[bytes, str]:
        """An address encrypted as the outbox keeps it (for contact rows)."""
        return self.cipher.seal(to, channel)


class DeliveryWorker:
    """Claims due rows and hands each to its channel; run ``once`` or ``run`` until stopped."""

    def __init__(
        self,
        db: Database,
        outbox: Outbox,
        channels: Callable[[str], Channel] | Mapping[str, Channel] | Any,
        *,
        name: str = "worker",
        batch: int = 20,
        rand: random.Random | None = None,
        metrics: OutboxMetrics | None = None,
    ) -> None:
        self.db = db
        self.outbox = outbox
        self.channels = channels
        self.name = name
        self.batch = batch
        self.rand = rand or random.Random()
        self.metrics = metrics or METRICS
        self._zones: dict[str, ZoneInfo] = {}

    @property
    def clock(self) -> Clock:
        return self.outbox.clock

    @property
    def rules(self) -> DeliveryRules:
        return self.outbox.rules

    def _channel(self, name: str) -> Channel:
        if callable(self.channels) and not hasattr(self.channels, "__getitem__"):
            return self.channels(name)
        return self.channels[name]

    def claim(self) -> list[store.OutboxEntry]:
        now = self.clock.now()
        with UnitOfWork(self.db) as uow:
            rows = store.claim(uow.conn, self.name, now, now + self.rules.lease, self.batch)
            uow.commit()
        return rows

    def once(self) -> int:
        """One round: claim a batch and settle each row; the number of rows handed over."""
        sent = 0
        for row in self.claim():
            sent += self.deliver(row)
        return sent

    def drain(self, rounds: int = 100) -> int:
        """Rounds until nothing is due (tests and ``hall worker --once``)."""
        total = 0
        for _ in range(rounds):
            rows = self.claim()
            if not rows:
                break
            total += sum(self.deliver(row) for row in rows)
        return total

    def deliver(self, row: store.OutboxEntry) -> int:
        held = self._held(row)
        if held is not None:
            until, reason = held
            self._settle(store.postpone, row, until, reason)
            self.metrics.note("postponed")
            return 0
        try:
            delivery = self._delivery(row)
            self._channel(row.channel).send(delivery)
        except DeliveryError as exc:
            self._failed(row, exc.reason, exc.retryable)
            return 0
        except PiiKeyError as exc:
            self._failed(row, str(exc), False)
            return 0
        except Exception as exc:  # a channel's bug is a failed attempt, never a dead worker
            log.exception("channel %s raised on outbox row %s", row.channel, row.id)
            self._failed(row, f"{exc.__class__.__name__}: {exc}", True)
            return 0
        now = self.clock.now()
        if self._settle(store.mark_sent, row, now):
            self.metrics.note("sent", (now - row.created_at).total_seconds())
        return 1

    def _delivery(self, row: store.OutboxEntry) -> Delivery:
        to = row.to_plain or ""
        if row.to_ciphertext is not None and row.key_id is not None:
            to = self.outbox.cipher.open(row.to_ciphertext, row.key_id, row.channel)
        elif row.channel in PERSONAL_CHANNELS:
            raise DeliveryError("the address was purged", retryable=False)
        return Delivery(
            key=row.key,
            channel=row.channel,
            kind=row.kind,
            hall=row.hall,
            text=row.text,
            params=row.params,
            to=to,
            attempt=row.attempts,
        )

    def _failed(self, row: store.OutboxEntry, reason: str, retryable: bool) -> None:
        now = self.clock.now()
        started = row.first_tried_at or now
        too_old = now - started >= self.rules.max_age
        if not retryable or too_old:
            why = reason if not retryable else f"gave up after {row.attempts} attempts: {reason}"
            self._settle(store.mark_dead, row, why)
            self.metrics.note("dead")
            log.warning("outbox row %s (%s %s) is dead: %s", row.id, row.channel, row.kind, why)
            return
        delay = retry_delay(row.attempts, self.rules, self.rand)
        self._settle(store.mark_failed, row, now + timedelta(seconds=delay), reason)
        self.metrics.note("failed")

    def _settle(self, action: Callable[..., bool], row: store.OutboxEntry, *args: Any) -> bool:
        assert row.claim_token is not None
        with UnitOfWork(self.db) as uow:
            done = action(uow.conn, row.id, row.claim_token, *args)
            uow.commit()
        if not done:  # our lease ran out and another worker took the row
            log.info("outbox row %s was taken back from %s", row.id, self.name)
        return done

    def _held(self, row: store.OutboxEntry) -> tuple[datetime, str] | None:
        """Quiet hours and the per-phone limit hold non-urgent notices (never webhooks)."""
        if row.urgent or row.channel not in PERSONAL_CHANNELS:
            return None
        now = self.clock.now()
        until = quiet_until(now, self._zone(row.hall), self.rules)
        if until is not None:
            return until, "quiet hours"
        if row.phone_hash and self.rules.per_phone_hour > 0:
            with UnitOfWork(self.db, write=False) as uow:
                sent = store.sent_to_phone_since(uow.conn, row.phone_hash, now - timedelta(hours=1))
            if len(sent) >= self.rules.per_phone_hour:
                return sent[0] + timedelta(hours=1), "rate limit per phone"
        return None

    def _zone(self, hall: str) -> ZoneInfo:
        zone = self._zones.get(hall)
        if zone is None:
            try:
                with UnitOfWork(self.db, write=False) as uow:
                    zone = self.db.hall_config(uow.conn, hall)[1].zone
            except Exception:  # an unknown hall (a webhook's): the default zone
                zone = DEFAULT_ZONE
            self._zones[hall] = zone
        return zone

    def run(self, stop: threading.Event, idle: float = 0.5) -> None:
        """Deliver until ``stop`` is set, resting ``idle`` seconds when nothing is due."""
        log.info("delivery worker %s started", self.name)
        while not stop.is_set():
            try:
                busy = bool(self.claim_and_deliver())
            except Exception:  # a database hiccup: rest and try again
                log.exception("delivery worker %s round failed", self.name)
                busy = False
            if not busy:
                stop.wait(idle)

    def claim_and_deliver(self) -> int:
        rows = self.claim()
        for row in rows:
            self.deliver(row)
        return len(rows)

    def start_thread(self, idle: float = 0.5) -> tuple[threading.Thread, threading.Event]:
        """The embedded worker of the one-process server: a daemon thread."""
        stop = threading.Event()
        thread = threading.Thread(
            target=self.run, args=(stop, idle), name=f"outbox-{self.name}", daemon=True
        )
        thread.start()
        return thread, stop


def purge_contacts(db: Database, clock: Clock) -> int:
    """Drop ciphertexts whose time is up (a periodic job); the phone hashes stay."""
    with UnitOfWork(db) as uow:
        gone = store.purge(uow.conn, clock.now())
        uow.commit()
    return gone


def wait_for(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    """Poll ``predicate`` until true or ``timeout`` (for the CLI and the benchmark)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


class DeliveryLog(Desk):
    """The delivery log for admins: rows by hall, channel and status; replay a row."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def rows(
        self,
        hall: str | None = None,
        *,
        channel: str | None = None,
        status: str | None = None,
        limit: int = 100,
    ) -> list[store.OutboxEntry]:
        if status is not None and status not in {s.value for s in OutboxStatus}:
            raise InvalidInput(f"unknown status {status!r}")
        with UnitOfWork(self.db, write=False) as uow:
            found = store.deliveries(
                uow.conn, hall=hall, channel=channel, status=status, limit=max(1, min(limit, 500))
            )
        return found

    def counts(self) -> dict[str, int]:
        """Rows per status, all halls (the metrics gauge)."""
        with UnitOfWork(self.db, write=False) as uow:
            return store.counts(uow.conn)

    def replay(self, hall: str, row_id: int) -> store.OutboxEntry:
        """Queue a row again (a dead letter's retry button), audited."""
        now = self.clock.now()
        with self.unit() as uow:
            row = store.entry(uow.conn, row_id)
            if row is None or row.hall != hall:
                raise NotFound("no such delivery in this hall")
            if not store.requeue(uow.conn, row_id, now):
                raise Conflict("the delivery is being sent right now; try again shortly")
            uow.record_audit(now, {"outbox": row_id, "kind": row.kind, "was": row.status})
            uow.commit()
        with UnitOfWork(self.db, write=False) as uow:
            fresh = store.entry(uow.conn, row_id)
        assert fresh is not None
        return fresh
