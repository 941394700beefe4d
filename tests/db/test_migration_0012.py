"""Migration 0012 keeps every rating and case of old (SQLite copies the evaluations table to
drop its unnamed unique constraint; PostgreSQL drops it by name) and makes them segment 0."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from alembic import command
from sqlalchemy import Engine, inspect, text

from queue_engine.adapters.database import alembic_config, make_engine
from queue_engine.adapters.orm import Base
from queue_engine.adapters.unit_of_work import Database
from queue_engine.domain.clock import FrozenClock
from queue_engine.seed import demo_hall
from queue_engine.services.admin import AdminDesk
from queue_engine.services.evaluations import EvaluationDesk
from queue_engine.services.tickets import QueueEngine

NOW = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)


@contextmanager
def later_columns(engine: Engine) -> Iterator[None]:
    """Today's code seeds an old schema: lend it the columns later migrations add, take them
    back afterwards (so that the upgrade adds them as it would on a hall's database)."""
    lent: list[tuple[str, str]] = []
    with engine.begin() as conn:
        present = inspect(conn)
        for table in Base.metadata.sorted_tables:
            if not present.has_table(table.name):
                continue
            have = {c["name"] for c in present.get_columns(table.name)}
            for column in table.columns:
                if column.name not in have:
                    kind = column.type.compile(dialect=engine.dialect)
                    conn.execute(
                        text(f'ALTER TABLE {table.name} ADD COLUMN "{column.name}" {kind}')
                    )
                    lent.append((table.name, column.name))
    yield
    with engine.begin() as conn:
        for table_name, column_name in lent:
            conn.execute(text(f'ALTER TABLE {table_name} DROP COLUMN "{column_name}"'))


def test_old_ratings_survive_the_upgrade_as_segment_zero_and_a_second_segment_fits(
    tmp_path: object,
) -> None:
    url = f"sqlite:///{tmp_path}/old.db"
    command.upgrade(alembic_config(url), "0008_input_window_rules")
    engine = make_engine(url)
    with later_columns(engine):
        db = Database(url)
        AdminDesk(db).seed_hall(demo_hall(always_open=True))  # tables 0012 leaves as they were
        queue = QueueEngine(db, FrozenClock(NOW))
        window = queue.halls()[0].window_by_number(10).id
        queue.open_window(window, "clerk10")
        queue.issue("ZMD", "SOCIAL")
        called = queue.call_next(window)
        assert called is not None
        queue.finish(queue.start(called.id).id)
        t1 = called.id
        db.dispose()
    with engine.begin() as conn:
        conn.execute(
            text(
                'INSERT INTO evaluations (ticket_id, hall_id, service, "window", clerk, score, '
                "comment, source, created_at, excluded) VALUES (:t, 1, 'SOCIAL', '10', "
                "'clerk10', 2, '慢', 'slip_qr', '2026-11-26 02:10:00', 0)"
            ),
            {"t": t1},
        )
        conn.execute(
            text(
                "INSERT INTO follow_up_cases (hall_id, evaluation_id, status, opened_at, "
                "deadline, updated_at, note, version) VALUES (1, 1, 'open', "
                "'2026-11-26 02:10:00', '2026-12-17', '2026-11-26 02:10:00', '', 1)"
            )
        )
    command.upgrade(alembic_config(url), "head")
    with engine.begin() as conn:
        row = conn.execute(text("SELECT ticket_id, segment, score, comment FROM evaluations")).one()
        assert tuple(row) == (t1, 0, 2, "慢")
        case = conn.execute(
            text("SELECT evaluation_id, callback_deadline FROM follow_up_cases")
        ).one()
        assert tuple(case) == (1, None)
        conn.execute(
            text(
                "INSERT INTO evaluations (ticket_id, segment, hall_id, service, score, comment, "
                "source, created_at, excluded) VALUES (:t, 1, 1, 'MEDICAL', 5, '', 'slip_qr', "
                "'2026-11-26 02:11:00', 0)"
            ),
            {"t": t1},
        )
    engine.dispose()


def test_a_case_of_old_without_a_call_back_deadline_still_reads(db_url: str) -> None:
    db = Database(db_url)
    AdminDesk(db).seed_hall(demo_hall(always_open=True))
    ratings = EvaluationDesk(QueueEngine(db, FrozenClock(NOW)), b"migration-test-secret-0123")
    assert ratings.cases("ZMD") == []
    db.dispose()
