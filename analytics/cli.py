"""``hall kpis`` (and friends): analytics from any event-log file, on the command line."""

from __future__ import annotations

import json
import sys

import click

from .kpis import kpi_report
from .load import read_events_csv


@click.command("kpis")
@click.argument("events_csv", type=click.Path(exists=True, dir_okay=False))
@click.option("--timezone", "timezone_name", default=None, help="Hall zone (default: from file).")
def kpis_command(events_csv: str, timezone_name: str | None) -> None:
    """Print the KPIs of SPEC §4 (JSON) computed from an event-log CSV file (SPEC §5)."""
    try:
        events = read_events_csv(events_csv, timezone_name)
    except (ValueError, KeyError) as exc:
        click.echo(f"error: {events_csv} is not an event log ({exc})", err=True)
        sys.exit(2)
    click.echo(json.dumps(kpi_report(events), ensure_ascii=False, indent=2))
