"""The halls of this deployment, as the pages list them."""

from __future__ import annotations

from queue_engine.domain.model import HallConfig

from ..state import hall_services


def list_halls() -> list[HallConfig]:
    """Every hall, by code (name, notice line and the rest of its configuration)."""
    return hall_services().engine.halls()


def first_hall() -> str | None:
    halls = list_halls()
    return halls[0].code if halls else None
