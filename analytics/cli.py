"""``hall kpis`` and ``hall profiles``: analytics from any event-log file, on the command line.

Each command imports what it computes with when it runs (``hall profiles`` needs SciPy, ``hall
kpis`` does not), so that ``hall`` itself starts at once.
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    import pandas as pd


def _read(events_csv: str, timezone_name: str | None) -> pd.DataFrame:
    from .load import read_events_csv

    try:
        return read_events_csv(events_csv, timezone_name)
    except (ValueError, KeyError) as exc:
        click.echo(f"error: {events_csv} is not an event log ({exc})", err=True)
        sys.exit(2)


_FILE = click.argument("events_csv", type=click.Path(exists=True, dir_okay=False))
_ZONE = click.option(
    "--timezone", "timezone_name", default=None, help="Hall zone (default: from the file)."
)


@click.command("kpis")
@_FILE
@_ZONE
def kpis_command(events_csv: str, timezone_name: str | None) -> None:
    """Print the KPIs of SPEC §4 (JSON) computed from an event-log CSV file (SPEC §5)."""
    from .kpis import kpi_report

    events = _read(events_csv, timezone_name)
    click.echo(json.dumps(kpi_report(events), ensure_ascii=False, indent=2))


@click.command("profiles")
@_FILE
@_ZONE
@click.option("--samples", default=200, show_default=True, help="Handling samples per service.")
def profiles_command(events_csv: str, timezone_name: str | None, samples: int) -> None:
    """Print arrival profiles, fitted handling times and service rates (JSON) for calibration."""
    from .kpis import Ledger, records
    from .profiles import arrival_profile, fit_handling_times, service_rates

    ledger = Ledger.from_events(_read(events_csv, timezone_name))
    rates = service_rates(ledger)
    out = {
        "arrivals": records(arrival_profile(ledger)),
        "handling": fit_handling_times(ledger, max_samples=samples),
        "services": {str(k): v for k, v in zip(rates.index, records(rates), strict=True)},
    }
    click.echo(json.dumps(out, ensure_ascii=False, indent=2))
