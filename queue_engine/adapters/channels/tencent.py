"""Tencent Cloud SMS through the official SDK ``tencentcloud-sdk-python-sms`` (API v3).

``SendSms`` with the SDK app id, the sign name, the template id of the notice kind and the
template's positional parameters; ``SessionContext`` carries the delivery's key (Tencent returns
it in the receipts). A template is either an id or ``{"id": "...", "params": ["number", ...]}``
naming the delivery params in the template's ``{1}``, ``{2}``... order (default: params' order).
The endpoint (default ``sms.tencentcloudapi.com``) can be ``http://127.0.0.1:PORT`` for tests.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import (
    TencentCloudSDKException,
)
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.sms.v20210111 import models, sms_client

from queue_engine.adapters.channels._errors import kind_template
from queue_engine.domain.outbox import Delivery, DeliveryError

log = logging.getLogger(__name__)

RETRYABLE_PREFIXES = (
    "InternalError",
    "RequestLimitExceeded",
    "LimitExceeded",
    "ClientNetworkError",
    "ServerNetworkError",
    "ResourceUnavailable",
)


def _retryable(code: str | None) -> bool:
    return bool(code) and str(code).startswith(RETRYABLE_PREFIXES)


class TencentSmsChannel:
    def __init__(
        self,
        *,
        secret_id: str,
        secret_key: str,
        sdk_app_id: str,
        sign_name: str,
        templates: dict[str, Any],
        region: str = "ap-guangzhou",
        endpoint: str = "sms.tencentcloudapi.com",
        timeout: int = 10,
        name: str = "sms",
    ) -> None:
        self.name = name
        self.sdk_app_id = sdk_app_id
        self.sign_name = sign_name
        self.templates = templates
        protocol = "https"
        if "://" in endpoint:
            parts = urlsplit(endpoint)
            endpoint, protocol = parts.netloc, parts.scheme
        http_profile = HttpProfile(protocol=protocol, endpoint=endpoint, reqTimeout=timeout)
        self.client = sms_client.SmsClient(
            credential.Credential(secret_id, secret_key),
            region,
            ClientProfile(httpProfile=http_profile),
        )

    def _template(self, kind: str, params: dict[str, Any]) -> tuple[str, list[str]]:
        template = kind_template(self.templates, kind, "tencent sms")
        if isinstance(template, dict):
            names = template.get("params")
            values = [str(params.get(n, "")) for n in names] if names else None
            return str(template["id"]), values if values is not None else _values(params)
        return str(template), _values(params)

    def send(self, delivery: Delivery) -> None:
        template_id, values = self._template(delivery.kind, delivery.params)
        phone = delivery.to if delivery.to.startswith("+") else "+86" + delivery.to
        request = models.SendSmsRequest()
        request.PhoneNumberSet = [phone]
        request.SmsSdkAppId = self.sdk_app_id
        request.SignName = self.sign_name
        request.TemplateId = template_id
        request.TemplateParamSet = values
        request.SessionContext = delivery.key
        try:
            response = self.client.SendSms(request)
        except TencentCloudSDKException as exc:
            code = exc.get_code()
            raise DeliveryError(f"tencent sms: {code}", retryable=_retryable(code)) from None
        except Exception as exc:  # requests' errors under the SDK: the network
            raise DeliveryError(f"tencent sms unreachable: {type(exc).__name__}") from None
        statuses = response.SendStatusSet or []
        code = statuses[0].Code if statuses else None
        if code != "Ok":
            raise DeliveryError(f"tencent sms refused: {code}", retryable=_retryable(code))
        log.info(
            "sms %s (hall %s, key %s) accepted by tencent: %s",
            delivery.kind,
            delivery.hall,
            delivery.key,
            statuses[0].SerialNo,
        )


def _values(params: dict[str, Any]) -> list[str]:
    return [str(v) for v in params.values()]
