"""Administration: halls, services, windows and skills, rules and users (API, pages, CLI)."""

from . import clients_api, clients_pages
from .api import admin_api
from .pages import admin_pages

__all__ = ["admin_api", "admin_pages", "clients_api", "clients_pages"]
