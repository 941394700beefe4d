"""Configuration in one place, read from the environment with safe defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    database_url: str
    message_queue: str | None
    message_channel: str
    secret_key: str | None
    instance_path: Path

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if environ is None else environ)
        instance = Path(env.get("HALL_INSTANCE_PATH", Path.cwd() / "instance")).resolve()
        default_db = f"sqlite:///{instance / 'hall.db'}"
        return cls(
            database_url=env.get("HALL_DATABASE_URL") or default_db,
            message_queue=env.get("HALL_MESSAGE_QUEUE") or None,
            message_channel=env.get("HALL_MESSAGE_CHANNEL") or "hall-live",
            secret_key=env.get("HALL_SECRET_KEY") or None,
            instance_path=instance,
        )
