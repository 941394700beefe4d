"""One loopback cluster per test module: 3 gunicorn processes behind nginx, PostgreSQL, Redis.

The servers reach PostgreSQL and Redis through cuttable TCP proxies (deploy/tcpproxy.py), so
the fault tests can simulate outages without touching the machine's real servers. Missing
nginx, PostgreSQL or Redis: skip, or fail when HALL_REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
import redis
from sqlalchemy import create_engine, text

from deploy.cluster import POSTGRES_ADMIN_URL, REDIS_URL, Cluster, _psycopg, nginx_binary
from tests.helpers.services import unavailable


def _services_ready() -> None:
    try:
        nginx_binary()
    except RuntimeError as exc:
        unavailable(str(exc))
    try:
        with contextlib.closing(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)) as r:
            r.ping()
    except (redis.RedisError, OSError) as exc:
        unavailable(f"Redis at {REDIS_URL} ({exc.__class__.__name__})")
    engine = create_engine(_psycopg(POSTGRES_ADMIN_URL))
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # any failure means "no PostgreSQL here"
        unavailable(f"PostgreSQL at {POSTGRES_ADMIN_URL} ({exc.__class__.__name__})")
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    _services_ready()
    with Cluster(
        processes=3,
        proxies=True,
        threads=64,
        env={
            "HALL_RATE_LIMIT_TICKETS": "100000 per minute",
            "HALL_PLANNER_REPAIR": "check",
            "HALL_PLANNER_SOLVE_SECONDS": "2",
        },
    ) as running:
        yield running
