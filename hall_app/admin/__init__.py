"""Administration: halls, services, windows and skills, rules and users (API, pages, CLI)."""

from .api import admin_api
from .pages import admin_pages

__all__ = ["admin_api", "admin_pages"]
