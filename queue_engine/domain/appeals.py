"""申诉复核: a bad review contested, decided by a second person who is not the one it rates.

Like a referee's decision reviewed by another official, never by the player it went against:
anyone on the case (the rated clerk, a supervisor) files an appeal with its reason and may add
evidence notes while it waits; a supervisor who neither was rated nor filed it decides. Upheld,
the review leaves every figure; rejected, it stays. Each step is kept with who and when.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from queue_engine.domain.access import Actor, Role
from queue_engine.domain.errors import Conflict, Forbidden, InvalidInput

MAX_NOTE = 500
MAX_EVIDENCE = 20


class AppealStatus(StrEnum):
    PENDING = "pending"
    UPHELD = "upheld"  # the review is excluded from every figure
    REJECTED = "rejected"  # the review stays


@dataclass(frozen=True)
class EvidenceNote:
    by: str
    at: datetime
    text: str


@dataclass(frozen=True)
class AppealView:
    id: int
    case_id: int
    status: AppealStatus
    filed_by: str
    filed_at: datetime
    reason: str
    evidence: tuple[EvidenceNote, ...]
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str


def check_note(text: str | None, what: str) -> str:
    note = (text or "").strip()
    if not note:
        raise InvalidInput(f"{what} needs a text")
    if len(note) > MAX_NOTE:
        raise InvalidInput(f"{what} has at most {MAX_NOTE} characters")
    return note


def may_file(actor: Actor, rated_clerk: str | None) -> None:
    """The rated clerk files for its own review; supervisors file for any of their hall."""
    if actor.role in (Role.SUPERVISOR, Role.ADMIN):
        return
    if actor.role is Role.CLERK and rated_clerk is not None and actor.username == rated_clerk:
        return
    raise Forbidden("only the rated clerk or a supervisor files an appeal", code="not_appellant")


def check_can_file(pending: bool, decided: int) -> None:
    """One appeal at a time, and a review is appealed at most once (rejected stays rejected)."""
    if pending:
        raise Conflict("this review's appeal is waiting for its decision", code="appeal_pending")
    if decided:
        raise Conflict("this review has been appealed and decided already", code="appeal_decided")


def may_add_evidence(actor: Actor, filed_by: str, rated_clerk: str | None) -> None:
    if actor.role in (Role.SUPERVISOR, Role.ADMIN) or actor.username in (filed_by, rated_clerk):
        return
    raise Forbidden("only people on the case add evidence", code="not_on_case")


def check_evidence_room(count: int) -> None:
    if count >= MAX_EVIDENCE:
        raise Conflict(f"an appeal keeps at most {MAX_EVIDENCE} evidence notes")


def may_decide(actor: Actor, filed_by: str, rated_clerk: str | None) -> None:
    """A second person decides: a supervisor who is neither the rated clerk nor the appellant."""
    if actor.role not in (Role.SUPERVISOR, Role.ADMIN):
        raise Forbidden("a supervisor decides an appeal", code="not_reviewer")
    if rated_clerk is not None and actor.username == rated_clerk:
        raise Forbidden("the rated clerk cannot decide its own appeal", code="rated_clerk")
    if actor.username == filed_by:
        raise Forbidden("a second person decides: not the one who filed it", code="same_person")


def parse_decision(value: str) -> AppealStatus:
    if value not in (AppealStatus.UPHELD.value, AppealStatus.REJECTED.value):
        raise InvalidInput("an appeal is decided upheld or rejected")
    return AppealStatus(value)


def check_pending(status: AppealStatus) -> None:
    if status is not AppealStatus.PENDING:
        raise Conflict(f"the appeal is {status} already", code="appeal_decided")
