"""The deadlines of a bad review's follow-up case, in working days of the Chinese calendar.

Like a repair ticket with two clocks: a short one for ringing the customer back (回访, one
working day by default) and a long one for the repair itself (整改, fifteen working days; some
cities use five). A case that has no legal basis is closed with an explanation (解释说明)
instead of a repair. Once put right, the citizen rates the rectification; a citizen who does
not answer within seven days counts as the hall's configured default or as no rating at all.
Weekends and statutory holidays do not count, adjusted working Saturdays (调休) do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from queue_engine.domain.errors import Conflict, InvalidInput
from queue_engine.domain.evaluation_rules import EvaluationRules, RectificationRating
from queue_engine.domain.workdays import add_working_days, is_working_day


@dataclass(frozen=True)
class CaseDeadlines:
    callback: date  # 回访 by the end of this business day
    rectify: date  # 整改 (or 解释说明) by the end of this business day


def case_deadlines(
    opened: date, rules: EvaluationRules, rectify_fallback: int = 15
) -> CaseDeadlines:
    """Both deadlines of a case opened on the business date ``opened`` (not itself counted)."""
    return CaseDeadlines(
        callback=add_working_days(opened, rules.callback_working_days),
        rectify=add_working_days(opened, rules.rectify_days(rectify_fallback)),
    )


def on_time(done: date | None, deadline: date | None) -> bool | None:
    """Done by the deadline: True/False once done, None while not done (or no deadline)."""
    if done is None or deadline is None:
        return None
    return done <= deadline


def overdue(done: date | None, deadline: date | None, today: date) -> bool:
    """Not done, and the deadline's business day has ended."""
    return done is None and deadline is not None and today > deadline


def working_days_late(deadline: date, today: date) -> int:
    """Working days that have fully ended since the deadline: 0 on the day after it.

    -1 while the deadline has not passed.
    """
    if today <= deadline:
        return -1
    late, day = 0, deadline + timedelta(days=1)
    while day < today:
        late += is_working_day(day)
        day += timedelta(days=1)
    return late


def check_explanation(note: str) -> str:
    """解释说明 closes a case without a repair, so it always says why."""
    text = note.strip()
    if not text:
        raise InvalidInput("closing with an explanation (解释说明) needs the explanation")
    return text


def parse_rectification(value: str) -> RectificationRating:
    try:
        return RectificationRating(value)
    except ValueError:
        choices = ", ".join(r.value for r in RectificationRating)
        raise InvalidInput(f"a rectification is rated {choices}") from None


def check_rectification_rating(
    resolved_at: datetime | None,
    already: bool,
    now: datetime,
    rules: EvaluationRules,
) -> None:
    """The citizen rates the rectification once, after it, within the hall's days."""
    if resolved_at is None:
        raise Conflict("the problem has not been put right yet", code="not_rectified")
    if already:
        raise Conflict("the rectification has already been rated", code="already_rated")
    if now > resolved_at + timedelta(days=rules.rectification_rating_days):
        raise Conflict(
            f"a rectification is rated within {rules.rectification_rating_days} days",
            code="rating_closed",
        )


def effective_rectification_rating(
    rating: RectificationRating | None,
    resolved_at: datetime | None,
    now: datetime,
    rules: EvaluationRules,
) -> RectificationRating | None:
    """What counts: the citizen's rating, or after the rating days the hall's default (or none)."""
    if rating is not None or resolved_at is None:
        return rating
    if now > resolved_at + timedelta(days=rules.rectification_rating_days):
        return rules.rectification_default
    return None
