"""The outbox: written with the change, sent once, retried, dead after an hour, held at night."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from queue_engine.adapters import outbox_store as store
from queue_engine.adapters.pii_crypto import PiiCipher, PiiKeyError, new_key_spec
from queue_engine.adapters.unit_of_work import Database, UnitOfWork
from queue_engine.domain.clock import FrozenClock
from queue_engine.domain.outbox import DeliveryRules, quiet_until, retry_delay, sms_segments
from queue_engine.services.outbox import DeliveryWorker, Outbox, OutboxMetrics
from tests.helpers.outbox import Recorders, make_cipher

PHONE = "13812345678"


def _enqueue(db: Database, outbox: Outbox, key: str = "k-1", **kw: object) -> int:
    with UnitOfWork(db) as uow:
        args = {"channel": "sms", "kind": "booked", "hall": "ZMD", "key": key, "to": PHONE}
        row_id = outbox.enqueue(uow, **(args | kw))  # type: ignore[arg-type]
        uow.commit()
    return row_id


@pytest.fixture
def outbox(clock: FrozenClock) -> Outbox:
    return Outbox(make_cipher(), clock, DeliveryRules(quiet_start=None))


@pytest.fixture
def channels() -> Recorders:
    return Recorders()


@pytest.fixture
def worker(db: Database, outbox: Outbox, channels: Recorders) -> DeliveryWorker:
    return DeliveryWorker(db, outbox, channels, name="w1", metrics=OutboxMetrics())


def test_a_rolled_back_change_leaves_no_row(db: Database, outbox: Outbox) -> None:
    with UnitOfWork(db) as uow:
        outbox.enqueue(uow, channel="sms", kind="booked", hall="ZMD", key="gone", to=PHONE)
        uow.rollback()
    with UnitOfWork(db) as uow:
        assert store.deliveries(uow.conn) == []


def test_enqueue_is_idempotent_on_the_key(db: Database, outbox: Outbox) -> None:
    first = _enqueue(db, outbox, "same")
    assert _enqueue(db, outbox, "same", text="other") == first
    with UnitOfWork(db) as uow:
        assert len(store.deliveries(uow.conn)) == 1


def test_the_phone_is_only_ciphertext_in_the_table(
    db: Database, outbox: Outbox, worker: DeliveryWorker, channels: Recorders
) -> None:
    _enqueue(db, outbox, text="预约成功")
    with db.engine.connect() as conn:
        dump = " ".join(str(r) for r in conn.execute(text("SELECT * FROM outbox")))
    assert PHONE not in dump
    assert worker.once() == 1
    assert channels["sms"].sent[0].to == PHONE  # decrypted in the worker only
    assert PHONE not in repr(channels["sms"].sent[0])


def test_a_retryable_failure_then_success_is_sent_exactly_once_more(
    db: Database, outbox: Outbox, worker: DeliveryWorker, channels: Recorders, clock: FrozenClock
) -> None:
    _enqueue(db, outbox, "retry")
    channels["sms"].failures = 1
    assert worker.once() == 0
    with UnitOfWork(db) as uow:
        [row] = store.deliveries(uow.conn)
    assert row.status == "failed" and row.last_error == "provider answered 500"
    assert worker.once() == 0  # not yet due: the backoff holds it
    clock.advance(seconds=10)
    assert worker.once() == 1
    clock.advance(minutes=30)
    assert worker.drain() == 0
    assert [d.key for d in channels["sms"].sent] == ["retry"]
    assert channels["sms"].sent[0].attempt == 2
    assert worker.metrics.sent == 1 and worker.metrics.failed == 1


def test_a_provider_down_for_an_hour_ends_dead_with_its_reason(
    db: Database, outbox: Outbox, worker: DeliveryWorker, channels: Recorders, clock: FrozenClock
) -> None:
    _enqueue(db, outbox, "down")
    channels["sms"].down = True
    for _ in range(200):
        worker.once()
        clock.advance(seconds=30)
    with UnitOfWork(db) as uow:
        [row] = store.deliveries(uow.conn)
    assert row.status == "dead"
    assert row.last_error is not None and "gave up after" in row.last_error
    assert "provider answered 500" in row.last_error
    assert channels["sms"].sent == [] and worker.metrics.dead == 1
    with UnitOfWork(db) as uow:  # an admin's replay
        assert store.requeue(uow.conn, row.id, clock.now())
        uow.commit()
    channels["sms"].down = False
    assert worker.once() == 1


def test_a_refused_delivery_is_dead_at_once(
    db: Database, outbox: Outbox, worker: DeliveryWorker, channels: Recorders
) -> None:
    _enqueue(db, outbox, "bad")
    channels["sms"].failures, channels["sms"].retryable = 1, False
    worker.once()
    with UnitOfWork(db) as uow:
        assert store.deliveries(uow.conn)[0].status == "dead"


def test_a_dead_workers_claim_is_taken_back_with_the_same_key(
    db: Database, outbox: Outbox, channels: Recorders, clock: FrozenClock
) -> None:
    _enqueue(db, outbox, "lease")
    dead = DeliveryWorker(db, outbox, channels, name="dead", metrics=OutboxMetrics())
    other = DeliveryWorker(db, outbox, channels, name="other", metrics=OutboxMetrics())
    [claimed] = dead.claim()  # ...and the process dies before sending
    assert other.once() == 0  # the lease still holds
    clock.advance(seconds=61)
    assert other.once() == 1
    assert [d.key for d in channels["sms"].sent] == ["lease"]
    assert not dead._settle(store.mark_sent, claimed, clock.now())  # its token is void


def test_quiet_hours_hold_non_urgent_notices_until_morning(
    db: Database, channels: Recorders, clock: FrozenClock
) -> None:
    outbox = Outbox(make_cipher(), clock, DeliveryRules())
    worker = DeliveryWorker(db, outbox, channels, metrics=OutboxMetrics())
    clock.set(datetime(2026, 11, 26, 14, 30, tzinfo=UTC))  # 22:30 in the hall
    _enqueue(db, outbox, "night")
    _enqueue(db, outbox, "urgent", urgent=True)
    _enqueue(db, outbox, "hook", channel="webhook", to="http://127.0.0.1:9/x")
    assert worker.once() == 2
    assert sorted(d.key for d in channels.all()) == ["hook", "urgent"]
    clock.set(datetime(2026, 11, 26, 23, 59, tzinfo=UTC))  # 07:59
    assert worker.once() == 0
    clock.set(datetime(2026, 11, 27, 0, 0, 30, tzinfo=UTC))  # 08:00:30
    assert worker.once() == 1


def test_the_per_phone_limit_holds_the_rest_for_an_hour(
    db: Database, channels: Recorders, clock: FrozenClock
) -> None:
    outbox = Outbox(make_cipher(), clock, DeliveryRules(quiet_start=None, per_phone_hour=3))
    worker = DeliveryWorker(db, outbox, channels, metrics=OutboxMetrics())
    for i in range(5):
        _enqueue(db, outbox, f"p{i}", phone_hash="h1")
    assert worker.drain() == 3
    clock.advance(minutes=59)
    assert worker.drain() == 0
    clock.advance(minutes=2)
    assert worker.drain() == 2


def test_rotated_keys_still_open_old_rows() -> None:
    old = new_key_spec("old")
    sealed, key_id = PiiCipher(old).seal(PHONE, "sms")
    rotated = PiiCipher(new_key_spec("new"), older=old)
    assert rotated.open(sealed, key_id, "sms") == PHONE
    assert rotated.seal(PHONE)[1] == "new"
    with pytest.raises(PiiKeyError):
        PiiCipher(new_key_spec("new")).open(sealed, key_id, "sms")


def test_backoff_grows_and_is_capped() -> None:
    rules = DeliveryRules(base_delay=5, max_delay=600)
    assert 2.5 <= retry_delay(1, rules) <= 5
    assert 40 <= retry_delay(5, rules) <= 80
    assert 300 <= retry_delay(30, rules) <= 600


def test_quiet_hours_span_midnight() -> None:
    from zoneinfo import ZoneInfo

    zone, rules = ZoneInfo("Asia/Shanghai"), DeliveryRules()
    noon = datetime(2026, 11, 26, 12, tzinfo=zone)
    assert quiet_until(noon, zone, rules) is None
    late = datetime(2026, 11, 26, 23, tzinfo=zone)
    assert quiet_until(late, zone, rules) == datetime(2026, 11, 27, 8, tzinfo=zone)
    early = datetime(2026, 11, 27, 6, tzinfo=zone)
    assert quiet_until(early, zone, rules) == datetime(2026, 11, 27, 8, tzinfo=zone)


def test_sms_segments_count_chinese_at_70() -> None:
    assert sms_segments("中" * 70) == 1
    assert sms_segments("中" * 71) == 2
    assert sms_segments("a" * 160) == 1


def test_rows_are_listed_by_hall_channel_and_status(db: Database, outbox: Outbox) -> None:
    _enqueue(db, outbox, "a")
    _enqueue(db, outbox, "b", channel="webhook", to="http://127.0.0.1:9/")
    with UnitOfWork(db) as uow:
        assert [r.key for r in store.deliveries(uow.conn, channel="webhook")] == ["b"]
        assert [r.key for r in store.deliveries(uow.conn, hall="ZMD", status="pending")] == [
            "b",
            "a",
        ]
        assert store.deliveries(uow.conn, status="sent") == []
