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


COMMANDS = (simulate,)
