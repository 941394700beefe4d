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
) -> None:
    """Play simulated days against a running server through its HTTP API (a live demo)."""
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
