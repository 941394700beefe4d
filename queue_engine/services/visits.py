"""The visit desk: tickets with several services and an identity, and outcomes at finish.

It works beside the queue engine (``QueueEngine``): a ticket's number, queue place and window
life stay the engine's; the desk adds the matters of the visit (``ticket_visits``) and the
citizen's hash and masks, in the same transaction as the engine's step.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from queue_engine.adapters import repository as repo
from queue_engine.adapters import visit_store as store
from queue_engine.adapters.eid import EidIdentity, EidPlatform
from queue_engine.adapters.unit_of_work import UnitOfWork
from queue_engine.domain.errors import InvalidInput, NotFound
from queue_engine.domain.events import EventType
from queue_engine.domain.model import Channel, HallConfig, Priority, Ticket, TicketStatus
from queue_engine.domain.visits import (
    Citizen,
    IdentityMode,
    IdentityRule,
    Outcome,
    Segment,
    SegmentStatus,
    Visit,
    check_services,
    finish_segment,
)
from queue_engine.services.desk import Desk
from queue_engine.services.queries import TicketView
from queue_engine.services.tickets import QueueEngine, _parse_channel, _parse_priority


@dataclass(frozen=True)
class VisitView:
    """The matters of a ticket for its JSON: each with status and outcome, and the current one."""

    segments: tuple[Segment, ...]
    index: int
    identified: bool
    proxy: bool

    def to_json(self, ticket: Ticket) -> dict[str, Any]:
        segments = []
        for i, s in enumerate(self.segments):
            status = s.status
            if i == self.index and ticket.status is TicketStatus.DONE:
                status = SegmentStatus.DONE
            ended = ticket.status in (TicketStatus.NO_SHOW, TicketStatus.CANCELLED)
            if ended and status in (SegmentStatus.CURRENT, SegmentStatus.PENDING):
                status = SegmentStatus.SKIPPED  # the ticket ended before this service
            segments.append({**s.to_mapping(), "status": str(status), "index": i})
        return {
            "services": segments,
            "current_service": ticket.service,
            "segment": self.index,
            "identified": self.identified,
            "proxy": self.proxy,
        }


class VisitDesk(Desk):
    """Commands of multi-service, identified tickets (the engine keeps the queue)."""

    def __init__(
        self, engine: QueueEngine, pepper: bytes, rule: IdentityRule | None = None
    ) -> None:
        self.engine = engine
        self.db = engine.db
        self.pepper = pepper
        self.rule = rule or IdentityRule()

    def rule_for(self, config: HallConfig) -> IdentityRule:
        """The hall's identity rule as its admin set it (``rules.identity``), else the desk's."""
        if config.identity is None:
            return self.rule
        return IdentityRule.from_mapping(config.identity)

    def acting(self, entry: Any) -> VisitDesk:
        clone = super().acting(entry)
        clone.engine = self.engine.acting(entry)
        return clone

    def issue(
        self,
        hall: str,
        services: Sequence[str],
        channel: Channel | str = Channel.KIOSK,
        priority: Priority | str = Priority.NONE,
        *,
        id_number: str | None = None,
        name: str | None = None,
        proxy_id_number: str | None = None,
        idempotency_key: str | None = None,
        contact: Mapping[str, str] | None = None,
    ) -> TicketView:
        """A ticket for ``services`` in order, for the citizen of ``id_number`` (optional).

        With an identity: at most ``rule.per_service`` live tickets per service and day and
        ``rule.total`` in all (else 409 ``already_waiting`` naming the ticket held), and the
        ``elderly`` priority from the age on the hall's local date. A proxy (代办) records the
        proxy's hash too; the limits count the person served.
        """
        codes = check_services(list(services))
        channel, priority = _parse_channel(channel), _parse_priority(priority)
        if id_number is None and proxy_id_number is not None:
            raise InvalidInput("a proxy ticket needs the ID number of the person served")
        engine = self.engine
        with engine.unit() as uow:
            hall_id, config = engine.db.hall_config(uow.conn, hall)
            if idempotency_key is not None:
                row = repo.ticket_by_idempotency_key(uow.conn, hall_id, idempotency_key)
                if row is not None:
                    return engine.ticket(row.id)
            for code in codes:
                config.service(code)
            today = config.business_date(engine.clock.now())
            rule = self.rule_for(config)
            mode = rule.mode_for(codes)
            if id_number is None and mode is IdentityMode.REQUIRED:
                raise InvalidInput(
                    "this service issues tickets only with the citizen's ID number",
                    code="identity_required",
                )
            if id_number is not None and mode is IdentityMode.OFF:
                raise InvalidInput(
                    "this hall takes no identity for these services", code="identity_off"
                )
            citizen = (
                None if id_number is None else Citizen.read(id_number, name, self.pepper, today)
            )
            proxy = None
            if proxy_id_number is not None:
                proxy = Citizen.read(proxy_id_number, None, self.pepper, today)
            if citizen is not None:
                store.lock_citizen(uow.conn, citizen.hash)
                held = store.live_tickets_of(uow.conn, hall_id, today, citizen.hash)
                rule.check_limits(held, codes)
                zones = [config.service(c).zone for c in codes]
                if priority is Priority.NONE and rule.elderly(citizen.age, zones):
                    priority = Priority.ELDERLY
            ticket = engine.issue_in(
                uow, hall_id, config, codes[0], channel, priority, idempotency_key
            )
            visit = Visit.of(codes)
            store.insert_visit(uow.conn, ticket.id, hall_id, today, visit, citizen, proxy)
            _describe_issue(uow, codes, citizen, proxy)
            engine.remember_contact(uow, config, ticket, contact)
            engine.bus.commit(uow)
        assert ticket.position is not None
        return TicketView(ticket, ticket.position, ticket.estimate)

    def finish(
        self,
        ticket_id: str,
        clerk: str | None = None,
        outcome: Outcome | str | None = None,
        reason: str | None = None,
    ) -> Ticket:
        """Finish the ticket's current matter with its outcome; the next matter waits at once.

        A matter with another one after it needs an outcome; the last (or only) matter finishes
        without one, as before (``POST /tickets/{id}/finish`` with an empty body), or records
        the one given.
        """
        parsed = None if outcome is None else Outcome.parse(outcome)

        def act(uow: UnitOfWork, hall: Any, ticket: Ticket) -> None:
            now = self.engine.clock.now()
            record = store.load_visit(uow.conn, ticket.id)
            if parsed is None:
                if record is None:
                    uow.record(ticket.finish(now))
                    return
                if record.visit.has_next:  # the next matter waits only after this one's outcome
                    raise InvalidInput("say the outcome of this matter", code="outcome")
            visit = record.visit if record is not None else Visit.of([ticket.service])
            events, after = finish_segment(ticket, visit, parsed, reason, now)
            uow.record(*events)
            if record is not None:
                store.save_visit(uow.conn, ticket.id, after)
            else:  # a plain ticket keeps its outcome too
                day = ticket.business_date
                store.insert_visit(uow.conn, ticket.id, hall.id, day, after, None, None)

        return self.engine._ticket_command(ticket_id, clerk, act)

    def set_next_services(
        self, ticket_id: str, services: Sequence[str], clerk: str | None = None
    ) -> Ticket:
        """The clerk at the ticket's window changes the services still to come of the visit."""

        def act(uow: UnitOfWork, hall: Any, ticket: Ticket) -> None:
            for code in services:
                hall.config.service(code)
            record = store.load_visit(uow.conn, ticket.id)
            visit = record.visit if record is not None else Visit.of([ticket.service])
            changed = visit.with_next(list(services))
            if record is None:
                day = ticket.business_date
                store.insert_visit(uow.conn, ticket.id, hall.id, day, changed, None, None)
            else:
                store.save_visit(uow.conn, ticket.id, changed)
            uow.record(
                ticket._event(
                    EventType.TICKET_SERVICES_CHANGED,
                    self.engine.clock.now(),
                    services=list(changed.services),
                    segment=changed.index,
                )
            )

        return self.engine._ticket_command(ticket_id, clerk, act)

    def requires_identity(self, hall: str, services: Sequence[str]) -> bool:
        """Whether the hall's rule requires an identity for a ticket of ``services`` (a ticket
        without one then goes through ``issue``, which refuses it)."""
        try:
            config = self.engine.config_for(hall)
        except NotFound:
            return False  # the engine's own path answers 404
        return self.rule_for(config).mode_for(services) is IdentityMode.REQUIRED

    def identify(self, hall: str, id_number: str) -> tuple[Citizen, bool]:
        """What the kiosk may learn of a card before the ticket: its age band, and whether the
        citizen is old enough for the elderly priority (and the kiosk's 长辈版). Nothing is kept.
        """
        config = self.engine.config_for(hall)
        citizen = Citizen.read(
            id_number, None, self.pepper, config.business_date(self.engine.clock.now())
        )
        return citizen, citizen.age >= self.rule_for(config).elderly_age

    def identify_code(
        self, hall: str, code: str, platform: EidPlatform
    ) -> tuple[EidIdentity, Citizen, bool]:
        """An electronic ID / app QR code resolved by the identity platform, then checked as a
        card's number (``identify``). Nothing is kept; the caller hands the identity to the
        kiosk page's memory only."""
        found = platform.resolve(code)
        citizen, elderly = self.identify(hall, found.id_number)
        return found, citizen, elderly

    def most_used(self, hall: str, days: int = 30) -> list[str]:
        """The hall's service codes, the most used of the last ``days`` days first."""
        config = self.engine.config_for(hall)
        since = config.business_date(self.engine.clock.now()) - timedelta(days=days)
        with UnitOfWork(self.db, write=False) as uow:
            hall_id, _ = self.db.hall_config(uow.conn, hall)
            use = store.service_use(uow.conn, hall_id, since)
        codes = [s.code for s in config.services]
        return sorted(codes, key=lambda code: -use.get(code, 0))

    def view(self, ticket: Ticket) -> VisitView:
        """The matters of a ticket (a plain ticket: its one service)."""
        with UnitOfWork(self.db, write=False) as uow:
            record = store.load_visit(uow.conn, ticket.id)
        if record is None:
            return VisitView((Segment(ticket.service, SegmentStatus.CURRENT),), 0, False, False)
        return VisitView(
            record.visit.segments,
            record.visit.index,
            record.citizen_hash is not None,
            record.proxy_hash is not None,
        )


def _describe_issue(
    uow: UnitOfWork, codes: Sequence[str], citizen: Citizen | None, proxy: Citizen | None
) -> None:
    """Add the visit to the ``ticket.issued`` event just recorded by the engine.

    ``citizen``/``proxy`` carry the keyed hash for the hall's own analytics (returns within
    30 days); the CSV export replaces them with a pseudonym salted per export.
    """
    events = uow._events
    assert events and events[-1].type is EventType.TICKET_ISSUED
    payload: dict[str, Any] = {**events[-1].payload, "services": list(codes)}
    if citizen is not None:
        payload.update(citizen=citizen.hash, age_band=citizen.band)
    if proxy is not None:
        payload.update(proxy=proxy.hash)
    events[-1] = replace(events[-1], payload=payload)


def record_check_in(
    uow: UnitOfWork,
    ticket: Ticket,
    hall_id: int,
    id_hash: str,
    masks: tuple[str | None, str | None],
) -> None:
    """An appointment's check-in ticket counts as its booker's (一人一号, returns in the KPIs).

    Called right after ``QueueEngine.issue_in`` recorded the ``ticket.issued`` event.
    """
    store.insert_checked_in(
        uow.conn, ticket.id, hall_id, ticket.business_date, ticket.service, id_hash, masks
    )
    events = uow._events
    assert events and events[-1].type is EventType.TICKET_ISSUED
    payload = {**events[-1].payload, "services": [ticket.service], "citizen": id_hash}
    events[-1] = replace(events[-1], payload=payload)


def identity_platform(config: Mapping[str, object]) -> EidPlatform | None:
    """The identity platform of ``HALL_EID_URL`` (``adapters.eid``), None without one."""
    return EidPlatform.from_config(config)
