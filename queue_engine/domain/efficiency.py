"""效能监察 escalation: yellow and red cards for missed deadlines, and 约谈 after black flags.

Like a football referee's cards: a missed deadline first earns a yellow card (预警), shown to
the window and its department; still not done some working days later, a red card (问责) goes
to the hall's supervisor and comes with a written 督办通知书 demanding a reply by a date. The
hall sets how many working days each step waits. A department whose windows end two months in
a row with a black flag (黑旗) is called in for an interview (约谈), and the interview is
recorded.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from queue_engine.domain.case_deadlines import working_days_late
from queue_engine.domain.evaluation_rules import CardRules


class CardColour(StrEnum):
    YELLOW = "yellow"  # 预警: to the window and its department
    RED = "red"  # 问责: to the hall's supervisor, with a 督办通知书


class CardReason(StrEnum):
    CALLBACK_OVERDUE = "callback_overdue"  # 回访逾期
    RECTIFY_OVERDUE = "rectify_overdue"  # 整改逾期


CARD_LABELS: Mapping[CardColour, str] = {CardColour.YELLOW: "黄牌预警", CardColour.RED: "红牌问责"}
REASON_LABELS: Mapping[CardReason, str] = {
    CardReason.CALLBACK_OVERDUE: "差评回访逾期",
    CardReason.RECTIFY_OVERDUE: "差评整改逾期",
}


@dataclass(frozen=True)
class CaseClock:
    """What the cards look at in a case: its two deadlines and whether each was met."""

    case_id: int
    window: str | None
    department: str
    callback_deadline: date | None
    called_back: date | None
    rectify_deadline: date
    resolved: date | None  # rectified or closed with an explanation
    excluded: bool = False


@dataclass(frozen=True)
class CardDue:
    case_id: int
    colour: CardColour
    reason: CardReason
    window: str | None
    department: str
    deadline: date
    working_days_late: int


def cards_due(cases: Iterable[CaseClock], today: date, rules: CardRules) -> list[CardDue]:
    """Every card the cases have earned by ``today`` (the caller keeps the ones already given).

    A red card never replaces its yellow one: both stay on the record, as a referee's do.
    """
    due: list[CardDue] = []
    for case in cases:
        if case.excluded:
            continue
        for reason, deadline, done in (
            (CardReason.CALLBACK_OVERDUE, case.callback_deadline, case.called_back),
            (CardReason.RECTIFY_OVERDUE, case.rectify_deadline, case.resolved),
        ):
            if deadline is None or done is not None:
                continue
            late = working_days_late(deadline, today)
            for colour, after in (
                (CardColour.YELLOW, rules.yellow_after),
                (CardColour.RED, rules.red_after),
            ):
                if late >= after:
                    due.append(
                        CardDue(
                            case.case_id,
                            colour,
                            reason,
                            case.window,
                            case.department,
                            deadline,
                            late,
                        )
                    )
    return due


@dataclass(frozen=True)
class SupervisionNotice:
    """督办通知书: what a red card demands, in words a department head reads."""

    number: str  # e.g. ZMD-DB-2026-0007
    hall_name: str
    window: str | None
    department: str
    issued_on: date
    facts: tuple[str, ...]
    reply_by: date
    required_reply: str


def notice_number(hall: str, year: int, card_id: int) -> str:
    return f"{hall}-DB-{year}-{card_id:04d}"


def notice_for(
    card: CardDue,
    *,
    card_id: int,
    hall: str,
    hall_name: str,
    ticket_number: str,
    service_name: str,
    score_label: str,
    rated_on: date,
    today: date,
    reply_by: date,
) -> SupervisionNotice:
    """The 督办通知书 of a red card: the window, the facts, the deadline, the reply required."""
    missed = REASON_LABELS[card.reason]
    window = f"{card.window}号窗口" if card.window else "(未记录窗口)"
    facts = (
        f"{rated_on:%Y年%m月%d日},{window}办理的「{service_name}」事项(号码 {ticket_number})"
        f"收到差评「{score_label}」。",
        f"该差评的{'回访' if card.reason is CardReason.CALLBACK_OVERDUE else '整改'}期限为"
        f"{card.deadline:%Y年%m月%d日},至今未办结,逾期已满 {card.working_days_late} 个工作日"
        f"({missed})。",
    )
    return SupervisionNotice(
        number=notice_number(hall, today.year, card_id),
        hall_name=hall_name,
        window=card.window,
        department=card.department,
        issued_on=today,
        facts=facts,
        reply_by=reply_by,
        required_reply=(
            "请于回复期限前完成回访与整改,并书面报告:问题原因、整改措施、群众回访结果、"
            "责任人及处理意见。逾期未复的,按效能监察问责规定处理。"
        ),
    )


def previous_month(month: str) -> str:
    year, number = (int(x) for x in month.split("-"))
    return f"{year - 1}-12" if number == 1 else f"{year}-{number - 1:02d}"


def interviews_due(black_departments: Mapping[str, Iterable[str]], month: str) -> list[str]:
    """Departments with a black flag in ``month`` and in the month before it: 约谈 is due."""
    now = set(black_departments.get(month, ()))
    before = set(black_departments.get(previous_month(month), ()))
    return sorted(now & before)
