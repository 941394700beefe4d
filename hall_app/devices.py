"""Evaluator devices: a window's 好差评 screen signed in as a kiosk account bound to it.

Who may *open* a window's evaluator screen: the hall's clerks, and its kiosk accounts unless
another account is bound to the window; a bound account opens only its own window's screen
(and lands there after signing in). Who may *rate* there is narrower, and decided by the
evaluation desk (``domain.evaluations.may_rate_visit``): the device bound to the window, or
the clerk who has the window open for a visit it served. Any other session sees the screen
idle and its ratings are refused.
"""

from __future__ import annotations

from flask import abort

from queue_engine.domain.access import Actor, Role
from queue_engine.services.admin import evaluator_binding

from .state import hall_services


def check_evaluator(user: Actor, window_id: int) -> None:
    """403 when a kiosk account may not be this window's evaluator screen."""
    if user.role is not Role.KIOSK:
        return
    device, own = evaluator_binding(hall_services().db, window_id, user.username)
    if own is not None and own != window_id:
        abort(403)
    if device is not None and device != user.username:
        abort(403)


def evaluator_window(user: Actor) -> int | None:
    """The window whose evaluator this account is, if it is bound to one."""
    if user.role is not Role.KIOSK:
        return None
    return evaluator_binding(hall_services().db, 0, user.username)[1]
