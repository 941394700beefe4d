"""A recording channel for outbox tests, and a cipher with a fixed test key."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from pathlib import Path

from queue_engine.adapters.pii_crypto import PiiCipher
from queue_engine.domain.outbox import Delivery, DeliveryError

TEST_KEY = "t1:" + base64.b64encode(bytes(range(32))).decode()  # fixed: shared by processes


def make_cipher() -> PiiCipher:
    return PiiCipher(TEST_KEY)


@dataclass
class RecordingChannel:
    """Keeps every delivery; ``failures`` makes the next N sends raise (retryable or not)."""

    name: str = "sms"
    sent: list[Delivery] = field(default_factory=list)
    failures: int = 0
    retryable: bool = True
    down: bool = False

    def send(self, delivery: Delivery) -> None:
        if self.down or self.failures > 0:
            self.failures = max(0, self.failures - 1)
            raise DeliveryError("provider answered 500", retryable=self.retryable)
        self.sent.append(delivery)


@dataclass
class Recorders:
    """One recording channel per name, as ``Channels`` gives them."""

    by_name: dict[str, RecordingChannel] = field(default_factory=dict)
    providers: dict[str, str] = field(default_factory=dict)  # as Channels (bootstrap adds "hook")

    def __getitem__(self, name: str) -> RecordingChannel:
        return self.by_name.setdefault(name, RecordingChannel(name))

    def all(self) -> list[Delivery]:
        recorders = [c for c in self.by_name.values() if isinstance(c, RecordingChannel)]
        return [d for c in recorders for d in c.sent]


@dataclass
class FileChannel:
    """Appends each delivery's key to a file (for workers in other processes)."""

    path: Path
    name: str = "sms"

    def send(self, delivery: Delivery) -> None:
        with self.path.open("a") as f:
            f.write(json.dumps({"key": delivery.key, "to": delivery.to}) + "\n")
