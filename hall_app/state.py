"""The app's long-lived objects (database, engine), reachable from any request."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import Connection

from queue_engine.adapters.unit_of_work import Database, UnitOfWork
from queue_engine.services.tickets import QueueEngine


@dataclass
class HallState:
    db: Database
    engine: QueueEngine

    @contextmanager
    def reader(self) -> Iterator[Connection]:
        with UnitOfWork(self.db, write=False) as uow:
            yield uow.conn

    @contextmanager
    def writer(self) -> Iterator[UnitOfWork]:
        with UnitOfWork(self.db) as uow:
            yield uow


def hall_state() -> HallState:
    state: HallState = current_app.extensions["hall"]
    return state
