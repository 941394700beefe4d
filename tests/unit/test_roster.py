"""The roster (issue 21): requirement met per skill, lunch and hours held, infeasible explained."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest
from openpyxl import load_workbook

from simulations.requirement import Requirement
from simulations.roster import Roster, Staff, parse_staff, solve, write_xlsx
from simulations.staffing import Pool
from simulations.workdays import classify

MONDAY, TUESDAY = date(2026, 12, 7), date(2026, 12, 8)
LABELS = [f"{h:02d}:{m:02d}" for h in range(10, 16) for m in (0, 30)]  # 10:00 … 15:30


def small_requirement(
    a: list[int], b: list[int], days: tuple[date, ...] = (MONDAY,)
) -> Requirement:
    counts = np.array([[a, b] for _ in days])
    return Requirement(
        [classify(d) for d in days],
        [Pool(("A",)), Pool(("B",), ("A",))],
        [[1, 2], [3]],
        LABELS,
        30,
        counts,
        counts.copy(),
        [None] * len(days),
    )


def staff(**extra: object) -> Staff:
    data = {
        "max_hours_per_day": 6,
        "max_hours_per_week": 10,
        "min_shift_hours": 2,
        "lunch": {"start": "12:00", "end": "14:00", "shifts": 2},
        "time_limit_seconds": 20,
        "clerks": [
            {"name": "王芳", "services": ["A"]},
            {"name": "李娜", "services": ["A", "B"]},
            {"name": "张伟", "services": ["B"], "contracted_hours": 6},
            {"name": "刘洋", "services": ["A", "B"], "days_off": ["tue"]},
            {"name": "赵敏", "services": ["A"], "days_off": ["2026-12-07"]},
        ],
        **extra,
    }
    return parse_staff(data)


A_NEED = [1, 1, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1]
B_NEED = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0]


@pytest.fixture(scope="module")
def roster() -> Roster:
    return solve(small_requirement(A_NEED, B_NEED, (MONDAY, TUESDAY)), staff())


def test_cp_sat_proves_the_small_roster_optimal(roster: Roster) -> None:
    assert roster.status == "OPTIMAL" and not roster.reasons
    assert roster.objective["gap"] == 0
    # the windows needed are a lower bound on clerk-hours; lunch and shift rules add little
    needed = (sum(A_NEED) + sum(B_NEED)) * 2 / 2
    assert needed <= roster.objective["clerk_hours"] <= needed + 8


def test_every_interval_has_the_windows_each_skill_needs(roster: Roster) -> None:
    for i in range(2):
        a = (roster.seat[i, :2] >= 0).sum(axis=0)
        b = (roster.seat[i, 2] >= 0).astype(int)
        assert (a >= A_NEED).all() and (b >= B_NEED).all()


def test_clerks_sit_only_where_their_skills_allow(roster: Roster) -> None:
    names = roster.clerks
    for i in range(2):
        for n, window in enumerate(roster.windows):
            for c in roster.seat[i, n][roster.seat[i, n] >= 0]:
                skills = staff().clerks[int(c)].services
                assert ("A" if window in (1, 2) else "B") in skills, names[int(c)]
        for j in range(len(LABELS)):
            sitting = roster.seat[i, :, j][roster.seat[i, :, j] >= 0]
            assert len(sitting) == len(set(sitting))  # one window at a time


def test_lunch_days_off_and_hours_are_held(roster: Roster) -> None:
    data = roster.as_json()
    rules = staff()
    week: dict[str, float] = {}
    for day in data["days"]:
        for shift in day["shifts"]:
            clerk = next(c for c in rules.clerks if c.name == shift["clerk"])
            assert not clerk.off_on(date.fromisoformat(day["date"]))
            assert rules.min_shift_hours <= shift["hours"] <= rules.max_hours_per_day
            week[clerk.name] = week.get(clerk.name, 0) + shift["hours"]
            spans = shift["start"] < "12:00" and shift["end"] > "14:00"
            assert (shift["lunch"] is not None) == spans
            if shift["lunch"]:
                first, last = shift["lunch"].split("–")
                assert shift["lunch"] in ("12:00–13:00", "13:00–14:00")
                off = [j for j, t in enumerate(LABELS) if first <= t < last]
                for grid in day["grid"].values():
                    assert all(grid[j] != clerk.name for j in off)
    for c in rules.clerks:
        assert week.get(c.name, 0) <= min(c.contracted_hours, rules.max_hours_per_week)


def test_a_skill_nobody_has_is_named_with_day_and_time() -> None:
    rules = staff(clerks=[{"name": "王芳", "services": ["A"]}, {"name": "李娜", "services": ["A"]}])
    result = solve(small_requirement(A_NEED, B_NEED), rules)
    assert result.status == "INFEASIBLE"
    assert any("no clerk with skill B at 10:00 on Mon 2026-12-07" in r for r in result.reasons)


def test_rules_that_clash_are_named_by_the_solver() -> None:
    # two A windows all day but three clerks of at most 3 hours each: every count check passes,
    # the shifts cannot cover 10:00–16:00 twice
    rules = staff(
        max_hours_per_day=3,
        min_shift_hours=3,
        clerks=[{"name": n, "services": ["A"]} for n in ("王芳", "李娜", "张伟")],
    )
    result = solve(small_requirement([2] * 12, [0] * 12), rules)
    assert result.status == "INFEASIBLE"
    assert result.reasons == ["cannot all hold: windows for A on 2026-12-07"]


def test_the_xlsx_sheet_matches_the_json(roster: Roster, tmp_path: Path) -> None:
    path = tmp_path / "roster.xlsx"
    write_xlsx(roster, path, {1: "综合1", 2: "综合2", 3: "专窗"})
    book = load_workbook(path)
    data = roster.as_json()
    assert book.sheetnames == ["2026-12-07 周一", "2026-12-08 周二"]
    for sheet, day in zip(book.worksheets, data["days"], strict=True):
        rows = list(sheet.iter_rows(values_only=True))
        assert list(rows[0][1:]) == data["intervals"]
        for row, window in zip(rows[1:4], data["windows"], strict=True):
            assert str(row[0]).startswith(str(window))
            assert [v or None for v in row[1:]] == day["grid"][str(window)]
        assert list(rows[4][1:]) == day["required"]
        assert list(rows[5][1:]) == day["rostered"]
