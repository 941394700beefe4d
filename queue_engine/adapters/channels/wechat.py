"""WeChat subscribe messages (公众号 ``message/subscribe/bizsend``) through ``wechatpy``.

``to`` is the citizen's openid (from the app's login). Each notice kind has a template:
either an id (the delivery params become the template's fields as they are) or
``{"id": "...", "fields": {"thing1": "text", "character_string2": "number"}, "page": "..."}``
mapping each template field to a delivery param (``text`` is the rendered text). The API base
(default ``https://api.weixin.qq.com/cgi-bin/``) can be a local fake; the access token is
fetched from ``<base>token`` and cached by wechatpy.
"""

from __future__ import annotations

import logging
from typing import Any

from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException

from queue_engine.adapters.channels._errors import kind_template
from queue_engine.domain.outbox import Delivery, DeliveryError

log = logging.getLogger(__name__)

# -1 system busy, 45009 API rate, 45047 too many messages, 40001/42001 token expired (refetched)
RETRYABLE_ERRCODES = {-1, 45009, 45047, 40001, 42001, 40014}


class _Client(WeChatClient):  # type: ignore[misc]
    """wechatpy's client with the token URL under the same (overridable) API base."""

    def fetch_access_token(self) -> Any:
        return self._fetch_access_token(
            url=self.API_BASE_URL + "token",
            params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret},
        )


class WechatChannel:
    def __init__(
        self,
        *,
        appid: str,
        secret: str,
        templates: dict[str, Any],
        api_base: str = "https://api.weixin.qq.com/cgi-bin/",
        timeout: float = 10.0,
        name: str = "wechat",
    ) -> None:
        self.name = name
        self.templates = templates
        self.client = _Client(appid, secret, timeout=timeout)
        self.client.API_BASE_URL = api_base if api_base.endswith("/") else api_base + "/"

    def send(self, delivery: Delivery) -> None:
        template = kind_template(self.templates, delivery.kind, "wechat")
        values = {**delivery.params, "text": delivery.text}
        page = None
        if isinstance(template, dict):
            fields = template.get("fields") or {k: k for k in delivery.params}
            page = template.get("page")
            template_id = str(template["id"])
        else:
            fields = {k: k for k in delivery.params}
            template_id = str(template)
        data = {field: {"value": str(values.get(param, ""))} for field, param in fields.items()}
        try:
            self.client.message.send_subscribe_message(delivery.to, template_id, data, page=page)
        except WeChatClientException as exc:
            code = exc.errcode
            if code is None:  # an HTTP error under the API (wechatpy wraps requests' error)
                status = getattr(getattr(exc, "response", None), "status_code", None)
                retryable = status is None or status == 429 or status >= 500
                raise DeliveryError(f"wechat answered HTTP {status}", retryable=retryable) from None
            if code in (40001, 42001):  # the cached token died: the next try fetches a new one
                self.client.session.delete(f"{self.client.appid}_access_token")
            raise DeliveryError(
                f"wechat errcode {code}", retryable=code in RETRYABLE_ERRCODES
            ) from None
        except Exception as exc:  # requests' errors: the network
            raise DeliveryError(f"wechat unreachable: {type(exc).__name__}") from None
        log.info("wechat %s (hall %s, key %s) accepted", delivery.kind, delivery.hall, delivery.key)
