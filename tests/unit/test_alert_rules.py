"""Each alert rule of SPEC §4 on a frozen moment: raised at the threshold, not just under it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from queue_engine.domain.alerts import (
    AlertKind,
    AlertSettings,
    HallPicture,
    OpenCase,
    ServiceInfo,
    Severity,
    Thresholds,
    WaitingTicket,
    WindowDay,
    WindowInfo,
    describe,
    evaluate,
)
from queue_engine.domain.errors import InvalidInput

NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
SERVICES = (ServiceInfo("A", "企业开办", 10.0), ServiceInfo("B", "税务", 5.0))


def ago(minutes: float) -> datetime:
    return NOW - timedelta(minutes=minutes)


def window(number: int, state: str = "open", **kw: object) -> WindowInfo:
    defaults: dict[str, object] = {
        "since": ago(60),
        "clerk": f"c{number}",
        "skills": frozenset({"A"}),
        "last_activity": NOW,
    }
    defaults.update(kw)
    return WindowInfo(number=number, state=state, **defaults)  # type: ignore[arg-type]


def picture(**kw: object) -> HallPicture:
    base = HallPicture(
        hall="ZMD",
        now=NOW,
        services=SERVICES,
        windows=(window(1, ticket_number="A001"),),
        waiting=(),
    )
    return replace(base, **kw)  # type: ignore[arg-type]


def kinds(p: HallPicture, settings: AlertSettings | None = None) -> dict[str, Severity]:
    return {c.key: c.severity for c in evaluate(p, settings or AlertSettings())}


def waiting(minutes: float, service: str = "A", n: int = 1) -> tuple[WaitingTicket, ...]:
    return tuple(WaitingTicket(f"{service}{i:03d}", service, ago(minutes)) for i in range(n))


def test_quiet_hall_has_no_alerts() -> None:
    assert kinds(picture()) == {}


@pytest.mark.parametrize(
    ("minutes", "expected"),
    [(14.99, None), (15, Severity.YELLOW), (29.9, Severity.YELLOW), (30, Severity.RED)],
)
def test_wait_long(minutes: float, expected: Severity | None) -> None:
    found = kinds(picture(waiting=waiting(minutes)))
    assert found.get("wait_long:A") == expected


def test_wait_long_uses_the_service_override() -> None:
    settings = AlertSettings(Thresholds(), {"A": {"wait_yellow_minutes": 5}})
    both = (window(1, ticket_number="A001", skills=frozenset({"A", "B"})),)
    found = kinds(picture(windows=both, waiting=waiting(6)), settings)
    assert found == {"wait_long:A": Severity.YELLOW}
    assert kinds(picture(windows=both, waiting=waiting(6, "B")), settings) == {}


@pytest.mark.parametrize(("elapsed", "raised"), [(19.9, False), (20, True)])
def test_handling_long_at_twice_the_standard(elapsed: float, raised: bool) -> None:
    w = window(1, ticket_number="A001", ticket_service="A", serving_since=ago(elapsed))
    assert ("handling_long:1:A001" in kinds(picture(windows=(w,)))) is raised


@pytest.mark.parametrize(("count", "raised"), [(8, False), (9, True)])
def test_queue_long_suggests_a_window_with_the_skill(count: int, raised: bool) -> None:
    windows = (
        window(1, ticket_number="A001"),
        window(2, "closed", skills=frozenset({"A", "B", "C"})),
        window(3, "closed", skills=frozenset({"A"})),
        window(4, "closed", skills=frozenset({"B"})),
    )
    found = evaluate(picture(windows=windows, waiting=waiting(1, n=count)), AlertSettings())
    queue = [c for c in found if c.kind is AlertKind.QUEUE_LONG]
    assert bool(queue) is raised
    if raised:
        assert queue[0].data["suggest_windows"] == [3, 2]  # the specialist before 综合窗口
        assert "建议开启具备「企业开办」技能的弹性窗口(可开 3、2 号)" in describe(
            "queue_long", "A", queue[0].data
        )


def test_queue_with_no_open_window_is_red() -> None:
    found = kinds(picture(windows=(window(1, "closed"),), waiting=waiting(1)))
    assert found == {"queue_long:A": Severity.RED}


@pytest.mark.parametrize(("idle", "raised"), [(4.9, False), (5, True)])
def test_idle_with_queue(idle: float, raised: bool) -> None:
    w = window(1, last_activity=ago(idle))
    found = kinds(picture(windows=(w,), waiting=waiting(1)))
    assert ("idle_with_queue:1" in found) is raised


def test_idle_without_eligible_tickets_is_fine() -> None:
    idle = window(1, last_activity=ago(30))
    busy = window(2, ticket_number="B001", skills=frozenset({"B"}))
    assert kinds(picture(windows=(idle, busy), waiting=waiting(1, "B"))) == {}


@pytest.mark.parametrize(
    ("paused", "expected"), [(14.9, None), (15, Severity.YELLOW), (30, Severity.RED)]
)
def test_paused_long(paused: float, expected: Severity | None) -> None:
    w = window(1, "paused", since=ago(paused))
    assert kinds(picture(windows=(w,))).get("paused_long:1") == expected


@pytest.mark.parametrize(("late", "raised"), [(9.9, False), (10, True)])
def test_scheduled_window_not_open(late: float, raised: bool) -> None:
    settings = AlertSettings(Thresholds(scheduled_windows=(2,)))
    p = picture(windows=(window(1), window(2, "closed")), open_since=ago(late))
    assert ("not_open:2" in kinds(p, settings)) is raised
    assert kinds(replace(p, open_since=None), settings) == {}  # the hall is closed


def test_bad_review_until_taken_up_then_overdue() -> None:
    case = OpenCase(7, "A001", "A", "1", 1, "open", date(2026, 12, 17), overdue=False)
    assert kinds(picture(cases=(case,))) == {"bad_review:7": Severity.RED}
    taken_up = replace(case, status="called_back")
    assert kinds(picture(cases=(taken_up,))) == {}
    late = replace(taken_up, overdue=True)
    assert kinds(picture(cases=(late,))) == {"case_overdue:7": Severity.RED}


@pytest.mark.parametrize(("no_shows", "raised"), [(2, False), (3, True)])
def test_unusual_no_show_rate(no_shows: int, raised: bool) -> None:
    days = {1: WindowDay(12, no_shows, 0), 2: WindowDay(40, 4, 0)}  # others: 10%
    found = kinds(picture(window_days=days))
    assert ("no_show_rate:1" in found) is raised  # 3/12 = 25% ≥ 25% and ≥ 2 × 10%


def test_a_high_rate_is_not_unusual_when_every_window_has_it() -> None:
    days = {1: WindowDay(12, 4, 0), 2: WindowDay(40, 12, 0)}  # 33% vs 30%
    assert kinds(picture(window_days=days)) == {}


def test_too_few_calls_are_not_judged() -> None:
    assert kinds(picture(window_days={1: WindowDay(9, 9, 9)})) == {}


def test_unusual_recall_rate() -> None:
    days = {1: WindowDay(10, 0, 5), 2: WindowDay(30, 0, 3)}
    assert kinds(picture(window_days=days)) == {"recall_rate:1": Severity.YELLOW}


def test_settings_validation() -> None:
    with pytest.raises(InvalidInput, match="red waiting"):
        AlertSettings.from_mapping({"hall": {"wait_yellow_minutes": 20, "wait_red_minutes": 10}})
    with pytest.raises(InvalidInput, match="unknown threshold"):
        AlertSettings.from_mapping({"hall": {"colour": 1}})
    with pytest.raises(InvalidInput, match="cannot override"):
        AlertSettings.from_mapping({"services": {"A": {"idle_minutes": 1}}}, ["A"])
    with pytest.raises(InvalidInput, match="no service"):
        AlertSettings.from_mapping({"services": {"Z": {"wait_red_minutes": 40}}}, ["A"])


@given(
    yellow=st.floats(0, 500, allow_nan=False),
    extra=st.floats(0, 500, allow_nan=False),
    wait=st.floats(0, 1200, allow_nan=False),
)
def test_wait_severity_follows_the_thresholds(yellow: float, extra: float, wait: float) -> None:
    settings = AlertSettings(
        Thresholds(wait_yellow_minutes=yellow, wait_red_minutes=yellow + extra)
    )
    round_trip = AlertSettings.from_mapping(settings.to_mapping())
    assert round_trip == settings
    found = kinds(picture(waiting=waiting(wait)), settings).get("wait_long:A")
    if wait < yellow - 1e-6:
        assert found is None
    elif wait >= yellow + extra + 1e-6:
        assert found is Severity.RED


@pytest.mark.parametrize(("chosen", "raised"), [(5, False), (6, True)])
def test_frequent_calls_out_of_turn_raise_a_supervision_alert(chosen: int, raised: bool) -> None:
    found = kinds(picture(window_days={3: WindowDay(8, 0, 0, chosen)}))
    assert found == ({"chosen_calls:3": Severity.YELLOW} if raised else {})
