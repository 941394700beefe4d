"""The published 好差评 figures of a hall's month, its monthly report, and the upstream export.

Read models only: they gather the month's ratings, finished visits and cases into the facts of
``domain.evaluation_figures`` (one definition of every figure) and the records of
``domain.evaluation_export`` (one mapping), and never write.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Row

from queue_engine.adapters import evaluation_store as store
from queue_engine.adapters import integration_store
from queue_engine.adapters import repository as repo
from queue_engine.adapters.unit_of_work import Database, UnitOfWork
from queue_engine.domain.case_deadlines import effective_rectification_rating, on_time
from queue_engine.domain.clock import Clock
from queue_engine.domain.evaluation_export import (
    CaseRecord,
    ExportRecord,
    export_document,
    export_record,
)
from queue_engine.domain.evaluation_figures import (
    CaseFact,
    Dimension,
    Figures,
    FinishedFact,
    RatingFact,
    Where,
    figures,
    month_days,
    months_back,
)
from queue_engine.domain.evaluation_rules import EvaluationRules, RectificationRating
from queue_engine.domain.model import HallConfig
from queue_engine.services.efficiency import CardView, EfficiencyDesk, InterviewView
from queue_engine.services.efficiency import service_department as department_of

TREND_MONTHS = 6


@dataclass(frozen=True)
class PublishedFigures:
    """The public 好差评 page of a hall's month: no names, no tickets, no comments."""

    hall: str
    hall_name: str
    month: str
    overall: Figures
    by_window: dict[str, Figures]
    by_service: dict[str, Figures]
    by_department: dict[str, Figures]
    trend: list[tuple[str, Figures]]  # month by month, oldest first
    service_names: dict[str, str]


@dataclass(frozen=True)
class MonthlyEvaluationReport:
    figures: PublishedFigures
    cards: list[CardView]
    cards_by_window: dict[str, dict[str, int]]  # window → {"yellow": n, "red": n}
    cards_by_department: dict[str, dict[str, int]]
    interviews: list[InterviewView]


EMPTY = Figures(0, 0, 0, 0, 0, 0, 0, 0, 0)


def _bounds(config: HallConfig, first: date, last: date) -> tuple[datetime, datetime]:
    start = datetime.combine(first, time(0), config.zone).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time(0), config.zone).astimezone(UTC)
    return start, end


class EvaluationReports:
    def __init__(self, db: Database, clock: Clock, efficiency: EfficiencyDesk) -> None:
        self.db = db
        self.clock = clock
        self.efficiency = efficiency

    def hall_codes(self) -> list[str]:
        with UnitOfWork(self.db, write=False) as uow:
            return repo.hall_codes(uow.conn)

    def published(self, hall: str, month: str) -> PublishedFigures:
        """The month's figures by window, service and department, and the months before it."""
        months = months_back(month, TREND_MONTHS)
        first, _ = month_days(months[0])
        _, last = month_days(month)
        with UnitOfWork(self.db, write=False) as uow:
            hall_id, config = self.db.hall_config(uow.conn, hall)
            rules = store.rules(uow.conn, hall_id)
            start, end = _bounds(config, first, last)
            ratings = store.ratings_between(uow.conn, hall_id, start, end)
            cases = store.cases_of_ratings_between(uow.conn, hall_id, start, end)
            finished = store.finished_between(uow.conn, hall_id, first, last)
        facts = _Facts(config, rules)
        rating_facts = [facts.rating(r) for r in ratings]
        case_facts = [facts.case(r, cases[r.id]) for r in ratings if r.id in cases]
        finished_facts = [facts.finished(r) for r in finished]

        def of_month(by: Dimension) -> dict[str, Figures]:
            table = figures(rating_facts, finished_facts, case_facts, by, month=True)
            return {key: value for (m, key), value in table.items() if m == month}

        trend_table = figures(rating_facts, finished_facts, case_facts, Dimension.HALL, month=True)
        trend = [(m, trend_table.get((m, ""), EMPTY)) for m in months]
        return PublishedFigures(
            hall=config.code,
            hall_name=config.name_zh,
            month=month,
            overall=of_month(Dimension.HALL).get("", EMPTY),
            by_window=of_month(Dimension.WINDOW),
            by_service=of_month(Dimension.SERVICE),
            by_department=of_month(Dimension.DEPARTMENT),
            trend=trend,
            service_names={s.code: s.name_zh for s in config.services},
        )

    def monthly(self, hall: str, month: str) -> MonthlyEvaluationReport:
        """The supervisors' monthly report: the figures, the cards per window and department,
        and the 约谈 of the month."""
        published = self.published(hall, month)
        cards = self.efficiency.cards(hall, month)
        by_window: dict[str, Counter[str]] = {}
        by_department: dict[str, Counter[str]] = {}
        for card in cards:
            by_window.setdefault(card.window or "—", Counter())[card.colour.value] += 1
            by_department.setdefault(card.department, Counter())[card.colour.value] += 1
        return MonthlyEvaluationReport(
            figures=published,
            cards=cards,
            cards_by_window={k: dict(v) for k, v in sorted(by_window.items())},
            cards_by_department={k: dict(v) for k, v in sorted(by_department.items())},
            interviews=[i for i in self.efficiency.interviews(hall) if i.month == month],
        )

    def export(self, hall: str, day: date) -> dict[str, Any]:
        """The upstream export of a business day: ratings made, followed up or whose case
        moved that day, each in its present state."""
        now = self.clock.now()
        with UnitOfWork(self.db, write=False) as uow:
            hall_id, config = self.db.hall_config(uow.conn, hall)
            rules = store.rules(uow.conn, hall_id)
            start, end = _bounds(config, day, day)
            ratings = store.moved_between(uow.conn, hall_id, start, end)
            cases = store.cases_of_evaluations(uow.conn, [r.id for r in ratings])
            numbers = integration_store.case_numbers(uow.conn, [r.ticket_id for r in ratings])
            catalogue = integration_store.service_catalogue(uow.conn, hall_id)
        facts = _Facts(config, rules)
        records = [
            export_record(
                dataclasses.replace(
                    facts.export(r, cases.get(r.id), now),
                    case_number=numbers.get((r.ticket_id, r.segment)),
                    catalogue_code=catalogue.get(r.service, (None, None))[0],
                ),
                config.zone,
            )
            for r in ratings
        ]
        return export_document(config.code, day, now, records, config.zone)


class _Facts:
    """Rows of one hall turned into the domain's facts and records."""

    def __init__(self, config: HallConfig, rules: EvaluationRules) -> None:
        self.config = config
        self.rules = rules
        self.windows = {w.id: w.label for w in config.windows}

    def where(self, moment_day: date, window: str | None, service: str) -> Where:
        department = department_of(self.config, self.rules, service)
        return Where(moment_day.strftime("%Y-%m"), window, service, department)

    def rating(self, r: Row[Any]) -> RatingFact:
        where = self.where(self.config.business_date(r.created_at), r.window, r.service)
        return RatingFact(where, r.score, r.excluded)

    def finished(self, r: store.FinishedCount) -> FinishedFact:
        window = r.window if r.window_id is None else self.windows.get(r.window_id)
        return FinishedFact(self.where(r.business_date, window, r.service), r.n)

    def case(self, rating: Row[Any], case: Row[Any]) -> CaseFact:
        called = self._day(case.called_back_at)
        resolved = self._resolved(case)
        callback_ok = called is not None and (
            case.callback_deadline is None or called <= case.callback_deadline
        )
        return CaseFact(
            where=self.rating(rating).where,
            called_back=called is not None,
            callback_on_time=callback_ok,
            resolved=resolved is not None,
            resolved_on_time=resolved is not None and resolved <= case.deadline,
            excluded=rating.excluded,
        )

    def export(self, r: Row[Any], case: Row[Any] | None, now: datetime) -> ExportRecord:
        record = None
        if case is not None:
            rated = (
                None
                if case.rectification_rating is None
                else RectificationRating(case.rectification_rating)
            )
            citizen = effective_rectification_rating(rated, case.resolved_at, now, self.rules)
            record = CaseRecord(
                status=case.status,
                callback_deadline=case.callback_deadline,
                called_back_at=case.called_back_at,
                callback_on_time=on_time(self._day(case.called_back_at), case.callback_deadline),
                rectify_deadline=case.deadline,
                resolution=case.resolution,
                resolved_at=case.resolved_at,
                resolved_on_time=on_time(self._resolved(case), case.deadline),
                citizen_rating=None if citizen is None else citizen.value,
            )
        return ExportRecord(
            evaluation_id=r.id,
            hall=self.config.code,
            ticket_id=r.ticket_id,
            segment=r.segment,
            service=r.service,
            department=department_of(self.config, self.rules, r.service),
            window=r.window,
            channel=r.source,
            score=r.score,
            indicators=r.indicators or {},
            rated_at=r.created_at,
            comment=r.comment,
            reasons=tuple(r.reasons or ()),
            follow_up_comment=r.follow_up_comment,
            follow_up_at=r.follow_up_at,
            excluded=r.excluded,
            case=record,
        )

    def _day(self, moment: datetime | None) -> date | None:
        return None if moment is None else self.config.business_date(moment)

    def _resolved(self, case: Row[Any]) -> date | None:
        if case.resolved_at is not None:
            return self.config.business_date(case.resolved_at)
        if case.status in ("rectified", "closed"):
            return self.config.business_date(case.updated_at)
        return None
