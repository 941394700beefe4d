"""The HTTP API (``/api/v1``), described by the OpenAPI document at ``/api/v1/openapi.json``."""

from flask.blueprints import BlueprintSetupState

from ..booking import init_booking
from . import appointments, evaluations
from .routes import api


def _set_up_booking(state: BlueprintSetupState) -> None:
    """Appointments and 好差评 share the app's queue engine (set up once per app)."""
    init_booking(state.app)  # type: ignore[arg-type]


api.record_once(_set_up_booking)

__all__ = ["api", "appointments", "evaluations"]
