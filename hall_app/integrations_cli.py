"""``hall client`` and ``hall services``: API clients and the service catalogue (issue 20).

Every change is audited as the command line's (actor ``cli``), through the same desks as the
administration API.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from queue_engine.domain.errors import DomainError

from .config import Settings


@contextmanager
def _services(action: str, target: str = "") -> Iterator[Any]:
    from queue_engine.bootstrap import bootstrap
    from queue_engine.services.integrations import cli_entry

    from .config import outbox_options, pii_pepper

    settings = Settings.from_env()
    services = bootstrap(
        settings.database_url, pepper=pii_pepper(settings.instance_path), **outbox_options(settings)
    )
    try:
        yield services.acting(cli_entry(action, target))
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        services.close()


def _client_json(client: Any) -> dict[str, Any]:
    return {
        "client_id": client.client_id,
        "name": client.name,
        "scopes": list(client.scopes),
        "halls": list(client.halls),
        "quotas": dict(client.quotas),
        "created_at": client.created_at.isoformat() if client.created_at else None,
        "rotated_at": client.rotated_at.isoformat() if client.rotated_at else None,
        "revoked_at": client.revoked_at.isoformat() if client.revoked_at else None,
    }


@click.group()
def client() -> None:
    """API clients (OAuth 2.0 client credentials): add, list, rotate, revoke."""


@client.command("add")
@click.option("--name", required=True, help="Who the client is, e.g. 城市APP.")
@click.option(
    "--scopes", required=True, help="Space- or comma-separated: book tickets:remote queues:read "
    "events:subscribe cases:link."
)  # fmt: skip
@click.option("--hall", "halls", multiple=True, help="A hall it may act in (repeat; none: all).")
@click.option("--quota", "quotas", multiple=True, help="SCOPE=LIMIT, e.g. book='600 per minute'.")
def client_add(name: str, scopes: str, halls: tuple[str, ...], quotas: tuple[str, ...]) -> None:
    """Register a client; prints its client id and secret (the secret only this once)."""
    wanted = scopes.replace(",", " ").split()
    limits: dict[str, str] = {}
    for item in quotas:
        scope, _, limit = item.partition("=")
        if not limit:
            raise click.BadParameter(f"{item!r} is not SCOPE=LIMIT", param_hint="--quota")
        limits[scope.strip()] = limit.strip()
    with _services("client.add", name) as services:
        added, secret = services.clients.add(name, wanted, halls, limits)
    click.echo(json.dumps({**_client_json(added), "client_secret": secret}, ensure_ascii=False))


@client.command("list")
def client_list() -> None:
    """Every client (never a secret), one JSON object a line."""
    with _services("client.list") as services:
        for found in services.clients.clients():
            click.echo(json.dumps(_client_json(found), ensure_ascii=False))


@client.command("rotate")
@click.argument("client_id")
def client_rotate(client_id: str) -> None:
    """A new secret for CLIENT_ID (printed once); the old one and its tokens stop working."""
    with _services("client.rotate", client_id) as services:
        found, secret = services.clients.rotate(client_id)
    click.echo(json.dumps({**_client_json(found), "client_secret": secret}, ensure_ascii=False))


@client.command("revoke")
@click.argument("client_id")
def client_revoke(client_id: str) -> None:
    """Revoke CLIENT_ID for good: its secret, its tokens and its webhooks stop."""
    with _services("client.revoke", client_id) as services:
        found = services.clients.revoke(client_id)
    click.echo(json.dumps(_client_json(found), ensure_ascii=False))


@click.group()
def services() -> None:
    """The service catalogue: import 实施编码 and departments (CSV/JSON)."""


@services.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--hall", default=None, help="The hall (default: each row's own `hall`).")
def services_import(file: Path, hall: str | None) -> None:
    """Import FILE (CSV or JSON from the provincial catalogue): all rows or none, audited."""
    with _services("services.import", file.name) as desk:
        report = desk.catalogue.import_text(
            file.read_text(encoding="utf-8-sig"), file.suffix.lower().lstrip("."), hall
        )
    click.echo(json.dumps(report, ensure_ascii=False))
