"""Issue 17: the outbox's worker through the real channels to loopback fakes.

The fake gateway answers 500 once: the row fails (retryable), is sent on its retry, and the
gateway saw one idempotency key twice and accepted one message; a refused subscription is dead.
"""

from __future__ import annotations

import json

from queue_engine.adapters import outbox_store as store
from queue_engine.adapters.channels import build_channels
from queue_engine.adapters.unit_of_work import Database, UnitOfWork
from queue_engine.domain.clock import FrozenClock
from queue_engine.domain.outbox import DeliveryRules
from queue_engine.services.outbox import DeliveryWorker, Outbox, OutboxMetrics
from tests.fakes.providers import FakePushService, FakeSmsGateway
from tests.helpers.outbox import make_cipher
from tests.service.test_channels import browser_keys

PHONE = "13812345678"


def test_worker_to_the_fake_gateway_500_then_sent_once(
    db: Database, clock: FrozenClock, tmp_path: object
) -> None:
    gateway = FakeSmsGateway("s3cret")
    try:
        channels = build_channels(
            {
                "HALL_SMS_PROVIDER": "webhook",
                "HALL_SMS_WEBHOOK_URL": gateway.url + "/sms",
                "HALL_SMS_WEBHOOK_SECRET": "s3cret",
            }
        )
        outbox = Outbox(make_cipher(), clock, DeliveryRules(quiet_start=None))
        worker = DeliveryWorker(db, outbox, channels, name="w1", metrics=OutboxMetrics())
        with UnitOfWork(db) as uow:
            outbox.enqueue(
                uow,
                channel="sms",
                kind="called",
                hall="ZMD",
                key="t1:called",
                to=PHONE,
                text="请 A001 到 5 号窗口办理",
                params={"number": "A001", "window": "5"},
                urgent=True,
            )
            uow.commit()
        gateway.fail(1, 500)
        assert worker.once() == 0
        clock.advance(minutes=5)
        worker.drain()
        assert [r.headers["X-Idempotency-Key"] for r in gateway.requests] == ["t1:called"] * 2
        (message,) = gateway.accepted.values()
        assert message["phone"] == PHONE and message["text"] == "请 A001 到 5 号窗口办理"
        with UnitOfWork(db) as uow:
            [row] = store.deliveries(uow.conn)
        assert row.status == "sent"
    finally:
        gateway.close()


def test_worker_gone_subscription_is_dead(db: Database, clock: FrozenClock, tmp_path) -> None:  # type: ignore[no-untyped-def]
    push = FakePushService()
    try:
        channels = build_channels({}, instance_path=str(tmp_path))
        outbox = Outbox(make_cipher(), clock, DeliveryRules(quiet_start=None))
        worker = DeliveryWorker(db, outbox, channels, name="w1", metrics=OutboxMetrics())
        push.gone.add("/push/old")
        subscription = {"endpoint": push.endpoint("old"), "keys": browser_keys()[2]}
        with UnitOfWork(db) as uow:
            outbox.enqueue(
                uow,
                channel="webpush",
                kind="called",
                hall="ZMD",
                key="t2:called",
                to=json.dumps(subscription),
                text="请到 5 号窗口",
            )
            uow.commit()
        worker.drain()
        with UnitOfWork(db) as uow:
            [row] = store.deliveries(uow.conn)
        assert row.status == "dead" and "subscription gone" in (row.last_error or "")
    finally:
        push.close()
