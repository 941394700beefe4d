"""Red/black flags: the composite score adjusts for the service mix, and can be drilled into."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest

from analytics.flags import FlagConfig, components, drill_down, rank_windows
from analytics.kpis import Ledger
from analytics.load import read_events_csv
from tests.helpers.eventlogs import Log, at

OTHERS = ("satisfaction", "waiting", "no_show", "alerts", "attendance")
HANDLING_ONLY = FlagConfig(
    weights={**dict.fromkeys(OTHERS, 0.0), "handling": 1.0}, red=1, black=1, min_visits=1
)


def _month(tmp_path: Path) -> pd.DataFrame:
    """Four windows, three visits each on 2 Nov 2026 (waits 2 minutes unless said):

    * 1: service HARD (20 min each) — the hall's HARD visits take 25 min on average;
    * 2: service EASY, 5 min each — exactly the hall's EASY average;
    * 3: service HARD, 30 min each — slower than the others at HARD;
    * 4: service EASY, 5 min each, but every citizen waited 12 minutes and rated 1.
    """
    log = Log()
    plan = {"1": ("HARD", 20, 2, 5), "2": ("EASY", 5, 2, 5), "3": ("HARD", 30, 2, 4)}
    plan["4"] = ("EASY", 5, 12, 1)
    n = 0
    for window, (service, minutes, wait, score) in plan.items():
        log.window(window, "opened", at(2, "08:30"), f"c{window}")
        t0 = at(2, "09:00")
        for _ in range(3):
            n += 1
            t = log.ticket(f"t{n}", f"X{n:03d}", service, t0)
            start = t0 + timedelta(minutes=wait)
            t.call(start, window, f"c{window}").start(start)
            t.finish(start + timedelta(minutes=minutes))
            t.rate(start + timedelta(minutes=minutes, seconds=30), score)
            t0 = start + timedelta(minutes=minutes + 1)
        log.window(window, "closed", at(2, "17:00"), f"c{window}")
    return read_events_csv(log.write(tmp_path / "month.csv"))


def test_handling_is_measured_against_the_same_service_hall_wide(tmp_path: Path) -> None:
    table = components(Ledger.from_events(_month(tmp_path)))
    # HARD: hall mean (3×20 + 3×30) / 6 = 25 minutes; EASY: 5 minutes
    assert table.loc["1", "handling"] == pytest.approx(60 / 75)
    assert table.loc["3", "handling"] == pytest.approx(90 / 75)
    assert table.loc["2", "handling"] == pytest.approx(1.0)
    assert table.loc["4", "waiting"] == pytest.approx(36 / 21)  # 12 vs the EASY mean of 7


def test_a_window_with_harder_services_is_not_punished_for_them(tmp_path: Path) -> None:
    ledger = Ledger.from_events(_month(tmp_path))
    ranked = rank_windows(ledger, config=HANDLING_ONLY)
    # Naively window 1 (20-minute visits) looks 4× slower than window 2 (5 minutes)…
    assert ledger.visits.groupby("window")["handling_minutes"].mean()["1"] == 20
    # …but it is faster than the hall at its own service, so it ranks first with a red flag.
    assert ranked["score"].idxmax() == "1"
    assert ranked.loc["1", "flag"] == "red" and ranked.loc["3", "flag"] == "black"
    assert ranked.loc["1", "score"] > ranked.loc["2", "score"] > ranked.loc["3", "score"]


def test_default_formula_ranks_and_flags(tmp_path: Path) -> None:
    ranked = rank_windows(
        Ledger.from_events(_month(tmp_path)), config=FlagConfig(red=1, black=1, min_visits=1)
    )
    assert ranked.loc["4", "flag"] == "black"  # long waits and bad reviews
    assert list(ranked["flag"]).count("red") == 1
    assert ranked["score"].mean() == pytest.approx(50)  # T-scores centre on 50
    too_few = rank_windows(Ledger.from_events(_month(tmp_path)), config=FlagConfig(min_visits=4))
    assert too_few["score"].isna().all() and (too_few["flag"] == "").all()


def test_drill_down_lists_the_tickets_and_reviews_behind_a_score(tmp_path: Path) -> None:
    parts = drill_down(Ledger.from_events(_month(tmp_path)), "3")
    visits = parts["visits"]
    assert list(visits["number"]) == ["X007", "X008", "X009"]
    assert list(visits["handling_minutes"]) == [30, 30, 30]
    assert list(visits["expected_handling_minutes"]) == [25, 25, 25]
    assert list(parts["reviews"]["score"]) == [4, 4, 4]
    assert list(parts["waits"]["wait_minutes"]) == [2, 2, 2]


def test_config_validation() -> None:
    assert FlagConfig.from_mapping({"weights": {"alerts": 0.5}, "red": 2}).weights["alerts"] == 0.5
    assert FlagConfig.from_mapping(FlagConfig().to_mapping()) == FlagConfig()
    with pytest.raises(ValueError, match="unknown flag component"):
        FlagConfig(weights={"speed": 1})
    with pytest.raises(ValueError, match="unknown flag setting"):
        FlagConfig.from_mapping({"colour": "red"})
    with pytest.raises(ValueError, match="not all 0"):
        FlagConfig(weights={"alerts": 0})


def test_a_month_where_every_window_did_equally_well_flags_nobody(tmp_path: Path) -> None:
    ledger = Ledger.from_events(_month(tmp_path))
    weights = {"attendance": 1.0, **dict.fromkeys(OTHERS[:-1], 0.0)}
    only_attendance = FlagConfig(weights={**weights, "handling": 0.0}, min_visits=1)
    ranked = rank_windows(ledger, config=only_attendance)
    assert (ranked["score"] == 50).all()
    assert (ranked["flag"] == "").all()


def _returns(tmp_path: Path) -> pd.DataFrame:
    """Windows 1 and 2 finish three HARD segments each: 1 sends two citizens back for missing
    documents (补正材料), 2 none; window 3 finishes EASY ones, one sent back of three."""
    log = Log()
    plan = {"1": ("HARD", 2), "2": ("HARD", 0), "3": ("EASY", 1)}
    n = 0
    for window, (service, returned) in plan.items():
        log.window(window, "opened", at(2, "08:30"), f"c{window}")
        t0 = at(2, "09:00")
        for i in range(3):
            n += 1
            t = log.ticket(f"t{n}", f"X{n:03d}", service, t0)
            t.call(t0 + timedelta(minutes=2), window, f"c{window}").start(t0 + timedelta(minutes=2))
            outcome = "needs_documents" if i < returned else "completed"
            t.emit("ticket.finished", t0 + timedelta(minutes=10), outcome=outcome)
            t0 += timedelta(minutes=11)
        log.window(window, "closed", at(2, "17:00"), f"c{window}")
    return read_events_csv(log.write(tmp_path / "returns.csv"))


def test_one_visit_is_the_share_not_sent_back_against_the_same_service_hall_wide(
    tmp_path: Path,
) -> None:
    events = _returns(tmp_path)
    table = components(Ledger.from_events(events), events)
    # HARD: 2 of 6 sent back hall-wide, so 1/3 expected; EASY: 1 of 3, its own expectation
    assert table.loc["1", "one_visit"] == pytest.approx(1 / 3 - 2 / 3)
    assert table.loc["2", "one_visit"] == pytest.approx(1 / 3)
    assert table.loc["3", "one_visit"] == pytest.approx(0.0)
    assert (table.loc["1", "outcomes"], table.loc["1", "returns"]) == (3, 2)


def test_the_one_visit_component_weighs_nothing_unless_the_hall_says_so(tmp_path: Path) -> None:
    events = _returns(tmp_path)
    ledger = Ledger.from_events(events)
    assert FlagConfig().weights["one_visit"] == 0.0
    plain = events.assign(payload="{}")  # the same month without any outcome
    default = rank_windows(ledger, events, FlagConfig(min_visits=1))
    assert (
        default["score"].tolist()
        == rank_windows(ledger, plain, FlagConfig(min_visits=1))["score"].tolist()
    )
    weighed = FlagConfig.from_mapping({"weights": {"one_visit": 1.0}, "min_visits": 1})
    ranked = rank_windows(ledger, events, weighed)
    assert ranked.loc["2", "score"] > ranked.loc["3", "score"] > ranked.loc["1", "score"]
