"""The schema comes from Alembic and matches the ORM; the ``hall`` command sets a hall up."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from click.testing import CliRunner
from sqlalchemy import select

from hall_app.cli import main
from queue_engine.adapters.database import make_engine
from queue_engine.adapters.orm import Base, UserRow
from queue_engine.adapters.unit_of_work import Database, UnitOfWork
from queue_engine.domain.accounts import verify_password
from queue_engine.seed import DEMO_SERVICES, DEMO_WINDOWS


def test_migrations_build_exactly_the_orm_schema(db_url: str) -> None:
    engine = make_engine(db_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == []


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    return {"HALL_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}


def test_init_demo_creates_the_citizen_centre_and_prints_credentials(
    cli_env: dict[str, str],
) -> None:
    result = CliRunner().invoke(main, ["init", "--demo", "--always-open"], env=cli_env)
    assert result.exit_code == 0, result.output
    assert "驻马店市民中心" in result.output
    assert "zmd-admin-2026" in result.output
    db = Database(cli_env["HALL_DATABASE_URL"])
    with UnitOfWork(db, write=False) as uow:
        config = db.hall_config(uow.conn, "ZMD")[1]
        admin = uow.session.scalars(select(UserRow).where(UserRow.username == "admin")).one()
    db.dispose()
    assert len(config.services) == len(DEMO_SERVICES) >= 12
    assert len(config.windows) == len(DEMO_WINDOWS) >= 20
    assert config.hours.always_open
    assert {"综合窗口1", "老年服务1", "契税补贴专窗"} <= {w.name for w in config.windows}
    assert admin.role == "admin" and verify_password("zmd-admin-2026", admin.password_hash)
    assert "zmd-admin-2026" not in admin.password_hash
    again = CliRunner().invoke(main, ["init", "--demo"], env=cli_env)
    assert again.exit_code == 0 and "already exists" in again.output


def test_user_add_hashes_the_password_and_refuses_bad_input(cli_env: dict[str, str]) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["init", "--demo"], env=cli_env).exit_code == 0
    ok = runner.invoke(
        main,
        [
            "user",
            "add",
            "--username",
            "wang.li",
            "--password",
            "Window-7-ok",
            "--role",
            "clerk",
            "--hall",
            "ZMD",
        ],
        env=cli_env,
    )
    assert ok.exit_code == 0, ok.output
    for args in (
        ["--username", "wang.li", "--password", "Window-7-ok", "--role", "clerk"],  # duplicate
        ["--username", "x", "--password", "Window-7-ok", "--role", "clerk"],  # short name
        ["--username", "zhao", "--password", "short", "--role", "clerk"],  # weak password
        ["--username", "zhao", "--password", "Window-7-ok", "--role", "clerk", "--hall", "NONE"],
    ):
        bad = runner.invoke(main, ["user", "add", *args], env=cli_env)
        assert bad.exit_code == 2, (args, bad.output)
        assert "error:" in bad.output
    bad_role = runner.invoke(
        main,
        ["user", "add", "--username", "zhao", "--password", "Window-7-ok", "--role", "boss"],
        env=cli_env,
    )
    assert bad_role.exit_code == 2
    db = Database(cli_env["HALL_DATABASE_URL"])
    with UnitOfWork(db, write=False) as uow:
        user = uow.session.scalars(select(UserRow).where(UserRow.username == "wang.li")).one()
    db.dispose()
    assert user.role == "clerk" and verify_password("Window-7-ok", user.password_hash)


def test_events_export_writes_the_spec_columns_in_the_halls_time(
    cli_env: dict[str, str],
) -> None:
    import csv
    import json
    from datetime import UTC, datetime

    from queue_engine.domain.clock import FrozenClock
    from queue_engine.domain.events import EVENT_COLUMNS
    from queue_engine.services.tickets import QueueEngine

    runner = CliRunner()
    assert runner.invoke(main, ["init", "--demo", "--always-open"], env=cli_env).exit_code == 0
    db = Database(cli_env["HALL_DATABASE_URL"])
    clock = FrozenClock(datetime(2026, 11, 26, 15, 50, tzinfo=UTC))  # 23:50 in Zhumadian
    engine = QueueEngine(db, clock)
    window = engine.hall_config("ZMD").window_by_number(10).id
    first = engine.issue("ZMD", "SOCIAL", priority="elderly").ticket
    engine.open_window(window, "clerk10")
    clock.advance(minutes=5)
    engine.call_next(window, "clerk10")
    engine.start(first.id, "clerk10")
    clock.advance(minutes=15)  # 00:10 the next local day: a new business date
    engine.finish(first.id, "clerk10")
    db.dispose()

    out = Path(cli_env["HALL_DATABASE_URL"].removeprefix("sqlite:///")).with_name("ev.csv")
    everything = runner.invoke(
        main, ["events", "export", "--hall", "ZMD", "--out", str(out)], env=cli_env
    )
    assert everything.exit_code == 0, everything.output
    with out.open(encoding="utf-8") as f:
        reader = csv.DictReader(f)
        assert tuple(reader.fieldnames or ()) == EVENT_COLUMNS
        rows = list(reader)
    assert [r["type"] for r in rows] == [
        "ticket.issued",
        "window.opened",
        "ticket.called",
        "ticket.started",
        "ticket.finished",
    ]
    assert rows[0]["ts"] == "2026-11-26T23:50:00+08:00"
    assert rows[0]["priority"] == "elderly" and rows[0]["ticket_number"] == "F001"
    assert "estimated_wait" in json.loads(rows[0]["payload"])
    assert rows[2]["window"] == "10" and rows[2]["clerk"] == "clerk10"

    day_two = runner.invoke(
        main,
        [
            "events",
            "export",
            "--hall",
            "ZMD",
            "--from",
            "2026-11-27",
            "--to",
            "2026-11-27",
            "--out",
            str(out),
        ],
        env=cli_env,
    )
    assert day_two.exit_code == 0 and "1 event written" in day_two.output
    unknown = runner.invoke(
        main, ["events", "export", "--hall", "NOPE", "--out", str(out)], env=cli_env
    )
    assert unknown.exit_code == 2 and "error:" in unknown.output


def _modules_after(code: str, env: dict[str, str] | None = None) -> set[str]:
    """The top-level packages a fresh interpreter has imported after running ``code``."""
    import json
    import os
    import subprocess
    import sys

    report = "import json, sys; print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    done = subprocess.run(
        [sys.executable, "-c", f"{code}\n{report}"],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=True,
    )
    return set(json.loads(done.stdout.splitlines()[-1]))


HEAVY = {"hall_app", "flask", "pandas", "numpy", "scipy", "matplotlib", "simpy"}
RUN_HALL = "from hall_cli import main\ntry:\n    main({args!r})\nexcept SystemExit:\n    pass"


def test_hall_help_and_user_add_import_only_what_they_need(cli_env: dict[str, str]) -> None:
    assert CliRunner().invoke(main, ["init"], env=cli_env).exit_code == 0
    helped = _modules_after(RUN_HALL.format(args=["--help"]))
    assert not helped & (HEAVY | {"sqlalchemy", "queue_engine"})
    args = ["user", "add", "--username", "li.na", "--password", "Window-7-ok", "--role", "clerk"]
    added = _modules_after(RUN_HALL.format(args=args), cli_env)
    assert "sqlalchemy" in added and not added & HEAVY


def test_the_help_of_hall_names_each_lazy_command_as_the_command_does() -> None:
    import click

    from hall_cli import LAZY_COMMANDS, LazyGroup

    assert isinstance(main, LazyGroup)
    for name, (_, help_line) in LAZY_COMMANDS.items():
        command = main.get_command(click.Context(main), name)
        assert command is not None and command.help is not None, name
        assert command.help.split("\n\n")[0].strip() == help_line, name


def test_the_planner_never_imports_the_web_app() -> None:
    """Not at the top of a module, not inside a function: the planner runs without a server."""
    import ast

    root = Path(__file__).resolve().parents[2] / "simulations"
    for path in root.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            assert not any(n.split(".")[0] == "hall_app" for n in names), (path.name, names)
