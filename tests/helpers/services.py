"""The outside services some tests need: PostgreSQL, Redis, chromium, nginx.

Without one, such a test is skipped; ``HALL_REQUIRE_SERVICES=1`` (what ``.ci/run`` sets) makes
it fail instead, so that a run cannot pass by skipping what it was meant to test.
"""

from __future__ import annotations

import os

import pytest

REQUIRE_SERVICES = os.environ.get("HALL_REQUIRE_SERVICES") == "1"


def unavailable(what: str) -> None:
    """Skip, or fail when the run requires every service."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{what} is required (HALL_REQUIRE_SERVICES=1) but unavailable")
    pytest.skip(f"{what} unavailable")
