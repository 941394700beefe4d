"""Where a deployment keeps its data, read from the environment: no web app needed.

The web app's ``Settings``, the ``hall`` command and the planner all ask here, so the instance
folder and the database a process uses when nothing is set are decided in one place.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path


def instance_path(env: Mapping[str, str] | None = None) -> Path:
    """``HALL_INSTANCE_PATH``, else ``instance/`` in the working directory."""
    env = os.environ if env is None else env
    return Path(env.get("HALL_INSTANCE_PATH", Path.cwd() / "instance")).resolve()


def database_url(env: Mapping[str, str] | None = None) -> str:
    """``HALL_DATABASE_URL``, else an SQLite file in the instance folder."""
    env = os.environ if env is None else env
    return env.get("HALL_DATABASE_URL") or f"sqlite:///{instance_path(env) / 'hall.db'}"
