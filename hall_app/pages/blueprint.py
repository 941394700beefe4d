"""The pages blueprint itself: every page module adds its routes to this one object."""

from __future__ import annotations

from flask import Blueprint

pages = Blueprint(
    "pages",
    __name__,
    template_folder="../templates",
    static_folder="../static",
    static_url_path="/static",
)
