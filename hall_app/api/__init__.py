"""The HTTP API (``/api/v1``), described by the OpenAPI document at ``/api/v1/openapi.json``."""

from . import appointments, counter, efficiency, evaluations, integrations, push
from .routes import api

__all__ = ["api", "appointments", "counter", "efficiency", "evaluations", "integrations", "push"]
