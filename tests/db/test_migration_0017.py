"""Migration 0017 moves Web Push subscriptions of old into the sealed contacts, where the
notices find them (and the plain table is gone)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import inspect, text

from queue_engine.adapters.database import alembic_config, make_engine
from queue_engine.adapters.pii_crypto import PiiCipher
from tests.helpers.outbox import TEST_KEY

SUBSCRIPTION = json.dumps({"endpoint": "https://push.example.cn/s/1", "keys": {"auth": "x"}})


def test_old_push_subscriptions_are_sealed_into_contacts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HALL_PII_KEY", TEST_KEY)
    url = f"sqlite:///{tmp_path}/old.db"
    command.upgrade(alembic_config(url), "0014_push_subscriptions")
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO push_subscriptions (owner_kind, owner_id, hall, subscription, "
                "created_at) VALUES ('ticket', 't123', 'ZMD', :s, '2026-11-26 02:10:00')"
            ),
            {"s": SUBSCRIPTION},
        )
    command.upgrade(alembic_config(url), "0017_staff_contacts")
    assert "push_subscriptions" not in inspect(engine).get_table_names()
    with engine.begin() as conn:
        row = conn.execute(
            text("SELECT subject, ref, channel, ciphertext, key_id, purge_after FROM contacts")
        ).one()
    assert (row.subject, row.ref, row.channel) == ("ticket", "t123", "webpush")
    assert b"push.example.cn" not in row.ciphertext and row.purge_after is not None
    assert PiiCipher(TEST_KEY).open(row.ciphertext, row.key_id, "webpush") == SUBSCRIPTION
    command.downgrade(alembic_config(url), "0014_push_subscriptions")
    assert "push_subscriptions" in inspect(engine).get_table_names()
    engine.dispose()
