"""``hall evaluations export``: a hall's 好差评 day for the provincial platform, as a file and,
when ``HALL_EVALUATIONS_PUSH_URL`` is set, pushed there (signed, retried)."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

import click

from .config import Settings


@click.group()
def evaluations() -> None:
    """好差评: the upstream export of ratings and case results."""


@evaluations.command("export")
@click.option("--date", "day", required=True, help="The business date YYYY-MM-DD.")
@click.option(
    "--hall", "halls", multiple=True, help="A hall code (repeatable; default: every hall)."
)
@click.option(
    "--out",
    type=click.Path(dir_okay=True, path_type=Path),
    help="A .json file, or a folder (one file per hall).",
)
@click.option("--push/--no-push", default=None, help="Push too (default: when configured).")
def export(day: str, halls: tuple[str, ...], out: Path | None, push: bool | None) -> None:
    """Write the day's export of each hall (JSON; docs/evaluations-export.schema.json)."""
    from queue_engine.adapters.upstream_push import PushSettings, UpstreamPush
    from queue_engine.bootstrap import bootstrap
    from queue_engine.domain.errors import DomainError
    from queue_engine.domain.evaluation_figures import parse_day

    from .config import pii_pepper

    settings = Settings.from_env()
    try:
        push_settings = PushSettings.from_env()
        business_date = parse_day(day)
    except (ValueError, DomainError) as exc:
        raise click.UsageError(str(getattr(exc, "message", exc))) from None
    if push and push_settings is None:
        raise click.UsageError("--push needs HALL_EVALUATIONS_PUSH_URL")
    pusher = (
        UpstreamPush(push_settings) if push_settings is not None and push is not False else None
    )
    services = bootstrap(settings.database_url, pepper=pii_pepper(settings.instance_path))
    failed = False
    try:
        codes = list(halls) or services.evaluation_reports.hall_codes()
        for hall in codes:
            try:
                document = services.evaluation_reports.export(hall, business_date)
            except DomainError as exc:
                raise click.UsageError(exc.message) from None
            text = json.dumps(document, ensure_ascii=False, indent=2)
            target = _target(out, hall, business_date, len(codes))
            if target is None:
                click.echo(text)
            else:
                target.write_text(text + "\n", encoding="utf-8")
                click.echo(f"{hall}: {len(document['records'])} record(s) → {target}", err=True)
            if pusher is not None:
                result = pusher.push(document)
                failed |= not result.delivered
                state = "pushed" if result.delivered else "NOT pushed"
                click.echo(
                    f"{hall}: {state} after {result.attempts} attempt(s) (HTTP {result.status})",
                    err=True,
                )
    finally:
        services.close()
    if failed:
        sys.exit(1)


def _target(out: Path | None, hall: str, day: date, count: int) -> Path | None:
    if out is None:
        return None
    if out.suffix == ".json" and count == 1:
        return out
    out.mkdir(parents=True, exist_ok=True)  # a folder: one file per hall and day
    return out / f"haocaiping-{hall}-{day.isoformat()}.json"
