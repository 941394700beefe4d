"""Evaluator devices: a window's 好差评 screen signed in as a kiosk account bound to it.

Without a binding, the window's clerk or any kiosk account of the hall may open the evaluator
(as before). Once an administrator binds a device account to a window, that account opens only
that window's evaluator (and lands there after signing in), and other kiosk accounts may not
open it; the window's clerks still can.
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
