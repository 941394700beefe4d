"""`hall demo --history`, `hall forecast` and `hall plan` end to end (issue 21)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from openpyxl import load_workbook

from hall_cli import main

STAFF = Path(__file__).resolve().parents[2] / "simulations" / "scenarios" / "staff.yaml"


def test_history_forecast_and_plan_from_the_command_line(tmp_path: Path) -> None:
    runner = CliRunner()
    events = tmp_path / "history.csv"
    made = runner.invoke(
        main, ["demo", "--history", "70", "--until", "2026-11-30", "--out", str(events)]
    )
    assert made.exit_code == 0, made.output
    forecast = runner.invoke(main, ["forecast", str(events), "--days", "3", "--interval", "60"])
    assert forecast.exit_code == 0, forecast.output
    days = json.loads(forecast.output)["days"]
    assert [d["date"] for d in days] == ["2026-12-01", "2026-12-02", "2026-12-03"]
    assert days[0]["intervals"][0]["start"] == "08:30" and len(days[0]["intervals"]) == 9
    sheet = tmp_path / "roster.xlsx"
    args = ["plan", str(events), "--staff", str(STAFF), "--days", "1", "--from", "2026-12-01"]
    args += ["--repair", "none", "--time-limit", "5", "--xlsx", str(sheet)]
    plan = runner.invoke(main, args)
    assert plan.exit_code == 0, plan.output
    roster = json.loads(plan.output)["roster"]
    assert roster["status"] in ("OPTIMAL", "FEASIBLE")
    assert load_workbook(sheet).sheetnames == ["2026-12-01 周二"]
    bad = runner.invoke(main, ["plan", str(events), "--staff", str(events)])
    assert bad.exit_code == 2 and "invalid staff file" in bad.output
