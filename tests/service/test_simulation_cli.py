"""``hall simulate`` and ``hall staff`` print the JSON of SPEC §5; bad scenarios exit 2."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from click.testing import CliRunner

from hall_app.cli import main
from queue_engine.domain.events import EVENT_COLUMNS

SCENARIO = """
name: cli
open: "09:00"
close: "11:00"
services:
  - {code: A, arrivals_per_hour: [20, 30], service_time: {dist: exponential, mean_minutes: 6},
     appointment_share: 0.2}
windows:
  - {count: 3, services: [A]}
targets: {mean_wait_minutes: 5, within_minutes: 10, share: 0.8}
"""


def test_hall_simulate_prints_the_spec_summary_and_writes_the_event_log(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO, encoding="utf-8")
    out = tmp_path / "events.csv"
    result = CliRunner().invoke(
        main, ["simulate", str(path), "--replications", "3", "--seed", "2", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["replications"] == 3
    overall = summary["overall"]
    assert isinstance(overall["served"], int)
    assert set(overall["mean_wait_minutes"]) == {"mean", "ci95"}
    for key in ("p90_wait_minutes", "share_within_target", "utilization"):
        assert isinstance(overall[key], float), key
    assert set(summary["by_service"]) == {"A"}
    assert [h["start"] for h in summary["by_hour"]] == ["09:00", "10:00"]
    assert set(summary["by_window"]) == {"1", "2", "3"}
    with out.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert tuple(rows[0]) == EVENT_COLUMNS
    assert summary["event_log"]["rows"] == len(rows)
    appointments = [
        r for r in rows if r["type"] == "ticket.issued" and r["channel"] == "appointment"
    ]
    assert appointments and all("slot_start" in json.loads(r["payload"]) for r in appointments)


def test_hall_staff_prints_a_plan_per_interval(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO, encoding="utf-8")
    args = ["staff", str(path), "--interval", "30", "--replications", "3", "--workers", "1"]
    result = CliRunner().invoke(main, [*args, "--no-compare"])
    assert result.exit_code == 0, result.output
    plan = json.loads(result.output)
    assert [r["start"] for r in plan["intervals"]] == ["09:00", "09:30", "10:00", "10:30"]
    assert all(r["windows"] >= 1 for r in plan["intervals"])
    assert plan["window_hours"] == sum(r["windows"] for r in plan["intervals"]) / 2


def test_a_bad_scenario_file_exits_2_with_the_reason(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(SCENARIO.replace("[20, 30]", "[20, 30, 40]"), encoding="utf-8")
    result = CliRunner().invoke(main, ["simulate", str(path)])
    assert result.exit_code == 2
    assert "3 hourly rates given, but the hall is open 2 hours" in result.output
    missing = CliRunner().invoke(main, ["staff", str(tmp_path / "none.yaml")])
    assert missing.exit_code == 2 and "cannot read" in missing.output
