"""The service layer: one method per command; each loads, acts through the domain, commits.

Events are published to subscribers only after the transaction has committed, and a failing
subscriber never fails the command (it is logged).
"""

from __future__ import annotations

import functools
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

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
)
from queue_engine.domain.estimate import OpenWindow
from queue_engine.domain.model import (
    ACTIVE_STATUSES,
    Channel,
    HallConfig,
    NoShowMode,
    PauseCategory,
    Priority,
    Ticket,
    TicketStatus,
    WindowStatus,
)
from queue_engine.domain.policy import Candidate, Decision, DispatchRules, WindowView, choose_next
from queue_engine.services.bus import MessageBus
from queue_engine.services.desk import Desk
from queue_engine.services.queries import HallQueries, TicketView

log = logging.getLogger(__name__)

ContactKeeper = Callable[[UnitOfWork, HallConfig, Ticket, Mapping[str, str]], None]
CALL_RETRIES = 50
# After a claim lost to another window, the heads are read this much deeper, so that windows
# racing for the same line find their next ticket without reading again.
CLAIM_DEPTH = 8


@dataclass(frozen=True)
class _Hall:
    id: int
    config: HallConfig


class QueueEngine(HallQueries, Desk):
    """Commands of the tickets and windows of every hall (the reads: ``HallQueries``)."""

    def __init__(
        self, db: Database, clock: Clock | None = None, bus: MessageBus | None = None
    ) -> None:
        self.db = db
        self.clock: Clock = clock or SystemClock()
        self.bus = bus or MessageBus()
        # Set by the composition root (issue 17): keeps the addresses given with a ticket, and
        # confirms a remote ticket to them, inside the issue's transaction.
        self.keep_contact: ContactKeeper | None = None
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
        contact: Mapping[str, str] | None = None,
    ) -> TicketView:
        """Give a citizen the next number of ``service``, with the people ahead and the estimate.

        A retry with the same ``idempotency_key`` gets the same ticket, in its current state.
        ``contact`` (channel → address: ``sms`` phone, ``wechat`` openid) is kept sealed for
        the ticket's notices.
        """
        ticket = self._issue_once(
            hall, service, channel, priority, idempotency_key, slot_start, check_hours, contact
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
        contact: Mapping[str, str] | None = None,
    ) -> Ticket:
        channel, priority = _parse_channel(channel), _parse_priority(priority)
        if idempotency_key is not None and not 0 < len(idempotency_key) <= 100:
            raise InvalidInput("Idempotency-Key must be 1 to 100 characters")
        try:
            return self._issue(
                hall, service, channel, priority, idempotency_key, slot_start, check_hours, contact
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
        contact: Mapping[str, str] | None = None,
    ) -> Ticket:
        with self.unit() as uow:
            hall_id, config = self.db.hall_config(uow.conn, hall)
            if key is not None:
                existing = repo.ticket_by_idempotency_key(uow.conn, hall_id, key)
                if existing is not None:
                    ticket = repo.ticket_from_row(existing, config)
                    return _same_request(ticket, service_code, channel, priority)
            ticket = self.issue_in(
                uow,
                hall_id,
                config,
                service_code,
                channel,
                priority,
                key,
                slot_start,
                check_hours,
                # A key's race is settled by the insert's IntegrityError: not in the commit.
                with_commit=key is None,
            )
            self.remember_contact(uow, config, ticket, contact)
            self.bus.commit(uow)
            return ticket

    def remember_contact(
        self,
        uow: UnitOfWork,
        config: HallConfig,
        ticket: Ticket,
        contact: Mapping[str, str] | None,
    ) -> None:
        """Hand the addresses given with a new ticket to the notices (in the issue's unit)."""
        if contact and self.keep_contact is not None:
            self.keep_contact(uow, config, ticket, contact)

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
        *,
        with_commit: bool = False,
    ) -> Ticket:
        """The issue step inside another command's unit of work (an appointment's check-in).

        The caller commits it through the bus with the rest of its command. ``with_commit``:
        the caller commits right after, nothing reads the new row before (the row is then
        written with the commit, ``UnitOfWork.defer``).
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
        ticket.position, ticket.estimate = self._estimate(uow, hall_id, config, ticket, now)
        if with_commit:
            uow.defer(functools.partial(repo.insert_ticket, uow.conn, hall_id, ticket, key))
        else:
            repo.insert_ticket(uow.conn, hall_id, ticket, key)
        uow.record(ticket.issued_event())
        return ticket

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
        # The first ``behind`` of the service's queue in queued order are among its heads.
        heads = repo.line_heads(
            uow.conn, hall.id, ticket.business_date, [ticket.service], now, max(rule.behind, 1)
        )
        waiting = [repo.candidate_from_row(r) for r in heads.values()]
        ordered = sorted(waiting, key=lambda c: (c.queued_at, c.seq))[: max(rule.behind, 1)]
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

    def call_next(self, window_id: int, clerk: str | None = None) -> Ticket | None:
        """Claim the ticket the dispatch policy picks for this window, atomically.

        The pick is claimed in one statement (its version checked, ``SKIP LOCKED`` on
        PostgreSQL). When another window is claiming it at this very moment, the policy's next
        ``CLAIM_DEPTH`` picks are worked out here and one statement locks the first of them no
        other window holds: windows racing for the same line cost a constant number of round
        trips, not one per ticket lost (the connection is held that much less: issue 16).
        When nothing could be claimed, the unit ends (its connection goes back to the pool) and
        the heads are read again after a short pause, a bounded number of times.
        """
        for attempt in range(CALL_RETRIES):
            try:
                with self.unit() as uow:
                    return self._claim_next(uow, window_id, clerk)
            except _LookAgain:
                pass
            time.sleep(random.uniform(0, 0.002 * (attempt + 1)))
        raise Busy("too many windows are calling at once; try again")

    def _claim_next(self, uow: UnitOfWork, window_id: int, clerk: str | None) -> Ticket | None:
        """One attempt of ``call_next``: the called ticket, or None when nothing is eligible.

        At most two claims (the pick, then the first free of the next picks) and two reads of
        the heads: the connection is held for a bounded number of round trips. ``_LookAgain``
        when every pick was taken by other windows or changed since read.
        """
        hall_id, config, window = self._window(uow, window_id)
        _check_clerk(window, clerk)
        window.require_ready_to_call()
        now = self.clock.now()
        day = config.business_date(now)
        skills = list(window.config.skills)
        # The policy picks among the heads of the lines only (``policy.line_heads``).
        rows = repo.line_heads(uow.conn, hall_id, day, skills, now, 1, window_id)
        view = window.config.view(window.cycle_position)
        lost: dict[str, int] = {}  # ticket id → the version another window took it at
        while True:
            candidates = [
                repo.candidate_from_row(r) for r in rows.values() if lost.get(r.id) != r.version
            ]
            picks = _picks(view, candidates, now, config.dispatch, CLAIM_DEPTH if lost else 1)
            if not picks:
                if lost:  # lost ones only: claims in flight elsewhere
                    raise _LookAgain
                return None
            if not lost:  # the usual case: the pick claimed in one statement
                decision, version = picks[0], rows[picks[0].ticket_id].version
            else:  # one statement for the first of the next picks nobody else holds
                locked = repo.lock_first_waiting(uow.conn, [p.ticket_id for p in picks])
                if locked is None:
                    # All taken: give the connection back and look again after a pause,
                    # never read deeper and deeper while holding it (the pool's connections
                    # are for the windows and kiosks that can make progress).
                    raise _LookAgain
                decision = next(p for p in picks if p.ticket_id == locked[0])
                version = locked[1]
                if version != rows[decision.ticket_id].version:
                    raise _LookAgain  # changed since we read it: read again
            row = rows[decision.ticket_id]
            ticket = repo.ticket_from_row(row, config)
            called = ticket.call(window.config, window.clerk, now)
            claimed = (
                repo.claim_ticket(uow.conn, ticket, version)
                if not lost
                else repo.save_ticket(uow.conn, ticket, version)
            )
            if claimed:
                uow.record(called)
                window.current_ticket = ticket.id
                window.cycle_position = decision.next_cycle_position
                # Nothing reads the window again before the commit: it goes with it.
                uow.defer(functools.partial(repo.save_window, uow.conn, window))
                self.bus.commit(uow)
                return ticket
            if uow.conn.dialect.name == "sqlite" or lost:
                raise _LookAgain  # no row locks (SQLite): it changed since we read it
            # Taken (or being taken) by another window: read the heads deeper, once.
            lost[row.id] = row.version
            rows = repo.line_heads(uow.conn, hall_id, day, skills, now, 1 + CLAIM_DEPTH, window_id)

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

    def open_window(self, window_id: int, clerk: str, *, override: bool = False) -> WindowStatus:
        """Open a window for ``clerk``: one open window per clerk, unless the hall allows more.

        Every door comes here, so the rule holds for all of them: a clerk with another window
        open gets 409 ``clerk_has_window``. The check reads the clerk's other windows; when two
        opens race (two tabs at once), the database's unique index on the open windows'
        ``sole_clerk`` lets only one of them commit, on PostgreSQL and SQLite alike.
        ``override`` is the hall's administrator (``access.acting_clerk``'s trusted override),
        who may open windows for the hall's clerks.
        """
        with self.unit() as uow:
            _, config, window = self._window(uow, window_id)
            exclusive = not (config.clerk_many_windows or override)
            others = repo.other_open_windows(uow.conn, clerk, window_id) if exclusive else []
            if others:
                number, hall = others[0]
                raise _second_window(clerk, f"window {number} of hall {hall}")
            uow.record(window.open(clerk, self.clock.now()))
            try:
                # The claim first, while the row is still closed (outside the index).
                repo.claim_window(uow.conn, window_id, clerk if exclusive else None)
                repo.save_window(uow.conn, window)
            except IntegrityError:  # a concurrent open of this clerk's committed first
                raise _second_window(clerk) from None
            self.bus.commit(uow)
            return window

    def pause(
        self,
        window_id: int,
        reason: str,
        clerk: str | None = None,
        category: PauseCategory | str | None = None,
    ) -> WindowStatus:
        """Pause with a reason (kept masked, for staff) and a category (for public screens)."""
        return self._window_command(window_id, clerk, lambda w, now: w.pause(reason, now, category))

    def resume(self, window_id: int, clerk: str | None = None) -> WindowStatus:
        return self._window_command(window_id, clerk, lambda w, now: w.resume(now))

    def close_window(self, window_id: int, clerk: str | None = None) -> WindowStatus:
        return self._window_command(window_id, clerk, lambda w, now: w.close(now))

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


class _LookAgain(Exception):
    """``_claim_next`` claimed nothing this time: roll back, wait a moment, read again."""


def _picks(
    view: WindowView, candidates: list[Candidate], now: datetime, rules: DispatchRules, n: int
) -> list[Decision]:
    """The policy's first ``n`` picks for ``view``: each the pick among those not picked yet."""
    picks: list[Decision] = []
    left = candidates
    while len(picks) < n and (decision := choose_next(view, left, now, rules)) is not None:
        picks.append(decision)
        left = [c for c in left if c.ticket_id != decision.ticket_id]
    return picks


def _same_request(ticket: Ticket, service: str, channel: Channel, priority: Priority) -> Ticket:
    """A retry must ask for the same thing as the request that made the ticket."""
    first_service = ticket.service if ticket.transfers == 0 else service
    if (first_service, ticket.channel, ticket.priority) != (service, channel, priority):
        raise Conflict("this Idempotency-Key was already used for a different request")
    return ticket


def _second_window(clerk: str, where: str = "another window") -> Conflict:
    """409 ``clerk_has_window``: ``clerk`` already has a window open (``where``)."""
    return Conflict(
        f"{clerk} already has {where} open; close it before opening another",
        code="clerk_has_window",
    )


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
