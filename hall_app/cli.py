"""The commands of ``hall`` that need the web app: ``serve`` and ``appointments sweep``.

The ``hall`` group itself is ``hall_cli.main`` (re-exported here as ``main``): it imports this
module only when one of these commands runs.
"""

from __future__ import annotations

from typing import Any

import click

from hall_cli import main as main

from .config import Settings


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option(
    "--server",
    type=click.Choice(["gunicorn", "werkzeug"]),
    default=None,
    help="Default: HALL_SERVER, else gunicorn (one worker, threads); werkzeug: the dev server.",
)
@click.option("--threads", default=None, type=int, help="gunicorn threads (HALL_THREADS, 200).")
def serve(host: str, port: int, server: str | None, threads: int | None) -> None:
    """Serve the API, live events and pages (Socket.IO in threading mode, simple-websocket)."""
    import os

    from queue_engine.adapters.database import migrate

    from .observability import configure_logging

    server = server or os.environ.get("HALL_SERVER") or "gunicorn"
    if server not in ("gunicorn", "werkzeug"):
        raise click.UsageError(f"HALL_SERVER must be gunicorn or werkzeug, not {server!r}")
    settings = Settings.from_env()
    settings.check()
    configure_logging(settings.log_format, settings.node)
    migrate(settings.database_url)
    click.echo(
        f"serving on http://{host}:{port}/ with {server} (database: {_safe(settings.database_url)})"
    )
    if server == "gunicorn":
        from .server import run_gunicorn

        threads = threads or int(os.environ.get("HALL_THREADS") or 200)
        run_gunicorn(host, port, threads, settings.production, settings.node)
        return
    from .extensions import socketio
    from .server import start_app

    app = start_app(settings.production, settings.node)
    socketio.run(
        app, host=host, port=port, allow_unsafe_werkzeug=True, use_reloader=False, log_output=False
    )


def _safe(url: str) -> str:
    """The database URL without its password, for logs."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@click.group()
def appointments() -> None:
    """Online appointments."""


@appointments.command("sweep")
def appointments_sweep() -> None:
    """Mark appointments never checked in as no-shows once their check-in window closed."""
    from queue_engine.bootstrap import bootstrap

    from .config import outbox_options, pii_pepper

    settings = Settings.from_env()
    services = bootstrap(
        settings.database_url,
        pepper=pii_pepper(settings.instance_path),
        **outbox_options(settings),
    )
    try:
        marked = services.appointments.sweep()
        reminded = services.appointments.send_reminders()
    finally:
        services.close()
    click.echo(f"{marked} appointment(s) marked as no-show, {reminded} reminder(s) sent")


@appointments.command("close-day")
@click.argument("hall")
@click.argument("day", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--reason", default="", help="Kept in the audit log.")
def appointments_close_day(hall: str, day: Any, reason: str) -> None:
    """Close HALL on DAY (YYYY-MM-DD): cancel its bookings and tell each holder (audited)."""
    from queue_engine.bootstrap import bootstrap
    from queue_engine.domain.access import AuditEntry

    from .config import outbox_options, pii_pepper

    settings = Settings.from_env()
    services = bootstrap(
        settings.database_url,
        pepper=pii_pepper(settings.instance_path),
        **outbox_options(settings),
    )
    entry = AuditEntry("cli", "admin", "appointments.close_day", hall, "")
    try:
        n = services.acting(entry).appointments.close_day(hall.upper(), day.date(), reason)
    finally:
        services.close()
    click.echo(f"{n} appointment(s) on {day.date().isoformat()} cancelled and told")


@click.command()
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit.")
@click.option("--id", "name", default=None, help="This worker's name (default: node-pid).")
@click.option("--batch", default=20, show_default=True, type=int)
def worker(once: bool, name: str | None, batch: int) -> None:
    """Deliver the outbox: notices (SMS, WeChat, Web Push) and webhooks; run several at once."""
    import signal
    import threading

    from queue_engine.bootstrap import bootstrap

    from .config import outbox_options, pii_pepper
    from .observability import configure_logging

    settings = Settings.from_env()
    settings.check()
    configure_logging(settings.log_format, settings.node)
    services = bootstrap(
        settings.database_url,
        pepper=pii_pepper(settings.instance_path),
        pool_size=2,
        max_overflow=2,
        **outbox_options(settings),
    )
    runner = services.worker(name or settings.node, batch=batch)
    try:
        if once:
            click.echo(f"{runner.drain()} delivery(ies) handed over")
            return
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        click.echo(f"worker {runner.name} delivering (database: {_safe(settings.database_url)})")
        runner.run(stop)
    finally:
        services.close()
