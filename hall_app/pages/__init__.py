"""Browser pages: kiosk, clerk console, citizen ticket page, booking, evaluator, staff login."""

from . import booking, citizen, clerk, evaluations, kiosk, routes, session
from .blueprint import pages

__all__ = ["booking", "citizen", "clerk", "evaluations", "kiosk", "pages", "routes", "session"]
