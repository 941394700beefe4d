"""The rating key of a ticket, handed to its holder with the ticket and to nobody else.

Only the answers that go to the person taking the ticket carry it: the kiosk's (which prints
it as the slip's QR code), the app's and the web's, and the kiosk's check-in of an
appointment. Every other answer about a ticket (call-next, a window's queue, the supervisors'
views, live rooms, the event log) is built without it.
"""

from __future__ import annotations

from typing import Any

from ..state import hall_services


def with_rating_key(ticket: dict[str, Any]) -> dict[str, Any]:
    """``ticket`` (the JSON of a ticket just issued) with its holder's ``rating_key``."""
    ratings = hall_services().evaluations
    return {**ticket, "rating_key": ratings.holder_key(ticket["id"], ticket["channel"])}
