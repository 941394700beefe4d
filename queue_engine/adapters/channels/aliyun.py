"""Alibaba Cloud SMS (Dysms) through the official SDK ``alibabacloud-dysmsapi20170525``.

``SendSms`` with the sign name, the template code of the notice kind, the delivery's params as
``TemplateParam`` (JSON) and the delivery's key as ``OutId`` (it comes back in the receipts, so a
retried row can be matched). The endpoint (default ``dysmsapi.aliyuncs.com``) can be a local
``http://127.0.0.1:PORT`` for tests.
"""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import urlsplit

from alibabacloud_dysmsapi20170525 import models as dysms_models
from alibabacloud_dysmsapi20170525.client import Client
from alibabacloud_tea_openapi import models as open_api_models
from alibabacloud_tea_util import models as util_models

from queue_engine.adapters.channels._errors import hide_query_strings, kind_template
from queue_engine.domain.outbox import Delivery, DeliveryError

log = logging.getLogger(__name__)

# Dysms codes after which the same request may succeed later (flow control, the service itself)
RETRYABLE_CODES = {
    "isv.BUSINESS_LIMIT_CONTROL",
    "isv.DAY_LIMIT_CONTROL",
    "isv.OUT_OF_SERVICE",
    "isp.SYSTEM_ERROR",
    "isp.RAM_PERMISSION_DENY",
    "Throttling",
    "Throttling.User",
    "ServiceUnavailable",
    "InternalError",
}


def _endpoint(endpoint: str) -> tuple[str, str]:
    """``http://127.0.0.1:8080`` -> ("127.0.0.1:8080", "http"); a bare host stays https."""
    if "://" in endpoint:
        parts = urlsplit(endpoint)
        return parts.netloc, parts.scheme
    return endpoint, "https"


class AliyunSmsChannel:
    def __init__(
        self,
        *,
        access_key_id: str,
        access_key_secret: str,
        sign_name: str,
        templates: dict[str, Any],
        endpoint: str = "dysmsapi.aliyuncs.com",
        timeout_ms: int = 10_000,
        name: str = "sms",
    ) -> None:
        self.name = name
        self.sign_name = sign_name
        self.templates = templates
        host, protocol = _endpoint(endpoint)
        config = open_api_models.Config(
            access_key_id=access_key_id,
            access_key_secret=access_key_secret,
            endpoint=host,
            protocol=protocol,
            region_id="cn-hangzhou",
        )
        self.client = Client(config)
        hide_query_strings()
        # the outbox retries with backoff: the SDK must not retry on its own
        self.runtime = util_models.RuntimeOptions(
            autoretry=False, connect_timeout=timeout_ms, read_timeout=timeout_ms
        )

    def send(self, delivery: Delivery) -> None:
        template = str(kind_template(self.templates, delivery.kind, "aliyun sms"))
        request = dysms_models.SendSmsRequest(
            phone_numbers=delivery.to,
            sign_name=self.sign_name,
            template_code=template,
            template_param=json.dumps(
                {k: str(v) for k, v in delivery.params.items()}, ensure_ascii=False
            ),
            out_id=delivery.key,
        )
        try:
            response = self.client.send_sms_with_options(request, self.runtime)
        except Exception as exc:  # Tea's exceptions carry a code and the HTTP status in data
            raise _error(exc) from None
        body = response.body
        if body is None or body.code != "OK":
            code = getattr(body, "code", None) or "no answer"
            raise DeliveryError(f"aliyun sms refused: {code}", retryable=code in RETRYABLE_CODES)
        log.info(
            "sms %s (hall %s, key %s) accepted by aliyun: %s",
            delivery.kind,
            delivery.hall,
            delivery.key,
            body.biz_id,
        )


def _error(exc: Exception) -> DeliveryError:
    code = getattr(exc, "code", None)
    data = getattr(exc, "data", None) or {}
    status = data.get("statusCode") if isinstance(data, dict) else None
    if isinstance(status, int):
        retryable = status == 429 or status >= 500 or code in RETRYABLE_CODES
        return DeliveryError(f"aliyun sms answered HTTP {status}: {code}", retryable=retryable)
    if code and code in RETRYABLE_CODES:
        return DeliveryError(f"aliyun sms: {code}")
    if code and not str(code).startswith("Tea"):
        return DeliveryError(f"aliyun sms: {code}", retryable=False)
    # connection refused, timeouts: the network, not the request
    return DeliveryError(f"aliyun sms unreachable: {type(exc).__name__}")
