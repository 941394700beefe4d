"""Issue 17: each channel against its local fake provider, through the official SDKs."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterator

import http_ece
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from queue_engine.adapters.channels import ChannelConfigError, build_channels
from queue_engine.adapters.channels.log import LogChannel
from queue_engine.adapters.channels.webpush import ensure_vapid_key, vapid_public_key
from queue_engine.domain.outbox import Delivery, DeliveryError
from tests.fakes.providers import (
    FakeAliyun,
    FakePushService,
    FakeSmsGateway,
    FakeTencent,
    FakeWechat,
)

PHONE = "13812345678"
TEXT = "您的号码 A012 即将叫号,请到 5 号窗口附近等候。"
PARAMS = {"number": "A012", "window": "5"}


def delivery(
    to: str = PHONE, *, key: str = "row-1:turn_near", kind: str = "turn_near", **kw: object
) -> Delivery:
    return Delivery(
        key=key,
        channel="sms",
        kind=kind,
        hall="H1",
        text=TEXT,
        params=dict(PARAMS),
        to=to,
        **kw,  # type: ignore[arg-type]
    )


@pytest.fixture(autouse=True)
def debug_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    caplog.set_level(logging.DEBUG)
    yield
    assert PHONE not in caplog.text, "a phone reached the logs"


def expect_error(channel: object, d: Delivery, *, retryable: bool) -> DeliveryError:
    with pytest.raises(DeliveryError) as raised:
        channel.send(d)  # type: ignore[attr-defined]
    assert raised.value.retryable is retryable, raised.value.reason
    assert PHONE not in raised.value.reason
    return raised.value


# -- configuration ---------------------------------------------------------------------------


def test_nothing_configured_is_log_everywhere_and_says_so() -> None:
    channels = build_channels({})
    assert channels.unconfigured == ["sms", "wechat", "webpush", "webhook"]
    assert all(isinstance(channels[n], LogChannel) for n in channels.unconfigured)
    assert channels.describe().startswith("sms: log (not configured), wechat: log")


def test_a_named_provider_missing_settings_fails_at_start() -> None:
    with pytest.raises(ChannelConfigError, match="HALL_SMS_WEBHOOK_SECRET"):
        build_channels({"HALL_SMS_PROVIDER": "webhook", "HALL_SMS_WEBHOOK_URL": "http://x"})
    with pytest.raises(ChannelConfigError, match="expected one of"):
        build_channels({"HALL_SMS_PROVIDER": "carrier-pigeon"})
    with pytest.raises(ChannelConfigError, match="JSON"):
        build_channels(
            {
                "HALL_SMS_PROVIDER": "aliyun",
                "HALL_SMS_ACCESS_KEY_ID": "id",
                "HALL_SMS_ACCESS_KEY_SECRET": "s",
                "HALL_SMS_SIGN_NAME": "政务服务",
                "HALL_SMS_TEMPLATES": "{not json",
            }
        )


# -- generic gateway ---------------------------------------------------------------------------


@pytest.fixture
def gateway() -> Iterator[FakeSmsGateway]:
    fake = FakeSmsGateway("s3cret")
    yield fake
    fake.close()


def webhook_channels(gateway: FakeSmsGateway, secret: str = "s3cret") -> object:
    env = {
        "HALL_SMS_PROVIDER": "webhook",
        "HALL_SMS_WEBHOOK_URL": gateway.url + "/sms",
        "HALL_SMS_WEBHOOK_SECRET": secret,
        "HALL_SMS_TIMEOUT": "2",
    }
    channels = build_channels(env)
    assert "sms" not in channels.unconfigured
    return channels["sms"]


def test_webhook_delivers_signed_json_with_the_key(gateway: FakeSmsGateway) -> None:
    webhook_channels(gateway).send(delivery())  # type: ignore[attr-defined]
    (request,) = gateway.requests
    assert request.json() == {
        "id": "row-1:turn_near",
        "kind": "turn_near",
        "hall": "H1",
        "phone": PHONE,
        "text": TEXT,
        "params": PARAMS,
    }
    assert request.headers["X-Idempotency-Key"] == "row-1:turn_near"
    assert request.headers["X-Hall-Signature"].startswith("sha256=")
    assert list(gateway.accepted) == ["row-1:turn_near"]


def test_webhook_500_then_200_is_retryable_then_sent(gateway: FakeSmsGateway) -> None:
    channel = webhook_channels(gateway)
    gateway.fail(1, 500)
    expect_error(channel, delivery(), retryable=True)
    channel.send(delivery(attempt=2))  # type: ignore[attr-defined]
    assert len(gateway.requests) == 2
    assert {r.headers["X-Idempotency-Key"] for r in gateway.requests} == {"row-1:turn_near"}
    assert len(gateway.accepted) == 1


@pytest.mark.parametrize(
    ("status", "retryable"), [(400, False), (404, False), (429, True), (503, True)]
)
def test_webhook_status_mapping(gateway: FakeSmsGateway, status: int, retryable: bool) -> None:
    gateway.fail(1, status)
    expect_error(webhook_channels(gateway), delivery(), retryable=retryable)


def test_webhook_wrong_secret_is_refused_for_good(gateway: FakeSmsGateway) -> None:
    error = expect_error(webhook_channels(gateway, "wrong"), delivery(), retryable=False)
    assert "401" in error.reason


def test_webhook_down_is_retryable(gateway: FakeSmsGateway) -> None:
    channel = webhook_channels(gateway)
    gateway.down()
    expect_error(channel, delivery(), retryable=True)
    gateway.up()
    channel.send(delivery())  # type: ignore[attr-defined]
    assert len(gateway.accepted) == 1


# -- Alibaba Cloud Dysms -------------------------------------------------------------------


@pytest.fixture
def aliyun() -> Iterator[FakeAliyun]:
    fake = FakeAliyun()
    yield fake
    fake.close()


def aliyun_channel(fake: FakeAliyun) -> object:
    return build_channels(
        {
            "HALL_SMS_PROVIDER": "aliyun",
            "HALL_SMS_ACCESS_KEY_ID": "LTAIexample",
            "HALL_SMS_ACCESS_KEY_SECRET": "secret",
            "HALL_SMS_SIGN_NAME": "政务服务中心",
            "HALL_SMS_TEMPLATES": json.dumps({"turn_near": "SMS_123456", "booked": "SMS_1"}),
            "HALL_SMS_ENDPOINT": fake.url,
            "HALL_SMS_TIMEOUT": "3",
        }
    )["sms"]


def test_aliyun_sends_template_params_and_out_id(aliyun: FakeAliyun) -> None:
    aliyun_channel(aliyun).send(delivery())  # type: ignore[attr-defined]
    (request,) = aliyun.requests
    params = aliyun.params(request)
    assert params["Action"] == "SendSms"
    assert params["PhoneNumbers"] == PHONE
    assert params["SignName"] == "政务服务中心"
    assert params["TemplateCode"] == "SMS_123456"
    assert json.loads(params["TemplateParam"]) == PARAMS
    assert params["OutId"] == "row-1:turn_near"
    assert "Credential=LTAIexample" in request.headers["Authorization"]  # ACS3-HMAC-SHA256


def test_aliyun_500_then_ok(aliyun: FakeAliyun) -> None:
    channel = aliyun_channel(aliyun)
    aliyun.fail(1, 500)
    expect_error(channel, delivery(), retryable=True)
    channel.send(delivery(attempt=2))  # type: ignore[attr-defined]
    assert [aliyun.params(r)["OutId"] for r in aliyun.requests] == ["row-1:turn_near"] * 2


def test_aliyun_refusals(aliyun: FakeAliyun) -> None:
    channel = aliyun_channel(aliyun)
    aliyun.refusal = "isv.MOBILE_NUMBER_ILLEGAL"
    expect_error(channel, delivery(), retryable=False)
    aliyun.refusal = "isv.BUSINESS_LIMIT_CONTROL"
    expect_error(channel, delivery(), retryable=True)
    aliyun.refusal = None
    aliyun.fail(1, 400, {"Code": "InvalidSignName", "Message": "bad", "RequestId": "r"})
    expect_error(channel, delivery(), retryable=False)
    expect_error(channel, delivery(kind="no_such_kind"), retryable=False)
    aliyun.down()
    expect_error(channel, delivery(), retryable=True)


# -- Tencent Cloud SMS ---------------------------------------------------------------------


@pytest.fixture
def tencent() -> Iterator[FakeTencent]:
    fake = FakeTencent()
    yield fake
    fake.close()


def tencent_channel(fake: FakeTencent) -> object:
    return build_channels(
        {
            "HALL_SMS_PROVIDER": "tencent",
            "HALL_SMS_ACCESS_KEY_ID": "AKIDexample",
            "HALL_SMS_ACCESS_KEY_SECRET": "secret",
            "HALL_SMS_SDK_APP_ID": "1400000000",
            "HALL_SMS_SIGN_NAME": "政务服务中心",
            "HALL_SMS_TEMPLATES": json.dumps(
                {"turn_near": {"id": "2000001", "params": ["number", "window"]}}
            ),
            "HALL_SMS_ENDPOINT": fake.url,
            "HALL_SMS_TIMEOUT": "3",
        }
    )["sms"]


def test_tencent_sends_template_params_and_session_context(tencent: FakeTencent) -> None:
    tencent_channel(tencent).send(delivery())  # type: ignore[attr-defined]
    (request,) = tencent.requests
    assert request.headers["X-TC-Action"] == "SendSms"
    assert request.headers["Authorization"].startswith("TC3-HMAC-SHA256")
    body = request.json()
    assert body["PhoneNumberSet"] == ["+86" + PHONE]
    assert body["SmsSdkAppId"] == "1400000000"
    assert body["SignName"] == "政务服务中心"
    assert body["TemplateId"] == "2000001"
    assert body["TemplateParamSet"] == ["A012", "5"]
    assert body["SessionContext"] == "row-1:turn_near"


def test_tencent_500_then_ok(tencent: FakeTencent) -> None:
    channel = tencent_channel(tencent)
    tencent.fail(1, 500)
    expect_error(channel, delivery(), retryable=True)
    channel.send(delivery(attempt=2))  # type: ignore[attr-defined]
    assert [r.json()["SessionContext"] for r in tencent.requests] == ["row-1:turn_near"] * 2


def test_tencent_refusals(tencent: FakeTencent) -> None:
    channel = tencent_channel(tencent)
    tencent.refusal = "InvalidParameterValue.IncorrectPhoneNumber"
    expect_error(channel, delivery(), retryable=False)
    tencent.refusal = "LimitExceeded.PhoneNumberThirtySecondLimit"
    expect_error(channel, delivery(), retryable=True)
    tencent.refusal = None
    tencent.error = "AuthFailure.SecretIdNotFound"
    expect_error(channel, delivery(), retryable=False)
    tencent.error = "InternalError.Timeout"
    expect_error(channel, delivery(), retryable=True)
    tencent.down()
    expect_error(channel, delivery(), retryable=True)


# -- WeChat subscribe messages -------------------------------------------------------------

OPENID = "oABCDEFGhijklmnop123"


@pytest.fixture
def wechat() -> Iterator[FakeWechat]:
    fake = FakeWechat()
    yield fake
    fake.close()


def wechat_channel(fake: FakeWechat) -> object:
    return build_channels(
        {
            "HALL_WECHAT_APPID": "wx0123456789",
            "HALL_WECHAT_SECRET": "secret",
            "HALL_WECHAT_TEMPLATES": json.dumps(
                {
                    "turn_near": {
                        "id": "TPL-near",
                        "fields": {"character_string1": "number", "thing2": "text"},
                        "page": "pages/ticket",
                    }
                }
            ),
            "HALL_WECHAT_API_BASE": fake.api_base,
        }
    )["wechat"]


def test_wechat_fetches_a_token_and_sends_the_subscribe_message(wechat: FakeWechat) -> None:
    channel = wechat_channel(wechat)
    channel.send(delivery(OPENID))  # type: ignore[attr-defined]
    channel.send(delivery(OPENID, key="row-2:called"))  # type: ignore[attr-defined]
    assert wechat.tokens_issued == 1
    first, second = wechat.sends()
    assert second.json()["touser"] == OPENID
    assert first.query["access_token"] == "TOKEN1"
    assert first.json() == {
        "touser": OPENID,
        "template_id": "TPL-near",
        "page": "pages/ticket",
        "data": {"character_string1": {"value": "A012"}, "thing2": {"value": TEXT}},
    }


def test_wechat_errors(wechat: FakeWechat) -> None:
    channel = wechat_channel(wechat)
    wechat.fail(1, 500)  # the token fetch fails: retryable
    expect_error(channel, delivery(OPENID), retryable=True)
    channel.send(delivery(OPENID))  # type: ignore[attr-defined]
    wechat.errcode = -1  # system busy
    expect_error(channel, delivery(OPENID), retryable=True)
    wechat.errcode = 43101  # the citizen refused subscriptions
    expect_error(channel, delivery(OPENID), retryable=False)


# -- Web Push ------------------------------------------------------------------------------


@pytest.fixture
def push() -> Iterator[FakePushService]:
    fake = FakePushService()
    yield fake
    fake.close()


def browser_keys() -> tuple[ec.EllipticCurvePrivateKey, bytes, dict[str, str]]:
    """What a browser makes when it subscribes: a P-256 key pair and a 16-byte auth secret."""
    private = ec.generate_private_key(ec.SECP256R1())
    auth = b"0123456789abcdef"
    public = private.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    b64 = lambda raw: base64.urlsafe_b64encode(raw).rstrip(b"=").decode()  # noqa: E731
    return private, auth, {"p256dh": b64(public), "auth": b64(auth)}


def test_webpush_payload_decrypts_with_the_subscription_keys(
    push: FakePushService, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    channels = build_channels(
        {"HALL_VAPID_SUBJECT": "mailto:hall@example.cn"}, instance_path=str(tmp_path)
    )
    assert "webpush" not in channels.unconfigured
    private, auth, keys = browser_keys()
    subscription = json.dumps({"endpoint": push.endpoint(), "keys": keys})
    channels["webpush"].send(delivery(subscription, kind="called"))
    (message,) = push.messages()
    assert message.headers["Content-Encoding"] == "aes128gcm"
    assert message.headers["Urgency"] == "high"
    assert len(message.headers["Topic"]) == 32
    assert message.headers["Authorization"].startswith("vapid t=")
    public_key = vapid_public_key(ensure_vapid_key(tmp_path))
    assert f"k={public_key}" in message.headers["Authorization"]
    plain = http_ece.decrypt(
        message.body, private_key=private, auth_secret=auth, version="aes128gcm"
    )
    payload = json.loads(plain)
    assert payload["body"] == TEXT and payload["kind"] == "called"


def test_webpush_gone_and_retryable(
    push: FakePushService, tmp_path, caplog: pytest.LogCaptureFixture
) -> None:  # type: ignore[no-untyped-def]
    channel = build_channels({}, instance_path=str(tmp_path))["webpush"]
    _, _, keys = browser_keys()
    subscription = json.dumps({"endpoint": push.endpoint("old"), "keys": keys})
    push.fail(1, 500)
    expect_error(channel, delivery(subscription), retryable=True)
    channel.send(delivery(subscription))
    push.gone.add("/push/old")
    error = expect_error(channel, delivery(subscription), retryable=False)
    assert error.reason == "webpush: subscription gone"
    expect_error(channel, delivery("not json"), retryable=False)
    assert keys["p256dh"] not in caplog.text and keys["auth"] not in caplog.text


def test_vapid_key_is_generated_once(tmp_path) -> None:  # type: ignore[no-untyped-def]
    first = ensure_vapid_key(tmp_path)
    public = vapid_public_key(first)
    assert ensure_vapid_key(tmp_path) == first and vapid_public_key(first) == public
    assert len(base64.urlsafe_b64decode(public + "=")) == 65
    assert first.stat().st_mode & 0o077 == 0
