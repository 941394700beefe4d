"""Configuration in one place, read from the environment with safe defaults.

Development needs nothing set. Production (``HALL_ENV=production``) refuses to start unless
its secrets come from the environment: the session/token key and the key of the PII hashes.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from dataclasses import dataclass
from datetime import time as dt_time
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from queue_engine.adapters.database import configured_url, instance_folder
from queue_engine.domain.outbox import DeliveryRules

MIN_SECRET_LENGTH = 32
MIN_METRICS_TOKEN = 16
DEFAULT_LIMITS = {
    "tickets": "30 per minute; 300 per hour",  # public (app/web) tickets per client address
    "login": "50 per 10 minutes",  # FAILED sign-ins per client address (successes never count)
}
LOOPBACK = ("127.0.0.1/32", "::1/128")
DEFAULT_CARD_READER = "http://127.0.0.1:18650"
MAX_CONTENT_LENGTH = 2 * 1024 * 1024  # bytes; the planner's longest scenario, escaped, fits


class ConfigError(RuntimeError):
    """The environment does not describe a configuration this process may run with."""


def _count(env: dict[str, str], name: str, default: int, least: int) -> int:
    value = (env.get(name) or "").strip()
    if not value:
        return default
    if not value.isdigit() or int(value) < least:
        raise ConfigError(f"{name} must be a whole number of at least {least}, not {value!r}")
    return int(value)


def _networks(env: dict[str, str], name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    value = env.get(name)
    if value is None:
        return default
    try:
        return tuple(str(ipaddress.ip_network(part, strict=False)) for part in value.split())
    except ValueError:
        message = f"{name} lists addresses or networks (10.0.0.0/8 ::1), not {value!r}"
        raise ConfigError(message) from None


@dataclass(frozen=True)
class Settings:
    database_url: str
    message_queue: str | None
    message_channel: str
    secret_key: str | None
    instance_path: Path
    env: str = "development"
    cors_origins: tuple[str, ...] = ()
    proxy_count: int = 0
    ratelimit_storage: str | None = None
    rate_limits: tuple[tuple[str, str], ...] = tuple(DEFAULT_LIMITS.items())
    log_format: str = "text"
    https: bool = False
    node: str = ""
    # Database connections per process on a server database: processes × (size + overflow)
    # must stay under PostgreSQL's max_connections (100 by default).
    db_pool_size: int = 10
    db_max_overflow: int = 10
    # Page sessions: a working day at most, and ended by a long idle spell (a lunch break
    # passes: evaluator and kiosk screens make no page request while nobody uses them).
    session_hours: int = 10
    session_idle_minutes: int = 240
    # Sign-in failures of one account before it is locked; the first lock's length (doubled
    # for each further lock within a day, up to an hour).
    login_lock_after: int = 10
    login_lock_seconds: int = 60
    metrics_token: str | None = None
    metrics_allow: tuple[str, ...] = LOOPBACK
    # The largest request body, in bytes (larger ones get 413 before they are read).
    max_content_length: int = MAX_CONTENT_LENGTH
    # The kiosk PC's card-reader bridge (issue 18): the kiosk page polls ``GET {url}/card``.
    card_reader_url: str = DEFAULT_CARD_READER
    # issue 18: the identity platform of electronic IDs / the app's QR codes (adapters.eid)
    eid_url: str = ""
    eid_app_id: str = ""
    eid_key: str = ""

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def ratelimit_options(self) -> dict[str, float]:
        """Short timeouts for a Redis rate-limit store, so that an outage costs no request."""
        storage = self.ratelimit_storage or ""
        return {"socket_connect_timeout": 0.5, "socket_timeout": 0.5} if "redis" in storage else {}

    def web_config(self) -> dict[str, Any]:
        """The Flask configuration of sessions, sign-in limits and the metrics gate."""
        return {
            "PERMANENT_SESSION_LIFETIME": timedelta(minutes=self.session_idle_minutes),
            "HALL_SESSION_HOURS": self.session_hours,
            "HALL_LOGIN_LOCK_AFTER": self.login_lock_after,
            "HALL_LOGIN_LOCK_SECONDS": self.login_lock_seconds,
            # Deployments sharing a Redis keep their counters apart, as their live channels.
            "HALL_LOGIN_KEY_PREFIX": f"{self.message_channel}:login",
            "HALL_METRICS_TOKEN": self.metrics_token,
            "HALL_METRICS_ALLOW": self.metrics_allow,
            "HALL_CARD_READER_URL": self.card_reader_url,
            "HALL_EID_URL": self.eid_url,
            "HALL_EID_APP_ID": self.eid_app_id,
            "HALL_EID_KEY": self.eid_key,
        }

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if environ is None else environ)
        instance = instance_folder(env)
        queue = env.get("HALL_MESSAGE_QUEUE") or None
        mode = (env.get("HALL_ENV") or "development").strip().lower()
        metrics_token = env.get("HALL_METRICS_TOKEN") or None
        limits = {
            name: env.get(f"HALL_RATE_LIMIT_{name.upper()}") or default
            for name, default in DEFAULT_LIMITS.items()
        }
        return cls(
            database_url=configured_url(env),
            message_queue=queue,
            message_channel=env.get("HALL_MESSAGE_CHANNEL") or "hall-live",
            secret_key=env.get("HALL_SECRET_KEY") or None,
            instance_path=instance,
            env=mode,
            cors_origins=tuple(o for o in (env.get("HALL_CORS_ORIGINS") or "").split() if o),
            proxy_count=int(env.get("HALL_PROXY_COUNT") or 0),
            ratelimit_storage=env.get("HALL_RATELIMIT_STORAGE") or queue,
            rate_limits=tuple(limits.items()),
            log_format=env.get("HALL_LOG_FORMAT") or ("json" if mode == "production" else "text"),
            https=(env.get("HALL_HTTPS") or "") == "1",
            node=env.get("HALL_NODE") or f"{os.uname().nodename}-{os.getpid()}",
            db_pool_size=_count(env, "HALL_DB_POOL_SIZE", 10, least=1),
            db_max_overflow=_count(env, "HALL_DB_MAX_OVERFLOW", 10, least=0),
            session_hours=_count(env, "HALL_SESSION_HOURS", 10, least=1),
            session_idle_minutes=_count(env, "HALL_SESSION_IDLE_MINUTES", 240, least=5),
            login_lock_after=_count(env, "HALL_LOGIN_LOCK_AFTER", 10, least=1),
            login_lock_seconds=_count(env, "HALL_LOGIN_LOCK_SECONDS", 60, least=1),
            metrics_token=metrics_token,
            # With a token, only the token opens /metrics unless addresses are listed too.
            metrics_allow=_networks(env, "HALL_METRICS_ALLOW", () if metrics_token else LOOPBACK),
            max_content_length=_count(
                env, "HALL_MAX_CONTENT_LENGTH", MAX_CONTENT_LENGTH, least=64 * 1024
            ),
            card_reader_url=card_reader_origin(
                env.get("HALL_CARD_READER_URL") or DEFAULT_CARD_READER
            ),
            eid_url=eid_url(env.get("HALL_EID_URL") or ""),
            eid_app_id=env.get("HALL_EID_APP_ID") or "",
            eid_key=env.get("HALL_EID_KEY") or "",
        )

    def check(self, environ: dict[str, str] | None = None) -> None:
        """Refuse production without secrets from the environment (never generated files)."""
        if self.metrics_token is not None and len(self.metrics_token) < MIN_METRICS_TOKEN:
            raise ConfigError(f"HALL_METRICS_TOKEN needs at least {MIN_METRICS_TOKEN} characters")
        if not self.production:
            return
        env = os.environ if environ is None else environ
        if not self.secret_key or len(self.secret_key) < MIN_SECRET_LENGTH:
            raise ConfigError(
                f"HALL_ENV=production needs HALL_SECRET_KEY (at least {MIN_SECRET_LENGTH} "
                "characters) from the environment, not the generated development key"
            )
        pepper = env.get("HALL_PII_PEPPER") or ""
        if len(pepper) < MIN_SECRET_LENGTH:
            raise ConfigError(
                f"HALL_ENV=production needs HALL_PII_PEPPER (at least {MIN_SECRET_LENGTH} "
                "characters) from the environment"
            )
        if self.eid_url and len(self.eid_key) < MIN_SECRET_LENGTH:
            raise ConfigError(
                f"HALL_EID_URL needs HALL_EID_KEY (at least {MIN_SECRET_LENGTH} characters)"
            )
        if pepper == self.secret_key:
            raise ConfigError("HALL_PII_PEPPER and HALL_SECRET_KEY must differ")
        if self.database_url.startswith("sqlite"):
            raise ConfigError("HALL_ENV=production needs HALL_DATABASE_URL of a PostgreSQL server")
        if not (env.get("HALL_PII_KEY") or "").strip():
            raise ConfigError(
                "HALL_ENV=production needs HALL_PII_KEY (base64 of 32 bytes, optionally ID:...) "
                "from the environment: phones are kept encrypted with it"
            )


def card_reader_origin(value: str) -> str:
    """``HALL_CARD_READER_URL`` as an origin (``http://127.0.0.1:18650``), for the kiosk's CSP."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/"):
        raise ConfigError(f"HALL_CARD_READER_URL must be http(s)://host[:port], not {value!r}")
    return f"{parts.scheme}://{parts.netloc}"


def eid_url(value: str) -> str:
    """``HALL_EID_URL``: empty (no QR codes at the kiosk) or an http(s) URL."""
    value = value.strip()
    if not value:
        return ""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"HALL_EID_URL must be an http(s) URL, not {value!r}")
    return value


def instance_secret(instance: Path, name: str, configured: str | None = None) -> str:
    """A secret from the environment, else a random one kept in the instance folder.

    The file is shared by the processes of one machine, so they sign and hash alike.
    """
    if configured:
        return configured
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / name
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def pii_pepper(instance: Path) -> bytes:
    """The key of ID and phone hashes: ``HALL_PII_PEPPER``, else a file in the instance folder.

    It is not the session secret, so rotating that secret keeps people recognisable.
    """
    return instance_secret(instance, "pii_pepper", os.environ.get("HALL_PII_PEPPER")).encode()


def _clock_time(value: str, name: str) -> dt_time:
    try:
        hour, minute = (int(p) for p in value.split(":"))
        return dt_time(hour, minute)
    except ValueError:
        raise ConfigError(f"{name} needs HH:MM-HH:MM (or off)") from None


def delivery_rules(env: dict[str, str] | None = None) -> DeliveryRules:
    """The outbox worker's rules from ``HALL_OUTBOX_*`` and ``HALL_NOTIFY_*`` (issue 17)."""
    env = dict(os.environ if env is None else env)
    quiet = (env.get("HALL_NOTIFY_QUIET") or "21:00-08:00").strip().lower()
    start, end = None, dt_time(8, 0)
    if quiet not in ("off", "none", ""):
        first, _, second = quiet.partition("-")
        start = _clock_time(first, "HALL_NOTIFY_QUIET")
        end = _clock_time(second, "HALL_NOTIFY_QUIET")
    return DeliveryRules(
        max_age=timedelta(minutes=_count(env, "HALL_OUTBOX_MAX_AGE_MINUTES", 60, least=1)),
        lease=timedelta(seconds=_count(env, "HALL_OUTBOX_LEASE_SECONDS", 60, least=5)),
        per_phone_hour=_count(env, "HALL_NOTIFY_PER_PHONE_HOUR", 10, least=0),
        quiet_start=start,
        quiet_end=end,
        purge_days=_count(env, "HALL_PII_PURGE_DAYS", 30, least=1),
        remind_day_hours=_count(env, "HALL_REMIND_DAY_HOURS", 24, least=0),
    )


def outbox_options(settings: Settings, env: dict[str, str] | None = None) -> dict[str, Any]:
    """What ``bootstrap`` needs for notices: the PII cipher, the channels, the rules."""
    from queue_engine.adapters.channels import build_channels
    from queue_engine.adapters.pii_crypto import PiiKeyError, cipher_from_env

    env = dict(os.environ if env is None else env)
    try:
        cipher = cipher_from_env(env, settings.instance_path, production=settings.production)
    except PiiKeyError as exc:
        raise ConfigError(str(exc)) from None
    return {
        "cipher": cipher,
        "channels": build_channels(env),
        "rules": delivery_rules(env),
        "public_url": env.get("HALL_PUBLIC_URL") or "",
        **webhook_options(env),
    }


def integration_config(env: dict[str, str] | None = None) -> dict[str, Any]:
    """API clients, webhooks and the queues widget (issue 20), as Flask configuration."""
    from limits import parse_many

    env = dict(os.environ if env is None else env)
    quota = (env.get("HALL_CLIENT_QUOTA") or "600 per minute").strip()
    try:
        parse_many(quota)
    except ValueError:
        message = f"HALL_CLIENT_QUOTA is a rate limit like '600 per minute', not {quota!r}"
        raise ConfigError(message) from None
    return {
        "HALL_CLIENT_TOKEN_SECONDS": _count(env, "HALL_CLIENT_TOKEN_SECONDS", 900, least=60),
        "HALL_CLIENT_QUOTA": quota,
        "HALL_QUEUES_CACHE_SECONDS": _count(env, "HALL_QUEUES_CACHE_SECONDS", 5, least=1),
    }


def webhook_options(env: dict[str, str] | None = None) -> dict[str, Any]:
    """What ``bootstrap`` needs for webhooks: the run of failures that disables one, the timeout."""
    env = dict(os.environ if env is None else env)
    try:
        timeout = float(env.get("HALL_WEBHOOK_TIMEOUT") or 10)
    except ValueError:
        raise ConfigError("HALL_WEBHOOK_TIMEOUT is a number of seconds") from None
    production = (env.get("HALL_ENV") or "development").strip().lower() == "production"
    private = (env.get("HALL_WEBHOOK_ALLOW_PRIVATE") or ("0" if production else "1")).strip()
    return {
        "webhook_disable_after": _count(env, "HALL_WEBHOOK_DISABLE_AFTER", 10, least=1),
        "webhook_timeout": timeout,
        "webhook_allow_private": private.lower() in ("1", "true", "yes", "on"),
    }
