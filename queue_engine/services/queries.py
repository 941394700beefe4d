"""The read side of the queue: what citizens, clerks, boards and supervisors are shown.

Reads never lock and never publish; each opens a read-only unit of work. The commands in
``tickets.py`` reuse ``_estimate`` for the estimate they give at issue.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from queue_engine.adapters import repository as repo
from queue_engine.adapters.unit_of_work import Database, UnitOfWork
from queue_engine.domain.clock import Clock
from queue_engine.domain.errors import (
    NotFound,
)
from queue_engine.domain.estimate import HandlingStats, OpenWindow, estimate_wait
from queue_engine.domain.kpi import summary
from queue_engine.domain.model import (
    HallConfig,
    Ticket,
    TicketStatus,
    WaitEstimate,
    WindowState,
    WindowStatus,
    format_number,
)
from queue_engine.domain.policy import (
    Candidate,
    aged_before,
    dispatch_sequence,
    queue_key,
)


@dataclass(frozen=True)
class TicketView:
    """A ticket with its live place in the queue (for citizens and clerks)."""

    ticket: Ticket
    position: int | None  # people ahead of it; None once it is no longer waiting
    estimate: WaitEstimate | None  # live estimate while waiting


@dataclass(frozen=True)
class ServiceQueue:
    code: str
    waiting: int
    longest_wait_minutes: float
    estimate: WaitEstimate


@dataclass(frozen=True)
class WindowQueue:
    window: WindowStatus
    current: Ticket | None
    queue: list[Candidate]  # in the order this window would call them now
    today: dict[str, float]
    now: datetime
    # ticket id → its number (a transferred or multi-service ticket keeps its first prefix)
    numbers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class HallLive:
    config: HallConfig
    business_date: date
    windows: list[tuple[WindowStatus, Ticket | None]]
    queues: list[ServiceQueue]
    kpis: dict[str, float]


class HallQueries:
    """Read models of every hall: tickets with their place, queues, windows, the live picture."""

    db: Database
    clock: Clock
    _open: dict[int, tuple[object, HallConfig, list[OpenWindow]]]

    def ticket(self, ticket_id: str) -> TicketView:
        """A ticket with its current position and a fresh estimate while it waits."""
        view = self.tickets([ticket_id]).get(ticket_id)
        if view is None:
            raise NotFound("no such ticket")
        return view

    def tickets(self, ticket_ids: Iterable[str]) -> dict[str, TicketView]:
        """Several tickets at once, unknown ids left out (the live refresher's followed tickets).

        A hall's open windows are read once for all of its tickets; each waiting ticket's place
        is counted in the database (``_estimate``), not found in a read of the whole queue.
        """
        now = self.clock.now()
        views: dict[str, TicketView] = {}
        with UnitOfWork(self.db, write=False) as uow:
            windows: dict[int, list[OpenWindow]] = {}
            for ticket_id in ticket_ids:
                try:
                    row = repo.get_ticket_row(uow.conn, ticket_id)
                except NotFound:
                    continue
                config = self.db.hall_config_by_id(uow.conn, row.hall_id)
                ticket = repo.ticket_from_row(row, config)
                if ticket.status is not TicketStatus.WAITING:
                    views[ticket_id] = TicketView(ticket, None, None)
                    continue
                if row.hall_id not in windows:
                    windows[row.hall_id] = self._open_windows(uow, row.hall_id, config)
                position, estimate = self._estimate(
                    uow, row.hall_id, config, ticket, now, windows[row.hall_id], stored=True
                )
                views[ticket_id] = TicketView(ticket, position, estimate)
        return views

    def _estimate(
        self,
        uow: UnitOfWork,
        hall_id: int,
        config: HallConfig,
        ticket: Ticket,
        now: datetime,
        open_windows: list[OpenWindow] | None = None,
        *,
        stored: bool = False,
    ) -> tuple[int, WaitEstimate]:
        """(people ahead, estimated wait) of ``ticket`` among today's waiting tickets.

        ``stored``: the ticket is itself one of them (a waiting ticket looked up), not one
        being issued. Positions follow ``queue_order`` and are counted by one statement.
        """
        lines, ahead = repo.line_counts(
            uow.conn,
            hall_id,
            ticket.business_date,
            ticket.service,
            queue_key(candidate_of(ticket), now, config.dispatch),
            now,
            aged_before(now, config.dispatch),
        )
        counts = {code: line.waiting for code, line in lines.items()}
        if stored and ticket.service in counts:
            counts[ticket.service] -= 1  # the others, this ticket left out
        return ahead, self._wait(
            uow, hall_id, config, ticket.service, ahead, counts, now, open_windows
        )

    def _wait(
        self,
        uow: UnitOfWork,
        hall_id: int,
        config: HallConfig,
        service: str,
        ahead: int,
        counts: dict[str, int],
        now: datetime,
        open_windows: list[OpenWindow] | None,
    ) -> WaitEstimate:
        """The estimate for ``ahead`` people ahead, others waiting per service ``counts``."""
        if open_windows is None:
            open_windows = self._open_windows(uow, hall_id, config)
        stats = self.db.handling(uow.conn, hall_id, now).get(service) or HandlingStats(
            config.service(service).standard_minutes
        )
        skilled = sum(1 for w in config.windows if service in w.skills)
        return estimate_wait(service, ahead, open_windows, counts, stats, skilled)

    def _open_windows(self, uow: UnitOfWork, hall_id: int, config: HallConfig) -> list[OpenWindow]:
        rows = self.db.window_states(uow.conn, hall_id)
        cached = self._open.get(hall_id)
        if cached is not None and cached[0] is rows and cached[1] is config:
            return cached[2]  # the same (cached) window states and configuration as last time
        states = {wid: (state, cur) for wid, state, cur in rows}
        result = [
            OpenWindow(w.skills, idle=states[w.id][1] is None)
            for w in config.windows
            if w.id in states and states[w.id][0] == WindowState.OPEN.value
        ]
        self._open[hall_id] = (rows, config, result)
        return result

    def window(self, window_id: int) -> WindowStatus:
        with UnitOfWork(self.db, write=False) as uow:
            return self._window(uow, window_id, lock=False)[2]

    def _window(
        self, uow: UnitOfWork, window_id: int, *, lock: bool = True
    ) -> tuple[int, HallConfig, WindowStatus]:
        record = repo.load_window(uow.conn, window_id, lock=lock)
        config = self.db.config_at(uow.conn, record.hall_id, record.config_version)
        return record.hall_id, config, record.status(config)

    def current_ticket(self, window_id: int) -> Ticket | None:
        with UnitOfWork(self.db, write=False) as uow:
            _, config, window = self._window(uow, window_id, lock=False)
            if window.current_ticket is None:
                return None
            return repo.ticket_from_row(
                repo.get_ticket_row(uow.conn, window.current_ticket), config
            )

    # -- queues ----------------------------------------------------------------------------

    def queues(self, hall: str) -> list[ServiceQueue]:
        """Every service of a hall: waiting count, longest wait, estimate for a new ticket."""
        now = self.clock.now()
        with UnitOfWork(self.db, write=False) as uow:
            hall_id, config = self.db.hall_config(uow.conn, hall)
            day = config.business_date(now)
            open_windows = self._open_windows(uow, hall_id, config)
            # A ticket taken now, of any service: regular, queued now, before every number.
            probe = queue_key(Candidate("~new", "", now), now, config.dispatch)
            lines: dict[str, repo.LineCount] = {}
            ahead_of: dict[str, int] = {}
            for service in config.services:  # the first call reads every line's count
                if service.code in lines or not ahead_of:
                    lines, ahead_of[service.code] = repo.line_counts(
                        uow.conn, hall_id, day, service.code, probe, now, None
                    )
            counts = {code: line.waiting for code, line in lines.items()}
            result = []
            for service in config.services:
                line = lines.get(service.code)
                ahead = ahead_of.get(service.code, 0)
                estimate = self._wait(
                    uow, hall_id, config, service.code, ahead, counts, now, open_windows
                )
                longest = (now - line.first_queued).total_seconds() / 60 if line else 0
                waiting = line.waiting if line is not None else 0
                result.append(ServiceQueue(service.code, waiting, round(longest, 1), estimate))
            return result

    def windows(self, hall: str) -> list[tuple[WindowStatus, Ticket | None]]:
        """Every window of a hall with its current ticket."""
        with UnitOfWork(self.db, write=False) as uow:
            hall_id, config = self.db.hall_config(uow.conn, hall)
            return self._windows(uow, hall_id, config)

    def _windows(
        self, uow: UnitOfWork, hall_id: int, config: HallConfig
    ) -> list[tuple[WindowStatus, Ticket | None]]:
        rows = repo.all_windows(uow.conn, hall_id)
        current = repo.tickets_by_id(uow.conn, (r.current_ticket_id for r in rows))
        result = []
        for r in rows:
            status = repo.WindowRecord(hall_id, config.version, r).status(config)
            ticket_row = current.get(r.current_ticket_id) if r.current_ticket_id else None
            ticket = repo.ticket_from_row(ticket_row, config) if ticket_row is not None else None
            result.append((status, ticket))
        return result

    def window_queue(self, window_id: int) -> WindowQueue:
        """What a clerk sees: the window, its ticket, the eligible queue in call order, today."""
        now = self.clock.now()
        with UnitOfWork(self.db, write=False) as uow:
            hall_id, config, window = self._window(uow, window_id, lock=False)
            day = config.business_date(now)
            rows = repo.waiting_for_window(uow.conn, hall_id, day, window.config)
            candidates = [repo.candidate_from_row(r) for r in rows.values()]
            ordered = dispatch_sequence(
                window.config.view(window.cycle_position), candidates, now, config.dispatch
            )
            current = None
            if window.current_ticket is not None:
                current = repo.ticket_from_row(
                    repo.get_ticket_row(uow.conn, window.current_ticket), config
                )
            today = summary(repo.ticket_times(uow.conn, hall_id, day, window_id))
            numbers = {r.id: format_number(r.prefix, r.seq) for r in rows.values()}
            return WindowQueue(window, current, ordered, today, now, numbers)

    def live(self, hall: str) -> HallLive:
        """A supervisor's picture of a hall: windows, queues and today's KPIs."""
        now = self.clock.now()
        with UnitOfWork(self.db, write=False) as uow:
            hall_id, config = self.db.hall_config(uow.conn, hall)
            day = config.business_date(now)
            windows = self._windows(uow, hall_id, config)
            kpis = summary(repo.ticket_times(uow.conn, hall_id, day))
        return HallLive(config, day, windows, self.queues(hall), kpis)

    def recent_calls(self, hall: str, limit: int = 10) -> list[dict[str, str]]:
        """Today's latest calls (number, service, window, time), newest first."""
        now = self.clock.now()
        with UnitOfWork(self.db, write=False) as uow:
            _, config = self.db.hall_config(uow.conn, hall)
            local = now.astimezone(config.zone)
            midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
            rows = repo.recent_calls(uow.conn, config.code, midnight, limit)
        return [
            {
                "type": r.type,
                "ts": r.ts.isoformat(),
                "number": r.ticket_number,
                "service": r.service,
                "window": r.window,
            }
            for r in rows
        ]

    def view(self, ticket: Ticket) -> TicketView:
        """A ticket just returned by a command, as a view (reads only while it still waits)."""
        if ticket.status is TicketStatus.WAITING:
            return self.ticket(ticket.id)
        return TicketView(ticket, None, None)

    def config_for(self, hall: str) -> HallConfig:
        """A hall's configuration, from this process's cache when a command just read it."""
        return self.db.known_config(hall) or self.hall_config(hall)

    def halls(self) -> list[HallConfig]:
        """Every hall of this deployment, by code."""
        with UnitOfWork(self.db, write=False) as uow:
            return [self.db.hall_config(uow.conn, code)[1] for code in repo.hall_codes(uow.conn)]

    def hall_config(self, hall: str) -> HallConfig:
        with UnitOfWork(self.db, write=False) as uow:
            return self.db.hall_config(uow.conn, hall)[1]

    def business_date(self, hall: str) -> date:
        with UnitOfWork(self.db, write=False) as uow:
            return self.db.hall_config(uow.conn, hall)[1].business_date(self.clock.now())


def candidate_of(ticket: Ticket) -> Candidate:
    return Candidate(
        ticket_id=ticket.id or "~new",
        service=ticket.service,
        queued_at=ticket.queued_at,
        seq=ticket.seq,
        priority=ticket.priority.is_priority,
        slot_start=ticket.slot_start,
        target_window=ticket.target_window,
    )
