"""申诉复核, 效能监察 cards and 督办通知书, the 好差评 rules, published figures and the export."""

from __future__ import annotations

from typing import Any

from flask import Response, request, url_for

from queue_engine.domain.access import Role
from queue_engine.domain.appeals import AppealView
from queue_engine.domain.evaluation_figures import Figures, month_days, parse_day
from queue_engine.services.efficiency import CardView, InterviewView
from queue_engine.services.evaluation_reports import PublishedFigures

from ..auth import require_hall, require_roles, signed_in_user
from ..serialize import iso
from ..state import hall_services
from . import evaluation_schemas as e
from .evaluations import case_json
from .routes import api, staff_doc


def appeal_json(appeal: AppealView) -> dict[str, Any]:
    return {
        "id": appeal.id,
        "case": appeal.case_id,
        "status": str(appeal.status),
        "filed_by": appeal.filed_by,
        "filed_at": iso(appeal.filed_at),
        "reason": appeal.reason,
        "evidence": [{"by": n.by, "at": iso(n.at), "text": n.text} for n in appeal.evidence],
        "decided_by": appeal.decided_by,
        "decided_at": iso(appeal.decided_at),
        "decision_note": appeal.decision_note,
    }


def card_json(card: CardView) -> dict[str, Any]:
    return {
        "id": card.id,
        "hall": card.hall,
        "case": card.case_id,
        "colour": str(card.colour),
        "reason": str(card.reason),
        "window": card.window,
        "department": card.department,
        "deadline": card.deadline.isoformat(),
        "issued_at": iso(card.issued_at),
        "month": card.month,
        "notice": card.notice_number,
        "notice_url": (
            None if card.notice_number is None else url_for("api.card_notice", card_id=card.id)
        ),
    }


def figures_json(f: Figures) -> dict[str, Any]:
    return f.to_mapping()


def published_json(p: PublishedFigures) -> dict[str, Any]:
    return {
        "hall": p.hall,
        "month": p.month,
        "overall": figures_json(p.overall),
        "by_window": {k: figures_json(v) for k, v in p.by_window.items()},
        "by_service": {k: figures_json(v) for k, v in p.by_service.items()},
        "by_department": {k: figures_json(v) for k, v in p.by_department.items()},
        "trend": [{"month": m, **figures_json(f)} for m, f in p.trend],
    }


def interview_json(i: InterviewView) -> dict[str, Any]:
    return {
        "id": i.id,
        "department": i.department,
        "month": i.month,
        "windows": list(i.windows),
        "created_at": iso(i.created_at),
    }


def _month() -> str:
    month = request.args.get("month", "")
    month_days(month)
    return month


# -- appeals ----------------------------------------------------------------------------------


@api.post("/cases/<int:case_id>/appeal")
@api.input(e.AppealIn, arg_name="body")
@api.output(e.AppealOut, status_code=201)
@require_roles(Role.CLERK, Role.SUPERVISOR)
@staff_doc(
    "申诉复核: file an appeal against a bad review (the rated clerk, or a supervisor)",
    r403="not the rated clerk nor a supervisor (`not_appellant`), or another hall",
    r404="no such case",
    r409="an appeal is pending or decided already, or the case is excluded",
    r422="no reason",
)
def file_appeal(case_id: int, body: e.AppealIn) -> dict[str, Any]:
    appeals = hall_services().appeals
    require_hall(appeals.hall_of_case(case_id))
    return appeal_json(appeals.file(case_id, signed_in_user(), body.reason))


@api.post("/appeals/<int:appeal_id>/evidence")
@api.input(e.EvidenceIn, arg_name="body")
@api.output(e.AppealOut)
@require_roles(Role.CLERK, Role.SUPERVISOR)
@staff_doc(
    "Add an evidence note to a pending appeal (its appellant, the rated clerk, a supervisor)",
    r403="not on the case",
    r404="no such appeal",
    r409="decided already",
)
def add_evidence(appeal_id: int, body: e.EvidenceIn) -> dict[str, Any]:
    appeals = hall_services().appeals
    require_hall(appeals.hall_of_appeal(appeal_id))
    return appeal_json(appeals.add_evidence(appeal_id, signed_in_user(), body.note))


@api.post("/appeals/<int:appeal_id>/decide")
@api.input(e.DecisionIn, arg_name="body")
@api.output(e.AppealOut)
@require_roles(Role.SUPERVISOR)
@staff_doc(
    "Decide an appeal: `upheld` excludes the review from every figure, `rejected` keeps it. "
    "A second person decides: never the rated clerk, never the appellant",
    r403="the rated clerk (`rated_clerk`) or the appellant (`same_person`)",
    r404="no such appeal",
    r409="decided already",
    r422="a decision other than upheld or rejected, or no note",
)
def decide_appeal(appeal_id: int, body: e.DecisionIn) -> dict[str, Any]:
    appeals = hall_services().appeals
    require_hall(appeals.hall_of_appeal(appeal_id))
    return appeal_json(appeals.decide(appeal_id, signed_in_user(), body.decision, body.note))


@api.get("/cases/<int:case_id>")
@api.output(e.CaseDetailOut)
@require_roles(Role.SUPERVISOR)
@staff_doc("A case with its appeals and its cards", r404="no such case")
def case_detail(case_id: int) -> dict[str, Any]:
    services = hall_services()
    case = services.evaluations.case(case_id)
    require_hall(case.hall)
    return {
        "case": case_json(case),
        "appeals": [appeal_json(a) for a in services.appeals.appeals(case_id)],
        "cards": [card_json(c) for c in services.efficiency.cards_of_case(case_id)],
    }


# -- rules ------------------------------------------------------------------------------------


@api.get("/halls/<string:hall>/evaluation-rules")
@api.output(e.RulesOut)
@require_roles(Role.SUPERVISOR)
@staff_doc("The hall's 好差评 rules: indicators, reasons, deadlines, cards, departments")
def get_rules(hall: str) -> dict[str, Any]:
    require_hall(hall)
    return {"hall": hall, "rules": hall_services().evaluations.rules(hall).to_mapping()}


@api.put("/halls/<string:hall>/evaluation-rules")
@api.input(e.RulesIn, arg_name="body")
@api.output(e.RulesOut)
@require_roles(Role.ADMIN)
@staff_doc("Set the hall's 好差评 rules (missing keys: the defaults)", r422="bad rules")
def put_rules(hall: str, body: e.RulesIn) -> dict[str, Any]:
    require_hall(hall)
    rules = hall_services().evaluations.set_rules(hall, body.rules, signed_in_user().username)
    return {"hall": hall, "rules": rules.to_mapping()}


# -- cards ------------------------------------------------------------------------------------


@api.get("/halls/<string:hall>/cards")
@api.output(e.CardsOut)
@require_roles(Role.SUPERVISOR)
@staff_doc("效能监察 cards of a hall (`?month=YYYY-MM` for one month)", r422="a bad month")
def cards(hall: str) -> dict[str, Any]:
    require_hall(hall)
    month = request.args.get("month")
    if month is not None:
        month_days(month)
    return {
        "hall": hall,
        "cards": [card_json(c) for c in hall_services().efficiency.cards(hall, month)],
    }


@api.post("/halls/<string:hall>/cards/sweep")
@api.output(e.CardsOut)
@require_roles(Role.SUPERVISOR)
@staff_doc("Give the cards overdue cases have earned now (the server does it every 5 minutes)")
def sweep_cards(hall: str) -> dict[str, Any]:
    require_hall(hall)
    return {"hall": hall, "cards": [card_json(c) for c in hall_services().efficiency.sweep(hall)]}


@api.get("/cards/<int:card_id>/notice.pdf")
@require_roles(Role.SUPERVISOR)
@staff_doc("The 督办通知书 of a red card (PDF)", r404="no such card, or not a red one")
def card_notice(card_id: int) -> Response:
    hall, number, pdf = hall_services().efficiency.notice(card_id)
    require_hall(hall)
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{number}.pdf"'
    response.headers["Cache-Control"] = "no-store"
    return response


# -- figures, report, interviews, export --------------------------------------------------------


@api.get("/halls/<string:hall>/evaluations/figures")
@api.output(e.FiguresOut)
@api.doc(
    summary="The published 好差评 figures of a month (public: no personal data)",
    description="`?month=YYYY-MM`. Definitions in docs/evaluations.md.",
    responses={404: "no such hall", 422: "a bad month"},
)
def published_figures(hall: str) -> dict[str, Any]:
    require_hall(hall)
    return published_json(hall_services().evaluation_reports.published(hall, _month()))


@api.get("/halls/<string:hall>/evaluations/report")
@api.output(e.MonthlyOut)
@require_roles(Role.SUPERVISOR)
@staff_doc(
    "The monthly 好差评 report: figures, cards per window and department, 约谈", r422="a bad month"
)
def monthly_evaluation_report(hall: str) -> dict[str, Any]:
    require_hall(hall)
    report = hall_services().evaluation_reports.monthly(hall, _month())
    return {
        "figures": published_json(report.figures),
        "cards": [card_json(c) for c in report.cards],
        "cards_by_window": report.cards_by_window,
        "cards_by_department": report.cards_by_department,
        "interviews": [interview_json(i) for i in report.interviews],
    }


@api.get("/halls/<string:hall>/evaluations/export")
@require_roles(Role.SUPERVISOR)
@staff_doc(
    "The upstream export of a business day (`?date=YYYY-MM-DD`), as `hall evaluations export` "
    "writes it; schema: docs/evaluations-export.schema.json",
    r422="a bad date",
)
def export_day(hall: str) -> dict[str, Any]:
    require_hall(hall)
    day = parse_day(request.args.get("date", ""))
    return hall_services().evaluation_reports.export(hall, day)
