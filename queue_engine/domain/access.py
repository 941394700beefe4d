"""Who may do what, where: the one access rule of the hall, for every door into it.

Think of the badge a member of staff wears: it names a role and, for most, one hall. Every
door (an API route, a page, a Socket.IO room, the administration desk) reads the same badge
with the same rule, so a door cannot be more lenient than the others by accident:

- a role is enough when it is one of the roles the door names; an administrator's badge opens
  every role's door;
- a badge bound to a hall opens doors of that hall only, whatever its role (administrators
  included); a badge bound to no hall is a deployment-wide account;
- at a window, a clerk acts only where it opened the window; an administrator of the hall may
  act at any of its windows, but only by saying so (the web's ``X-Hall-Override``, audited).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from queue_engine.domain.errors import Forbidden, InvalidInput


class Role(StrEnum):
    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    CLERK = "clerk"
    KIOSK = "kiosk"


def parse_role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise InvalidInput(f"unknown role {value!r}; use one of {', '.join(Role)}") from None


@dataclass(frozen=True)
class Actor:
    """A signed-in member of staff (or the command line): the badge every door reads."""

    username: str
    role: Role
    hall: str | None = None  # None: every hall of the deployment
    display_name: str = ""

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN


def has_role(actor: Actor, *roles: Role) -> bool:
    """One of ``roles`` (an administrator has every role)."""
    return actor.role is Role.ADMIN or actor.role in roles


def in_hall(actor: Actor, hall: str) -> bool:
    """A hall-bound account works in its own hall only; an unbound one everywhere."""
    return actor.hall is None or actor.hall == hall


def may(actor: Actor, hall: str | None, *roles: Role) -> bool:
    """The rule: the right role, and (for a hall's business) the right hall."""
    return has_role(actor, *roles) and (hall is None or in_hall(actor, hall))


def may_read(actor: Actor, hall: str) -> bool:
    """A hall's administration and supervision: its supervisors and administrators read it."""
    return may(actor, hall, Role.SUPERVISOR)


def may_write(actor: Actor, hall: str) -> bool:
    """A hall's configuration: its administrators change it."""
    return may(actor, hall)


def require(actor: Actor, hall: str | None, *roles: Role) -> None:
    """Raise ``Forbidden`` unless ``may(actor, hall, *roles)``; the message says which part."""
    if not has_role(actor, *roles):
        raise Forbidden(f"this needs the role {' or '.join(roles) or Role.ADMIN}")
    if hall is not None and not in_hall(actor, hall):
        raise Forbidden(f"your account belongs to hall {actor.hall}, not {hall}")


def acting_clerk(actor: Actor) -> str | None:
    """Whose window an overriding action must be: ``None`` (any) for an administrator.

    Called only once the override was asked for and the hall checked; everybody else acts as
    themselves, at the window they opened.
    """
    return None if actor.is_admin else actor.username


@dataclass
class AuditEntry:
    """The staff action behind a request: written in the transaction of the change it makes.

    The web layer hands it to the desks explicitly (``desk.acting(entry)``); a unit of work
    that commits a change records it once, and ``recorded`` tells the web layer not to write
    a second, generic record for the same request.
    """

    actor: str
    role: str
    action: str
    target: str
    remote_addr: str
    recorded: bool = False
