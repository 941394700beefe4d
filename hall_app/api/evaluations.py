"""好差评 over HTTP: a citizen rates each service of a finished visit (indicators, reasons, one
追评, the rectification's rating); supervisors work the follow-up cases and their appeals."""

from __future__ import annotations

from typing import Any

from flask import session

from queue_engine.domain.access import Role
from queue_engine.domain.errors import Forbidden
from queue_engine.domain.evaluations import CaseView
from queue_engine.services.evaluations import Rating

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
        "callback_deadline": None
        if case.callback_deadline is None
        else case.callback_deadline.isoformat(),
        "called_back_at": iso(case.called_back_at),
        "callback_overdue": case.callback_overdue,
        "resolution": case.resolution,
        "resolved_at": iso(case.resolved_at),
        "rectification_rating": case.rectification_rating,
        "reasons": list(case.reasons),
        "appeal": case.appeal,
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
    "follow-up case. `segment` picks the service of a visit of several (一次一评; 0 for a "
    "one-service ticket); `indicators` are the hall's on-site indicators (all or none) and "
    "`reasons` the bad review's reasons from the hall's list (`GET /halls/{hall}/rating-form`).",
    responses={
        403: "no or a wrong rating key (`rating_key`), an invitation's key after the hall's "
        "`invitation_days` (`invitation_expired`), or staff credentials (`staff_rating`)",
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
    rating = Rating(body.segment, body.indicators, tuple(body.reasons or ()))
    result = hall_services().evaluations.evaluate_with_key(
        ticket_id, body.key, body.score, body.comment, rating
    )
    return {
        "ticket": result.ticket_id,
        "number": result.ticket_number,
        "score": result.score,
        "comment": result.comment,
        "follow_up": result.case_id is not None,
        "segment": result.segment,
        "indicators": result.indicators,
        "reasons": list(result.reasons),
    }, 201


@api.post("/tickets/<string:ticket_id>/evaluation/follow-up")
@limiter.limit("30 per minute")
@api.input(b.FollowUpIn, arg_name="body")
@api.output(b.FollowUpOut)
@api.doc(
    summary="追评: add to a rating once, within the hall's days (default 15), with the key",
    responses={
        403: "no or a wrong rating key, or staff credentials",
        404: "no such ticket, or not rated",
        409: "`already_followed_up`, or `follow_up_closed` after the days",
    },
)
def follow_up(ticket_id: str, body: b.FollowUpIn) -> dict[str, Any]:
    _refuse_staff()
    result = hall_services().evaluations.follow_up(ticket_id, body.key, body.comment, body.segment)
    return {
        "ticket": ticket_id,
        "segment": result.segment,
        "score": result.score,
        "followed_up": True,
    }


@api.post("/tickets/<string:ticket_id>/evaluation/rectification")
@limiter.limit("30 per minute")
@api.input(b.RectificationIn, arg_name="body")
@api.output(b.CaseOut)
@api.doc(
    summary="The citizen rates how a bad review was put right (满意/基本满意/不满意), once",
    responses={
        403: "no or a wrong rating key, or staff credentials",
        404: "no such ticket, not rated, or no case",
        409: "`not_rectified` yet, `already_rated`, or `rating_closed` after the days",
        422: "a rating other than satisfied, basic, unsatisfied",
    },
)
def rate_rectification(ticket_id: str, body: b.RectificationIn) -> dict[str, Any]:
    _refuse_staff()
    case = hall_services().evaluations.rate_rectification(
        ticket_id, body.key, body.rating, body.segment
    )
    return case_json(case)


@api.get("/halls/<string:hall>/rating-form")
@api.output(b.RatingFormOut)
@api.doc(summary="What a rating of this hall asks: its indicators and bad-review reasons")
def rating_form(hall: str) -> dict[str, Any]:
    require_hall(hall)
    rules = hall_services().evaluations.rules(hall)
    return {
        "hall": hall,
        "indicators": [str(i) for i in rules.indicators],
        "reasons": list(rules.reasons),
        "follow_up_days": rules.follow_up_days,
        "rectification_rating_days": rules.rectification_rating_days,
    }


@api.post("/windows/<int:window_id>/rate-later")
@api.output(b.RateLaterOut, status_code=201)
@require_roles(Role.CLERK)
@staff_doc(
    "Rate later: the citizen of the window's just-finished visit left before rating; the visit "
    "is invited by link (channel `rate_later`) and leaves the evaluator screen",
    r403="not the clerk who has the window open and served the visit",
    r409="no finished visit to rate (`nothing_to_rate`), already rated or invited",
)
def rate_later(window_id: int) -> tuple[dict[str, Any], int]:
    user = current_user()
    assert user is not None
    ticket_id = hall_services().evaluations.rate_later(window_id, by=user)
    return {"ticket": ticket_id, "channel": "rate_later"}, 201


def _refuse_staff() -> None:
    if _staff_credentials():
        raise Forbidden(
            "staff accounts do not rate visits; the citizen rates with the ticket's key",
            code="staff_rating",
        )


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
    case = ratings.act(case_id, action, user.username, body.note or "", body.score)
    return case_json(case)


CASE_ACTIONS = {
    "call-back": "回访: the citizen has been called back (its own deadline, 1 working day)",
    "rectify": "整改: the problem has been put right",
    "explain": "解释说明: close a case with no legal basis, with the explanation in `note`",
    "close": "Close the case (optionally with the citizen's re-rating `score`)",
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
