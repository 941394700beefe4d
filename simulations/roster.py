"""Roster: which clerk sits at which window in each interval of the week.

Like the rota a hall manager pins up on Friday: the requirement says how many windows of each
kind must be open each half hour; the clerks say who may serve what, how many hours they are
contracted for and which days they are off; the hall's rules say when lunch is taken (e.g.
12:00–14:00 in two shifts, so that no service is left uncovered) and how long a day or a week
may be. OR-Tools' CP-SAT solver finds the roster with the fewest clerk-hours first and the fewest
window changes second, within a time limit, and says whether it proved the roster optimal (or
how far from the bound it is). When no roster exists, the reasons are named before the solver
runs (a skill nobody has at 11:00 on Monday) or, failing that, from the solver's own
infeasibility core.

A clerk works one shift a day (contiguous, at least ``min_shift_hours``); a shift that spans
the lunch period takes one lunch shift off; a clerk at work sits at one window at a time, and
a window has one clerk. Clerks are assigned to pools of alike windows, then to window numbers
so that a clerk keeps the same window as long as they stay in the pool.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO, Any

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .requirement import Requirement
from .scenario import clock_minutes

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAY_ZH = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
HOUR_WEIGHT = 10_000  # clerk-hours first: one half hour outweighs any number of window changes


class StaffError(ValueError):
    """A staff file that cannot be used, with a message a planner can act on."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Clerk(_Strict):
    name: str = Field(min_length=1, max_length=40)
    services: list[str] = Field(min_length=1)
    contracted_hours: float = Field(default=40, gt=0, le=80)
    days_off: list[str] = []  # weekday names (mon … sun) or dates (2026-12-07)

    @field_validator("days_off")
    @classmethod
    def _days(cls, values: list[str]) -> list[str]:
        for v in values:
            if v.lower() not in WEEKDAYS:
                try:
                    date.fromisoformat(v)
                except ValueError:
                    raise ValueError(f"{v!r} is neither a weekday (mon … sun) nor a date") from None
        return [v.lower() for v in values]

    def off_on(self, day: date) -> bool:
        return WEEKDAYS[day.weekday()] in self.days_off or day.isoformat() in self.days_off


class Lunch(_Strict):
    start: str = "12:00"
    end: str = "14:00"
    shifts: int = Field(default=2, ge=1, le=4)


class Staff(_Strict):
    hall: str = "ZMD"
    max_hours_per_day: float = Field(default=8, gt=0, le=24)
    max_hours_per_week: float = Field(default=40, gt=0, le=80)
    min_shift_hours: float = Field(default=3, ge=0, le=12)
    lunch: Lunch = Lunch()
    time_limit_seconds: float = Field(default=30, gt=0, le=600)
    clerks: list[Clerk] = Field(min_length=1)

    @field_validator("clerks")
    @classmethod
    def _unique(cls, values: list[Clerk]) -> list[Clerk]:
        names = [c.name for c in values]
        if len(set(names)) != len(names):
            raise ValueError("clerk names repeat")
        return values


def parse_staff(data: Any) -> Staff:
    if not isinstance(data, dict):
        raise StaffError("a staff file is a mapping with a list of clerks")
    try:
        return Staff.model_validate(data)
    except ValidationError as exc:
        parts = []
        for item in exc.errors():
            where = ".".join(str(p) for p in item["loc"])
            parts.append(f"{where}: {str(item['msg']).removeprefix('Value error, ')}")
        raise StaffError("; ".join(parts)) from None


def load_staff(path: str | Path) -> Staff:
    try:
        return parse_staff(yaml.safe_load(Path(path).read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError) as exc:
        raise StaffError(f"cannot read {path}: {exc}") from None


@dataclass
class Roster:
    status: str  # OPTIMAL, FEASIBLE, INFEASIBLE, UNKNOWN
    reasons: list[str]
    seat: np.ndarray  # (days, windows, intervals): clerk index or -1
    windows: list[int]
    clerks: list[str]
    objective: dict[str, Any]
    requirement: Requirement
    lunch: dict[tuple[int, int], str]  # (clerk, day) → "12:00–13:00"
    present: np.ndarray | None = None  # (days, clerks, intervals): on shift (lunch included)

    def lunch_slots(self, c: int, i: int) -> int:
        """Half hours (intervals) of clerk ``c``'s lunch on day ``i``."""
        text = self.lunch.get((c, i))
        if text is None:
            return 0
        start, end = (clock_minutes(t) for t in text.split("–"))
        return (end - start) // self.requirement.minutes

    def as_json(self) -> dict[str, Any]:
        req = self.requirement
        labels = req.labels
        days = []
        for i, d in enumerate(req.days):
            if not d.open:
                days.append({"date": d.day.isoformat(), "open": False})
                continue
            grid = {
                str(w): [self.clerks[c] if c >= 0 else None for c in self.seat[i, n]]
                for n, w in enumerate(self.windows)
            }
            shifts = []
            for c, name in enumerate(self.clerks):
                on = self.present[i, c] if self.present is not None else (self.seat[i] == c).any(0)
                where = np.flatnonzero(on)
                if where.size == 0:
                    continue
                off = self.lunch_slots(c, i)
                first, last = int(where.min()), int(where.max())
                sat = sorted({self.windows[n] for n in np.flatnonzero((self.seat[i] == c).any(1))})
                shifts.append(
                    {
                        "clerk": name,
                        "start": labels[first],
                        "end": _clock_after(labels, last, req.minutes),
                        "lunch": self.lunch.get((c, i)),
                        "hours": round((where.size - off) * req.minutes / 60, 2),
                        "windows": sat,
                    }
                )
            rostered = (self.seat[i] >= 0).sum(axis=0)
            days.append(
                {
                    "date": d.day.isoformat(),
                    "open": True,
                    "required": [int(x) for x in req.counts[i].sum(axis=0)],
                    "rostered": [int(x) for x in rostered],
                    "grid": grid,
                    "shifts": shifts,
                }
            )
        return {
            "status": self.status,
            "reasons": self.reasons,
            "objective": self.objective,
            "intervals": labels,
            "windows": self.windows,
            "days": days,
        }


def _clock_after(labels: list[str], j: int, minutes: int) -> str:
    m = clock_minutes(labels[j]) + minutes
    return f"{m // 60:02d}:{m % 60:02d}"


def _eligible(clerk: Clerk, services: tuple[str, ...]) -> bool:
    """A clerk may sit at a window whose primary skills are all among theirs."""
    return set(services) <= set(clerk.services)


def explain(req: Requirement, staff: Staff) -> list[str]:
    """Reasons no roster can exist that need no solver: a pool nobody available can staff, at a
    named day and time, or more window-hours than the clerks may work."""
    reasons = []
    for i, d in enumerate(req.days):
        if not d.open:
            continue
        present = [c for c in staff.clerks if not c.off_on(d.day)]
        day_name = f"{WEEKDAYS[d.day.weekday()].capitalize()} {d.day.isoformat()}"
        for k, pool in enumerate(req.pools):
            able = [c for c in present if _eligible(c, pool.services)]
            short = np.flatnonzero(req.counts[i, k] > len(able))
            if short.size:
                j = int(short[0])
                skill = "+".join(pool.services)
                who = "no clerk" if not able else f"only {len(able)} clerk(s)"
                reasons.append(
                    f"{who} with skill {skill} at {req.labels[j]} on {day_name} "
                    f"(windows {', '.join(map(str, req.pool_windows[k]))} need "
                    f"{int(req.counts[i, k, j])})"
                )
        need = req.counts[i].sum(axis=0)
        if need.max() > len(present):
            j = int(need.argmax())
            reasons.append(
                f"{int(need[j])} windows needed at {req.labels[j]} on {day_name}, "
                f"but only {len(present)} clerks work that day"
            )
    slot_hours = req.minutes / 60
    demand = float(req.counts.sum()) * slot_hours
    capacity = sum(min(c.contracted_hours, staff.max_hours_per_week) for c in staff.clerks)
    if demand > capacity:
        reasons.append(
            f"the week needs {demand:.1f} window-hours, the clerks may work {capacity:.1f}"
        )
    return reasons


@dataclass
class _Model:
    """The CP-SAT model of a week and the variables the roster is read from."""

    model: Any
    assign: dict[tuple[int, int, int, int], Any]
    present: dict[tuple[int, int, int], Any]
    lunch_vars: dict[tuple[int, int], list[Any]]
    lunch_slots: list[list[int]]
    hours_terms: dict[int, list[Any]]
    groups: dict[str, Any]  # named groups of constraints (for the infeasibility core)


def _lunch_slots(req: Requirement, staff: Staff) -> tuple[list[list[int]], int, int] | None:
    """The intervals of each lunch shift, and the last interval before / first after lunch."""
    lunch_start, lunch_end = (clock_minutes(staff.lunch.start), clock_minutes(staff.lunch.end))
    starts = [clock_minutes(t) for t in req.labels]
    length = (lunch_end - lunch_start) / staff.lunch.shifts
    slots = [
        [j for j, s in enumerate(starts)
         if lunch_start + q * length <= s < lunch_start + (q + 1) * length]
        for q in range(staff.lunch.shifts)
    ]  # fmt: skip
    before = [j for j, s in enumerate(starts) if s < lunch_start]
    after = [j for j, s in enumerate(starts) if s >= lunch_end]
    if not (before and after and all(slots)):
        return None
    return slots, before[-1], after[0]


def _build(
    req: Requirement, staff: Staff, grouped: bool, days: list[int], caps: list[float]
) -> _Model:
    """The model of ``days`` (clerk ``c`` may work ``caps[c]`` more hours). ``grouped``: each
    day's requirement of a pool and each clerk's weekly cap hold only under a named literal
    (to ask the solver which of them clash)."""
    from ortools.sat.python import cp_model

    _, n_pools, n_int = req.counts.shape
    clerks = staff.clerks
    slot = req.minutes / 60
    lunch_rule = _lunch_slots(req, staff)
    m = cp_model.CpModel()
    assign: dict[tuple[int, int, int, int], Any] = {}
    present: dict[tuple[int, int, int], Any] = {}
    lunch_vars: dict[tuple[int, int], list[Any]] = {}
    hours_terms: dict[int, list[Any]] = {c: [] for c in range(len(clerks))}
    starts_terms: list[Any] = []
    groups: dict[str, Any] = {}

    def held(constraint: Any, name: str) -> None:
        if grouped:
            if name not in groups:
                groups[name] = m.new_bool_var(name)
            constraint.only_enforce_if(groups[name])

    for i in days:
        d = req.days[i]
        for c, clerk in enumerate(clerks):
            if clerk.off_on(d.day) or caps[c] < staff.min_shift_hours:
                continue
            pools = [k for k, p in enumerate(req.pools) if _eligible(clerk, p.services)]
            pools = [k for k in pools if req.counts[i, k].max() > 0]
            if not pools:
                continue
            p = [m.new_bool_var(f"p{c}_{i}_{j}") for j in range(n_int)]
            worked = []
            for j in range(n_int):
                present[c, i, j] = p[j]
                here = []
                for k in pools:
                    v = m.new_bool_var(f"a{c}_{k}_{i}_{j}")
                    assign[c, k, i, j] = v
                    here.append(v)
                m.add(sum(here) <= p[j])
                worked += here
            first = [m.new_bool_var(f"s{c}_{i}_{j}") for j in range(n_int)]
            m.add(first[0] >= p[0])
            for j in range(1, n_int):
                m.add(first[j] >= p[j] - p[j - 1])
            on = m.new_bool_var(f"on{c}_{i}")
            m.add(sum(first) == on)  # one contiguous shift a day, if any
            m.add(sum(p) >= round(staff.min_shift_hours / slot) * on)
            paid: Any = sum(p)
            if lunch_rule is not None:
                slots, before, after = lunch_rule
                span = m.new_bool_var(f"span{c}_{i}")
                m.add(span >= p[before] + p[after] - 1)
                m.add(span <= p[before])
                m.add(span <= p[after])
                choice = [m.new_bool_var(f"l{c}_{i}_{q}") for q in range(len(slots))]
                m.add(sum(choice) == span)
                for q, lunch in enumerate(slots):
                    for j in lunch:
                        for k in pools:
                            m.add_implication(choice[q], assign[c, k, i, j].Not())
                lunch_vars[c, i] = choice
                paid = paid - len(slots[0]) * span
            m.add(paid <= round(staff.max_hours_per_day / slot))
            m.add(paid >= sum(worked))  # redundant: gives the solver its lower bound
            hours_terms[c].append(paid)
            for k in pools:
                for j in range(n_int):
                    y = m.new_bool_var(f"y{c}_{k}_{i}_{j}")
                    prev = assign.get((c, k, i, j - 1))
                    m.add(y >= assign[c, k, i, j] - (prev if prev is not None else 0))
                    starts_terms.append(y)
        for k in range(n_pools):
            for j in range(n_int):
                cover = [assign[c, k, i, j] for c in range(len(clerks)) if (c, k, i, j) in assign]
                if req.counts[i, k, j] > 0:
                    skill = "+".join(req.pools[k].services)
                    need = m.add(sum(cover) >= int(req.counts[i, k, j]))
                    held(need, f"windows for {skill} on {d.day.isoformat()}")
                if cover:
                    m.add(sum(cover) <= len(req.pool_windows[k]))
    for c, clerk in enumerate(clerks):
        if hours_terms[c]:
            cap = int(caps[c] / slot + 1e-9)
            held(m.add(sum(hours_terms[c]) <= cap), f"weekly hours of {clerk.name}")
    total_slots = sum(sum(t) for t in hours_terms.values() if t)
    m.minimize(HOUR_WEIGHT * total_slots + sum(starts_terms))
    slots_used = lunch_rule[0] if lunch_rule is not None else []
    return _Model(m, assign, present, lunch_vars, slots_used, hours_terms, groups)


def solve(req: Requirement, staff: Staff, workers: int = 8) -> Roster:
    """The roster meeting ``req`` with ``staff`` (CP-SAT, within the staff's time limit).

    First each day alone, in order, with the weekly hours the clerks have left (a day's model
    reaches a good roster in seconds); then the whole week in one model, started from that
    roster (the hint), which may improve it and can prove it optimal, and which finds a roster
    when the day-by-day order spent someone's hours too early. ``workers``: CP-SAT's
    portfolio of search strategies (its LP-based ones give the bound; eight share two cores
    well)."""
    from ortools.sat.python import cp_model

    windows = [w for ws in req.pool_windows for w in ws]
    names = [c.name for c in staff.clerks]
    empty = -np.ones((req.counts.shape[0], len(windows), req.counts.shape[2]), dtype=int)
    reasons = explain(req, staff)
    if reasons:
        return Roster("INFEASIBLE", reasons, empty, windows, names, {}, req, {})
    open_days = [i for i, d in enumerate(req.days) if d.open and req.counts[i].any()]
    caps = [min(c.contracted_hours, staff.max_hours_per_week) for c in staff.clerks]
    half = staff.time_limit_seconds / 2
    hint: dict[str, int] = {}
    slot = req.minutes / 60
    for i in open_days:
        built = _build(req, staff, False, [i], caps)
        solver = _solver(half / max(len(open_days), 1), workers)
        if solver.solve(built.model) not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            hint = {}
            break
        hint.update(_values(built, solver))
        for c, terms in built.hours_terms.items():
            caps[c] -= sum(solver.value(t) for t in terms) * slot
    week = _build(req, staff, False, open_days, [min(c.contracted_hours,
                  staff.max_hours_per_week) for c in staff.clerks])  # fmt: skip
    for var in _decisions(week):
        if var.name in hint:
            week.model.add_hint(var, hint[var.name])
    solver = _solver(staff.time_limit_seconds - half if hint else staff.time_limit_seconds, workers)
    status = solver.solve(week.model)
    name = solver.status_name(status)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        why = (
            _core(req, staff, open_days)
            if status == cp_model.INFEASIBLE
            else [f"no roster found within {staff.time_limit_seconds:.0f} s ({name})"]
        )
        return Roster(name, why, empty, windows, names, {}, req, {})
    return _read(req, staff, week, solver, windows, name)


def _solver(seconds: float, workers: int) -> Any:
    from ortools.sat.python import cp_model

    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(seconds, 0.5)
    solver.parameters.num_workers = workers
    return solver


def _decisions(built: _Model) -> list[Any]:
    lunch = [v for choice in built.lunch_vars.values() for v in choice]
    return [*built.assign.values(), *built.present.values(), *lunch]


def _values(built: _Model, solver: Any) -> dict[str, int]:
    return {v.name: int(solver.value(v)) for v in _decisions(built)}


def _read(
    req: Requirement, staff: Staff, built: _Model, solver: Any, windows: list[int], status: str
) -> Roster:
    n_days, _, n_int = req.counts.shape
    clerks = staff.clerks
    seat, lunch = _seats(req, len(clerks), built, solver, windows)
    on_shift = np.zeros((n_days, len(clerks), n_int), dtype=bool)
    for (c, i, j), var in built.present.items():
        on_shift[i, c, j] = bool(solver.value(var))
    hours = sum(solver.value(t) for ts in built.hours_terms.values() for t in ts)
    objective, bound = solver.objective_value, solver.best_objective_bound
    summary = {
        "clerk_hours": round(float(hours) * req.minutes / 60, 2),
        "window_changes": _window_changes(seat),
        "objective": objective,
        "best_bound": bound,
        "gap": round(_gap(objective, bound), 6),
        "seconds": round(solver.wall_time, 2),
    }
    names = [c.name for c in clerks]
    return Roster(status, [], seat, windows, names, summary, req, lunch, on_shift)


def _gap(objective: float, bound: float) -> float:
    return abs(objective - bound) / max(abs(objective), 1e-9)


def _core(req: Requirement, staff: Staff, days: list[int]) -> list[str]:
    """The requirements (per skill and day) and weekly caps that together admit no roster:
    the solver's infeasibility core over named groups of constraints."""
    from ortools.sat.python import cp_model

    caps = [min(c.contracted_hours, staff.max_hours_per_week) for c in staff.clerks]
    built = _build(req, staff, True, days, caps)
    built.model.clear_objective()
    built.model.add_assumptions(list(built.groups.values()))
    solver = _solver(staff.time_limit_seconds, 1)
    if solver.solve(built.model) != cp_model.INFEASIBLE:
        return [f"no roster found within {staff.time_limit_seconds:.0f} s"]
    core = set(solver.sufficient_assumptions_for_infeasibility())
    named = [f"cannot all hold: {name}" for name, lit in built.groups.items() if lit.index in core]
    return named or ["the rules admit no roster (lunch, shift length and daily hours together)"]


def _seats(
    req: Requirement, n_clerks: int, built: _Model, solver: Any, windows: list[int]
) -> tuple[np.ndarray, dict[tuple[int, int], str]]:
    """Window numbers for the pool assignment: a clerk keeps their window within the pool."""
    n_days, n_pools, n_int = req.counts.shape
    seat = -np.ones((n_days, len(windows), n_int), dtype=int)
    column = {w: n for n, w in enumerate(windows)}
    assign = built.assign
    for i in range(n_days):
        for k in range(n_pools):
            last: dict[int, int] = {}
            for j in range(n_int):
                here = [
                    c
                    for c in range(n_clerks)
                    if (c, k, i, j) in assign and solver.value(assign[c, k, i, j])
                ]
                taken: set[int] = set()
                for c in sorted(here, key=lambda c: c not in last):
                    free = [w for w in req.pool_windows[k] if w not in taken]
                    kept = last.get(c)
                    w = kept if kept is not None and kept in free else free[0]
                    taken.add(w)
                    last[c] = w
                    seat[i, column[w], j] = c
    lunch = {}
    for (c, i), choice in built.lunch_vars.items():
        for q, var in enumerate(choice):
            if solver.value(var):
                slots = built.lunch_slots[q]
                end = _clock_after(req.labels, slots[-1], req.minutes)
                lunch[c, i] = f"{req.labels[slots[0]]}–{end}"
    return seat, lunch


def _window_changes(seat: np.ndarray) -> int:
    """Times a clerk sits down at a different window than the one they last sat at that day."""
    changes = 0
    for i in range(seat.shape[0]):
        last: dict[int, int] = {}
        for j in range(seat.shape[2]):
            for n in np.flatnonzero(seat[i, :, j] >= 0):
                c = int(seat[i, n, j])
                if c in last and last[c] != n:
                    changes += 1
                last[c] = int(n)
    return changes


def write_xlsx(
    roster: Roster, path: str | Path | IO[bytes], window_names: dict[int, str] | None = None
) -> None:
    """The roster sheet a hall prints: one sheet per open day, windows × intervals, clerk
    names in the cells (lunch breaks and free windows left blank)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    data = roster.as_json()
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    head = Font(bold=True)
    filled = PatternFill("solid", fgColor="DDEBF7")
    for day in data["days"]:
        if not day["open"]:
            continue
        d = date.fromisoformat(day["date"])
        sheet = book.create_sheet(f"{day['date']} {WEEKDAY_ZH[d.weekday()]}")
        sheet.append(["窗口", *data["intervals"]])
        for cell in sheet[1]:
            cell.font = head
        for w in data["windows"]:
            label = f"{w} {window_names.get(w, '')}".strip() if window_names else str(w)
            sheet.append([label, *(name or "" for name in day["grid"][str(w)])])
        sheet.append(["需要窗口 / required", *day["required"]])
        sheet.append(["排班窗口 / rostered", *day["rostered"]])
        for row in sheet.iter_rows(min_row=2, max_row=len(data["windows"]) + 1, min_col=2):
            for cell in row:
                cell.alignment = Alignment(horizontal="center")
                if cell.value:
                    cell.fill = filled
        sheet.column_dimensions["A"].width = 18
        sheet.freeze_panes = "B2"
    if not book.sheetnames:
        book.create_sheet("roster")
    book.save(path)
