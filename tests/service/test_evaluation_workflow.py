"""好差评 to the national rules on real databases (SQLite and PostgreSQL), with a frozen clock.

Autumn 2026: 1–7 October is the National Day holiday, Saturday 10 October is worked (调休).
"""

from __future__ import annotations

import io
import json
import threading
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jsonschema
import pytest
from pypdf import PdfReader
from sqlalchemy import text

from queue_engine.adapters.unit_of_work import Database, UnitOfWork
from queue_engine.domain.access import Actor, Role
from queue_engine.domain.clock import FrozenClock
from queue_engine.domain.errors import Conflict, Forbidden, InvalidInput
from queue_engine.domain.evaluations import RatingChannel
from queue_engine.services.appeals import AppealDesk
from queue_engine.services.efficiency import EfficiencyDesk
from queue_engine.services.evaluation_reports import EvaluationReports
from queue_engine.services.evaluations import EvaluationDesk, Rating
from queue_engine.services.tickets import QueueEngine

SHANGHAI = ZoneInfo("Asia/Shanghai")
SCHEMA = Path(__file__).parents[2] / "docs" / "evaluations-export.schema.json"
CLERK10 = Actor("clerk10", Role.CLERK, "ZMD")
SUPERVISOR = Actor("supervisor", Role.SUPERVISOR, "ZMD")
SECOND = Actor("supervisor2", Role.SUPERVISOR, "ZMD")
DEPARTMENTS = {"SOCIAL": "人社局", "MEDICAL": "医保局"}


def local(day: date, hhmm: str = "10:00") -> datetime:
    hour, minute = map(int, hhmm.split(":"))
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI)


@pytest.fixture
def ratings(engine: QueueEngine) -> EvaluationDesk:
    return EvaluationDesk(engine, b"test-rating-secret-0123456789")


@pytest.fixture
def appeals(engine: QueueEngine) -> AppealDesk:
    return AppealDesk(engine)


@pytest.fixture
def rendered() -> list[Any]:
    return []


@pytest.fixture
def efficiency(engine: QueueEngine, rendered: list[Any]) -> EfficiencyDesk:
    from queue_engine.adapters.notice_pdf import render_notice

    def render(notice: Any) -> bytes:
        rendered.append(notice)
        return render_notice(notice)

    return EfficiencyDesk(engine, render)


@pytest.fixture
def reports(db: Database, clock: FrozenClock, efficiency: EfficiencyDesk) -> EvaluationReports:
    return EvaluationReports(db, clock, efficiency)


class Visits:
    """Finished visits at a window of ZMD, one at a time."""

    def __init__(self, db: Database, engine: QueueEngine) -> None:
        self.engine = engine
        with UnitOfWork(db, write=False) as uow:
            config = db.hall_config(uow.conn, "ZMD")[1]
        self.ids = {w.number: w.id for w in config.windows}
        self.opened: set[int] = set()

    def finish(self, window: int, service: str, clerk: str | None = None) -> str:
        window_id = self.ids[window]
        if window not in self.opened:
            self.engine.open_window(window_id, clerk or f"clerk{window:02d}")
            self.opened.add(window)
        self.engine.issue("ZMD", service)
        ticket = self.engine.call_next(window_id)
        assert ticket is not None and ticket.service == service
        self.engine.finish(self.engine.start(ticket.id).id)
        return ticket.id


@pytest.fixture
def visits(db: Database, engine: QueueEngine) -> Visits:
    return Visits(db, engine)


# -- what a rating carries ------------------------------------------


def test_ratings_carry_the_halls_indicators_and_reasons_and_one_follow_up(
    ratings: EvaluationDesk, visits: Visits, clock: FrozenClock
) -> None:
    ratings.set_rules("ZMD", {"indicators": ["overall", "attitude"]}, by="admin")
    ticket = visits.finish(10, "SOCIAL")
    with pytest.raises(InvalidInput):
        ratings.evaluate(ticket, 4, rating=Rating(indicators={"overall": 4}))
    with pytest.raises(InvalidInput):
        ratings.evaluate(ticket, 4, rating=Rating(segment=1))  # one service: one segment
    with pytest.raises(InvalidInput):
        ratings.evaluate(ticket, 4, rating=Rating(reasons=("态度",)))
    rated = ratings.evaluate(
        ticket, 2, "窗口不说明", "slip_qr", Rating(0, {"overall": 2, "attitude": 1}, ("态度",))
    )
    assert rated.indicators == {"overall": 2, "attitude": 1} and rated.reasons == ("态度",)
    assert rated.case_id is not None and ratings.case(rated.case_id).reasons == ("态度",)
    with pytest.raises(Conflict):
        ratings.evaluate(ticket, 5)  # 一次一评: once per service

    key = ratings.rating_key(ticket, RatingChannel.SLIP_QR)
    with pytest.raises(Forbidden):
        ratings.follow_up(ticket, "wrong-key", "补充")
    clock.advance(days=14)
    followed = ratings.follow_up(ticket, key, "补充:后来电话解决了")
    assert followed.score == 2
    with pytest.raises(Conflict) as twice:
        ratings.follow_up(ticket, key, "再补充")
    assert twice.value.code == "already_followed_up"

    late = visits.finish(10, "SOCIAL")
    ratings.evaluate(late, 5, source="slip_qr")
    clock.advance(days=15, seconds=1)
    with pytest.raises(Conflict) as closed:
        ratings.follow_up(late, ratings.rating_key(late, RatingChannel.SLIP_QR), "很好")
    assert closed.value.code == "follow_up_closed"


def test_rate_later_invites_the_visit_and_only_an_invitations_key_counts_for_it(
    ratings: EvaluationDesk, visits: Visits
) -> None:
    ticket = visits.finish(10, "SOCIAL", clerk="clerk10")
    window = visits.ids[10]
    with pytest.raises(Forbidden):
        ratings.evaluate_with_key(ticket, ratings.rating_key(ticket, RatingChannel.RATE_LATER), 5)
    with pytest.raises(Forbidden):
        ratings.rate_later(window, by=Actor("clerk11", Role.CLERK, "ZMD"))  # not its visit
    assert ratings.rate_later(window, by=CLERK10) == ticket
    assert ratings.pending_at_window(window) is None  # gone from the evaluator screen
    with pytest.raises(Forbidden):  # an SMS invitation was not what this visit got
        ratings.evaluate_with_key(ticket, ratings.rating_key(ticket, RatingChannel.INVITATION), 5)
    rated = ratings.evaluate_with_key(
        ticket, ratings.rating_key(ticket, RatingChannel.RATE_LATER), 4
    )
    assert rated.channel == "rate_later"


# -- deadlines with a frozen clock across the holiday ------------------------------------------


def test_a_bad_review_before_national_day_is_called_back_on_the_8th_and_rectified_by_the_27th(
    ratings: EvaluationDesk, visits: Visits, clock: FrozenClock
) -> None:
    clock.set(local(date(2026, 9, 30), "16:30"))
    ticket = visits.finish(10, "SOCIAL")
    case = ratings.case(ratings.evaluate(ticket, 1, source="slip_qr").case_id or 0)
    assert case.callback_deadline == date(2026, 10, 8) and case.deadline == date(2026, 10, 27)
    clock.set(local(date(2026, 10, 8), "17:59"))
    assert not ratings.case(case.id).callback_overdue
    clock.set(local(date(2026, 10, 9), "08:30"))
    assert ratings.case(case.id).callback_overdue and not ratings.case(case.id).overdue
    called = ratings.act(case.id, "call-back", "supervisor", "已电话回访")
    assert not called.callback_overdue and called.called_back_at == clock.now()

    clock.set(local(date(2026, 10, 27), "17:00"))
    assert not ratings.case(case.id).overdue
    clock.set(local(date(2026, 10, 28), "09:00"))
    assert ratings.case(case.id).overdue
    rectified = ratings.act(case.id, "rectify", "supervisor", "已补充一次性告知单")
    assert rectified.resolution == "rectified" and not rectified.overdue

    key = ratings.rating_key(ticket, RatingChannel.SLIP_QR)
    with pytest.raises(InvalidInput):
        ratings.rate_rectification(ticket, key, "happy")
    rated = ratings.rate_rectification(ticket, key, "basic")
    assert rated.rectification_rating == "basic"
    with pytest.raises(Conflict):
        ratings.rate_rectification(ticket, key, "satisfied")


def test_a_city_with_five_working_days_counts_the_adjusted_saturday(
    ratings: EvaluationDesk, visits: Visits, clock: FrozenClock
) -> None:
    ratings.set_rules("ZMD", {"rectify_working_days": 5}, by="admin")
    clock.set(local(date(2026, 9, 30)))
    first = ratings.evaluate(visits.finish(10, "SOCIAL"), 2)
    assert ratings.case(first.case_id or 0).deadline == date(2026, 10, 13)
    clock.set(local(date(2026, 10, 10)))  # the worked Saturday
    second = ratings.case(ratings.evaluate(visits.finish(10, "SOCIAL"), 1).case_id or 0)
    assert second.callback_deadline == date(2026, 10, 12)  # Sunday the 11th is not counted
    assert second.deadline == date(2026, 10, 16)  # 12, 13, 14, 15, 16


def test_an_unanswered_rectification_counts_as_the_halls_default_after_seven_days(
    ratings: EvaluationDesk, visits: Visits, clock: FrozenClock
) -> None:
    ratings.set_rules("ZMD", {"rectification_default": "satisfied"}, by="admin")
    ticket = visits.finish(10, "SOCIAL")
    case_id = ratings.evaluate(ticket, 1).case_id or 0
    ratings.act(case_id, "call-back", "supervisor")
    with pytest.raises(InvalidInput):
        ratings.act(case_id, "explain", "supervisor", " ")
    ratings.act(case_id, "explain", "supervisor", "该事项无法律依据,已向群众解释说明")
    clock.advance(days=7)
    assert ratings.case(case_id).rectification_rating is None
    clock.advance(minutes=1)
    assert ratings.case(case_id).rectification_rating == "satisfied"
    with pytest.raises(Conflict):
        ratings.rate_rectification(
            ticket, ratings.rating_key(ticket, RatingChannel.SLIP_QR), "basic"
        )


# -- appeals ------------------------------------------


def test_an_appeal_is_decided_by_a_second_person_never_the_rated_clerk(
    ratings: EvaluationDesk, appeals: AppealDesk, visits: Visits
) -> None:
    case_id = ratings.evaluate(visits.finish(10, "SOCIAL", clerk="clerk10"), 1).case_id or 0
    with pytest.raises(Forbidden):
        appeals.file(case_id, Actor("clerk11", Role.CLERK, "ZMD"), "不是我办的")
    appeal = appeals.file(case_id, CLERK10, "群众误按:录像显示办结顺利")
    with pytest.raises(Conflict):
        appeals.file(case_id, SUPERVISOR, "再次申诉")
    appeal = appeals.add_evidence(appeal.id, CLERK10, "监控录像 10:02–10:06")
    appeal = appeals.add_evidence(appeal.id, SUPERVISOR, "群众电话确认误按")
    assert [n.by for n in appeal.evidence] == ["clerk10", "supervisor"]
    with pytest.raises(Forbidden) as rated:
        appeals.decide(appeal.id, Actor("clerk10", Role.SUPERVISOR, "ZMD"), "upheld", "同意")
    assert rated.value.code == "rated_clerk"
    with pytest.raises(Forbidden):
        appeals.decide(appeal.id, CLERK10, "upheld", "同意")
    with pytest.raises(InvalidInput):
        appeals.decide(appeal.id, SUPERVISOR, "maybe", "同意")
    decided = appeals.decide(appeal.id, SUPERVISOR, "rejected", "录像不清")
    assert (decided.status, decided.decided_by) == ("rejected", "supervisor")
    with pytest.raises(Conflict):
        appeals.decide(appeal.id, SECOND, "upheld", "改判")
    with pytest.raises(Conflict):
        appeals.file(case_id, SUPERVISOR, "再申诉一次")  # decided once: the review stays
    assert ratings.case(case_id).status == "open" and ratings.case(case_id).appeal == "rejected"


# -- cards, the 督办通知书 and 约谈 ------------------------------------------


def test_a_missed_call_back_earns_a_yellow_then_a_red_card_with_its_notice(
    ratings: EvaluationDesk,
    efficiency: EfficiencyDesk,
    visits: Visits,
    clock: FrozenClock,
    rendered: list[Any],
) -> None:
    ratings.set_rules("ZMD", {"departments": DEPARTMENTS}, by="admin")
    clock.set(local(date(2026, 9, 30)))
    case_id = ratings.evaluate(visits.finish(10, "SOCIAL"), 1).case_id or 0
    clock.set(local(date(2026, 10, 8), "17:00"))
    assert efficiency.sweep("ZMD") == []
    clock.set(local(date(2026, 10, 9), "09:00"))
    (yellow,) = efficiency.sweep("ZMD")
    assert (yellow.colour, yellow.reason, yellow.window) == ("yellow", "callback_overdue", "10")
    assert yellow.department == "人社局" and yellow.notice_number is None
    clock.set(local(date(2026, 10, 12), "09:00"))
    assert efficiency.sweep("ZMD") == []  # 9 and 10 (Sat) ended: 2 working days late
    clock.set(local(date(2026, 10, 13), "09:00"))
    (red,) = efficiency.sweep("ZMD")
    assert red.colour == "red" and red.notice_number == f"ZMD-DB-2026-{red.id:04d}"
    assert efficiency.sweep("ZMD") == [] and len(rendered) == 1  # once per card
    assert [c.id for c in efficiency.cards_of_case(case_id)] == [yellow.id, red.id]

    hall, number, pdf = efficiency.notice(red.id)
    assert hall == "ZMD" and pdf.startswith(b"%PDF")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    flat = "".join(text.split())
    for expected in ("督办通知书", number, "10号窗口", "人社局", "社会保障", "2026年10月08日"):
        assert expected in flat, expected
    assert "书面回复期限:2026年10月16日" in flat  # 3 working days after the 13th
    with pytest.raises(Exception, match="督办通知书"):
        efficiency.notice(yellow.id)


def test_two_black_flags_in_a_row_record_an_interview_for_the_department(
    ratings: EvaluationDesk, efficiency: EfficiencyDesk
) -> None:
    ratings.set_rules("ZMD", {"departments": {**DEPARTMENTS, "window:12": "医保局"}}, by="admin")
    assert efficiency.record_black_flags("ZMD", "2026-10", ["10", "4"]) == []
    (interview,) = efficiency.record_black_flags("ZMD", "2026-11", ["11", "12"])
    assert (interview.department, interview.windows) == ("人社局", ("10", "11"))
    assert efficiency.record_black_flags("ZMD", "2026-11", ["11", "12"]) == []  # once a month
    with pytest.raises(InvalidInput):
        efficiency.record_black_flags("ZMD", "2026-13", [])


# -- the published figures of a hand-made month ---------------------------------------


def test_every_published_figure_of_a_hand_made_month(
    ratings: EvaluationDesk,
    appeals: AppealDesk,
    reports: EvaluationReports,
    visits: Visits,
    clock: FrozenClock,
) -> None:
    """November 2026 at windows 10 (社会保障1) and 12 (医疗保障), and one October visit.

    | window | service | finished | ratings             | cases                                  |
    | 10     | SOCIAL  | 4        | 5, 4, 1 (one none)  | the 1: called back and rectified in time |
    | 10     | MEDICAL | 1        | 2                   | appealed, upheld: counts nowhere        |
    | 12     | MEDICAL | 3        | 3, 2 (one none)     | the 2: called back late, not rectified  |

    Worked out: 5 ratings count (5, 4, 1, 3, 2), 3 good → 好评率 60%, 2 bad → 差评率 40%;
    8 services finished → 主动评价率 5/8; 2 cases, both called back → 回访率 100%, one in time →
    50%; one rectified in time → 整改率 50%, 整改及时率 50%.
    """
    ratings.set_rules("ZMD", {"departments": DEPARTMENTS}, by="admin")
    clock.set(local(date(2026, 10, 30)))
    ratings.evaluate(visits.finish(10, "SOCIAL"), 5)
    clock.set(local(date(2026, 11, 2), "09:00"))  # Monday
    for score in (5, 4):
        ratings.evaluate(visits.finish(10, "SOCIAL"), score)
    good_case = ratings.evaluate(visits.finish(10, "SOCIAL"), 1).case_id or 0
    visits.finish(10, "SOCIAL")
    excluded_case = ratings.evaluate(visits.finish(10, "MEDICAL"), 2).case_id or 0
    ratings.evaluate(visits.finish(12, "MEDICAL"), 3)
    late_case = ratings.evaluate(visits.finish(12, "MEDICAL"), 2).case_id or 0
    visits.finish(12, "MEDICAL")
    appeal = appeals.file(excluded_case, SUPERVISOR, "群众误按")
    appeals.decide(appeal.id, SECOND, "upheld", "录像与回访均确认误按")
    clock.set(local(date(2026, 11, 3), "15:00"))  # the call-back deadline of all three
    ratings.act(good_case, "call-back", "supervisor")
    clock.set(local(date(2026, 11, 5), "11:00"))
    ratings.act(good_case, "rectify", "supervisor", "已整改")
    ratings.act(late_case, "call-back", "supervisor")

    published = reports.published("ZMD", "2026-11")
    hall = published.overall.to_mapping()
    assert hall == {
        "ratings": 5,
        "good": 3,
        "good_rate": 0.6,
        "bad": 2,
        "bad_rate": 0.4,
        "finished": 8,
        "active_rate": 5 / 8,
        "cases": 2,
        "callback_rate": 1.0,
        "callback_on_time_rate": 0.5,
        "rectify_rate": 0.5,
        "rectify_on_time_rate": 0.5,
    }
    w10, w12 = published.by_window["10"], published.by_window["12"]
    assert (w10.ratings, w10.good, w10.bad, w10.finished, w10.cases) == (3, 2, 1, 5, 1)
    assert (w10.active_rate, w10.callback_on_time_rate, w10.rectify_on_time_rate) == (0.6, 1, 1)
    assert (w12.ratings, w12.good_rate, w12.finished, w12.cases) == (2, 0.5, 3, 1)
    assert (w12.callback_rate, w12.callback_on_time_rate, w12.rectify_rate) == (1.0, 0.0, 0.0)
    social, medical = published.by_service["SOCIAL"], published.by_service["MEDICAL"]
    assert (social.ratings, social.finished, social.active_rate) == (3, 4, 0.75)
    assert (medical.ratings, medical.finished, medical.bad, medical.cases) == (2, 4, 1, 1)
    assert published.by_department["人社局"] == social
    assert published.by_department["医保局"] == medical
    trend = dict(published.trend)
    assert list(trend)[-2:] == ["2026-10", "2026-11"] and len(trend) == 6
    assert (trend["2026-10"].ratings, trend["2026-10"].good_rate) == (1, 1.0)
    assert trend["2026-09"].ratings == 0 and trend["2026-09"].good_rate is None


# -- the upstream export ------------------------------------------


def test_the_days_export_follows_the_committed_json_schema_and_leaks_no_personal_data(
    ratings: EvaluationDesk, reports: EvaluationReports, visits: Visits, clock: FrozenClock
) -> None:
    ratings.set_rules("ZMD", {"indicators": ["overall", "attitude"]}, by="admin")
    clock.set(local(date(2026, 11, 2), "09:00"))
    ratings.evaluate(visits.finish(10, "SOCIAL"), 5, "很好", "slip_qr")
    bad = ratings.evaluate(
        visits.finish(10, "SOCIAL"),
        1,
        "请打13812345678联系我",
        "evaluator",
        Rating(0, {"overall": 1, "attitude": 1}, ("态度", "效率")),
    )
    ratings.act(bad.case_id or 0, "call-back", "supervisor")
    document = reports.export("ZMD", date(2026, 11, 2))
    jsonschema.validate(document, json.loads(SCHEMA.read_text(encoding="utf-8")))
    good, worse = document["records"]
    assert good["channel_kind"] == "qr_code" and good["rectification"] is None
    assert worse["bad_reasons"] == ["态度", "效率"] and worse["indicators"]["attitude"] == 1
    assert (
        worse["callback"]["on_time"] is True and worse["rectification"]["status"] == "called_back"
    )
    assert "13812345678" not in json.dumps(document, ensure_ascii=False)
    assert worse["evaluated_at"].endswith("+08:00")
    assert reports.export("ZMD", date(2026, 11, 3))["records"] == []
    clock.set(local(date(2026, 11, 4), "10:00"))
    ratings.act(bad.case_id or 0, "rectify", "supervisor", "已整改")
    (moved,) = reports.export("ZMD", date(2026, 11, 4))["records"]  # its case moved that day
    assert moved["evaluation_number"] == worse["evaluation_number"]
    assert moved["rectification"]["on_time"] is True
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(
            {**document, "records": [{**good, "level": 6}]}, json.loads(SCHEMA.read_text())
        )


# -- concurrency ---------------------------------------------------------------------------------


def test_racing_ratings_and_follow_ups_of_one_service_make_one_each(
    ratings: EvaluationDesk, visits: Visits
) -> None:
    ticket = visits.finish(10, "SOCIAL")
    key = ratings.rating_key(ticket, RatingChannel.SLIP_QR)
    barrier, outcomes = threading.Barrier(6), []

    def rate(score: int) -> None:
        barrier.wait()
        try:
            ratings.evaluate_with_key(ticket, key, score)
            outcomes.append("rated")
        except Conflict as exc:
            outcomes.append(exc.code)

    threads = [threading.Thread(target=rate, args=(s,)) for s in (1, 2, 3, 4, 5, 5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["already_rated"] * 5 + ["rated"]

    barrier, outcomes = threading.Barrier(4), []

    def follow(n: int) -> None:
        barrier.wait()
        try:
            ratings.follow_up(ticket, key, f"补充 {n}")
            outcomes.append("followed")
        except Conflict as exc:
            outcomes.append(exc.code)

    threads = [threading.Thread(target=follow, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["already_followed_up"] * 3 + ["followed"]


# -- 一次一评: one rating per service of a visit ------------------------------------------------


def test_each_finished_service_of_a_visit_is_rated_at_its_own_windows_evaluator(
    ratings: EvaluationDesk, engine: QueueEngine, db: Database, clock: FrozenClock
) -> None:
    from queue_engine.services.visits import VisitDesk

    desk = VisitDesk(engine, b"test-pepper-0123456789abcdef")
    with UnitOfWork(db, write=False) as uow:
        ids = {w.number: w.id for w in db.hall_config(uow.conn, "ZMD")[1].windows}
    social, medical = ids[10], ids[12]
    engine.open_window(social, "clerk10")
    engine.open_window(medical, "clerk12")
    ticket = desk.issue("ZMD", ["SOCIAL", "MEDICAL"]).ticket
    engine.call_next(social, "clerk10")
    engine.start(ticket.id, "clerk10")
    desk.finish(ticket.id, "clerk10", "completed")  # waits for MEDICAL now
    with pytest.raises(Conflict, match="finished service"):
        ratings.evaluate(ticket.id, 5, rating=Rating(segment=1))  # not done yet

    clerk10 = Actor("clerk10", Role.CLERK, "ZMD")
    pending = ratings.pending_segment_at_window(social, by=clerk10)
    assert pending is not None and (pending.segment, pending.service) == (0, "SOCIAL")
    first = ratings.evaluate_window(social, 2, by=clerk10, rating=Rating(reasons=("效率",)))
    assert (first.segment, first.reasons) == (0, ("效率",))
    assert ratings.pending_at_window(social, by=clerk10) is None  # rated once

    clock.advance(minutes=3)
    engine.call_next(medical, "clerk12")
    engine.start(ticket.id, "clerk12")
    desk.finish(ticket.id, "clerk12")
    clerk12 = Actor("clerk12", Role.CLERK, "ZMD")
    pending = ratings.pending_segment_at_window(medical, by=clerk12)
    assert pending is not None and (pending.segment, pending.segments) == (1, 2)
    second = ratings.evaluate_window(medical, 5, by=clerk12)
    assert second.segment == 1
    with UnitOfWork(db, write=False) as uow:
        rows = uow.conn.execute(
            text(
                'SELECT segment, service, "window", clerk, score FROM evaluations ORDER BY segment'
            )
        ).all()
    assert [tuple(r) for r in rows] == [
        (0, "SOCIAL", "10", "clerk10", 2),
        (1, "MEDICAL", "12", "clerk12", 5),
    ]
    case = ratings.case(first.case_id or 0)  # the bad review names the first window's clerk
    assert case.window == "10" and case.clerk == "clerk10"


def test_a_visit_of_several_services_counts_each_finished_service_for_the_active_rate(
    ratings: EvaluationDesk,
    reports: EvaluationReports,
    engine: QueueEngine,
    db: Database,
    clock: FrozenClock,
) -> None:
    """主动评价率 is ratings per finished service (一次一评): a visit of SOCIAL at window 10 then
    MEDICAL at window 12, both rated, is 2 finished services, one at each window; a second
    visit of SOCIAL then MEDICAL that misses its MEDICAL call finished 1 (SOCIAL, unrated).

    Worked out: 2 ratings over 3 finished services → 2/3; window 10: 1 of 2, window 12: 1 of 1;
    SOCIAL 1 of 2, MEDICAL 1 of 1.
    """
    from queue_engine.services.visits import VisitDesk

    desk = VisitDesk(engine, b"test-pepper-0123456789abcdef")
    with UnitOfWork(db, write=False) as uow:
        ids = {w.number: w.id for w in db.hall_config(uow.conn, "ZMD")[1].windows}
    engine.open_window(ids[10], "clerk10")
    engine.open_window(ids[12], "clerk12")
    clock.set(local(date(2026, 11, 2), "09:00"))
    rated = desk.issue("ZMD", ["SOCIAL", "MEDICAL"]).ticket
    left = desk.issue("ZMD", ["SOCIAL", "MEDICAL"]).ticket
    for ticket in (rated, left):
        called = engine.call_next(ids[10], "clerk10")
        assert called is not None and called.id == ticket.id
        engine.start(ticket.id, "clerk10")
        desk.finish(ticket.id, "clerk10", "completed")
    engine.call_next(ids[12], "clerk12")
    engine.start(rated.id, "clerk12")
    desk.finish(rated.id, "clerk12", "completed")
    ratings.evaluate(rated.id, 5, rating=Rating(segment=0))
    ratings.evaluate(rated.id, 4, rating=Rating(segment=1))
    missed = engine.call_next(ids[12], "clerk12")
    assert missed is not None and missed.id == left.id
    engine.no_show(left.id, "clerk12")

    published = reports.published("ZMD", "2026-11")
    assert (published.overall.ratings, published.overall.finished) == (2, 3)
    assert published.overall.active_rate == 2 / 3
    w10, w12 = published.by_window["10"], published.by_window["12"]
    assert (w10.ratings, w10.finished, w12.ratings, w12.finished) == (1, 2, 1, 1)
    social, medical = published.by_service["SOCIAL"], published.by_service["MEDICAL"]
    assert (social.ratings, social.finished, medical.ratings, medical.finished) == (1, 2, 1, 1)


def test_the_ticket_page_offers_a_follow_up_only_while_one_may_be_given(
    ratings: EvaluationDesk, visits: Visits, clock: FrozenClock
) -> None:
    ticket = visits.finish(10, "SOCIAL")
    key = ratings.rating_key(ticket, RatingChannel.SLIP_QR)
    assert not ratings.follow_up_open(ticket)  # nothing rated yet
    ratings.evaluate_with_key(ticket, key, 4)
    assert ratings.follow_up_open(ticket) and not ratings.follow_up_open(ticket, 1)
    ratings.follow_up(ticket, key, "补充一句")
    assert not ratings.follow_up_open(ticket)  # once only

    late = visits.finish(10, "SOCIAL")
    ratings.evaluate(late, 5, source="slip_qr")
    clock.advance(days=15)
    assert ratings.follow_up_open(late)
    clock.advance(seconds=1)
    assert not ratings.follow_up_open(late)  # the hall's 15 days are over
