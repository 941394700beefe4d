"""效能监察 commands: give the cards overdue cases have earned, keep each red card's 督办通知书,
record the month's black flags and the 约谈 that two of them in a row call for."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Row
from sqlalchemy.exc import IntegrityError

from queue_engine.adapters import citizen_records as bookings
from queue_engine.adapters import evaluation_store as store
from queue_engine.adapters import repository as repo
from queue_engine.adapters.notice_pdf import render_notice
from queue_engine.adapters.unit_of_work import Database, UnitOfWork
from queue_engine.domain.case_deadlines import case_deadlines
from queue_engine.domain.efficiency import (
    CardColour,
    CardDue,
    CardReason,
    CaseClock,
    SupervisionNotice,
    cards_due,
    interviews_due,
    notice_for,
    previous_month,
)
from queue_engine.domain.errors import NotFound
from queue_engine.domain.evaluation_figures import month_days
from queue_engine.domain.evaluation_rules import EvaluationRules
from queue_engine.domain.evaluations import SCORE_LABELS, CaseStatus
from queue_engine.domain.events import DomainEvent, EventType
from queue_engine.domain.model import HallConfig, format_number
from queue_engine.domain.workdays import add_working_days
from queue_engine.services.desk import Desk
from queue_engine.services.tickets import QueueEngine

log = logging.getLogger(__name__)
SWEEP_SECONDS = 300.0  # cards are a matter of days: every five minutes is plenty


@dataclass(frozen=True)
class CardView:
    id: int
    hall: str
    case_id: int
    colour: CardColour
    reason: CardReason
    window: str | None
    department: str
    deadline: date
    issued_at: datetime
    month: str
    notice_number: str | None


@dataclass(frozen=True)
class InterviewView:
    id: int
    hall: str
    department: str
    month: str
    windows: tuple[str, ...]
    created_at: datetime


def month_of(config: HallConfig, moment: datetime) -> str:
    return config.business_date(moment).strftime("%Y-%m")


def check_month(month: str) -> str:
    month_days(month)
    return month


def window_department(config: HallConfig, rules: EvaluationRules, window: str) -> str:
    """A window's department: the hall's list (``window:<n>``), else its first primary skill's."""
    listed = rules.departments.get(f"window:{window}")
    if listed:
        return listed
    for w in config.windows:
        if w.label == window:
            primary = [code for code, is_primary in w.skills.items() if is_primary]
            skills = primary or list(w.skills)
            if skills:
                return service_department(config, rules, skills[0])
            return rules.department("", w.zone)
    return rules.department("")


def service_department(config: HallConfig, rules: EvaluationRules, service: str) -> str:
    zone = next((s.zone for s in config.services if s.code == service), None)
    return rules.department(service, zone)


class EfficiencyDesk(Desk):
    """Cards and interviews of every hall; the PDF renderer is injected (tests may count)."""

    def __init__(
        self,
        engine: QueueEngine,
        render: Callable[[SupervisionNotice], bytes] = render_notice,
    ) -> None:
        self.engine = engine
        self.db: Database = engine.db
        self.render = render

    # -- cards -----------------------------------------------------------------------------------

    def sweep_all(self, full: bool = True) -> None:
        """The periodic job: every hall's cards (a failing hall is logged, never stops others)."""
        with UnitOfWork(self.db, write=False) as uow:
            halls = repo.hall_codes(uow.conn)
        for hall in halls:
            try:
                self.sweep(hall)
            except Exception:
                log.exception("efficiency sweep failed for %s", hall)

    def sweep(self, hall: str) -> list[CardView]:
        """Give the cards the hall's open cases have earned by today; returns the new ones."""
        now = self.engine.clock.now()
        try:
            with self.unit() as uow:
                hall_id, config = self.db.hall_config(uow.conn, hall)
                rules = store.rules(uow.conn, hall_id)
                today = config.business_date(now)
                clocks, facts = self._clocks(uow, hall_id, config, rules)
                given = store.card_keys(uow.conn, hall_id)
                new: list[tuple[int, CardDue]] = []
                for due in cards_due(clocks, today, rules.cards):
                    if (due.case_id, due.colour.value, due.reason.value) in given:
                        continue
                    card_id = store.insert_card(uow.conn, _card_values(hall_id, due, now, config))
                    new.append((card_id, due))
                    uow.record(_card_event(config.code, now, card_id, due, facts[due.case_id]))
                self.engine.bus.commit(uow)
        except IntegrityError:  # another process gave the same cards at the same moment
            return []
        for card_id, due in new:
            if due.colour is CardColour.RED:
                self._attach_notice(card_id, due, facts[due.case_id], config, rules, today)
        return [c for c in self.cards(hall) if c.id in {card_id for card_id, _ in new}]

    def _clocks(
        self, uow: UnitOfWork, hall_id: int, config: HallConfig, rules: EvaluationRules
    ) -> tuple[list[CaseClock], dict[int, dict[str, str]]]:
        clocks, facts = [], {}
        fallback = bookings.settings(uow.conn, hall_id).follow_up_working_days
        for r in bookings.cases(uow.conn, hall_id, include_final=False):
            opened = config.business_date(r.opened_at)
            callback = r.callback_deadline or case_deadlines(opened, rules, fallback).callback
            clocks.append(
                CaseClock(
                    case_id=r.id,
                    window=r.window,
                    department=service_department(config, rules, r.service),
                    callback_deadline=callback,
                    called_back=(
                        None if r.called_back_at is None else config.business_date(r.called_back_at)
                    ),
                    rectify_deadline=r.deadline,
                    resolved=_resolved_on(r, config),
                    excluded=r.status == CaseStatus.EXCLUDED.value,
                )
            )
            facts[r.id] = {
                "ticket": format_number(r.prefix, r.seq),
                "service": r.service,
                "score": str(r.score),
                "rated_on": config.business_date(r.rated_at).isoformat(),
            }
        return clocks, facts

    def _attach_notice(
        self,
        card_id: int,
        due: CardDue,
        fact: dict[str, str],
        config: HallConfig,
        rules: EvaluationRules,
        today: date,
    ) -> None:
        service = next((s.name_zh for s in config.services if s.code == fact["service"]), "")
        notice = notice_for(
            due,
            card_id=card_id,
            hall=config.code,
            hall_name=config.name_zh,
            ticket_number=fact["ticket"],
            service_name=service or fact["service"],
            score_label=SCORE_LABELS[int(fact["score"])],
            rated_on=date.fromisoformat(fact["rated_on"]),
            today=today,
            reply_by=add_working_days(today, rules.cards.reply_working_days),
        )
        pdf = self.render(notice)
        with self.unit() as uow:
            store.set_notice(uow.conn, card_id, notice.number, pdf)
            uow.commit()

    def cards(self, hall: str, month: str | None = None) -> list[CardView]:
        with UnitOfWork(self.db, write=False) as uow:
            hall_id, config = self.db.hall_config(uow.conn, hall)
            month = None if month is None else check_month(month)
            return [_card_view(config.code, r) for r in store.cards(uow.conn, hall_id, month)]

    def cards_of_case(self, case_id: int) -> list[CardView]:
        with UnitOfWork(self.db, write=False) as uow:
            case = bookings.case_by_id(uow.conn, case_id) if 0 < case_id < 2**31 else None
            if case is None:
                raise NotFound(f"no case {case_id}")
            hall = self.db.hall_config_by_id(uow.conn, case.hall_id).code
            return [_card_view(hall, r) for r in store.cards_of_case(uow.conn, case_id)]

    def notice(self, card_id: int) -> tuple[str, str, bytes]:
        """(hall, notice number, PDF) of a red card's 督办通知书."""
        with UnitOfWork(self.db, write=False) as uow:
            row = store.notice_of(uow.conn, card_id) if 0 < card_id < 2**31 else None
            if row is None or row.notice_pdf is None:
                raise NotFound(f"no 督办通知书 for card {card_id}")
            hall = self.db.hall_config_by_id(uow.conn, row.hall_id).code
            return hall, row.notice_number, bytes(row.notice_pdf)

    # -- black flags and 约谈 ---------------------------------------------------------------------

    def record_black_flags(self, hall: str, month: str, windows: list[str]) -> list[InterviewView]:
        """Keep the month's black-flagged windows; a department black-flagged this month and
        the month before is called in (约谈): returns the interviews this made."""
        check_month(month)
        now = self.engine.clock.now()
        with self.unit() as uow:
            hall_id, config = self.db.hall_config(uow.conn, hall)
            rules = store.rules(uow.conn, hall_id)
            flags = {w: window_department(config, rules, w) for w in windows}
            store.save_black_flags(uow.conn, hall_id, month, flags, now)
            months = (previous_month(month), month)
            rows = store.black_flags(uow.conn, hall_id, months)
            by_month: dict[str, set[str]] = {m: set() for m in months}
            for r in rows:
                by_month[r.month].add(r.department)
            made = []
            for department in interviews_due(by_month, month):
                if store.interview_exists(uow.conn, hall_id, department, month):
                    continue
                windows_of = sorted({r.window for r in rows if r.department == department})
                store.insert_interview(
                    uow.conn,
                    {
                        "hall_id": hall_id,
                        "department": department,
                        "month": month,
                        "windows": windows_of,
                        "created_at": now,
                        "note": f"{previous_month(month)}、{month} 连续两个月被评为黑旗",
                    },
                )
                made.append(department)
                uow.record(
                    DomainEvent(
                        type=EventType.INTERVIEW_RECORDED,
                        hall=config.code,
                        ts=now,
                        payload={"department": department, "month": month, "windows": windows_of},
                    )
                )
            self.engine.bus.commit(uow)
        return [i for i in self.interviews(hall) if i.month == month and i.department in made]

    def interviews(self, hall: str) -> list[InterviewView]:
        with UnitOfWork(self.db, write=False) as uow:
            hall_id, config = self.db.hall_config(uow.conn, hall)
            return [
                InterviewView(
                    r.id, config.code, r.department, r.month, tuple(r.windows), r.created_at
                )
                for r in store.interviews(uow.conn, hall_id)
            ]


def _resolved_on(row: Row[Any], config: HallConfig) -> date | None:
    """When a case was put right or explained (cases of old: their last change)."""
    if row.resolved_at is not None:
        return config.business_date(row.resolved_at)
    if row.status in (CaseStatus.RECTIFIED.value, CaseStatus.CLOSED.value):
        return config.business_date(row.updated_at)
    return None


def _card_values(
    hall_id: int, due: CardDue, now: datetime, config: HallConfig
) -> dict[str, object]:
    return {
        "hall_id": hall_id,
        "case_id": due.case_id,
        "colour": due.colour.value,
        "reason": due.reason.value,
        "window": due.window,
        "department": due.department,
        "deadline": due.deadline,
        "issued_at": now,
        "month": month_of(config, now),
    }


def _card_event(
    hall: str, now: datetime, card_id: int, due: CardDue, fact: dict[str, str]
) -> DomainEvent:
    """``card.issued``: yellow to the window and its department, red to the supervisor."""
    audience = "supervisor" if due.colour is CardColour.RED else "window_department"
    return DomainEvent(
        type=EventType.CARD_ISSUED,
        hall=hall,
        ts=now,
        ticket_number=fact["ticket"],
        service=fact["service"],
        window=due.window,
        payload={
            "card": card_id,
            "colour": due.colour.value,
            "reason": due.reason.value,
            "case": due.case_id,
            "department": due.department,
            "deadline": due.deadline.isoformat(),
            "audience": audience,
        },
    )


def _card_view(hall: str, r: Row[Any]) -> CardView:
    return CardView(
        id=r.id,
        hall=hall,
        case_id=r.case_id,
        colour=CardColour(r.colour),
        reason=CardReason(r.reason),
        window=r.window,
        department=r.department,
        deadline=r.deadline,
        issued_at=r.issued_at,
        month=r.month,
        notice_number=r.notice_number,
    )
