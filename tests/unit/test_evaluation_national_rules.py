"""好差评 to the national rules, pure: indicators, reasons, 追评, deadlines, appeals, cards.

The calendar of autumn 2026 (chinese-calendar): 25–27 September 中秋, 1–7 October 国庆,
Saturday 10 October an adjusted working day (调休), Sunday 11 October a rest day.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from queue_engine.domain.access import Actor, Role
from queue_engine.domain.appeals import may_decide, may_file
from queue_engine.domain.case_deadlines import (
    case_deadlines,
    check_rectification_rating,
    effective_rectification_rating,
    overdue,
    working_days_late,
)
from queue_engine.domain.efficiency import (
    CardColour,
    CardReason,
    CaseClock,
    cards_due,
    interviews_due,
)
from queue_engine.domain.errors import Conflict, Forbidden, InvalidInput
from queue_engine.domain.evaluation_rules import (
    CardRules,
    EvaluationRules,
    Indicator,
    RectificationRating,
    check_follow_up,
    check_indicators,
    check_reasons,
)
from queue_engine.domain.evaluations import CaseAction, CaseStatus, next_status

ALL = EvaluationRules(indicators=tuple(Indicator))
EVE_OF_NATIONAL_DAY = date(2026, 9, 30)  # Wednesday, a working day
ADJUSTED_SATURDAY = date(2026, 10, 10)


# -- indicators and reasons ------------------------------------------


def test_a_rating_gives_all_the_halls_indicators_or_none() -> None:
    full = {"overall": 5, "efficiency": 4, "quality": 4, "attitude": 3}
    assert check_indicators(full, ALL) == full
    assert check_indicators(None, ALL) == {} and check_indicators({}, ALL) == {}
    with pytest.raises(InvalidInput, match="missing"):
        check_indicators({"overall": 5}, ALL)
    with pytest.raises(InvalidInput, match="does not ask"):
        check_indicators({"attitude": 4}, EvaluationRules())  # a hall asking none


@given(
    st.dictionaries(
        st.sampled_from([*(str(i) for i in Indicator), "speed", ""]),
        st.one_of(st.integers(-3, 9), st.booleans(), st.text(max_size=2), st.none()),
    )
)
def test_indicators_are_accepted_only_as_whole_levels_of_the_asked_set(given_: dict) -> None:
    asked = {str(i) for i in Indicator}
    valid = not given_ or (
        set(given_) == asked
        and all(
            isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 5 for v in given_.values()
        )
    )
    if valid:
        assert check_indicators(given_, ALL) == given_
    else:
        with pytest.raises(InvalidInput):
            check_indicators(given_, ALL)


def test_bad_reviews_tick_reasons_from_the_halls_list_and_good_ones_none() -> None:
    rules = EvaluationRules()
    assert check_reasons(1, ["态度", "一次性告知不到位"], rules) == ["态度", "一次性告知不到位"]
    assert check_reasons(2, None, rules) == []  # voluntary, like the rating
    with pytest.raises(InvalidInput, match="unknown"):
        check_reasons(2, ["太冷"], rules)
    with pytest.raises(InvalidInput, match="twice"):
        check_reasons(1, ["态度", "态度"], rules)
    with pytest.raises(InvalidInput, match="only a bad review"):
        check_reasons(4, ["态度"], rules)
    own = EvaluationRules(reasons=("排队久", "材料反复"))
    assert check_reasons(1, ["排队久"], own) == ["排队久"]


def test_rules_round_trip_and_refuse_nonsense() -> None:
    rules = EvaluationRules.from_mapping(
        {"indicators": ["attitude"], "rectify_working_days": 5, "rectification_default": "basic"}
    )
    assert rules.rectify_days() == 5 and rules.rectification_default is RectificationRating.BASIC
    assert EvaluationRules.from_mapping(rules.to_mapping()) == rules
    assert EvaluationRules.from_mapping({}).rectify_days(fallback=12) == 12  # the old setting
    for bad in (
        {"colour": "red"},
        {"indicators": ["speed"]},
        {"follow_up_days": 0},
        {"follow_up_days": True},
        {"callback_working_days": 5, "rectify_working_days": 3},
        {"reasons": []},
        {"cards": {"yellow_after": 3, "red_after": 3}},
        {"rectification_default": "happy"},
    ):
        with pytest.raises(InvalidInput):
            EvaluationRules.from_mapping(bad)


def test_a_follow_up_rating_is_given_once_within_the_days() -> None:
    rated = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)
    rules = EvaluationRules()  # 15 days
    check_follow_up(rated, rated + timedelta(days=15), already=False, rules=rules)
    with pytest.raises(Conflict) as late:
        check_follow_up(rated, rated + timedelta(days=15, seconds=1), already=False, rules=rules)
    assert late.value.code == "follow_up_closed"
    with pytest.raises(Conflict) as twice:
        check_follow_up(rated, rated + timedelta(days=1), already=True, rules=rules)
    assert twice.value.code == "already_followed_up"


# -- deadlines across the National Day holiday and its adjusted Saturday ------------


def test_the_call_back_and_rectification_deadlines_skip_the_holiday_and_count_the_saturday() -> (
    None
):
    fifteen = case_deadlines(EVE_OF_NATIONAL_DAY, EvaluationRules())
    # 1 working day after 30 Sep: the holiday runs to 7 Oct, so Thursday 8 Oct.
    assert fifteen.callback == date(2026, 10, 8)
    # 8, 9, 10 (Sat, worked), 12–16, 19–23, 26, 27: the 15th working day is 27 Oct.
    assert fifteen.rectify == date(2026, 10, 27)
    five = case_deadlines(EVE_OF_NATIONAL_DAY, EvaluationRules(rectify_working_days=5))
    assert five.rectify == date(2026, 10, 13)  # 8, 9, 10 (Sat), 12, 13
    on_saturday = case_deadlines(ADJUSTED_SATURDAY, EvaluationRules())
    assert on_saturday.callback == date(2026, 10, 12)  # Sunday 11 Oct is a rest day


def test_working_days_late_count_the_adjusted_saturday_and_not_the_sunday() -> None:
    deadline = date(2026, 10, 8)
    assert working_days_late(deadline, deadline) == -1  # its business day has not ended
    assert working_days_late(deadline, date(2026, 10, 9)) == 0  # overdue since this morning
    assert working_days_late(deadline, date(2026, 10, 12)) == 2  # 9, 10 (Sat); not 11 (Sun)
    assert working_days_late(deadline, date(2026, 10, 13)) == 3
    assert overdue(None, deadline, date(2026, 10, 9)) and not overdue(None, deadline, deadline)
    assert not overdue(date(2026, 10, 9), deadline, date(2026, 10, 20))  # done, late or not


def test_the_citizen_rates_the_rectification_within_seven_days_else_the_default_counts() -> None:
    resolved = datetime(2026, 10, 20, 2, 0, tzinfo=UTC)
    none, basic = (
        EvaluationRules(),
        EvaluationRules(rectification_default=RectificationRating.BASIC),
    )
    week = resolved + timedelta(days=7)
    check_rectification_rating(resolved, False, week, none)
    with pytest.raises(Conflict, match="within 7 days"):
        check_rectification_rating(resolved, False, week + timedelta(seconds=1), none)
    with pytest.raises(Conflict):
        check_rectification_rating(None, False, week, none)  # nothing put right yet
    assert effective_rectification_rating(None, resolved, week, basic) is None  # still open
    later = week + timedelta(minutes=1)
    assert effective_rectification_rating(None, resolved, later, none) is None  # default: none
    assert effective_rectification_rating(None, resolved, later, basic) is RectificationRating.BASIC
    given = RectificationRating.UNSATISFIED
    assert effective_rectification_rating(given, resolved, later, basic) is given


def test_a_case_is_explained_only_after_the_call_back_and_only_with_the_explanation() -> None:
    assert next_status(CaseStatus.CALLED_BACK, CaseAction.EXPLAIN, "无法律依据:已解释") == "closed"
    with pytest.raises(InvalidInput):
        next_status(CaseStatus.CALLED_BACK, CaseAction.EXPLAIN, "  ")
    with pytest.raises(Conflict):
        next_status(CaseStatus.OPEN, CaseAction.EXPLAIN, "解释")


# -- appeals ------------------------------------------


def test_the_rated_clerk_files_but_never_decides_and_a_second_person_decides() -> None:
    clerk = Actor("clerk10", Role.CLERK, "ZMD")
    boss, other = Actor("supervisor", Role.SUPERVISOR, "ZMD"), Actor("sup2", Role.SUPERVISOR, "ZMD")
    may_file(clerk, "clerk10")
    with pytest.raises(Forbidden):
        may_file(Actor("clerk11", Role.CLERK, "ZMD"), "clerk10")
    may_decide(other, filed_by="clerk10", rated_clerk="clerk10")
    with pytest.raises(Forbidden) as own:
        may_decide(clerk, filed_by="supervisor", rated_clerk="clerk10")
    assert own.value.code == "not_reviewer"
    # a supervisor who was itself the clerk of the rated visit cannot decide it either
    with pytest.raises(Forbidden) as rated:
        may_decide(boss, filed_by="sup2", rated_clerk="supervisor")
    assert rated.value.code == "rated_clerk"
    with pytest.raises(Forbidden) as same:
        may_decide(boss, filed_by="supervisor", rated_clerk="clerk10")
    assert same.value.code == "same_person"


# -- cards and interviews ------------------------------------------


def _clock(**kw: object) -> CaseClock:
    values: dict = {
        "case_id": 1,
        "window": "5",
        "department": "社保",
        "callback_deadline": date(2026, 10, 8),
        "called_back": None,
        "rectify_deadline": date(2026, 10, 27),
        "resolved": None,
    }
    values.update(kw)
    return CaseClock(**values)  # type: ignore[arg-type]


def test_a_missed_call_back_earns_yellow_then_red_by_the_halls_working_days() -> None:
    rules = CardRules(yellow_after=0, red_after=3)
    assert cards_due([_clock()], date(2026, 10, 8), rules) == []
    (yellow,) = cards_due([_clock()], date(2026, 10, 9), rules)
    assert (yellow.colour, yellow.reason) == (CardColour.YELLOW, CardReason.CALLBACK_OVERDUE)
    assert [c.colour for c in cards_due([_clock()], date(2026, 10, 12), rules)] == ["yellow"]
    both = cards_due([_clock()], date(2026, 10, 13), rules)  # 9, 10 (Sat), 12 ended
    assert [c.colour for c in both] == ["yellow", "red"]
    assert cards_due([_clock(called_back=date(2026, 10, 9))], date(2026, 10, 13), rules) == []
    assert cards_due([_clock(excluded=True)], date(2026, 11, 30), rules) == []
    late = cards_due([_clock(called_back=date(2026, 10, 8))], date(2026, 10, 28), rules)
    assert [(c.colour, c.reason) for c in late] == [("yellow", "rectify_overdue")]


def test_two_black_flags_in_a_row_call_the_department_in() -> None:
    flags = {"2026-10": {"社保", "不动产"}, "2026-11": {"社保", "公安"}, "2026-12": {"公安"}}
    assert interviews_due(flags, "2026-11") == ["社保"]
    assert interviews_due(flags, "2026-12") == ["公安"]
    assert interviews_due(flags, "2026-10") == []
    assert interviews_due({"2025-12": {"税务"}, "2026-01": {"税务"}}, "2026-01") == ["税务"]
