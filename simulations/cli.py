"""``hall simulate``, ``staff``, ``calibrate`` and ``demo``: the planner's commands.

Each imports the model it runs only when it runs, so that ``hall`` itself starts at once.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import Any

import click


def _emit(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


def _load(path: str) -> Any:
    from .scenario import ScenarioError, load_scenario

    try:
        return load_scenario(path)
    except ScenarioError as exc:
        click.echo(f"invalid scenario {path}: {exc}", err=True)
        sys.exit(2)


@click.command()
@click.argument("scenario", type=click.Path(dir_okay=False))
@click.option("--replications", default=10, show_default=True, type=click.IntRange(1, 1000))
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--out", type=click.Path(dir_okay=False), help="Event log CSV of the first run.")
@click.option("--workers", type=click.IntRange(1, 64), help="Processes (default: all cores).")
@click.option(
    "--ewt", is_flag=True, help="Record every citizen's wait estimate (EWT error figures)."
)
def simulate(
    scenario: str,
    replications: int,
    seed: int,
    out: str | None,
    workers: int | None,
    ewt: bool,
) -> None:
    """Simulate SCENARIO (YAML or JSON) and print KPIs with 95% confidence intervals."""
    from .replicate import replicate

    sc = _load(scenario)
    summary = replicate(sc, replications, seed, workers, estimates=ewt, out=out)
    _emit(summary)


@click.command()
@click.argument("scenario", type=click.Path(dir_okay=False))
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--interval", default=60, show_default=True, type=click.Choice(["60", "30"]))
@click.option("--replications", default=10, show_default=True, type=click.IntRange(2, 200))
@click.option("--workers", type=click.IntRange(1, 64), help="Processes (default: all cores).")
@click.option("--no-compare", is_flag=True, help="Skip the dedicated/comprehensive comparison.")
def staff(
    scenario: str,
    seed: int,
    interval: str,
    replications: int,
    workers: int | None,
    no_compare: bool,
) -> None:
    """The fewest open windows per interval meeting SCENARIO's targets (JSON plan)."""
    from .staffing import staff as plan

    sc = _load(scenario)
    _emit(plan(sc, seed, int(interval), replications, workers, compare=not no_compare))


@click.command()
@click.option("--url", default="http://127.0.0.1:5000", show_default=True, help="The server.")
@click.option("--hall", "hall_code", default="ZMD", show_default=True)
@click.option("--speed", default=60.0, show_default=True, help="Simulated seconds per second.")
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--days", default=0, show_default=True, help="Days to play (0: until it stops).")
@click.option("--per-day", default=2000.0, show_default=True, help="Citizens a day.")
@click.option("--windows", type=click.IntRange(1, 200), help="Only the first N windows.")
@click.option("--minutes", type=float, help="Stop each day after this many simulated minutes.")
@click.option("--wait", default=30.0, show_default=True, help="Seconds to wait for the server.")
@click.option(
    "--history",
    type=click.IntRange(1, 3660),
    help="Instead: write this many past days of generated history as an event log (no server).",
)
@click.option(
    "--until",
    type=click.DateTime(["%Y-%m-%d"]),
    help="Last day of the history (default: yesterday).",
)
@click.option("--out", type=click.Path(dir_okay=False), help="Where --history writes its CSV.")
def demo(
    url: str,
    hall_code: str,
    speed: float,
    seed: int,
    days: int,
    per_day: float,
    windows: int | None,
    minutes: float | None,
    wait: float,
    history: int | None,
    until: datetime | None,
    out: str | None,
) -> None:
    """Play simulated days against a running server through its HTTP API (a live demo).

    With --history DAYS, write past months of the demo hall as an event log instead."""
    if history is not None:
        _write_history(history, until, out, seed, per_day)
        return
    import logging

    from .live_demo import ServerGone, play

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    try:
        stats = play(url, hall_code, speed, seed, days, per_day, windows, minutes, wait)
    except ServerGone as exc:
        click.echo(f"demo stopped: {exc}", err=True)
        return
    click.echo(json.dumps(stats.__dict__))


@click.command()
@click.option("--hall", "hall_code", required=True, help="Hall code, e.g. ZMD.")
@click.option("--from", "date_from", type=click.DateTime(["%Y-%m-%d"]), help="First business date.")
@click.option("--to", "date_to", type=click.DateTime(["%Y-%m-%d"]), help="Last business date.")
@click.option("--out", type=click.Path(dir_okay=False), help="Write the scenario (YAML) here.")
@click.option(
    "--events",
    "events_csv",
    type=click.Path(exists=True, dir_okay=False),
    help="Read an event-log CSV file instead of the database.",
)
@click.option("--weekday", type=click.IntRange(0, 6), help="Arrivals of one weekday (0 = Monday).")
@click.option(
    "--replications",
    default=10,
    show_default=True,
    type=click.IntRange(0, 200),
    help="Replications of the replay check (0: no check).",
)
@click.option("--seed", default=0, show_default=True, type=int)
def calibrate(
    hall_code: str,
    date_from: datetime | None,
    date_to: datetime | None,
    out: str | None,
    events_csv: str | None,
    weekday: int | None,
    replications: int,
    seed: int,
) -> None:
    """Write a scenario calibrated from the hall's event log, and check it by replay."""
    import yaml

    from queue_engine.domain.errors import DomainError

    from .calibrate import calibrate as fit
    from .calibrate import replay_check

    try:
        events, config = _history(hall_code, date_from, date_to, events_csv)
        scenario, observed = fit(events, config, weekday)
    except (ValueError, KeyError, DomainError) as exc:
        click.echo(f"error: cannot calibrate: {getattr(exc, 'message', exc)}", err=True)
        sys.exit(2)
    text = yaml.safe_dump(
        scenario.model_dump(mode="json", exclude_defaults=True), allow_unicode=True, sort_keys=False
    )
    if out:
        with open(out, "w", encoding="utf-8") as fh:
            fh.write(text)
    report: dict[str, Any] = {
        "scenario": out or scenario.model_dump(mode="json", exclude_defaults=True),
        "observed": {k: observed[k] for k in ("days", "tickets", "patience_minutes", "handling")},
    }
    if replications:
        report["replay"] = replay_check(scenario, observed, replications, seed)
    _emit(report)


def _history(
    hall_code: str, date_from: datetime | None, date_to: datetime | None, events_csv: str | None
) -> tuple[Any, Any]:
    """The event frame (from the file or the database) and the hall's configuration if known."""
    from analytics.load import read_events_csv, read_events_db
    from queue_engine.adapters.database import configured_url
    from queue_engine.adapters.unit_of_work import Database, UnitOfWork

    if events_csv is not None:
        events = read_events_csv(events_csv)
        events = events.loc[events["hall"] == hall_code].reset_index(drop=True)
        return events, None
    db = Database(configured_url())
    try:
        with UnitOfWork(db, write=False) as uow:
            config = db.hall_config(uow.conn, hall_code)[1]
        start = date_from.date() if date_from else None
        end = date_to.date() if date_to else None
        return read_events_db(db, hall_code, start, end), config
    finally:
        db.dispose()


def _write_history(
    days: int, until: datetime | None, out: str | None, seed: int, per_day: float
) -> None:
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from .history import generate, write_events

    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    last = until.date() if until else today - timedelta(days=1)
    made = generate(last - timedelta(days=days - 1), last, seed, per_day)
    if out is None:
        write_events(made, sys.stdout, seed)
        return
    with open(out, "w", encoding="utf-8", newline="") as fh:
        rows = write_events(made, fh, seed)
    click.echo(
        f"{rows} events of {int(made.counts.sum())} citizens over "
        f"{sum(d.open for d in made.days)} working days written to {out}",
        err=True,
    )


def _arrivals(events_csv: str, interval: int, hall_code: str | None) -> Any:
    """The arrivals of an event-log file (of one hall), or exit with a clear message."""
    from analytics.load import read_events_csv

    from .forecast import arrivals_from_events

    try:
        events = read_events_csv(events_csv)
        if hall_code is not None:
            events = events.loc[events["hall"] == hall_code].reset_index(drop=True)
        return arrivals_from_events(events, interval)
    except (ValueError, KeyError, OSError) as exc:
        click.echo(f"error: cannot read {events_csv}: {exc}", err=True)
        sys.exit(2)


def _bookings(path: str | None) -> list[tuple[datetime, str]] | None:
    """Booked appointments from a CSV file with columns ``service, slot_start`` (local ISO)."""
    if path is None:
        return None
    import csv

    with open(path, encoding="utf-8", newline="") as fh:
        try:
            return [
                (datetime.fromisoformat(row["slot_start"]).replace(tzinfo=None), row["service"])
                for row in csv.DictReader(fh)
            ]
        except (KeyError, ValueError) as exc:
            click.echo(f"error: {path}: need columns service, slot_start ({exc})", err=True)
            sys.exit(2)


@click.command()
@click.argument("events_csv", type=click.Path(exists=True, dir_okay=False))
@click.option("--days", default=14, show_default=True, type=click.IntRange(1, 62))
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), help="First forecast day.")
@click.option("--interval", default="30", show_default=True, type=click.Choice(["30", "60"]))
@click.option("--hall", "hall_code", help="Only this hall's events (a file may hold several).")
@click.option(
    "--appointments",
    type=click.Path(exists=True, dir_okay=False),
    help="Booked appointments (CSV: service, slot_start): known arrivals of those days.",
)
@click.option("--backtest", is_flag=True, help="Also report the backtest against seasonal naive.")
def forecast(
    events_csv: str,
    days: int,
    start: datetime | None,
    interval: str,
    hall_code: str | None,
    appointments: str | None,
    backtest: bool,
) -> None:
    """Forecast arrivals per service and interval for the next days (JSON, 80% intervals)."""
    from .forecast import backtest as run_backtest
    from .forecast import forecast as predict

    arrivals = _arrivals(events_csv, int(interval), hall_code)
    try:
        result = predict(
            arrivals, days, start.date() if start else None, _bookings(appointments)
        ).as_json()
        if backtest:
            result["backtest"] = run_backtest(
                arrivals.until(start.date() if start else arrivals.days[-1]), days
            )
    except ValueError as exc:
        click.echo(f"error: cannot forecast: {exc}", err=True)
        sys.exit(2)
    _emit(result)


@click.command("plan")
@click.argument("events_csv", type=click.Path(exists=True, dir_okay=False))
@click.option("--staff", "staff_yaml", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--days", default=7, show_default=True, type=click.IntRange(1, 31))
@click.option("--from", "start", type=click.DateTime(["%Y-%m-%d"]), help="First planned day.")
@click.option("--interval", default="30", show_default=True, type=click.Choice(["30", "60"]))
@click.option("--hall", "hall_code", help="Only this hall's events.")
@click.option("--xlsx", type=click.Path(dir_okay=False), help="Also write the roster sheet here.")
@click.option(
    "--appointments",
    type=click.Path(exists=True, dir_okay=False),
    help="Booked appointments (CSV: service, slot_start): known arrivals of those days.",
)
@click.option(
    "--repair",
    default="simulate",
    show_default=True,
    type=click.Choice(["simulate", "check", "none"]),
    help="Simulation repair of the Erlang C requirement (check: simulate once, report only).",
)
@click.option("--replications", default=4, show_default=True, type=click.IntRange(2, 50))
@click.option("--time-limit", type=click.FloatRange(1, 600), help="CP-SAT seconds (all days).")
def plan_command(
    events_csv: str,
    staff_yaml: str,
    days: int,
    start: datetime | None,
    interval: str,
    hall_code: str | None,
    xlsx: str | None,
    appointments: str | None,
    repair: str,
    replications: int,
    time_limit: float | None,
) -> None:
    """Forecast, window requirement and the roster of STAFF.yaml's clerks (JSON, XLSX)."""
    from analytics.load import read_events_csv

    from .forecast import arrivals_from_events
    from .planning import handling_minutes, plan, plan_json
    from .roster import StaffError, load_staff, write_xlsx

    try:
        staff = load_staff(staff_yaml)
    except StaffError as exc:
        click.echo(f"invalid staff file {staff_yaml}: {exc}", err=True)
        sys.exit(2)
    if time_limit is not None:
        staff = staff.model_copy(update={"time_limit_seconds": time_limit})
    try:
        events = read_events_csv(events_csv)
        if hall_code is not None:
            events = events.loc[events["hall"] == hall_code].reset_index(drop=True)
        arrivals = arrivals_from_events(events, int(interval))
        fc, req, roster = plan(
            arrivals,
            staff,
            days,
            start.date() if start else None,
            handling_minutes(events),
            _bookings(appointments),
            repair,  # type: ignore[arg-type]
            replications,
        )
    except (ValueError, KeyError, OSError) as exc:
        click.echo(f"error: cannot plan: {exc}", err=True)
        sys.exit(2)
    if xlsx:
        from queue_engine.seed import DEMO_WINDOWS

        write_xlsx(roster, xlsx, {w.number: w.name for w in DEMO_WINDOWS})
    _emit(plan_json(fc, req, roster))
    if roster.reasons:
        sys.exit(1)
