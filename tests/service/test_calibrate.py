"""Calibration recovers a known hall from its event log, from a file and from the database."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner

from analytics.load import read_events_csv
from hall_app.cli import main
from queue_engine.adapters.unit_of_work import Database, UnitOfWork
from queue_engine.domain.clock import FrozenClock
from queue_engine.domain.hours import OpeningHours
from queue_engine.domain.model import HallConfig, Service, WindowConfig
from queue_engine.services.tickets import QueueEngine
from simulations.calibrate import _skills_seen, calibrate, replay_check
from simulations.eventlog import write_event_log
from simulations.kpis import waits
from simulations.model import build_windows, simulate
from simulations.replicate import seeds
from simulations.scenario import Scenario, load_scenario, parse_scenario

TRUTH = {
    "days": 5,
    "open": "09:00",
    "close": "13:00",
    "services": [
        {
            "code": "A",
            "arrivals_per_hour": [30, 40, 35, 20],
            "service_time": {"dist": "lognormal", "mean_minutes": 5, "cv": 0.5},
            "priority_share": 0.1,
            "patience": {"dist": "exponential", "mean_minutes": 30},
        },
        {
            "code": "B",
            "arrivals_per_hour": 10,
            "service_time": {"dist": "exponential", "mean_minutes": 8},
            "appointment_share": 0.3,
        },
    ],
    "windows": [
        {"count": 3, "services": ["A"]},
        {"id": 4, "services": ["A"], "secondary": ["B"]},
        {"id": 5, "services": ["B"], "open": [False, True, True, True]},
    ],
    "no_show_rate": 0.05,
}


def hall_config(scenario: Scenario) -> HallConfig:
    """The truth's windows and skills, as the hall's configuration would give them."""
    services = tuple(Service(s.code, s.code, s.code, s.code, "z", 5) for s in scenario.services)
    windows = tuple(
        WindowConfig(w.id, w.id, str(w.id), "z", w.skills) for w in build_windows(scenario)
    )
    return HallConfig(
        "SIM", "模拟", "Sim", "Asia/Shanghai", OpeningHours.round_the_clock(), services, windows
    )


def test_skills_read_from_the_log_alone_rank_services_by_how_often_a_window_served_them() -> None:
    served = list("AAAAAAABBC") + list("CCCA")
    visits = pd.DataFrame({"window": ["1"] * 10 + ["2"] * 4, "service": served})
    assert _skills_seen(visits) == {
        "1": {"A": True, "B": False, "C": False},
        "2": {"A": False, "C": True},
    }


def test_calibration_recovers_the_scenario_behind_an_event_log() -> None:
    truth = parse_scenario(TRUTH)
    log = io.StringIO()
    write_event_log(simulate(truth, 7, record_estimates=True), log)
    log.seek(0)
    scenario, observed = calibrate(read_events_csv(log), hall_config(truth))
    assert (scenario.open, scenario.close) == ("09:00", "13:00")
    a, b = scenario.services
    assert scenario.rates(a) == pytest.approx([30, 40, 35, 20], rel=0.25)
    assert a.service_time.mean_minutes == pytest.approx(5, rel=0.1)
    assert b.service_time.mean_minutes == pytest.approx(8, rel=0.2)
    assert a.patience is not None and a.patience.mean_minutes == pytest.approx(30, rel=0.4)
    assert b.patience is None  # nobody gave up on B
    assert b.appointment_share == pytest.approx(0.3, abs=0.1)
    assert a.priority_share == pytest.approx(0.1, abs=0.05)
    assert scenario.no_show_rate == pytest.approx(0.05, abs=0.03)
    by_id = {w.id: w for w in scenario.windows}
    assert by_id[5].open == [False, True, True, True]
    assert (by_id[4].services, by_id[4].secondary) == (["A"], ["B"])
    replay = replay_check(scenario, observed, replications=2, seed=1)
    assert replay["simulated_tickets_per_day"] == pytest.approx(observed["tickets"] / 5, rel=0.1)
    assert len(replay["by_hour"]) == 4
    # the calibrated model waits like the true one; waits near full load are very sensitive to
    # the rates, which five days only estimate to a few per cent, hence the loose bound
    week = scenario.model_copy(update={"days": 5})
    expected = np.mean([np.nanmean(waits(simulate(truth, s))) for s in seeds(1, 12)])
    calibrated = np.mean([np.nanmean(waits(simulate(week, s))) for s in seeds(1, 12)])
    assert calibrated == pytest.approx(expected, rel=0.4)


def _history(engine: QueueEngine, clock: FrozenClock, db: Database) -> None:
    """Two hours at windows 10 and 11: a social-insurance ticket every 3 minutes, medical 5."""
    with UnitOfWork(db, write=False) as uow:
        config = db.hall_config(uow.conn, "ZMD")[1]
    windows = [config.window_by_number(n).id for n in (10, 11)]
    for n, w in enumerate(windows):
        engine.open_window(w, f"clerk{10 + n}")
    busy: dict[int, tuple[str, int]] = {}
    for minute in range(120):
        if minute % 3 == 0:
            engine.issue("ZMD", "SOCIAL")
        if minute % 5 == 0:
            engine.issue("ZMD", "MEDICAL", priority="elderly" if minute % 15 == 0 else "none")
        for n, w in enumerate(windows):
            clerk = f"clerk{10 + n}"
            if w in busy and busy[w][1] <= minute:
                engine.finish(busy.pop(w)[0], clerk)
            if w not in busy and (ticket := engine.call_next(w, clerk)) is not None:
                engine.start(ticket.id, clerk)
                busy[w] = (ticket.id, minute + 4 + (minute % 3))
        clock.advance(minutes=1)


def test_hall_calibrate_reads_the_database_and_keeps_the_windows_skills(
    engine: QueueEngine,
    clock: FrozenClock,
    db: Database,
    db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _history(engine, clock, db)
    monkeypatch.setenv("HALL_DATABASE_URL", db_url)
    out = tmp_path / "calibrated.yaml"
    day = clock.now().date().isoformat()
    args = ["calibrate", "--hall", "ZMD", "--from", day, "--to", day, "--out", str(out)]
    result = CliRunner().invoke(main, [*args, "--replications", "2"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    scenario = load_scenario(out)
    assert [s.code for s in scenario.services] == ["MEDICAL", "SOCIAL"]
    assert scenario.rates(scenario.services[1]) == [20.0, 20.0]  # 10:00 and 11:00
    window10 = next(w for w in scenario.windows if w.id == 10)
    assert window10.services == ["SOCIAL"] and window10.secondary == ["MEDICAL"]
    assert report["observed"]["tickets"] == 64
    assert "relative_error" in report["replay"]
    assert yaml.safe_load(out.read_text(encoding="utf-8"))["hall"] == "ZMD"


def test_calibrate_without_history_is_a_clear_error(
    db: Database, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HALL_DATABASE_URL", db_url)
    result = CliRunner().invoke(main, ["calibrate", "--hall", "ZMD", "--replications", "0"])
    assert result.exit_code == 2
    assert "cannot calibrate" in result.output
