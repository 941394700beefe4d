"""Fake providers: HTTP servers on 127.0.0.1 that speak each provider's protocol well enough
for the official SDKs to succeed, and that record what they were sent.

Every fake can be told to answer ``fail(n, status)`` n times with an error, to be ``down()``
(the port refuses connections) and ``up()`` again on the same port, or to ``refuse(...)`` with a
provider error code. ``requests`` holds what arrived (path, query, headers, parsed body).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from requests.structures import CaseInsensitiveDict


@dataclass
class Received:
    method: str
    path: str
    query: dict[str, str]
    headers: CaseInsensitiveDict[str]  # any case, as HTTP says
    body: bytes
    form: dict[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        return json.loads(self.body)


Answer = tuple[int, dict[str, str], bytes]


def _json_answer(status: int, value: Any, headers: dict[str, str] | None = None) -> Answer:
    return (
        status,
        {"Content-Type": "application/json", **(headers or {})},
        json.dumps(value).encode(),
    )


class FakeProvider:
    """A loopback HTTP server; subclasses answer one request in ``answer``."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.forced: list[Answer] = []
        self.lock = threading.Lock()
        self.port = 0
        self._server: ThreadingHTTPServer | None = None
        self.up()

    # -- control -------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def up(self) -> None:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                form: dict[str, str] = {}
                if "form-urlencoded" in (self.headers.get("Content-Type") or ""):
                    form = {k: v[-1] for k, v in parse_qs(body.decode()).items()}
                received = Received(
                    self.command,
                    parts.path,
                    query,
                    CaseInsensitiveDict(self.headers.items()),
                    body,
                    form,
                )
                with fake.lock:
                    fake.requests.append(received)
                    forced = fake.forced.pop(0) if fake.forced else None
                status, headers, payload = forced or fake.answer(received)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = _handle

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def down(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    close = down

    def fail(self, times: int, status: int = 500, body: Any = None) -> None:
        """Answer the next ``times`` requests with ``status`` (and a provider-shaped body)."""
        for _ in range(times):
            self.forced.append(
                _json_answer(status, body if body is not None else self.error_body(status))
            )

    def error_body(self, status: int) -> Any:
        return {"error": f"HTTP {status}"}

    def answer(self, request: Received) -> Answer:  # pragma: no cover - overridden
        raise NotImplementedError


class FakeSmsGateway(FakeProvider):
    """The generic HTTP gateway: checks the HMAC signature, records each accepted message."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.accepted: dict[str, Any] = {}  # idempotency key -> message (a retry is one message)
        super().__init__()

    def answer(self, request: Received) -> Answer:
        timestamp = request.headers.get("X-Hall-Timestamp", "")
        mac = hmac.new(
            self.secret.encode(), timestamp.encode() + b"." + request.body, hashlib.sha256
        )
        if not hmac.compare_digest(
            "sha256=" + mac.hexdigest(), request.headers.get("X-Hall-Signature", "")
        ):
            return _json_answer(401, {"error": "bad signature"})
        message = request.json()
        self.accepted.setdefault(request.headers.get("X-Idempotency-Key", ""), message)
        return _json_answer(200, {"accepted": message["id"]})


class FakeAliyun(FakeProvider):
    """Dysms' RPC-style POP API: ``Action=SendSms`` with the parameters in query or form."""

    refusal: str | None = (
        None  # a Dysms code to answer instead of OK (e.g. isv.MOBILE_NUMBER_ILLEGAL)
    )

    def params(self, request: Received) -> dict[str, str]:
        """The call's parameters; the action is in ``x-acs-action`` (V3 signature) or ``Action``."""
        action = request.headers.get("x-acs-action") or request.query.get("Action", "")
        return {"Action": action, **request.query, **request.form}

    def answer(self, request: Received) -> Answer:
        params = self.params(request)
        request_id = str(uuid.uuid4())
        if params.get("Action") != "SendSms":
            return _json_answer(
                400, {"Code": "InvalidAction", "Message": "?", "RequestId": request_id}
            )
        if self.refusal:
            return _json_answer(
                200, {"Code": self.refusal, "Message": "refused", "RequestId": request_id}
            )
        return _json_answer(
            200,
            {
                "Code": "OK",
                "Message": "OK",
                "BizId": uuid.uuid4().hex[:20],
                "RequestId": request_id,
            },
        )

    def error_body(self, status: int) -> Any:
        return {
            "Code": "ServiceUnavailable",
            "Message": "The request has failed due to a temporary failure of the server.",
            "RequestId": str(uuid.uuid4()),
        }


class FakeTencent(FakeProvider):
    """Tencent Cloud API v3: POST JSON with ``X-TC-Action: SendSms``, a ``Response`` object."""

    refusal: str | None = (
        None  # a SendStatus code instead of "Ok" (e.g. InvalidParameterValue.IncorrectPhoneNumber)
    )
    error: str | None = None  # a Response.Error code (e.g. AuthFailure.SecretIdNotFound)

    def answer(self, request: Received) -> Answer:
        request_id = str(uuid.uuid4())
        if self.error:
            return _json_answer(
                200,
                {
                    "Response": {
                        "Error": {"Code": self.error, "Message": "error"},
                        "RequestId": request_id,
                    }
                },
            )
        body = request.json()
        statuses = [
            {
                "SerialNo": uuid.uuid4().hex,
                "PhoneNumber": phone,
                "Fee": 1,
                "SessionContext": body.get("SessionContext", ""),
                "Code": self.refusal or "Ok",
                "Message": "send success",
                "IsoCode": "CN",
            }
            for phone in body.get("PhoneNumberSet", [])
        ]
        return _json_answer(200, {"Response": {"SendStatusSet": statuses, "RequestId": request_id}})

    def error_body(self, status: int) -> Any:
        return {
            "Response": {
                "Error": {"Code": "InternalError", "Message": "busy"},
                "RequestId": str(uuid.uuid4()),
            }
        }


class FakeWechat(FakeProvider):
    """``/cgi-bin/token`` and ``/cgi-bin/message/subscribe/bizsend`` of the official account API."""

    errcode = 0  # answer subscribe sends with this errcode (43101: the user refused)

    def __init__(self) -> None:
        self.tokens_issued = 0
        super().__init__()

    @property
    def api_base(self) -> str:
        return self.url + "/cgi-bin/"

    def answer(self, request: Received) -> Answer:
        if request.path == "/cgi-bin/token":
            self.tokens_issued += 1
            return _json_answer(
                200, {"access_token": f"TOKEN{self.tokens_issued}", "expires_in": 7200}
            )
        if request.path == "/cgi-bin/message/subscribe/bizsend":
            if not request.query.get("access_token", "").startswith("TOKEN"):
                return _json_answer(200, {"errcode": 40001, "errmsg": "invalid credential"})
            if self.errcode:
                return _json_answer(200, {"errcode": self.errcode, "errmsg": "refused"})
            return _json_answer(200, {"errcode": 0, "errmsg": "ok", "msgid": 1})
        return _json_answer(404, {"errcode": 404, "errmsg": "not found"})

    def error_body(self, status: int) -> Any:
        return {"errcode": -1, "errmsg": "system error"}

    def sends(self) -> list[Received]:
        return [r for r in self.requests if r.path.endswith("/bizsend")]


class FakePushService(FakeProvider):
    """A Web Push endpoint: records each encrypted message (RFC 8030 POST) and answers 201."""

    gone: set[str]

    def __init__(self) -> None:
        self.gone = set()
        super().__init__()

    def endpoint(self, name: str = "sub1") -> str:
        return f"{self.url}/push/{name}"

    def answer(self, request: Received) -> Answer:
        if request.path in self.gone:
            return 410, {}, b""
        return 201, {"Location": request.path + "/m/" + uuid.uuid4().hex}, b""

    def messages(self) -> list[Received]:
        return [r for r in self.requests if r.method == "POST"]


class FakeWebhookReceiver(FakeProvider):
    """An integrator's endpoint (issue 20): verifies each Standard Webhooks signature with the
    official ``standardwebhooks`` package and keeps each message once by its ``webhook-id``."""

    def __init__(self, secret: str | None = None) -> None:
        self.secret = secret
        self.accepted: dict[str, Any] = {}  # webhook-id -> body: a retry is one message
        self.rejected = 0
        super().__init__()

    def answer(self, request: Received) -> Answer:
        from standardwebhooks.webhooks import Webhook, WebhookVerificationError

        if self.secret is None:
            return _json_answer(500, {"error": "no secret yet"})
        try:
            body = Webhook(self.secret).verify(request.body, dict(request.headers))
        except WebhookVerificationError:
            self.rejected += 1
            return _json_answer(401, {"error": "bad signature"})
        self.accepted.setdefault(request.headers["webhook-id"], body)
        return _json_answer(200, {"ok": True})
