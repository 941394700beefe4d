"""``hall config export/import``: a hall's whole configuration as a YAML file.

The file is validated with the same pydantic models as the admin API, so a county hall can
start from the city's file: change the code and the names, import, done. Importing into an
existing hall brings it to exactly the file's configuration (services and windows missing from
the file are disabled, never deleted) in one audited transaction.
"""

from __future__ import annotations

import getpass
import sys
from pathlib import Path
from typing import Any

import click
import yaml
from pydantic import ValidationError

from queue_engine.adapters.unit_of_work import Database
from queue_engine.domain.access import Actor, Role
from queue_engine.domain.errors import DomainError
from queue_engine.services.admin import AdminDesk

from ..config import Settings
from .schemas import HallConfigFile

CLI_ACTOR = Actor(f"cli:{getpass.getuser()}", Role.ADMIN, None, "command line")


def dump_yaml(config: HallConfigFile) -> str:
    """The file's text: keys in the models' order, Chinese kept readable."""
    data = config.model_dump(mode="json")
    data["hall"] = {"code": data["hall"].pop("code"), **data["hall"]}
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)


def load_yaml(text: str) -> HallConfigFile:
    data: Any = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise click.ClickException("the file is not a hall configuration (a YAML mapping)")
    return HallConfigFile.model_validate(data)


@click.group("config")
def config() -> None:
    """A hall's whole configuration as a YAML file."""


@config.command("export")
@click.option("--hall", "hall_code", required=True, help="Hall code, e.g. ZMD.")
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False))
def export_command(hall_code: str, out_path: str) -> None:
    """Write a hall's configuration (hall, hours, rules, services, windows) as YAML."""
    db = Database(Settings.from_env().database_url)
    try:
        data = AdminDesk(db).export_hall(CLI_ACTOR, hall_code)
    except DomainError as exc:
        click.echo(f"error: {exc.message}", err=True)
        sys.exit(2)
    finally:
        db.dispose()
    config_file = HallConfigFile.from_stored(data)
    Path(out_path).write_text(dump_yaml(config_file), encoding="utf-8")
    click.echo(
        f"hall {hall_code}: {len(config_file.services)} services, "
        f"{len(config_file.windows)} windows written to {out_path}"
    )


@config.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--hall", "hall_code", default=None, help="Import as this hall code instead.")
def import_command(path: str, hall_code: str | None) -> None:
    """Create a hall from a YAML file, or bring an existing hall to the file's configuration."""
    try:
        config_file = load_yaml(Path(path).read_text(encoding="utf-8"))
        if hall_code is not None:
            hall = config_file.hall.model_copy(update={"code": hall_code})
            config_file = HallConfigFile.model_validate(
                {**config_file.model_dump(), "hall": hall.model_dump()}
            )
    except yaml.YAMLError as exc:
        click.echo(f"error: not valid YAML: {exc}", err=True)
        sys.exit(2)
    except ValidationError as exc:
        click.echo(f"error: the file is not a valid hall configuration:\n{_explain(exc)}", err=True)
        sys.exit(2)
    db = Database(Settings.from_env().database_url)
    try:
        _, created = AdminDesk(db).import_hall(CLI_ACTOR, config_file.stored())
    except DomainError as exc:
        click.echo(f"error: {exc.message}", err=True)
        sys.exit(2)
    finally:
        db.dispose()
    code = config_file.hall.code
    click.echo(
        f"hall {code} {'created' if created else 'updated'}: "
        f"{len(config_file.services)} services, {len(config_file.windows)} windows"
    )


def _explain(error: ValidationError) -> str:
    return "\n".join(
        f"  {'.'.join(str(p) for p in item['loc'])}: {item['msg']}" for item in error.errors()
    )
