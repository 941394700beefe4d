"""A hall's 好差评 rules: what is rated, why a review is bad, and the deadlines of its case.

Like the comment card of a restaurant chain, whose head office prints the questions but each
branch may leave some out: the national scheme (国办发〔2019〕51号, GB/T 39734-2020) fixes the
five levels, and each hall chooses which on-site indicators it also asks (整体满意度, 服务效率,
服务水平, 服务态度; the overall level is the one that counts), the list of reasons a citizen may
tick for a bad review, how long a follow-up rating (追评) stays open, and the working-day
deadlines of the follow-up case — the provinces differ (整改 in 15 working days, some cities 5).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from queue_engine.domain.errors import Conflict, InvalidInput


class Indicator(StrEnum):
    """The on-site indicators a hall may ask besides the overall level (each 1–5)."""

    OVERALL = "overall"  # 整体满意度
    EFFICIENCY = "efficiency"  # 服务效率
    QUALITY = "quality"  # 服务水平
    ATTITUDE = "attitude"  # 服务态度


INDICATOR_LABELS: Mapping[Indicator, str] = {
    Indicator.OVERALL: "整体满意度",
    Indicator.EFFICIENCY: "服务效率",
    Indicator.QUALITY: "服务水平",
    Indicator.ATTITUDE: "服务态度",
}
DEFAULT_REASONS: tuple[str, ...] = ("态度", "效率", "一次性告知不到位", "环境", "其他")
MAX_REASONS = 20
MAX_REASON_LABEL = 40


class RectificationRating(StrEnum):
    """The citizen's rating of how the problem was put right (or explained)."""

    SATISFIED = "satisfied"  # 满意
    BASIC = "basic"  # 基本满意
    UNSATISFIED = "unsatisfied"  # 不满意


RECTIFICATION_LABELS: Mapping[RectificationRating, str] = {
    RectificationRating.SATISFIED: "满意",
    RectificationRating.BASIC: "基本满意",
    RectificationRating.UNSATISFIED: "不满意",
}


@dataclass(frozen=True)
class CardRules:
    """When an overdue deadline becomes a yellow card (预警) and when a red one (问责).

    Counted in working days past the deadline: 0 means "the day after the deadline".
    """

    yellow_after: int = 0
    red_after: int = 3
    reply_working_days: int = 3  # the 督办通知书's deadline for the written reply

    def __post_init__(self) -> None:
        if not 0 <= self.yellow_after < self.red_after <= 60:
            raise InvalidInput("a red card comes after a yellow one (0 ≤ yellow < red ≤ 60)")
        if not 1 <= self.reply_working_days <= 30:
            raise InvalidInput("the reply deadline is 1 to 30 working days")


@dataclass(frozen=True)
class EvaluationRules:
    """One hall's 好差评 rules; ``{}`` stored means every default below."""

    indicators: tuple[Indicator, ...] = ()
    reasons: tuple[str, ...] = DEFAULT_REASONS
    follow_up_days: int = 15  # 追评: once, within this many days of the rating
    invitation_days: int = 7  # an invitation's link (SMS/push, "rate later") rates this long
    callback_working_days: int = 1  # 回访
    # 整改; None: the hall's follow-up setting of old (AppointmentSettings, default 15)
    rectify_working_days: int | None = None
    rectification_rating_days: int = 7  # the citizen rates the rectification within these days
    rectification_default: RectificationRating | None = None  # None: no rating counts as none
    departments: Mapping[str, str] = field(default_factory=dict)  # service code → 部门
    cards: CardRules = field(default_factory=CardRules)

    def __post_init__(self) -> None:
        if len(set(self.indicators)) != len(self.indicators):
            raise InvalidInput("an indicator is listed twice")
        if not self.reasons or len(self.reasons) > MAX_REASONS:
            raise InvalidInput(f"a hall lists 1 to {MAX_REASONS} reasons for a bad review")
        if len(set(self.reasons)) != len(self.reasons) or any(
            not r.strip() or len(r) > MAX_REASON_LABEL for r in self.reasons
        ):
            raise InvalidInput(f"reasons are distinct, 1 to {MAX_REASON_LABEL} characters")
        for name, value, top in (
            ("follow_up_days", self.follow_up_days, 90),
            ("invitation_days", self.invitation_days, 30),
            ("callback_working_days", self.callback_working_days, 10),
            ("rectify_working_days", self.rectify_working_days or 1, 60),
            ("rectification_rating_days", self.rectification_rating_days, 30),
        ):
            if isinstance(value, bool) or not 1 <= value <= top:
                raise InvalidInput(f"{name} is a whole number from 1 to {top}")
        if self.callback_working_days > self.rectify_days():
            raise InvalidInput("the call-back comes before the rectification deadline")

    def rectify_days(self, fallback: int = 15) -> int:
        return fallback if self.rectify_working_days is None else self.rectify_working_days

    def department(self, service: str, zone: str | None = None) -> str:
        """The department a service belongs to: the hall's list, else its zone, else 综合."""
        return self.departments.get(service) or zone or "综合"

    def to_mapping(self) -> dict[str, Any]:
        return {
            "indicators": [str(i) for i in self.indicators],
            "reasons": list(self.reasons),
            "follow_up_days": self.follow_up_days,
            "invitation_days": self.invitation_days,
            "callback_working_days": self.callback_working_days,
            "rectify_working_days": self.rectify_working_days,
            "rectification_rating_days": self.rectification_rating_days,
            "rectification_default": (
                None if self.rectification_default is None else str(self.rectification_default)
            ),
            "departments": dict(self.departments),
            "cards": {
                "yellow_after": self.cards.yellow_after,
                "red_after": self.cards.red_after,
                "reply_working_days": self.cards.reply_working_days,
            },
        }

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None) -> EvaluationRules:
        """Rules from their stored or posted form; unknown keys and bad values are 422s."""
        data = dict(data or {})
        known = set(cls().to_mapping())
        unknown = set(data) - known
        if unknown:
            raise InvalidInput(f"unknown evaluation rules: {', '.join(sorted(unknown))}")
        try:
            values: dict[str, Any] = {}
            if "indicators" in data:
                values["indicators"] = tuple(Indicator(i) for i in data["indicators"])
            if "reasons" in data:
                values["reasons"] = tuple(str(r).strip() for r in data["reasons"])
            for key in (
                "follow_up_days",
                "invitation_days",
                "callback_working_days",
                "rectify_working_days",
                "rectification_rating_days",
            ):
                if data.get(key) is not None:
                    values[key] = _whole(data[key], key)
            if data.get("rectification_default") is not None:
                values["rectification_default"] = RectificationRating(data["rectification_default"])
            if "departments" in data:
                values["departments"] = {
                    str(k): str(v).strip() for k, v in dict(data["departments"]).items()
                }
            if "cards" in data:
                cards = {k: _whole(v, k) for k, v in dict(data["cards"]).items()}
                values["cards"] = CardRules(**cards)
        except (TypeError, ValueError) as exc:
            raise InvalidInput(f"bad evaluation rules: {exc}") from None
        return cls(**values)


def _whole(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"{name} is a whole number")
    return value


# -- what a rating carries ---------------------------------------------------------------------


def check_indicators(values: Mapping[str, Any] | None, rules: EvaluationRules) -> dict[str, int]:
    """The indicator scores of a rating: only the hall's indicators, each 1–5, all or none.

    A citizen who only taps the overall level leaves the indicators out; a rating that gives
    some must give every one the hall asks, so that no average is taken over a different set.
    """
    given = dict(values or {})
    if not given:
        return {}
    asked = {str(i) for i in rules.indicators}
    extra = set(given) - asked
    if extra:
        raise InvalidInput(f"this hall does not ask the indicators {', '.join(sorted(extra))}")
    missing = asked - set(given)
    if missing:
        raise InvalidInput(f"missing indicators: {', '.join(sorted(missing))}")
    scores: dict[str, int] = {}
    for name, score in given.items():
        if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
            raise InvalidInput(f"the indicator {name} is a whole number from 1 to 5")
        scores[name] = score
    return scores


def check_reasons(score: int, reasons: Sequence[str] | None, rules: EvaluationRules) -> list[str]:
    """The reasons ticked for a bad review: from the hall's list, none twice (ticking is
    voluntary, like the rating itself).

    Only 不满意 and 非常不满意 carry reasons; a good rating with reasons is refused rather than
    silently stripped, so that a client sending the wrong form learns of it.
    """
    chosen = [str(r).strip() for r in (reasons or [])]
    if score > 2:
        if chosen:
            raise InvalidInput("only a bad review (1 or 2) gives reasons")
        return []
    unknown = [r for r in chosen if r not in rules.reasons]
    if unknown:
        listed = "、".join(rules.reasons)
        raise InvalidInput(f"unknown reasons {'、'.join(unknown)}; the hall lists {listed}")
    if len(set(chosen)) != len(chosen):
        raise InvalidInput("a reason is ticked twice")
    return chosen


def check_follow_up(
    rated_at: datetime, now: datetime, already: bool, rules: EvaluationRules
) -> None:
    """追评: once per rating, within ``follow_up_days`` of it."""
    if already:
        raise Conflict("this rating already has its follow-up", code="already_followed_up")
    if now > rated_at + timedelta(days=rules.follow_up_days):
        raise Conflict(
            f"a follow-up rating is given within {rules.follow_up_days} days",
            code="follow_up_closed",
        )
