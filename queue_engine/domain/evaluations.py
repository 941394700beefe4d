"""好差评: one rating per finished visit, and the follow-up case a bad review opens.

Like a restaurant's comment card with a manager who must ring back every unhappy guest: a
rating of 1 or 2 opens a case with a deadline in working days. The supervisor calls the
citizen back, has the problem put right, and closes the case once the citizen rates again.
A malicious or mistaken bad review can be appealed and excluded, always with a reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from queue_engine.domain.errors import InvalidInput, InvalidTransition
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


class CaseStatus(StrEnum):
    OPEN = "open"
    CALLED_BACK = "called_back"
    RECTIFIED = "rectified"
    CLOSED = "closed"
    EXCLUDED = "excluded"


class CaseAction(StrEnum):
    CALL_BACK = "call-back"
    RECTIFY = "rectify"
    CLOSE = "close"
    APPEAL = "appeal"


# action → (states it may start from, state it leads to)
TRANSITIONS: Mapping[CaseAction, tuple[frozenset[CaseStatus], CaseStatus]] = {
    CaseAction.CALL_BACK: (frozenset({CaseStatus.OPEN}), CaseStatus.CALLED_BACK),
    CaseAction.RECTIFY: (frozenset({CaseStatus.CALLED_BACK}), CaseStatus.RECTIFIED),
    CaseAction.CLOSE: (frozenset({CaseStatus.RECTIFIED}), CaseStatus.CLOSED),
    CaseAction.APPEAL: (
        frozenset({CaseStatus.OPEN, CaseStatus.CALLED_BACK, CaseStatus.RECTIFIED}),
        CaseStatus.EXCLUDED,
    ),
}
FINAL_CASE_STATES = frozenset({CaseStatus.CLOSED, CaseStatus.EXCLUDED})


def parse_action(value: str) -> CaseAction:
    try:
        return CaseAction(value)
    except ValueError:
        raise InvalidInput(f"unknown case action {value!r}") from None


def next_status(
    current: CaseStatus, action: CaseAction, note: str = "", rerating: int | None = None
) -> CaseStatus:
    """The state after ``action``; an appeal needs a reason, a close may carry a re-rating."""
    allowed, target = TRANSITIONS[action]
    if current not in allowed:
        raise InvalidTransition(f"a case that is {current} cannot take the action {action}")
    if action is CaseAction.APPEAL and not note.strip():
        raise InvalidInput("an appeal needs a reason")
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
