"""好差评 over HTTP: a citizen rates a finished visit; supervisors work the follow-up cases."""

from __future__ import annotations

from typing import Any

from flask import session

from queue_engine.domain.access import Role
from queue_engine.domain.errors import Forbidden
from queue_engine.domain.evaluations import CaseView

from ..auth import current_user, require_hall, require_roles
from ..extensions import limiter
from ..serialize import iso
from ..state import hall_services
from . import booking_schemas as b
from .routes import api, staff_doc


def case_json(case: CaseView) -> dict[str, Any]:
    return {
        "id": case.id,
        "hall": case.hall,
        "ticket_number": case.ticket_number,
        "service": case.service,
        "window": case.window,
        "score": case.score,
        "comment": case.comment,
        "status": str(case.status),
        "supervisor": case.supervisor,
        "opened_at": iso(case.opened_at),
        "deadline": case.deadline.isoformat(),
        "overdue": case.overdue,
        "note": case.note,
        "rerating": case.rerating,
    }


@api.post("/tickets/<string:ticket_id>/evaluation")
@limiter.limit("30 per minute")
@api.input(b.EvaluationIn, arg_name="body")
@api.output(b.EvaluationOut, status_code=201)
@api.doc(
    summary="Rate a finished visit (好差评), once per ticket, with its rating key",
    description="For the ticket's holder: send the `key` handed over with the ticket (the "
    "`rating_key` of the issue answer; the slip's QR code and the ticket page carry it). "
    "Requests with a staff token or a staff session are refused: the people a rating judges "
    "never write it. 5 非常满意, 4 满意, 3 基本满意, 2 不满意, 1 非常不满意; 1 and 2 open a "
    "follow-up case.",
    responses={
        403: "no or a wrong rating key (`rating_key`), or staff credentials (`staff_rating`)",
        404: "no such ticket",
        409: "not finished yet, or already rated",
    },
)
def evaluate(ticket_id: str, body: b.EvaluationIn) -> tuple[dict[str, Any], int]:
    if _staff_credentials():
        raise Forbidden(
            "staff accounts do not rate visits; the citizen rates with the ticket's key",
            code="staff_rating",
        )
    result = hall_services().evaluations.evaluate_with_key(
        ticket_id, body.key, body.score, body.comment
    )
    return {
        "ticket": result.ticket_id,
        "number": result.ticket_number,
        "score": result.score,
        "comment": result.comment,
        "follow_up": result.case_id is not None,
    }, 201


def _staff_credentials() -> bool:
    """A staff token, or a staff page session (the API itself never acts on one)."""
    return current_user() is not None or isinstance(session.get("username"), str)


@api.get("/halls/<string:hall>/cases")
@api.output(b.CasesOut)
@require_roles(Role.SUPERVISOR)
@staff_doc("Bad-review follow-up cases of a hall, earliest deadline first, with `overdue`")
def cases(hall: str) -> dict[str, Any]:
    require_hall(hall)
    return {"hall": hall, "cases": [case_json(c) for c in hall_services().evaluations.cases(hall)]}


def case_action(case_id: int, action: str, body: b.CaseActionIn) -> dict[str, Any]:
    ratings = hall_services().evaluations
    require_hall(ratings.case(case_id).hall)
    user = current_user()
    assert user is not None
    note = body.reason if action == "appeal" else body.note
    case = ratings.act(case_id, action, user.username, note or "", body.score)
    return case_json(case)


CASE_ACTIONS = {
    "call-back": "The citizen has been called back",
    "rectify": "The problem has been put right",
    "close": "Close the case (optionally with the citizen's re-rating `score`)",
    "appeal": "Appeal a malicious or mistaken review: excluded, with the `reason` recorded",
}


def _register_case_action(action: str, summary: str) -> None:
    def view(case_id: int, body: b.CaseActionIn) -> dict[str, Any]:
        return case_action(case_id, action, body)

    view.__name__ = f"case_{action.replace('-', '_')}"
    decorated = staff_doc(
        summary,
        r404="no such case",
        r409="the case is in another state",
        r422="an appeal without a reason, or a bad score",
    )(require_roles(Role.SUPERVISOR)(view))
    decorated = api.output(b.CaseOut)(decorated)
    decorated = api.input(b.CaseActionIn, arg_name="body")(decorated)
    api.post(f"/cases/<int:case_id>/{action}")(decorated)


for _action, _summary in CASE_ACTIONS.items():
    _register_case_action(_action, _summary)
