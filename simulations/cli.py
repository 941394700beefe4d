"""``hall simulate`` and ``hall staff``: the planner's commands."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from .eventlog import write_event_log
from .replicate import first_run, replicate
from .scenario import ScenarioError, load_scenario


def _emit(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


def _load(path: str) -> Any:
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
def simulate(
    scenario: str, replications: int, seed: int, out: str | None, workers: int | None
) -> None:
    """Simulate SCENARIO (YAML or JSON) and print KPIs with 95% confidence intervals."""
    sc = _load(scenario)
    summary = replicate(sc, replications, seed, workers)
    if out:
        with open(out, "w", encoding="utf-8", newline="") as fh:
            summary["event_log"] = {"file": out, "rows": write_event_log(first_run(sc, seed), fh)}
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


COMMANDS = (simulate, staff, demo)
