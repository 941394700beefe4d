"""Request and answer schemas of appeals, 效能监察 cards, the 好差评 rules and figures."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from ..validation import Strict


class AppealIn(Strict):
    reason: str | None = Field(default=None, max_length=500, description="why the review is unjust")


class EvidenceIn(Strict):
    note: str = Field(
        min_length=1, max_length=500, description="an evidence note (e.g. video 10:02)"
    )


class DecisionIn(Strict):
    decision: str = Field(
        max_length=16, description="upheld (excluded from every figure) or rejected"
    )
    note: str = Field(min_length=1, max_length=500, description="the reasons of the decision")


class EvidenceOut(BaseModel):
    by: str
    at: str
    text: str


class AppealOut(BaseModel):
    id: int
    case: int
    status: str
    filed_by: str
    filed_at: str
    reason: str
    evidence: list[EvidenceOut]
    decided_by: str | None
    decided_at: str | None
    decision_note: str


class CardOut(BaseModel):
    id: int
    hall: str
    case: int
    colour: str
    reason: str
    window: str | None
    department: str
    deadline: str
    issued_at: str
    month: str
    notice: str | None = Field(
        description="the 督办通知书's number (red cards), its PDF at `notice_url`"
    )
    notice_url: str | None


class CardsOut(BaseModel):
    hall: str
    cards: list[CardOut]


class CaseDetailOut(BaseModel):
    case: dict[str, Any]
    appeals: list[AppealOut]
    cards: list[CardOut]


class RulesIn(Strict):
    rules: dict[str, Any] = Field(description="the hall's 好差评 rules; see README (issue 19)")


class RulesOut(BaseModel):
    hall: str
    rules: dict[str, Any]


class FiguresOut(BaseModel):
    hall: str
    month: str
    overall: dict[str, Any]
    by_window: dict[str, dict[str, Any]]
    by_service: dict[str, dict[str, Any]]
    by_department: dict[str, dict[str, Any]]
    trend: list[dict[str, Any]]


class MonthlyOut(BaseModel):
    figures: FiguresOut
    cards: list[CardOut]
    cards_by_window: dict[str, dict[str, int]]
    cards_by_department: dict[str, dict[str, int]]
    interviews: list[dict[str, Any]]


class BlackFlagsIn(Strict):
    windows: list[str] = Field(max_length=200, description="the month's black-flagged windows")


class InterviewsOut(BaseModel):
    hall: str
    month: str
    interviews: list[dict[str, Any]]
