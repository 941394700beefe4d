"""好差评: one rating per finished visit, and the follow-up case a bad review opens.

Like a restaurant's comment card with a manager who must ring back every unhappy guest: a
rating of 1 or 2 opens a case with a deadline in working days. The supervisor calls the
citizen back, has the problem put right, and closes the case once the citizen rates again.
A malicious or mistaken bad review can be appealed and excluded, always with a reason.

The figures a hall is judged by must not be writable by the people they judge, so a rating
comes in through one of two doors only. At the window, the evaluator screen rates the
window's current visit, and only from the device bound to that window or from the session of
the clerk who has the window open and handled that visit. Anywhere else, a rating needs the
ticket's rating key: a secret handed to the citizen with the ticket (printed as the slip's QR
code, or given with a ticket taken online), an HMAC of the ticket id under a server key, so
that nobody who only sees the ticket id (a clerk's call-next answer, a supervisor's view, the
event log) can compute it. Each rating records the channel it came in by.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from queue_engine.domain.access import Actor, Role
from queue_engine.domain.errors import Forbidden, InvalidInput, InvalidTransition
from queue_engine.domain.workdays import add_working_days

SCORE_LABELS: Mapping[int, str] = {
    5: "非常满意",
    4: "满意",
    3: "基本满意",
    2: "不满意",
    1: "非常不满意",
}
MAX_COMMENT = 500
MAX_REASON = 500


def check_score(score: int) -> int:
    if isinstance(score, bool) or score not in SCORE_LABELS:
        raise InvalidInput("a rating is a whole number from 1 to 5")
    return score


def check_comment(comment: str | None) -> str:
    text = (comment or "").strip()
    if len(text) > MAX_COMMENT:
        raise InvalidInput(f"a comment has at most {MAX_COMMENT} characters")
    return text


def is_bad_review(score: int) -> bool:
    return score <= 2


# -- who may rate, and by which channel --------------------------------------------------------


class RatingChannel(StrEnum):
    """How a rating came in; stored with it and in the ``evaluation`` event's payload."""

    EVALUATOR = "evaluator"  # the device account bound to the window as its evaluator
    EVALUATOR_CLERK = "evaluator_clerk"  # the window's evaluator in its own clerk's session
    SLIP_QR = "slip_qr"  # the key printed as the QR code of a kiosk slip
    TICKET_PAGE = "ticket_page"  # the key given with a ticket taken on the web
    APP = "app"  # the key given to the city app with its ticket
    INVITATION = "invitation"  # the key in the SMS/push link of a rating invitation
    RATE_LATER = "rate_later"  # the invitation the clerk's "rate later" sends a citizen who left


# The channels a rating key is made for: each hand-over of a ticket has its own key, so the
# key a rating brings tells which hand-over it came from.
KEY_CHANNELS = (
    RatingChannel.SLIP_QR,
    RatingChannel.TICKET_PAGE,
    RatingChannel.APP,
    RatingChannel.INVITATION,
    RatingChannel.RATE_LATER,
)
# Which key the holder of a ticket gets, by the channel the ticket was taken by.
HANDOVER_CHANNEL: Mapping[str, RatingChannel] = {
    "kiosk": RatingChannel.SLIP_QR,
    "appointment": RatingChannel.SLIP_QR,  # checked in at a kiosk: the slip again
    "web": RatingChannel.TICKET_PAGE,
    "app": RatingChannel.APP,
}
KEY_BYTES = 15  # 120 bits: 20 characters of URL-safe base64
MAX_KEY_LENGTH = 64


def rating_key(secret: bytes, ticket_id: str, channel: RatingChannel) -> str:
    """The rating key of a ticket for one channel: HMAC-SHA256 under the server's secret."""
    message = f"rating:{channel}:{ticket_id}".encode()
    digest = hmac.new(secret, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:KEY_BYTES]).decode()


def key_channel(secret: bytes, ticket_id: str, key: str | None) -> RatingChannel:
    """The channel whose key ``key`` is, or ``Forbidden`` (a missing key as a wrong one)."""
    if key and len(key) <= MAX_KEY_LENGTH:
        for channel in KEY_CHANNELS:
            if hmac.compare_digest(rating_key(secret, ticket_id, channel), key):
                return channel
    raise Forbidden(
        "a rating needs the rating key of the ticket (its slip's QR code or ticket page)",
        code="rating_key",
    )


def evaluator_standing(
    actor: Actor, device: str | None, window_clerk: str | None
) -> RatingChannel | None:
    """Which evaluator of a window this session is: its bound device, its own clerk, or none.

    A kiosk account rates at a window only when an administrator bound it to that window; a
    staff session rates only at the window it has open. Supervisors, administrators and other
    clerks are none of these, and a kiosk account that is not bound never rates.
    """
    if actor.role is Role.KIOSK:
        return RatingChannel.EVALUATOR if device is not None and actor.username == device else None
    if window_clerk is not None and actor.username == window_clerk:
        return RatingChannel.EVALUATOR_CLERK
    return None


def may_rate_visit(
    actor: Actor, device: str | None, window_clerk: str | None, visit_clerk: str | None
) -> RatingChannel | None:
    """The channel of a rating of a window's current visit by this session, if it may rate it.

    The window's clerk rates only a visit it handled itself, never one a colleague handled at
    the same window before taking it over.
    """
    standing = evaluator_standing(actor, device, window_clerk)
    if standing is RatingChannel.EVALUATOR_CLERK and visit_clerk != actor.username:
        return None
    return standing


def require_evaluator(actor: Actor, device: str | None, window_clerk: str | None) -> RatingChannel:
    """``evaluator_standing``, or ``Forbidden`` for a session that is no evaluator here."""
    standing = evaluator_standing(actor, device, window_clerk)
    if standing is None:
        raise _not_the_evaluator()
    return standing


def window_rating_channel(
    actor: Actor, device: str | None, window_clerk: str | None, visit_clerk: str | None
) -> RatingChannel:
    """``may_rate_visit``, or ``Forbidden`` for a session that may not rate this visit."""
    channel = may_rate_visit(actor, device, window_clerk, visit_clerk)
    if channel is None:
        raise _not_the_evaluator()
    return channel


def _not_the_evaluator() -> Forbidden:
    return Forbidden(
        "only the device bound to this window, or the clerk who has it open and served this "
        "visit, rates at its evaluator",
        code="not_window_evaluator",
    )


class CaseStatus(StrEnum):
    OPEN = "open"
    CALLED_BACK = "called_back"
    RECTIFIED = "rectified"
    CLOSED = "closed"
    EXCLUDED = "excluded"


class CaseAction(StrEnum):
    CALL_BACK = "call-back"  # 回访
    RECTIFY = "rectify"  # 整改
    EXPLAIN = "explain"  # 解释说明: closed without a repair, with the explanation
    CLOSE = "close"
    APPEAL = "appeal"  # files an appeal (domain.appeals); a second person decides it


# action → (states it may start from, state it leads to)
TRANSITIONS: Mapping[CaseAction, tuple[frozenset[CaseStatus], CaseStatus]] = {
    CaseAction.CALL_BACK: (frozenset({CaseStatus.OPEN}), CaseStatus.CALLED_BACK),
    CaseAction.RECTIFY: (frozenset({CaseStatus.CALLED_BACK}), CaseStatus.RECTIFIED),
    CaseAction.EXPLAIN: (frozenset({CaseStatus.CALLED_BACK}), CaseStatus.CLOSED),
    CaseAction.CLOSE: (frozenset({CaseStatus.RECTIFIED}), CaseStatus.CLOSED),
}
# An appeal is filed on a case still being worked, or closed (a closed review may still be
# unjust); an upheld one moves the case to EXCLUDED.
APPEALABLE = frozenset(
    {CaseStatus.OPEN, CaseStatus.CALLED_BACK, CaseStatus.RECTIFIED, CaseStatus.CLOSED}
)
FINAL_CASE_STATES = frozenset({CaseStatus.CLOSED, CaseStatus.EXCLUDED})


def parse_action(value: str) -> CaseAction:
    try:
        return CaseAction(value)
    except ValueError:
        raise InvalidInput(f"unknown case action {value!r}") from None


def next_status(
    current: CaseStatus, action: CaseAction, note: str = "", rerating: int | None = None
) -> CaseStatus:
    """The state after ``action``; an explanation needs its text, a close may carry a re-rating.

    Appeals are not a transition: ``domain.appeals`` files and decides them.
    """
    if action is CaseAction.APPEAL:
        raise InvalidTransition("an appeal is filed, and decided by a second person")
    allowed, target = TRANSITIONS[action]
    if current not in allowed:
        raise InvalidTransition(f"a case that is {current} cannot take the action {action}")
    if action is CaseAction.EXPLAIN and not note.strip():
        raise InvalidInput("closing with an explanation (解释说明) needs the explanation")
    if len(note) > MAX_REASON:
        raise InvalidInput(f"a note has at most {MAX_REASON} characters")
    if rerating is not None:
        if action is not CaseAction.CLOSE:
            raise InvalidInput("only closing a case records a re-rating")
        check_score(rerating)
    return target


def follow_up_deadline(opened: date, working_days: int) -> date:
    return add_working_days(opened, working_days)


def is_overdue(status: CaseStatus, deadline: date, today: date) -> bool:
    return status not in FINAL_CASE_STATES and today > deadline


def choose_supervisor(open_cases: Mapping[str, int]) -> str | None:
    """The least-loaded supervisor (fewest open cases), ties by name; None if there is none."""
    if not open_cases:
        return None
    return min(open_cases, key=lambda name: (open_cases[name], name))


@dataclass(frozen=True)
class CaseView:
    id: int
    hall: str
    ticket_number: str
    service: str
    window: str | None
    score: int
    comment: str
    status: CaseStatus
    supervisor: str | None
    opened_at: datetime
    deadline: date
    overdue: bool
    note: str
    rerating: int | None
    callback_deadline: date | None = None
    called_back_at: datetime | None = None
    callback_overdue: bool = False
    resolution: str | None = None  # rectified / explained
    resolved_at: datetime | None = None
    rectification_rating: str | None = None  # the citizen's, or the hall's default after the days
    clerk: str | None = None
    reasons: tuple[str, ...] = ()
    appeal: str | None = None  # the latest appeal's status
