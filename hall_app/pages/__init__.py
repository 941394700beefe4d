"""Browser pages: kiosk, clerk console, citizen ticket page, staff login."""

from .routes import pages

__all__ = ["pages"]
