"""The ``hall`` command: one entry point for operators, planners and tests, ready at once.

Like a switchboard that knows every extension by name but rings only the one you ask for,
``hall`` lists its commands from the table below and imports a command's module only when that
command runs (Flask's own CLI loads the application lazily in the same spirit): ``hall --help``
loads click and nothing else, ``hall user add`` the administration desk and SQLAlchemy,
``hall kpis`` pandas, ``hall serve`` the web app.

This module stands outside ``hall_app`` on purpose: importing anything inside that package
first runs its ``__init__``, which builds the whole web app. The commands that need only the
database (``init``, ``user add``, ``events export``) live here; the others in the package they
belong to.
"""

from __future__ import annotations

import gc
import importlib
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

# name → ("module:attribute" of the click command, its help line for ``hall --help``)
LAZY_COMMANDS: dict[str, tuple[str, str]] = {
    "serve": (
        "hall_app.cli:serve",
        "Serve the API, live events and pages (Socket.IO in threading mode, simple-websocket).",
    ),
    "appointments": ("hall_app.cli:appointments", "Online appointments."),
    "worker": (
        "hall_app.cli:worker",
        "Deliver the outbox: notices (SMS, WeChat, Web Push) and webhooks; run several at once.",
    ),
    "config": ("hall_app.admin.cli:config", "A hall's whole configuration as a YAML file."),
    "evaluations": (
        "hall_app.evaluations_cli:evaluations",
        "好差评: the upstream export of ratings and case results.",
    ),
    "client": (
        "hall_app.integrations_cli:client",
        "API clients (OAuth 2.0 client credentials): add, list, rotate, revoke.",
    ),
    "services": (
        "hall_app.integrations_cli:services",
        "The service catalogue: import 实施编码 and departments (CSV/JSON).",
    ),
    "kpis": (
        "analytics.cli:kpis_command",
        "Print the KPIs of SPEC §4 (JSON) computed from an event-log CSV file (SPEC §5).",
    ),
    "profiles": (
        "analytics.cli:profiles_command",
        "Print arrival profiles, fitted handling times and service rates (JSON) for calibration.",
    ),
    "simulate": (
        "simulations.cli:simulate",
        "Simulate SCENARIO (YAML or JSON) and print KPIs with 95% confidence intervals.",
    ),
    "staff": (
        "simulations.cli:staff",
        "The fewest open windows per interval meeting SCENARIO's targets (JSON plan).",
    ),
    "calibrate": (
        "simulations.cli:calibrate",
        "Write a scenario calibrated from the hall's event log, and check it by replay.",
    ),
    "demo": (
        "simulations.cli:demo",
        "Play simulated days against a running server through its HTTP API (a live demo).",
    ),
    "forecast": (
        "simulations.cli:forecast",
        "Forecast arrivals per service and interval for the next days (JSON, 80% intervals).",
    ),
    "plan": (
        "simulations.cli:plan_command",
        "Forecast, window requirement and the roster of STAFF.yaml's clerks (JSON, XLSX).",
    ),
}


_OWN_PROCESS = False  # set by ``run``: this process is one ``hall`` command and nothing else


@contextmanager
def loading() -> Iterator[None]:
    """Import a command's modules without the cyclic garbage collector, then freeze them.

    Modules live as long as the process, yet the collector scans them in full, several times
    while SQLAlchemy and the ORM load and again during the command: about a third of what
    ``hall user add`` costs, and it frees nothing. Frozen, they are never scanned again; the
    collector runs as usual for the command's own objects. Only in the ``hall`` process itself
    (``run``): a test that invokes ``main`` keeps its collector as it is.
    """
    if not _OWN_PROCESS:
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()


class LazyGroup(click.Group):
    """A group whose commands named in ``lazy`` are imported the first time they are needed."""

    def __init__(self, *args: Any, lazy: Mapping[str, tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = dict(lazy)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy and cmd_name not in self.commands:
            path = self.lazy[cmd_name][0]
            module, _, attribute = path.partition(":")
            with loading():
                command = getattr(importlib.import_module(module), attribute)
            if not isinstance(command, click.Command):
                raise TypeError(f"{path} is not a click command")
            self.add_command(command, cmd_name)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list of ``--help``, from the table for the commands not loaded yet."""
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            if name in self.lazy and name not in self.commands:
                placeholder = click.Command(name, help=self.lazy[name][1])  # click's own shortening
                rows.append((name, placeholder.get_short_help_str(limit)))
                continue
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, lazy=LAZY_COMMANDS)
def main() -> None:
    """Queueing and efficiency supervision for government service halls."""


def run() -> None:
    """The ``hall`` console script."""
    global _OWN_PROCESS
    _OWN_PROCESS = True
    main()


def _database_url() -> str:
    from queue_engine.adapters.database import configured_url

    return configured_url()


@main.command()
@click.option("--demo", is_flag=True, help="Also create the demo hall ZMD and its users.")
@click.option("--always-open", is_flag=True, help="Give the demo hall round-the-clock hours.")
def init(demo: bool, always_open: bool) -> None:
    """Create or upgrade the database schema (and optionally the demo hall)."""
    with loading():
        from queue_engine.adapters.database import migrate

    url = _database_url()
    migrate(url)
    click.echo("schema is up to date")
    if not demo:
        return
    with loading():
        from queue_engine.adapters.unit_of_work import Database
        from queue_engine.domain.access import parse_role
        from queue_engine.domain.errors import DomainError
        from queue_engine.seed import DEMO_USERS, demo_hall
        from queue_engine.services.admin import AdminDesk, NewUser

    db = Database(url)
    try:
        desk = AdminDesk(db)
        desk.seed_hall(demo_hall(always_open=always_open))
        desk.seed_users(
            NewUser(username, password, parse_role(role), "ZMD", name)
            for username, password, role, name in DEMO_USERS
        )
    except DomainError as exc:
        click.echo(f"demo not created: {exc.message}", err=True)
        return
    finally:
        db.dispose()
    spec = demo_hall(always_open)
    click.echo(
        f"created hall {spec.code} {spec.name_zh}: "
        f"{len(spec.services)} services, {len(spec.windows)} windows"
    )
    click.echo("demo users (username / password / role):")
    for username, password, role, _ in DEMO_USERS[:4]:
        click.echo(f"  {username:<12} {password:<16} {role}")
    click.echo(f"  clerk02 … clerk{len(spec.windows):02d} share the password of clerk01")


@main.group()
def user() -> None:
    """Staff accounts."""


@user.command("add")
@click.option("--username", required=True)
@click.option("--password", required=True)
@click.option("--role", required=True, type=click.Choice(["admin", "supervisor", "clerk", "kiosk"]))
@click.option("--hall", "hall_code", default=None, help="Hall code the user belongs to.")
def user_add(username: str, password: str, role: str, hall_code: str | None) -> None:
    """Add a staff account (the password is stored only as a salted scrypt hash)."""
    with loading():
        from queue_engine.adapters.unit_of_work import Database
        from queue_engine.domain.access import parse_role
        from queue_engine.domain.errors import DomainError
        from queue_engine.services.admin import AdminDesk, NewUser

    db = Database(_database_url())
    try:
        AdminDesk(db).seed_users([NewUser(username, password, parse_role(role), hall_code)])
    except DomainError as exc:
        click.echo(f"error: {exc.message}", err=True)
        sys.exit(2)
    finally:
        db.dispose()
    click.echo(f"user {username} ({role}) added")


@main.group()
def events() -> None:
    """The append-only event log."""


@events.command("export")
@click.option("--hall", "hall_code", required=True, help="Hall code, e.g. ZMD.")
@click.option(
    "--from",
    "date_from",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="First business date (the hall's local date), inclusive.",
)
@click.option(
    "--to",
    "date_to",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="Last business date, inclusive.",
)
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False))
def events_export(
    hall_code: str, date_from: datetime | None, date_to: datetime | None, out_path: str
) -> None:
    """Write a hall's events as CSV (SPEC §5 columns; times with the hall's UTC offset)."""
    with loading():
        from queue_engine.adapters.event_csv import write_csv
        from queue_engine.adapters.repository import events_between
        from queue_engine.adapters.unit_of_work import Database, UnitOfWork
        from queue_engine.domain.errors import DomainError

    db = Database(_database_url())
    try:
        with UnitOfWork(db, write=False) as uow:
            _, config = db.hall_config(uow.conn, hall_code)
            start = _local_midnight(date_from, config.zone, 0)
            end = _local_midnight(date_to, config.zone, 1)
            with open(out_path, "w", encoding="utf-8", newline="") as out:
                count = write_csv(
                    events_between(uow.conn, config.code, start, end), config.zone, out
                )
    except DomainError as exc:
        click.echo(f"error: {exc.message}", err=True)
        sys.exit(2)
    finally:
        db.dispose()
    click.echo(f"{count} event{'' if count == 1 else 's'} written to {out_path}")


def _local_midnight(day: datetime | None, zone: ZoneInfo, plus_days: int) -> datetime | None:
    """The start of a local business date (+ days), as an aware instant; None stays None."""
    if day is None:
        return None
    return datetime.combine(day.date() + timedelta(days=plus_days), time(0), zone)
