"""The supervision service: evaluate the alert rules, raise and clear alerts, acknowledge them.

Evaluating is cheap and mostly changes nothing: the rules run on a read-only picture, and a
write transaction is opened only when an alert is to be raised, escalated or cleared. Every
change is an event in the hall's log (``alert.raised``, ``alert.cleared``,
``alert.acknowledged``), published after commit like any other.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row

from queue_engine.adapters import alert_store as store
from queue_engine.adapters.staff_store import record_audit
from queue_engine.adapters.unit_of_work import UnitOfWork
from queue_engine.domain.alerts import (
    RAISED_ELSEWHERE,
    AlertSettings,
    Condition,
    HallPicture,
    Severity,
    describe,
    evaluate,
)
from queue_engine.domain.errors import Conflict, InvalidInput, NotFound
from queue_engine.domain.events import DomainEvent, EventType, StoredEvent
from queue_engine.domain.model import HallConfig
from queue_engine.services.desk import Desk
from queue_engine.services.tickets import QueueEngine

MAX_NOTE = 500


log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AlertView:
    id: int
    hall: str
    key: str
    kind: str
    severity: str
    subject: str
    window: str | None
    service: str | None
    data: dict[str, Any]
    raised_at: datetime
    updated_at: datetime
    cleared_at: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    note: str

    @property
    def open(self) -> bool:
        return self.cleared_at is None

    def message(self, lang: str = "zh") -> str:
        return describe(self.kind, self.subject, self.data, lang)


def _view(row: Row[Any], hall: str) -> AlertView:
    return AlertView(
        id=row.id,
        hall=hall,
        key=row.key,
        kind=row.kind,
        severity=row.severity,
        subject=row.subject,
        window=row.window,
        service=row.service,
        data=dict(row.data or {}),
        raised_at=row.raised_at,
        updated_at=row.updated_at,
        cleared_at=row.cleared_at,
        acknowledged_at=row.acknowledged_at,
        acknowledged_by=row.acknowledged_by,
        note=row.note,
    )


@dataclass(frozen=True)
class Changes:
    raised: list[AlertView]
    cleared: list[AlertView]

    def __bool__(self) -> bool:
        return bool(self.raised or self.cleared)


class SupervisionDesk(Desk):
    """Alerts of every hall in one database."""

    def __init__(self, engine: QueueEngine) -> None:
        self.engine = engine
        self.db = engine.db
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self._changed: set[str] = set()  # halls with events since their last evaluation

    def note_changes(self, stored: Sequence[StoredEvent]) -> None:
        """Bus handler: halls where something happened get their alerts evaluated next tick."""
        halls = {s.event.hall for s in stored if not str(s.event.type).startswith("alert.")}
        with self._guard:
            self._changed |= halls

    def tick(self, full: bool = False) -> None:
        """Evaluate the halls that changed since the last tick (every hall when ``full``)."""
        with self._guard:
            changed, self._changed = self._changed, set()
        halls = {c.code for c in self.engine.halls()} if full else changed
        for hall in sorted(halls):
            try:
                self.evaluate(hall)
            except Exception:  # one hall's failure must not stop the others
                log.exception("alert evaluation failed for %s", hall)

    def _lock(self, hall: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(hall, threading.Lock())

    # -- thresholds --------------------------------------------------------------------------

    def settings(self, hall: str) -> AlertSettings:
        with UnitOfWork(self.db, write=False) as uow:
            hall_id, _ = self.db.hall_config(uow.conn, hall)
            return store.load_settings(uow.conn, hall_id)

    def update_settings(
        self, hall: str, data: dict[str, Any], actor: str, role: str = "admin"
    ) -> AlertSettings:
        """Replace a hall's thresholds (validated), audited with the values before and after."""
        now = self.engine.clock.now()
        with self.unit() as uow:
            hall_id, config = self.db.hall_config(uow.conn, hall)
            store.lock_hall(uow.conn, hall_id)
            before = store.load_settings(uow.conn, hall_id)
            after = AlertSettings.from_mapping(data, [s.code for s in config.services])
            _check_windows(after, config)
            store.save_settings(uow.conn, hall_id, after, now, actor)
            detail = {"hall": hall, "before": before.to_mapping(), "after": after.to_mapping()}
            if not uow.record_audit(now, detail):  # no request entry: the caller's name
                record_audit(uow.conn, now, actor, role, "alert_settings.update", hall, detail)
            self.engine.bus.commit(uow)
        return after

    def flags(self, hall: str) -> dict[str, Any]:
        """The hall's stored red/black flag formula ({} = the documented defaults)."""
        with UnitOfWork(self.db, write=False) as uow:
            hall_id, _ = self.db.hall_config(uow.conn, hall)
            return store.load_flags(uow.conn, hall_id)

    def update_flags(
        self, hall: str, flags: dict[str, Any], actor: str, role: str = "admin"
    ) -> dict[str, Any]:
        """Store an already validated flag formula, audited with the one it replaces."""
        now = self.engine.clock.now()
        with self.unit() as uow:
            hall_id, _ = self.db.hall_config(uow.conn, hall)
            store.lock_hall(uow.conn, hall_id)
            before = store.load_flags(uow.conn, hall_id)
            store.save_flags(uow.conn, hall_id, flags, now, actor)
            detail = {"hall": hall, "flags_before": before, "flags_after": flags}
            if not uow.record_audit(now, detail):  # no request entry: the caller's name
                record_audit(uow.conn, now, actor, role, "flag_settings.update", hall, detail)
            uow.commit()
        return flags

    # -- evaluation --------------------------------------------------------------------------

    def picture(self, hall: str) -> tuple[HallPicture, AlertSettings]:
        now = self.engine.clock.now()
        with UnitOfWork(self.db, write=False) as uow:
            hall_id, config = self.db.hall_config(uow.conn, hall)
            return store.picture(uow.conn, hall_id, config, now), store.load_settings(
                uow.conn, hall_id
            )

    def evaluate(self, hall: str) -> Changes:
        """Run the rules; raise new alerts, escalate, clear the ones no longer true."""
        with self._lock(hall):
            picture, settings = self.picture(hall)
            found = {c.key: c for c in evaluate(picture, settings)}
            with UnitOfWork(self.db, write=False) as uow:
                hall_id, _ = self.db.hall_config(uow.conn, hall)
                current = {r.key: r for r in _rules_alerts(store.open_alerts(uow.conn, hall_id))}
            if not _differs(found, current):
                return Changes([], [])
            return self._apply(hall, found, picture.now)

    def evaluate_all(self) -> dict[str, Changes]:
        return {config.code: self.evaluate(config.code) for config in self.engine.halls()}

    def _apply(self, hall: str, found: dict[str, Condition], now: datetime) -> Changes:
        raised: list[int] = []
        cleared: list[int] = []
        with self.unit() as uow:
            hall_id, config = self.db.hall_config(uow.conn, hall)
            store.lock_hall(uow.conn, hall_id)
            current = {r.key: r for r in _rules_alerts(store.open_alerts(uow.conn, hall_id))}
            for key, row in current.items():
                if key not in found:
                    store.update_alert(uow.conn, row.id, cleared_at=now, updated_at=now)
                    cleared.append(row.id)
                    uow.record(_event(EventType.ALERT_CLEARED, config, row.id, row, now))
            for key, cond in found.items():
                existing = current.get(key)
                if existing is None:
                    alert_id = store.insert_alert(uow.conn, _values(hall_id, cond, now))
                elif _escalated(existing.severity, cond.severity):
                    alert_id = existing.id
                    store.update_alert(
                        uow.conn, alert_id, severity=str(cond.severity), data=dict(cond.data),
                        updated_at=now,
                    )  # fmt: skip
                else:
                    continue
                raised.append(alert_id)
                uow.record(_event(EventType.ALERT_RAISED, config, alert_id, cond, now))
            self.engine.bus.commit(uow)
        with UnitOfWork(self.db, write=False) as uow:
            views = {r.id: _view(r, hall) for r in store.alerts_by_ids(uow.conn, raised + cleared)}
        return Changes([views[i] for i in raised], [views[i] for i in cleared])

    # -- reading and acknowledging ------------------------------------------------------------

    def alerts(
        self, hall: str, include_recent: timedelta = timedelta(hours=12), limit: int = 200
    ) -> list[AlertView]:
        """Open alerts and those raised recently, newest first."""
        now = self.engine.clock.now()
        with UnitOfWork(self.db, write=False) as uow:
            hall_id, config = self.db.hall_config(uow.conn, hall)
            rows = store.alerts_since(uow.conn, hall_id, now - include_recent, limit)
        return [_view(r, config.code) for r in rows]

    def open_alerts(self, hall: str) -> list[AlertView]:
        with UnitOfWork(self.db, write=False) as uow:
            hall_id, config = self.db.hall_config(uow.conn, hall)
            return [_view(r, config.code) for r in store.open_alerts(uow.conn, hall_id)]

    def alert(self, alert_id: int) -> AlertView:
        with UnitOfWork(self.db, write=False) as uow:
            row = store.alert_by_id(uow.conn, alert_id)
            if row is None:
                raise NotFound(f"no alert {alert_id}")
            config = self.db.hall_config_by_id(uow.conn, row.hall_id)
            return _view(row, config.code)

    def acknowledge(self, alert_id: int, actor: str, note: str) -> AlertView:
        """A supervisor has seen the alert and says what is being done about it."""
        text = (note or "").strip()
        if not text:
            raise InvalidInput("acknowledging an alert needs a note")
        if len(text) > MAX_NOTE:
            raise InvalidInput(f"the note is longer than {MAX_NOTE} characters")
        now = self.engine.clock.now()
        with self.unit() as uow:
            row = store.alert_by_id(uow.conn, alert_id, lock=True)
            if row is None:
                raise NotFound(f"no alert {alert_id}")
            if row.acknowledged_at is not None:
                raise Conflict("this alert was already acknowledged", code="already_acknowledged")
            config = self.db.hall_config_by_id(uow.conn, row.hall_id)
            store.update_alert(
                uow.conn, alert_id, acknowledged_at=now, acknowledged_by=actor, note=text,
                updated_at=now,
            )  # fmt: skip
            uow.record(
                _event(
                    EventType.ALERT_ACKNOWLEDGED, config, alert_id, row, now, by=actor, note=text
                )
            )
            self.engine.bus.commit(uow)
        return self.alert(alert_id)


def _check_windows(settings: AlertSettings, config: HallConfig) -> None:
    numbers = {w.number for w in config.windows}
    missing = [n for n in settings.hall.scheduled_windows if n not in numbers]
    if missing:
        raise InvalidInput(f"no window(s) {missing} in hall {config.code}")


_RANK = {Severity.YELLOW.value: 1, Severity.RED.value: 2}


def _rules_alerts(rows: list[Row[Any]]) -> list[Row[Any]]:
    """The open alerts the rules own (not those raised elsewhere, e.g. a disabled webhook)."""
    return [r for r in rows if r.kind not in RAISED_ELSEWHERE]


def _escalated(before: str, now: Severity) -> bool:
    return _RANK.get(str(now), 0) > _RANK.get(before, 0)


def _differs(found: dict[str, Condition], current: dict[str, Row[Any]]) -> bool:
    if set(found) != set(current):
        return True
    return any(_escalated(current[k].severity, c.severity) for k, c in found.items())


def _values(hall_id: int, cond: Condition, now: datetime) -> dict[str, Any]:
    return {
        "hall_id": hall_id,
        "key": cond.key[:120],
        "kind": str(cond.kind),
        "severity": str(cond.severity),
        "subject": cond.subject[:64],
        "window": cond.window,
        "service": cond.service,
        "data": dict(cond.data),
        "raised_at": now,
        "updated_at": now,
        "note": "",
    }


def _event(
    kind: EventType,
    config: HallConfig,
    alert_id: int,
    source: Condition | Row[Any],
    now: datetime,
    **extra: Any,
) -> DomainEvent:
    data = dict(source.data or {})
    payload = {
        "alert": alert_id,
        "kind": str(source.kind),
        "severity": str(source.severity),
        "subject": source.subject,
        "data": data,
        "message": describe(str(source.kind), source.subject, data),
        **extra,
    }
    return DomainEvent(
        type=kind,
        hall=config.code,
        ts=now,
        window=source.window,
        service=source.service,
        payload=payload,
    )
