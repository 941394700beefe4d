"""API clients over HTTP (issue 20): OAuth 2.0 client credentials, their tokens and scopes.

Another system's server (the city app's back office, the approval system) signs in with its
client id and secret at ``POST /api/v1/auth/token`` (``grant_type=client_credentials``, the
pair in HTTP Basic or in the body, form or JSON) and gets a short-lived bearer token. Authlib's
authorization server runs the grant (client authentication, scope checks, the RFC 6749
answers); the token is signed here (itsdangerous, like the staff tokens) and carries the
client's credential version, so a rotation or a revocation ends every token at once. A
client's token is never a staff token: staff operations refuse it as they refuse no token.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.integrations.flask_oauth2.requests import FlaskOAuth2Payload, FlaskOAuth2Request
from authlib.oauth2.rfc6749 import ClientMixin, grants
from authlib.oauth2.rfc6749.errors import InvalidScopeError
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from flask import Response, current_app, g, json, request
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from werkzeug.datastructures import CombinedMultiDict, MultiDict

from queue_engine.domain.integrations import SCOPES, ApiClient

from .errors import error_response
from .state import hall_services

DEFAULT_TOKEN_SECONDS = 900
TOKEN_PATH = "/api/v1/auth/token"


def client_scheme(public_url: str) -> dict[str, Any]:
    """The OpenAPI security scheme of API clients (``tokenUrl`` must be absolute)."""
    base = (public_url or "http://127.0.0.1:5000").rstrip("/")
    return {
        "type": "oauth2",
        "description": "API clients (issue 20): OAuth 2.0 client credentials at POST "
        "/api/v1/auth/token (client_secret_basic or client_secret_post); short-lived bearer "
        "tokens. The token URL is HALL_PUBLIC_URL's.",
        "flows": {"clientCredentials": {"tokenUrl": base + TOKEN_PATH, "scopes": dict(SCOPES)}},
    }


ERRORS = {  # RFC 6749 §5.2, for answers Authlib gives without a description
    "unsupported_grant_type": "grant_type is client_credentials (or send a staff username and "
    "password as JSON)",
    "invalid_request": "the token request is malformed",
    "invalid_client": "unknown client, wrong secret, or a revoked client",
    "invalid_scope": "a scope asked for is unknown or not the client's",
}
_CREDENTIALS_BODY = {
    "type": "object",
    "required": ["grant_type"],
    "properties": {
        "grant_type": {"type": "string", "enum": ["client_credentials"]},
        "client_id": {"type": "string"},
        "client_secret": {"type": "string"},
        "scope": {"type": "string", "description": "space-separated: " + " ".join(SCOPES)},
    },
}
_PASSWORD_BODY = {
    "type": "object",
    "required": ["username", "password"],
    "properties": {
        "username": {"type": "string", "minLength": 1, "maxLength": 64},
        "password": {"type": "string", "minLength": 1, "maxLength": 256},
    },
    "additionalProperties": False,
}


def token_seconds() -> int:
    return int(current_app.config.get("HALL_CLIENT_TOKEN_SECONDS", DEFAULT_TOKEN_SECONDS))


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="hall-client-token")


class _Client(ClientMixin):  # type: ignore[misc]
    """What Authlib asks of a client; the secret is checked against its stored hash."""

    def __init__(self, client_id: str) -> None:
        self.client_id = client_id
        self.client: ApiClient | None = None

    def get_client_id(self) -> str:
        return self.client_id

    def check_client_secret(self, client_secret: str) -> bool:
        self.client = hall_services().clients.authenticate(self.client_id, client_secret)
        return self.client is not None

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in ("client_secret_basic", "client_secret_post") and endpoint == "token"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "client_credentials"

    def get_allowed_scope(self, scope: str | None) -> str:
        granted = self.client.scopes if self.client is not None else ()
        if not scope:
            return " ".join(granted)
        return " ".join(s for s in scope.split() if s in granted)


class _Grant(grants.ClientCredentialsGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]  # noqa: RUF012

    def validate_requested_scope(self) -> None:
        """Unknown scopes, or scopes the client was not given, are ``invalid_scope``."""
        super().validate_requested_scope()
        wanted = (self.request.payload.scope or "").split()
        client: ApiClient | None = self.request.client.client
        if client is not None and not set(wanted) <= set(client.scopes):
            raise InvalidScopeError(description="the client was not given every scope asked for")


class _Payload(FlaskOAuth2Payload):  # type: ignore[misc]
    """The grant's parameters from a form or from a JSON object."""

    @property
    def data(self) -> Any:
        return _parameters()


class _Request(FlaskOAuth2Request):  # type: ignore[misc]
    def __init__(self, flask_request: Any) -> None:
        super().__init__(flask_request)
        self.payload = _Payload(flask_request)

    @property
    def form(self) -> Any:
        return _parameters()


def _parameters() -> Any:
    cached = g.get("oauth_parameters")
    if cached is not None:
        return cached
    body = request.get_json(silent=True) if request.is_json else None
    if isinstance(body, dict):
        flat = {k: v for k, v in body.items() if isinstance(k, str) and isinstance(v, str)}
        values: Any = CombinedMultiDict([MultiDict(flat), request.args])
    else:
        values = request.values
    g.oauth_parameters = values
    return values


class _Server(AuthorizationServer):  # type: ignore[misc]
    def create_oauth2_request(self, flask_request: Any) -> Any:
        return _Request(request)

    def handle_response(self, status_code: int, payload: Any, headers: Any) -> Response:
        """RFC 6749 JSON, with the house's ``message`` beside ``error_description``."""
        if isinstance(payload, dict) and "error" in payload:
            described = payload.get("error_description") or ERRORS.get(payload["error"], "")
            payload = {
                **payload,
                "error_description": described or payload["error"],
                "message": described or payload["error"],
            }
        headers = [(k, v) for k, v in headers if k.lower() != "content-type"]
        response = Response(json.dumps(payload), status=status_code, headers=headers)
        response.mimetype = "application/json"
        return response


def _access_token(client: _Client, grant_type: str, user: Any, scope: str) -> str:
    assert client.client is not None
    data = {"c": client.client_id, "v": client.client.credential_version, "s": scope.split()}
    return str(_serializer().dumps(data))


def init_clients(app: Any) -> None:
    """The authorization server of this app (client credentials only)."""
    server = _Server(query_client=lambda client_id: _Client(str(client_id)), save_token=_no_store)
    server.scopes_supported = list(SCOPES)
    server.register_token_generator(
        "default",
        BearerTokenGenerator(
            _access_token,
            None,
            lambda client, grant_type: token_seconds(),
        ),
    )
    server.register_grant(_Grant)
    app.extensions["hall_oauth"] = server
    earlier = app.spec_callback  # APIFlask keeps one processor: run the one before ours too
    app.spec_processor(lambda spec: _document_token(earlier(spec) if earlier else spec))


def _document_token(spec: dict[Any, Any] | str) -> dict[Any, Any] | str:
    """The token endpoint takes staff JSON, or a client credentials form or JSON."""
    if isinstance(spec, str):
        return spec
    operation = spec.get("paths", {}).get(TOKEN_PATH, {}).get("post")
    if operation is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {
                "application/json": {"schema": {"oneOf": [_PASSWORD_BODY, _CREDENTIALS_BODY]}},
                "application/x-www-form-urlencoded": {"schema": _CREDENTIALS_BODY},
            },
        }
    return spec


def _no_store(token: dict[str, Any], oauth_request: Any) -> None:
    """Tokens are signed, not stored: the credential version inside them is what is checked."""


def wants_client_credentials() -> bool:
    return "grant_type" in _parameters()


def client_token_response() -> Response:
    server: _Server = current_app.extensions["hall_oauth"]
    return server.create_token_response()  # type: ignore[no-any-return]


def current_client() -> ApiClient | None:
    """The API client behind this request's bearer token, or None."""
    if "api_client" in g:
        return g.api_client  # type: ignore[no-any-return]
    found: ApiClient | None = None
    g.client_scopes = ()
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        try:
            data = _serializer().loads(header[7:].strip(), max_age=token_seconds())
        except (BadSignature, SignatureExpired):
            data = None
        if isinstance(data, dict) and isinstance(data.get("c"), str):
            version = data.get("v")
            if type(version) is int:
                found = hall_services().clients.badge(data["c"], version)
            if found is not None:
                g.client_scopes = tuple(s for s in data.get("s") or () if s in found.scopes)
    g.api_client = found
    return found


def client_may(scope: str, hall: str | None = None) -> bool:
    client = current_client()
    return client is not None and scope in g.client_scopes and client.may(scope, hall)


def insufficient_scope(scope: str) -> Response:
    """403 ``insufficient_scope`` (RFC 6750 §3.1), with the scope needed."""
    response = error_response(
        403, "insufficient_scope", f"this needs the scope {scope} (in this hall)", scope=scope
    )
    response.headers["WWW-Authenticate"] = f'Bearer error="insufficient_scope", scope="{scope}"'
    return response


def client_key(prefix: str) -> Callable[[], str]:
    """A rate-limit key of the calling client (for its quotas)."""

    def key() -> str:
        client = current_client()
        return f"{prefix}:client:{client.client_id if client else 'none'}"

    return key


def client_quota(scope: str) -> Callable[[], str]:
    """The calling client's quota for ``scope``: its own, else ``HALL_CLIENT_QUOTA``."""

    def limit() -> str:
        client = current_client()
        mine = client.quotas.get(scope) if client is not None else None
        return str(mine or current_app.config.get("HALL_CLIENT_QUOTA", "600 per minute"))

    return limit


def no_client() -> bool:
    return current_client() is None
