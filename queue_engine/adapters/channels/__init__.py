"""Delivery channels: one adapter per provider behind ``queue_engine.domain.outbox.Channel``.

``build_channels(env)`` reads the environment and returns the channel for each name the outbox
uses ("sms", "wechat", "webpush", "webhook"); a name with no provider configured gets the log
channel, and ``unconfigured`` lists those so the app can say so at start.

- ``sms``: ``HALL_SMS_PROVIDER`` = ``aliyun`` | ``tencent`` | ``webhook`` (unset: log);
- ``wechat``: ``HALL_WECHAT_APPID`` and ``HALL_WECHAT_SECRET``;
- ``webpush``: a VAPID key, ``HALL_VAPID_PRIVATE_KEY_FILE`` or generated into the instance
  folder (``instance_path`` or ``HALL_INSTANCE_PATH``);
- ``webhook``: the outbox's own webhook deliveries (issue 20), not a provider of this package.

A provider named but missing a setting raises ``ChannelConfigError`` (fail at start, not at the
first notice).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from queue_engine.adapters.channels.log import LogChannel
from queue_engine.domain.outbox import Channel

CHANNEL_NAMES = ("sms", "wechat", "webpush", "webhook")
SMS_PROVIDERS = ("aliyun", "tencent", "webhook")


class ChannelConfigError(ValueError):
    """A channel's environment is incomplete or malformed."""


@dataclass
class Channels:
    by_name: dict[str, Channel]
    unconfigured: list[str] = field(default_factory=list)
    providers: dict[str, str] = field(default_factory=dict)  # channel -> provider ("log", ...)

    def __getitem__(self, name: str) -> Channel:
        return self.by_name[name]

    def describe(self) -> str:
        """One line for the start-up log: each channel's provider, the log ones called so."""
        return ", ".join(
            f"{name}: log (not configured)" if name in self.unconfigured else f"{name}: {kind}"
            for name, kind in self.providers.items()
        )


def _need(env: Mapping[str, str], *names: str) -> list[str]:
    missing = [n for n in names if not env.get(n)]
    if missing:
        raise ChannelConfigError("missing " + ", ".join(missing))
    return [env[n] for n in names]


def _json(env: Mapping[str, str], name: str) -> dict[str, Any]:
    raw = env.get(name, "")
    if not raw:
        raise ChannelConfigError(f"missing {name} (JSON: notice kind -> template)")
    try:
        value = json.loads(raw)
    except ValueError:
        raise ChannelConfigError(f"{name} is not JSON") from None
    if not isinstance(value, dict):
        raise ChannelConfigError(f"{name} must be a JSON object (notice kind -> template)")
    return value


def _timeout(env: Mapping[str, str], name: str, default: float) -> float:
    try:
        return float(env.get(name) or default)
    except ValueError:
        raise ChannelConfigError(f"{name} must be a number of seconds") from None


def _sms(env: Mapping[str, str]) -> Channel | None:
    provider = (env.get("HALL_SMS_PROVIDER") or "").strip().lower()
    if provider in ("", "log"):
        return None
    timeout = _timeout(env, "HALL_SMS_TIMEOUT", 10.0)
    if provider == "webhook":
        from queue_engine.adapters.channels.webhook import WebhookSmsChannel

        url, secret = _need(env, "HALL_SMS_WEBHOOK_URL", "HALL_SMS_WEBHOOK_SECRET")
        return WebhookSmsChannel(url, secret, timeout=timeout)
    if provider == "aliyun":
        from queue_engine.adapters.channels.aliyun import AliyunSmsChannel

        key_id, key_secret, sign = _need(
            env, "HALL_SMS_ACCESS_KEY_ID", "HALL_SMS_ACCESS_KEY_SECRET", "HALL_SMS_SIGN_NAME"
        )
        return AliyunSmsChannel(
            access_key_id=key_id,
            access_key_secret=key_secret,
            sign_name=sign,
            templates=_json(env, "HALL_SMS_TEMPLATES"),
            endpoint=env.get("HALL_SMS_ENDPOINT") or "dysmsapi.aliyuncs.com",
            timeout_ms=int(timeout * 1000),
        )
    if provider == "tencent":
        from queue_engine.adapters.channels.tencent import TencentSmsChannel

        key_id, key_secret, app_id, sign = _need(
            env,
            "HALL_SMS_ACCESS_KEY_ID",
            "HALL_SMS_ACCESS_KEY_SECRET",
            "HALL_SMS_SDK_APP_ID",
            "HALL_SMS_SIGN_NAME",
        )
        return TencentSmsChannel(
            secret_id=key_id,
            secret_key=key_secret,
            sdk_app_id=app_id,
            sign_name=sign,
            templates=_json(env, "HALL_SMS_TEMPLATES"),
            region=env.get("HALL_SMS_REGION") or "ap-guangzhou",
            endpoint=env.get("HALL_SMS_ENDPOINT") or "sms.tencentcloudapi.com",
            timeout=max(1, int(timeout)),
        )
    raise ChannelConfigError(
        f"HALL_SMS_PROVIDER={provider!r}: expected one of log, " + ", ".join(SMS_PROVIDERS)
    )


def _wechat(env: Mapping[str, str]) -> Channel | None:
    if not env.get("HALL_WECHAT_APPID"):
        return None
    from queue_engine.adapters.channels.wechat import WechatChannel

    appid, secret = _need(env, "HALL_WECHAT_APPID", "HALL_WECHAT_SECRET")
    return WechatChannel(
        appid=appid,
        secret=secret,
        templates=_json(env, "HALL_WECHAT_TEMPLATES"),
        api_base=env.get("HALL_WECHAT_API_BASE") or "https://api.weixin.qq.com/cgi-bin/",
        timeout=_timeout(env, "HALL_WECHAT_TIMEOUT", 10.0),
    )


def _webpush(env: Mapping[str, str], instance_path: str | None) -> Channel | None:
    if (env.get("HALL_WEBPUSH") or "").lower() in ("0", "off", "false", "no"):
        return None
    from queue_engine.adapters.channels.webpush import WebPushChannel, ensure_vapid_key

    key_file = env.get("HALL_VAPID_PRIVATE_KEY_FILE")
    folder = instance_path or env.get("HALL_INSTANCE_PATH")
    if not key_file:
        if not folder:
            return None
        key_file = str(ensure_vapid_key(folder))
    return WebPushChannel(
        private_key_file=key_file,
        subject=env.get("HALL_VAPID_SUBJECT") or "mailto:admin@localhost",
        ttl=int(env.get("HALL_WEBPUSH_TTL") or 3600),
        timeout=_timeout(env, "HALL_WEBPUSH_TIMEOUT", 10.0),
    )


def build_channels(env: Mapping[str, str], *, instance_path: str | None = None) -> Channels:
    built: dict[str, Channel | None] = {
        "sms": _sms(env),
        "wechat": _wechat(env),
        "webpush": _webpush(env, instance_path),
        "webhook": None,
    }
    by_name: dict[str, Channel] = {}
    unconfigured: list[str] = []
    providers: dict[str, str] = {}
    for name in CHANNEL_NAMES:
        channel = built[name]
        if channel is None:
            by_name[name] = LogChannel(name)
            unconfigured.append(name)
            providers[name] = "log"
        else:
            by_name[name] = channel
            providers[name] = type(channel).__name__
    # Staff without an address get their escalation cards on the staff board: a log line
    # (issue 19); never a provider, so it is not listed as unconfigured.
    by_name["log"] = LogChannel("log")
    return Channels(by_name, unconfigured, providers)
