"""The ``hall`` command: one entry point for operators, planners and tests."""

from __future__ import annotations

import sys
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import click

from analytics.cli import register as register_analytics
from queue_engine.adapters.database import migrate
from queue_engine.adapters.event_csv import write_csv
from queue_engine.adapters.repository import events_between
from queue_engine.adapters.setup import add_user, create_hall
from queue_engine.adapters.unit_of_work import Database, UnitOfWork
from queue_engine.domain.access import parse_role
from queue_engine.domain.clock import SystemClock
from queue_engine.domain.errors import DomainError
from queue_engine.seed import DEMO_USERS, demo_hall
from simulations.cli import COMMANDS as PLANNER_COMMANDS

from .admin.cli import config as config_commands
from .config import Settings


def _database() -> Database:
    return Database(Settings.from_env().database_url)


@click.group()
def main() -> None:
    """Queueing and efficiency supervision for government service halls."""


main.add_command(config_commands)


@main.command()
@click.option("--demo", is_flag=True, help="Also create the demo hall ZMD and its users.")
@click.option("--always-open", is_flag=True, help="Give the demo hall round-the-clock hours.")
def init(demo: bool, always_open: bool) -> None:
    """Create or upgrade the database schema (and optionally the demo hall)."""
    settings = Settings.from_env()
    migrate(settings.database_url)
    click.echo("schema is up to date")
    if not demo:
        return
    db = Database(settings.database_url)
    try:
        with UnitOfWork(db) as uow:
            create_hall(uow.session, demo_hall(always_open=always_open))
            now = SystemClock().now()
            for username, password, role, name in DEMO_USERS:
                add_user(uow.session, username, password, parse_role(role), now, "ZMD", name)
            uow.commit()
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


register_analytics(main)


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
    db = _database()
    try:
        with UnitOfWork(db) as uow:
            add_user(
                uow.session, username, password, parse_role(role), SystemClock().now(), hall_code
            )
            uow.commit()
    except DomainError as exc:
        click.echo(f"error: {exc.message}", err=True)
        sys.exit(2)
    finally:
        db.dispose()
    click.echo(f"user {username} ({role}) added")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option(
    "--server",
    type=click.Choice(["werkzeug", "gunicorn"]),
    default=None,
    help="Default: HALL_SERVER, else gunicorn when HALL_ENV=production, else werkzeug.",
)
@click.option("--threads", default=None, type=int, help="gunicorn threads (HALL_THREADS, 200).")
def serve(host: str, port: int, server: str | None, threads: int | None) -> None:
    """Serve the API, live events and pages (Socket.IO in threading mode, simple-websocket)."""
    import os

    from . import create_app
    from .extensions import socketio
    from .observability import configure_logging

    settings = Settings.from_env()
    settings.check()
    configure_logging(settings.log_format, settings.node)
    migrate(settings.database_url)
    server = (
        server
        or os.environ.get("HALL_SERVER")
        or ("gunicorn" if settings.production else "werkzeug")
    )
    click.echo(
        f"serving on http://{host}:{port}/ with {server} (database: {_safe(settings.database_url)})"
    )
    if server == "gunicorn":
        from .server import run_gunicorn

        run_gunicorn(host, port, threads or int(os.environ.get("HALL_THREADS") or 200))
        return
    app = create_app()
    app.extensions["hall_live"].ensure_refresher()  # live figures and the periodic jobs
    socketio.run(
        app, host=host, port=port, allow_unsafe_werkzeug=True, use_reloader=False, log_output=False
    )


def _safe(url: str) -> str:
    """The database URL without its password, for logs."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@main.group()
def appointments() -> None:
    """Online appointments."""


@appointments.command("sweep")
def appointments_sweep() -> None:
    """Mark appointments never checked in as no-shows once their check-in window closed."""
    from queue_engine.services.appointments import AppointmentDesk
    from queue_engine.services.tickets import QueueEngine

    from .config import pii_pepper

    settings = Settings.from_env()
    db = Database(settings.database_url)
    try:
        desk = AppointmentDesk(QueueEngine(db), pii_pepper(settings.instance_path))
        marked = desk.sweep()
        reminded = desk.send_reminders()
    finally:
        db.dispose()
    click.echo(f"{marked} appointment(s) marked as no-show, {reminded} reminder(s) sent")


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
    db = _database()
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


for _command in PLANNER_COMMANDS:  # hall simulate, staff, calibrate, demo (simulations/cli.py)
    main.add_command(_command)
