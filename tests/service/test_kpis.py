"""KPIs of a hand-made log (tests/helpers/eventlogs.py: worked_example) worked out by hand."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from analytics.kpis import Ledger, kpis
from analytics.load import read_events_csv
from hall_app.cli import main
from tests.helpers.eventlogs import Log, at, worked_example


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Ledger:
    path = worked_example().write(tmp_path_factory.mktemp("log") / "events.csv")
    return Ledger.from_events(read_events_csv(path))


def test_reads_the_csv_with_aware_times_and_the_hall_zone(tmp_path: Path) -> None:
    events = read_events_csv(worked_example().write(tmp_path / "e.csv"))
    assert str(events["ts"].dt.tz) == "UTC"
    assert events.attrs["timezone"] == "Asia/Shanghai"
    assert events["ts"].iloc[0] == pd.Timestamp("2026-11-26T01:00:00Z")  # 09:00 at UTC+8
    assert events["window"].dtype == "category"
    assert events["ticket_id"].isna().sum() == 10  # the window events


def test_overall_figures(ledger: Ledger) -> None:
    row = kpis(ledger).iloc[0]
    assert row["tickets"] == 6
    assert row["called"] == 5  # T4 was cancelled before a call
    # waits 4 (T1), 2 (T2 from its slot 09:30, not from 09:10), 7 (T3's first call), 20, 20
    assert row["wait_mean"] == pytest.approx(53 / 5)
    assert row["wait_median"] == pytest.approx(7)
    assert row["service_level_5"] == pytest.approx(2 / 5)
    assert row["service_level_15"] == pytest.approx(3 / 5)
    # one final no-show (T5; T3's requeued no-show was served), one transfer, one cancel
    assert row["no_show_rate"] == pytest.approx(1 / 6)
    assert row["transfer_rate"] == pytest.approx(1 / 6)
    assert row["cancellation_rate"] == pytest.approx(1 / 6)
    # handling of finished visits: 6, 8, 10 (T3 at window 3 after the transfer), 5
    assert row["served"] == 4
    assert row["handling_mean"] == pytest.approx(29 / 4)
    assert row["handling_median"] == pytest.approx(7)
    # actual − told: 0, −1, 2, 10, 10; within p90: all but T6 (20 > 15)
    assert row["ewt_error_mean"] == pytest.approx(21 / 5)
    assert row["ewt_abs_error_mean"] == pytest.approx(23 / 5)
    assert row["ewt_within_p90"] == pytest.approx(4 / 5)
    assert (row["reviews"], row["satisfaction"], row["bad_reviews"]) == (2, 3.5, 1)
    # busy 7+8+5 (window 1) + 2+5 (2) + 11+2 (3) of 90+60+20+900 open minutes
    assert row["busy_minutes"] == pytest.approx(40)
    assert row["utilization"] == pytest.approx(40 / 1070)
    # 4 served in 2 hours with service: 26th 09:xx and 27th 10:xx
    assert row["throughput_per_hour"] == pytest.approx(2.0)


def test_a_ticket_called_after_midnight_counts_on_its_business_date(ledger: Ledger) -> None:
    by_day = kpis(ledger, "day")
    thursday = by_day.loc[pd.Timestamp("2026-11-26")]
    friday = by_day.loc[pd.Timestamp("2026-11-27")]
    assert (thursday["tickets"], friday["tickets"]) == (5, 1)
    assert thursday["wait_mean"] == pytest.approx((4 + 2 + 7 + 20) / 4)  # T5 is Thursday's
    assert thursday["no_show_rate"] == pytest.approx(1 / 5)
    assert friday["wait_mean"] == pytest.approx(20)
    assert thursday["utilization"] == pytest.approx((15 + 7 + 13) / (90 + 20 + 900))
    assert friday["utilization"] == pytest.approx(5 / 60)


def test_by_window_waits_go_to_the_first_caller_and_rates_are_per_call(ledger: Ledger) -> None:
    w = kpis(ledger, "window")
    assert list(w.index) == ["1", "2", "3"]
    assert w.loc["1", "wait_mean"] == pytest.approx((4 + 2 + 20) / 3)
    assert w.loc["1", "handling_mean"] == pytest.approx((6 + 8 + 5) / 3)
    assert w.loc["1", "utilization"] == pytest.approx(20 / 150)
    assert w.loc["1", "throughput_per_hour"] == pytest.approx(3 / 2.5)
    # window 2: T3's no-show (requeued) and its transfer; nothing finished
    assert (w.loc["2", "visits"], w.loc["2", "served"]) == (2, 0)
    assert w.loc["2", "no_show_rate"] == pytest.approx(0.5)
    assert w.loc["2", "transfer_rate"] == pytest.approx(0.5)
    assert w.loc["2", "wait_mean"] == pytest.approx(7)
    # window 3: T3 finished (recalled once) and rated 2, T5 a no-show
    assert w.loc["3", "recall_rate"] == pytest.approx(0.5)
    assert (w.loc["3", "bad_reviews"], w.loc["3", "satisfaction"]) == (1, 2.0)
    assert w.loc["3", "utilization"] == pytest.approx(13 / 900)


def test_by_service_transfers_count_against_the_issued_service(ledger: Ledger) -> None:
    s = kpis(ledger, "service")
    assert (s.loc["A", "tickets"], s.loc["B", "tickets"]) == (4, 2)
    assert s.loc["A", "transfer_rate"] == pytest.approx(1 / 4)
    assert s.loc["B", "cancellation_rate"] == pytest.approx(1 / 2)
    # T3's handling happened as a B visit after the transfer
    assert s.loc["B", "handling_mean"] == pytest.approx(10)
    assert (s.loc["A", "served"], s.loc["B", "served"]) == (3, 1)


def test_by_channel_priority_clerk_and_hour(ledger: Ledger) -> None:
    assert kpis(ledger, "channel").loc["appointment", "wait_mean"] == pytest.approx(2)
    assert kpis(ledger, "priority").loc["elderly", "wait_mean"] == pytest.approx(7)
    assert kpis(ledger, "clerk").loc["c3", "served"] == 1
    hours = kpis(ledger, "hour")
    assert hours.loc[23, "tickets"] == 1 and hours.loc[9, "tickets"] == 4
    both = kpis(ledger, ["day", "hour"])
    assert both.loc[(pd.Timestamp("2026-11-26"), 9), "throughput_per_hour"] == pytest.approx(3)


def test_unknown_dimension_is_refused(ledger: Ledger) -> None:
    with pytest.raises(ValueError, match="unknown KPI dimension"):
        kpis(ledger, "colour")


def test_empty_log_gives_zero_counts(tmp_path: Path) -> None:
    events = read_events_csv(Log().write(tmp_path / "empty.csv"))
    row = kpis(events).iloc[0]
    assert row["tickets"] == 0 and row["served"] == 0
    assert pd.isna(row["wait_mean"])


def test_hall_kpis_prints_json(tmp_path: Path) -> None:
    path = worked_example().write(tmp_path / "events.csv")
    result = CliRunner().invoke(main, ["kpis", str(path)])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["hall"] == "ZMD" and report["from"] == "2026-11-26"
    assert report["overall"]["wait_mean"] == pytest.approx(10.6)
    assert [r["window"] for r in report["by_window"]] == ["1", "2", "3"]
    assert report["by_day"][0]["day"] == "2026-11-26"


def test_hall_kpis_rejects_a_file_that_is_no_event_log(tmp_path: Path) -> None:
    path = tmp_path / "other.csv"
    path.write_text("a,b\n1,2\n")
    result = CliRunner().invoke(main, ["kpis", str(path)])
    assert result.exit_code == 2
    assert "not an event log" in result.output


def test_appointment_checked_in_late_waits_from_issue(tmp_path: Path) -> None:
    log = Log()
    t = log.ticket("x", "A001", "A", at(26, "09:40"), channel="appointment", slot=at(26, "09:30"))
    t.call(at(26, "09:43"), "1", "c1")
    events = read_events_csv(log.write(tmp_path / "late.csv"))
    assert kpis(events).iloc[0]["wait_mean"] == pytest.approx(3)
