"""The service layer: one method per command; each loads, acts through the domain, commits.

Events are published to subscribers only after the transaction has committed, and a failing
subscriber never fails the command (it is logged).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.exc import IntegrityError

from queue_engine.adapters import repository as repo
from queue_engine.adapters.unit_of_work import Database, UnitOfWork
from queue_engine.domain.clock import Clock, SystemClock
from queue_engine.domain.errors import (
    Busy,
    Conflict,
    Forbidden,
    HallClosed,
    InvalidInput,
    InvalidTransition,
    NotFound,
)
from queue_engine.domain.estimate import HandlingStats, OpenWindow, estimate_wait
from queue_engine.domain.kpi import summary
from queue_engine.domain.model import (
    ACTIVE_STATUSES,
    Channel,
    HallConfig,
    NoShowMode,
    Priority,
    Ticket,
    TicketStatus,
    WaitEstimate,
    WindowState,
    WindowStatus,
)
from queue_engine.domain.policy import Candidate, choose_next, dispatch_sequence, queue_order
from queue_engine.services.bus import MessageBus
from queue_engine.services.desk import Desk

log = logging.getLogger(__name__)

CALL_RETRIES = 50


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


@dataclass(frozen=True)
class HallLive:
    config: HallConfig
    business_date: date
    windows: list[tuple[WindowStatus, Ticket | None]]
    queues: list[ServiceQueue]
    kpis: dict[str, float]


@dataclass(frozen=True)
class _Hall:
    id: int
    config: HallConfig


class QueueEngine(Desk):
    """Tickets and windows of every hall in one database."""

    def __init__(
        self, db: Database, clock: Clock | None = None, bus: MessageBus | None = None
    ) -> None:
        self.db = db
        self.clock: Clock = clock or SystemClock()
        self.bus = bus or MessageBus()
        # The open windows derived from the (briefly cached) window states, per hall.
        self._open: dict[int, tuple[object, HallConfig, list[OpenWindow]]] = {}

    # -- tickets -------------------------------------------------------------------------

    def issue(
        self,
        hall: str,
        service: str,
        channel: Channel | str = Channel.KIOSK,
        priority: Priority | str = Priority.NONE,
        *,
        idempotency_key: str | None = None,
        slot_start: datetime | None = None,
        check_hours: bool = True,
    ) -> TicketView:
        """Give a citizen the next number of ``service``, with the people ahead and the estimate.

        A retry with the same ``idempotency_key`` gets the same ticket, in its current state.
        """
        ticket = self._issue_once(
            hall, service, channel, priority, idempotency_key, slot_start, check_hours
        )
        if ticket.status is TicketStatus.WAITING and ticket.position is not None:
            return TicketView(ticket, ticket.position, ticket.estimate)
        return self.ticket(ticket.id)  # a retried key: its current state

    def _issue_once(
        self,
        hall: str,
        service: str,
        channel: Channel | str,
        priority: Priority | str,
        idempotency_key: str | None,
        slot_start: datetime | None,
        check_hours: bool,
    ) -> Ticket:
        channel, priority = _parse_channel(channel), _parse_priority(priority)
        if idempotency_key is not None and not 0 < len(idempotency_key) <= 100:
            raise InvalidInput("Idempotency-Key must be 1 to 100 characters")
        try:
            return self._issue(
                hall, service, channel, priority, idempotency_key, slot_start, check_hours
            )
        except IntegrityError:
            if idempotency_key is None:
                raise
            # A concurrent retry with the same key committed first: return its ticket.
            with UnitOfWork(self.db, write=False) as uow:
                hall_id, config = self.db.hall_config(uow.conn, hall)
                row = repo.ticket_by_idempotency_key(uow.conn, hall_id, idempotency_key)
                if row is None:
                    raise
                ticket = repo.ticket_from_row(row, config)
                return _same_request(ticket, service, channel, priority)

    def _issue(
        self,
        hall: str,
        service_code: str,
        channel: Channel,
        priority: Priority,
        key: str | None,
        slot_start: datetime | None,
        check_hours: bool,
    ) -> Ticket:
        with self.unit() as uow:
            hall_id, config = self.db.hall_config(uow.conn, hall)
            if key is not None:
                existing = repo.ticket_by_idempotency_key(uow.conn, hall_id, key)
                if existing is not None:
                    ticket = repo.ticket_from_row(existing, config)
                    return _same_request(ticket, service_code, channel, priority)
            ticket = self.issue_in(
                uow, hall_id, config, service_code, channel, priority, key, slot_start, check_hours
            )
            self.bus.commit(uow)
            return ticket

    def issue_in(
        self,
        uow: UnitOfWork,
        hall_id: int,
        config: HallConfig,
        service_code: str,
        channel: Channel,
        priority: Priority = Priority.NONE,
        key: str | None = None,
        slot_start: datetime | None = None,
        check_hours: bool = True,
    ) -> Ticket:
        """The issue step inside another command's unit of work (an appointment's check-in).

        The caller commits it through the bus with the rest of its command.
        """
        now = self.clock.now()
        service = config.service(service_code)
        # A disabled service takes no new tickets; bookings made before still check in.
        if not service.active and channel is not Channel.APPOINTMENT:
            raise InvalidInput(
                f"service {service.code} is not issuing tickets now", code="service_disabled"
            )
        if check_hours and not config.is_open(now):
            raise HallClosed(f"{config.name_zh} is closed now")
        day = config.business_date(now)
        seq = repo.next_seq(uow.conn, hall_id, service.prefix, day)
        # The counter is per prefix and day: ``seq`` tickets were taken today (this one
        # included). Refusing rolls the whole transaction back, the counter with it.
        capped = service.daily_cap is not None and channel is not Channel.APPOINTMENT
        if capped and seq > (service.daily_cap or 0):
            raise Conflict(
                f"service {service.code} has reached today's limit of {service.daily_cap} tickets",
                code="daily_cap_reached",
            )
        ticket = Ticket(
            id=repo.new_id(),
            hall=config.code,
            service=service.code,
            prefix=service.prefix,
            seq=seq,
            business_date=day,
            channel=channel,
            priority=priority,
            issued_at=now,
            queued_at=now,
            slot_start=slot_start,
        )
        waiting = repo.waiting_candidates(uow.conn, hall_id, day)
        ticket.position, ticket.estimate = self._estimate(
            uow, hall_id, config, ticket, waiting, now
        )
        repo.insert_ticket(uow.conn, hall_id, ticket, key)
        uow.record(ticket.issued_event())
        return ticket

    def ticket(self, ticket_id: str) -> TicketView:
        """A ticket with its current position and a fresh estimate while it waits."""
        view = self.tickets([ticket_id]).get(ticket_id)
        if view is None:
            raise NotFound("no such ticket")
        return view

    def tickets(self, ticket_ids: Iterable[str]) -> dict[str, TicketView]:
        """Several tickets at once, unknown ids left out (the live refresher's followed tickets).

        A hall's waiting list and open windows are read once for all of its tickets.
        """
        now = self.clock.now()
        views: dict[str, TicketView] = {}
        with UnitOfWork(self.db, write=False) as uow:
            waiting: dict[tuple[int, date], list[Candidate]] = {}
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
                day = (row.hall_id, ticket.business_date)
                if day not in waiting:
                    waiting[day] = repo.waiting_candidates(uow.conn, *day)
                if row.hall_id not in windows:
                    windows[row.hall_id] = self._open_windows(uow, row.hall_id, config)
                position, estimate = self._estimate(
                    uow, row.hall_id, config, ticket, waiting[day], now, windows[row.hall_id]
                )
                views[ticket_id] = TicketView(ticket, position, estimate)
        return views

    def _estimate(
        self,
        uow: UnitOfWork,
        hall_id: int,
        config: HallConfig,
        ticket: Ticket,
        waiting: list[Candidate],
        now: datetime,
        open_windows: list[OpenWindow] | None = None,
    ) -> tuple[int, WaitEstimate]:
        """(people ahead, estimated wait) of ``ticket`` among the ``waiting`` candidates."""
        mine = _candidate(ticket)
        others = [c for c in waiting if c.ticket_id != mine.ticket_id]
        same_service = [c for c in others if c.service == ticket.service]
        ahead = queue_order([*same_service, mine], now, config.dispatch).index(mine)
        counts: dict[str, int] = {}
        for c in others:
            counts[c.service] = counts.get(c.service, 0) + 1
        if open_windows is None:
            open_windows = self._open_windows(uow, hall_id, config)
        stats = self.db.handling(uow.conn, hall_id, now).get(ticket.service) or HandlingStats(
            config.service(ticket.service).standard_minutes
        )
        skilled = sum(1 for w in config.windows if ticket.service in w.skills)
        return ahead, estimate_wait(ticket.service, ahead, open_windows, counts, stats, skilled)

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

    def cancel(self, ticket_id: str, by: str = "holder") -> Ticket:
        def act(uow: UnitOfWork, hall: _Hall, ticket: Ticket) -> None:
            uow.record(ticket.cancel(self.clock.now(), by=by))

        return self._ticket_command(ticket_id, None, act, needs_window=False)

    # -- clerk actions on the window's ticket -------------------------------------------

    def start(self, ticket_id: str, clerk: str | None = None) -> Ticket:
        return self._ticket_command(
            ticket_id, clerk, lambda uow, hall, t: uow.record(t.start(self.clock.now()))
        )

    def finish(self, ticket_id: str, clerk: str | None = None) -> Ticket:
        return self._ticket_command(
            ticket_id, clerk, lambda uow, hall, t: uow.record(t.finish(self.clock.now()))
        )

    def no_show(self, ticket_id: str, clerk: str | None = None) -> Ticket:
        def act(uow: UnitOfWork, hall: _Hall, ticket: Ticket) -> None:
            now = self.clock.now()
            requeue_at = self._requeue_time(uow, hall, ticket, now)
            uow.record(ticket.no_show(hall.config.no_show, now, requeue_at))

        return self._ticket_command(ticket_id, clerk, act)

    def transfer(
        self,
        ticket_id: str,
        clerk: str | None = None,
        *,
        service: str | None = None,
        window: int | None = None,
    ) -> Ticket:
        """Send a ticket to another service and/or to one window (by window id)."""
        if service is None and window is None:
            raise InvalidInput("say which service or window to transfer to")

        def act(uow: UnitOfWork, hall: _Hall, ticket: Ticket) -> None:
            target_window = hall.config.window(window) if window is not None else None
            to_service = hall.config.service(service or ticket.service)
            uow.record(ticket.transfer(to_service, target_window, self.clock.now()))

        return self._ticket_command(ticket_id, clerk, act)

    def _requeue_time(
        self, uow: UnitOfWork, hall: _Hall, ticket: Ticket, now: datetime
    ) -> datetime | None:
        """Where a no-show goes back in the queue: just behind the k-th waiting ticket."""
        rule = hall.config.no_show
        if rule.mode is not NoShowMode.REQUEUE or ticket.requeues >= rule.max_requeues:
            return None
        waiting = repo.waiting_candidates(uow.conn, hall.id, ticket.business_date, [ticket.service])
        ordered = sorted(waiting, key=lambda c: (c.queued_at, c.seq))
        if rule.behind == 0 or not ordered:
            return min([ticket.queued_at, *(c.queued_at for c in ordered)])
        if len(ordered) < rule.behind:
            return max(now, ordered[-1].queued_at + timedelta(microseconds=1))
        return ordered[rule.behind - 1].queued_at + timedelta(microseconds=1)

    def _ticket_command(
        self,
        ticket_id: str,
        clerk: str | None,
        act: Callable[[UnitOfWork, _Hall, Ticket], None],
        *,
        needs_window: bool = True,
    ) -> Ticket:
        with self.unit() as uow:
            row = repo.get_ticket_row(uow.conn, ticket_id)
            config = self.db.hall_config_by_id(uow.conn, row.hall_id)
            hall = _Hall(row.hall_id, config)
            window: WindowStatus | None = None
            if needs_window:
                if row.window_id is None or row.status not in ACTIVE_STATUSES:
                    raise InvalidTransition(f"ticket is {row.status}, not at a window")
                window = repo.load_window(uow.conn, row.window_id).status(config)
                _check_clerk(window, clerk)
            ticket = repo.ticket_from_row(row, config)
            act(uow, hall, ticket)
            repo.save_ticket_or_conflict(uow.conn, ticket, row.version)
            if window is not None and ticket.status not in ACTIVE_STATUSES:
                window.current_ticket = None
                repo.save_window(uow.conn, window)
            self.bus.commit(uow)
            return ticket

    # -- windows -------------------------------------------------------------------------

    def _window(
        self, uow: UnitOfWork, window_id: int, *, lock: bool = True
    ) -> tuple[int, HallConfig, WindowStatus]:
        record = repo.load_window(uow.conn, window_id, lock=lock)
        config = self.db.config_at(uow.conn, record.hall_id, record.config_version)
        return record.hall_id, config, record.status(config)

    def call_next(self, window_id: int, clerk: str | None = None) -> Ticket | None:
        """Claim the ticket the dispatch policy picks for this window, atomically.

        On PostgreSQL the chosen ticket is locked with ``SKIP LOCKED``: when another window is
        claiming it at this very moment, the policy picks again among the rest instead of
        queueing behind that transaction. The write itself is guarded by the ticket's version;
        when somebody was faster, the candidates are read again (a bounded number of times).
        """
        for attempt in range(CALL_RETRIES):
            with self.unit() as uow:
                hall_id, config, window = self._window(uow, window_id)
                _check_clerk(window, clerk)
                window.require_ready_to_call()
                now = self.clock.now()
                day = config.business_date(now)
                rows = repo.window_candidates(uow.conn, hall_id, day, window.config, now)
                candidates = [repo.candidate_from_row(r) for r in rows.values()]
                view = window.config.view(window.cycle_position)
                skipped: set[str] = set()
                while (decision := choose_next(view, candidates, now, config.dispatch)) is not None:
                    row = rows[decision.ticket_id]
                    locked = repo.lock_waiting_ticket(uow.conn, row.id)
                    if locked is None:  # being claimed by another window right now
                        skipped.add(row.id)
                        if len(skipped) == 1:  # the next best may not have been read: read all
                            rows = repo.waiting_for_window(uow.conn, hall_id, day, window.config)
                        candidates = [
                            repo.candidate_from_row(r) for r in rows.values() if r.id not in skipped
                        ]
                        continue
                    ticket = repo.ticket_from_row(row, config)
                    uow.record(ticket.call(window.config, window.clerk, now))
                    if not repo.save_ticket(uow.conn, ticket, row.version):
                        break  # changed since we read it: read again
                    window.current_ticket = ticket.id
                    window.cycle_position = decision.next_cycle_position
                    repo.save_window(uow.conn, window)
                    self.bus.commit(uow)
                    return ticket
                if decision is None and not skipped:
                    return None  # nothing eligible (claims in flight elsewhere: look again)
            time.sleep(random.uniform(0, 0.002 * (attempt + 1)))
        raise Busy("too many windows are calling at once; try again")

    def recall(self, window_id: int, clerk: str | None = None) -> Ticket:
        """Announce the window's called ticket again."""
        with self.unit() as uow:
            _, config, window = self._window(uow, window_id)
            _check_clerk(window, clerk)
            if window.current_ticket is None:
                raise InvalidTransition("this window has no called ticket to recall")
            row = repo.get_ticket_row(uow.conn, window.current_ticket)
            ticket = repo.ticket_from_row(row, config)
            uow.record(ticket.recall(self.clock.now()))
            repo.save_ticket_or_conflict(uow.conn, ticket, row.version)
            self.bus.commit(uow)
            return ticket

    def current_ticket(self, window_id: int) -> Ticket | None:
        with UnitOfWork(self.db, write=False) as uow:
            _, config, window = self._window(uow, window_id, lock=False)
            if window.current_ticket is None:
                return None
            return repo.ticket_from_row(
                repo.get_ticket_row(uow.conn, window.current_ticket), config
            )

    def open_window(self, window_id: int, clerk: str) -> WindowStatus:
        return self._window_command(window_id, None, lambda w, now: w.open(clerk, now))

    def pause(self, window_id: int, reason: str, clerk: str | None = None) -> WindowStatus:
        return self._window_command(window_id, clerk, lambda w, now: w.pause(reason, now))

    def resume(self, window_id: int, clerk: str | None = None) -> WindowStatus:
        return self._window_command(window_id, clerk, lambda w, now: w.resume(now))

    def close_window(self, window_id: int, clerk: str | None = None) -> WindowStatus:
        return self._window_command(window_id, clerk, lambda w, now: w.close(now))

    def window(self, window_id: int) -> WindowStatus:
        with UnitOfWork(self.db, write=False) as uow:
            return self._window(uow, window_id, lock=False)[2]

    def _window_command(
        self,
        window_id: int,
        clerk: str | None,
        act: Callable[[WindowStatus, datetime], object],
    ) -> WindowStatus:
        with self.unit() as uow:
            _, _, window = self._window(uow, window_id)
            _check_clerk(window, clerk)
            event = act(window, self.clock.now())
            uow.record(event)  # type: ignore[arg-type]
            repo.save_window(uow.conn, window)
            self.bus.commit(uow)
            return window

    # -- queues ----------------------------------------------------------------------------

    def queues(self, hall: str) -> list[ServiceQueue]:
        """Every service of a hall: waiting count, longest wait, estimate for a new ticket."""
        now = self.clock.now()
        with UnitOfWork(self.db, write=False) as uow:
            hall_id, config = self.db.hall_config(uow.conn, hall)
            day = config.business_date(now)
            waiting = repo.waiting_candidates(uow.conn, hall_id, day)
            open_windows = self._open_windows(uow, hall_id, config)
            result = []
            for service in config.services:
                mine = [c for c in waiting if c.service == service.code]
                probe = Ticket(
                    id="",
                    hall=config.code,
                    service=service.code,
                    prefix=service.prefix,
                    seq=0,
                    business_date=day,
                    channel=Channel.KIOSK,
                    priority=Priority.NONE,
                    issued_at=now,
                    queued_at=now,
                )
                _, estimate = self._estimate(
                    uow, hall_id, config, probe, waiting, now, open_windows
                )
                longest = max(((now - c.queued_at).total_seconds() / 60 for c in mine), default=0)
                result.append(ServiceQueue(service.code, len(mine), round(longest, 1), estimate))
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
            return WindowQueue(window, current, ordered, today, now)

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


def _candidate(ticket: Ticket) -> Candidate:
    return Candidate(
        ticket_id=ticket.id or "~new",
        service=ticket.service,
        queued_at=ticket.queued_at,
        seq=ticket.seq,
        priority=ticket.priority.is_priority,
        slot_start=ticket.slot_start,
        target_window=ticket.target_window,
    )


def _same_request(ticket: Ticket, service: str, channel: Channel, priority: Priority) -> Ticket:
    """A retry must ask for the same thing as the request that made the ticket."""
    first_service = ticket.service if ticket.transfers == 0 else service
    if (first_service, ticket.channel, ticket.priority) != (service, channel, priority):
        raise Conflict("this Idempotency-Key was already used for a different request")
    return ticket


def _check_clerk(window: WindowStatus, clerk: str | None) -> None:
    """A clerk may act only on a window it opened (``clerk=None`` is a trusted system actor).

    A window nobody has opened belongs to nobody: the action then fails on its state (409).
    """
    if clerk is not None and window.clerk is not None and window.clerk != clerk:
        raise Forbidden(f"window {window.config.number} was not opened by {clerk}")


def _parse_channel(value: Channel | str) -> Channel:
    try:
        return Channel(value)
    except ValueError:
        raise InvalidInput(f"unknown channel {value!r}") from None


def _parse_priority(value: Priority | str) -> Priority:
    try:
        return Priority(value)
    except ValueError:
        raise InvalidInput(f"unknown priority {value!r}") from None
