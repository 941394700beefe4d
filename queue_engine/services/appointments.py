"""The appointment desk: slots, booking, cancellation, check-in and the no-show sweep.

Appointments and kiosk tickets are "from the same source": a check-in issues an ordinary
ticket of the hall's queue (channel ``appointment``, with its slot start, so the dispatch
policy serves it first once the slot has begun) in the same transaction that marks the
appointment checked in. Events go out only after commit, through the queue engine.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Row
from sqlalchemy.exc import IntegrityError

from queue_engine.adapters import citizen_records as bookings
from queue_engine.adapters import repository as repo
from queue_engine.adapters.log_notifier import LogNotifier
from queue_engine.adapters.unit_of_work import Database, UnitOfWork
from queue_engine.domain.appointments import (
    AppointmentSettings,
    AppointmentStatus,
    CheckInTiming,
    Slot,
    Verification,
    banned_until,
    bookable_days,
    can_cancel,
    cancel_deadline,
    check_bookable,
    check_in_timing,
    check_in_window,
    counted_no_shows,
    day_slots,
    find_slot,
    new_code,
    normalize_code,
    plausible_code,
)
from queue_engine.domain.errors import Conflict, Forbidden, InvalidInput, NotFound
from queue_engine.domain.events import DomainEvent, EventType, StoredEvent
from queue_engine.domain.identity import (
    IdProof,
    check_id_number,
    check_name,
    check_phone,
    keyed_hash,
    mask_id_number,
    mask_name,
    mask_phone,
)
from queue_engine.domain.model import Channel, HallConfig, Ticket, format_number
from queue_engine.domain.notices import Notice, NoticeKind, Notifier
from queue_engine.domain.policy import queue_order
from queue_engine.services.desk import Desk
from queue_engine.services.notices import NoticeQueue
from queue_engine.services.tickets import QueueEngine
from queue_engine.services.visits import record_check_in

log = logging.getLogger(__name__)
SWEEP_BATCH = 500
REMIND_MINUTES = 60


@dataclass(frozen=True)
class Appointment:
    """A booking as its holder and the kiosk see it: masked, never the person's numbers."""

    id: str
    code: str
    hall: str
    service: str
    business_date: date
    slot_start: datetime
    slot_end: datetime
    status: AppointmentStatus
    name_masked: str
    phone_masked: str
    id_masked: str
    booked_at: datetime
    cancel_until: datetime
    check_in_opens: datetime
    check_in_closes: datetime
    ticket_id: str | None
    verified: bool = False  # checked in, or confirmed as the ID holder's at a kiosk

    def event(self, kind: EventType, now: datetime, **payload: Any) -> DomainEvent:
        """An event of the log: the appointment's id and slot, no personal data."""
        return DomainEvent(
            type=kind,
            hall=self.hall,
            ts=now,
            ticket_id=self.ticket_id,
            service=self.service,
            channel=str(Channel.APPOINTMENT),
            payload={"appointment": self.id, "slot_start": self.slot_start.isoformat(), **payload},
        )


@dataclass(frozen=True)
class SlotView:
    start: datetime
    end: datetime
    capacity: int
    available: int
    bookable: bool


@dataclass(frozen=True)
class BookedSlots:
    """Bookings of a hall's coming days, for the planner (no person in it)."""

    slots: list[tuple[datetime, str]]  # local slot start (naive), service
    bookable_until: date | None  # the last day open for booking today


@dataclass(frozen=True)
class DaySlots:
    hall: str
    service: str
    day: date
    bookable_days: list[date]
    slots: list[SlotView]


@dataclass(frozen=True)
class CheckIn:
    appointment: Appointment
    ticket: Ticket
    late: bool  # came after the check-in window: an ordinary walk-in ticket


class AppointmentDesk(Desk):
    """Every appointment command; ``pepper`` keys the hashes of ID numbers and phones."""

    def __init__(
        self, engine: QueueEngine, pepper: bytes, notifier: Notifier | None = None
    ) -> None:
        if len(pepper) < 16:
            raise ValueError("the pepper must be at least 16 bytes")
        self.engine = engine
        self.db: Database = engine.db
        self.pepper = pepper
        self.notifier: Notifier = notifier or LogNotifier()
        # Set by the composition root: notices become outbox rows in the cause's transaction
        # (issue 17); without it (desks built bare in tests) the notifier gets them after commit.
        self.notices: NoticeQueue | None = None

    @property
    def clock(self) -> Any:
        return self.engine.clock

    def _notify(self, notice: Notice) -> None:
        try:
            self.notifier.send(notice)
        except Exception:  # a failing gateway never undoes a booking
            log.exception("notifier failed for a %s notice", notice.kind)

    # -- reading -----------------------------------------------------------------------------

    def settings(self, hall: str) -> AppointmentSettings:
        with UnitOfWork(self.db, write=False) as uow:
            hall_id, _ = self.db.hall_config(uow.conn, hall)
            return bookings.settings(uow.conn, hall_id)

    def save_settings(self, hall: str, value: AppointmentSettings) -> None:
        with self.unit() as uow:
            hall_id, _ = self.db.hall_config(uow.conn, hall)
            bookings.save_settings(uow.conn, hall_id, value)
            uow.commit()

    def slots(self, hall: str, service: str, day: date) -> DaySlots:
        """The slots of a service on a day, with what is left of each."""
        now = self.clock.now()
        with UnitOfWork(self.db, write=False) as uow:
            hall_id, config = self.db.hall_config(uow.conn, hall)
            config.service(service)
            rules = bookings.settings(uow.conn, hall_id)
            days = bookable_days(
                config.hours, config.business_date(now), rules.horizon_working_days
            )
            slots = day_slots(config.hours, config.zone, day, rules.slots_of(service))
            taken = bookings.booked_counts(uow.conn, hall_id, service, (s.start for s in slots))
        active = config.service(service).active and day in days
        return DaySlots(
            config.code,
            service,
            day,
            days,
            [
                SlotView(
                    s.start,
                    s.end,
                    s.capacity,
                    max(0, s.capacity - taken.get(s.start, 0)),
                    active and s.start > now and taken.get(s.start, 0) < s.capacity,
                )
                for s in slots
            ],
        )

    def booked(self, hall: str, first: date, last: date) -> BookedSlots:
        """What is booked (not cancelled) for ``first`` to ``last``: each booking's local slot
        start and service, and the last day citizens can book today (days after it are not
        yet open for booking, so their book says nothing)."""
        now = self.clock.now()
        with UnitOfWork(self.db, write=False) as uow:
            hall_id, config = self.db.hall_config(uow.conn, hall)
            rules = bookings.settings(uow.conn, hall_id)
            rows = bookings.booked_between(uow.conn, hall_id, first, last)
        days = bookable_days(config.hours, config.business_date(now), rules.horizon_working_days)
        slots = [
            (r.slot_start.astimezone(config.zone).replace(tzinfo=None), r.service) for r in rows
        ]
        return BookedSlots(sorted(slots), max(days) if days else None)

    def appointment(self, code: str) -> Appointment:
        with UnitOfWork(self.db, write=False) as uow:
            row = self._row(uow, code)
            config = self.db.hall_config_by_id(uow.conn, row.hall_id)
            return self._view(row, config, bookings.settings(uow.conn, row.hall_id))

    def appointment_for_ticket(self, ticket_id: str) -> Appointment | None:
        with UnitOfWork(self.db, write=False) as uow:
            row = bookings.by_ticket(uow.conn, ticket_id)
            if row is None:
                return None
            config = self.db.hall_config_by_id(uow.conn, row.hall_id)
            return self._view(row, config, bookings.settings(uow.conn, row.hall_id))

    def _row(self, uow: UnitOfWork, code: str, *, lock: bool = False) -> Row[Any]:
        code = normalize_code(code)
        row = bookings.by_code(uow.conn, code, lock=lock) if plausible_code(code) else None
        if row is None:
            raise NotFound("no such appointment")
        return row

    @staticmethod
    def _view(row: Row[Any], config: HallConfig, rules: AppointmentSettings) -> Appointment:
        opens, closes = check_in_window(row.slot_start, rules)
        return Appointment(
            id=row.id,
            code=row.code,
            hall=config.code,
            service=row.service,
            business_date=row.business_date,
            slot_start=row.slot_start,
            slot_end=row.slot_end,
            status=AppointmentStatus(row.status),
            name_masked=row.name_masked,
            phone_masked=row.phone_masked,
            id_masked=row.id_masked,
            booked_at=row.booked_at,
            cancel_until=cancel_deadline(row.slot_start, rules),
            check_in_opens=opens,
            check_in_closes=closes,
            ticket_id=row.ticket_id,
            verified=row.verified_at is not None,
        )

    # -- booking -----------------------------------------------------------------------------

    def book(
        self,
        hall: str,
        service: str,
        day: date,
        start: datetime,
        name: str,
        phone: str,
        id_number: str,
    ) -> Appointment:
        """Book a place in a slot: never beyond its capacity, one per person, service and day."""
        name, phone, id_number = check_name(name), check_phone(phone), check_id_number(id_number)
        id_hash = keyed_hash(id_number, self.pepper, "id")
        phone_hash = keyed_hash(phone, self.pepper, "phone")
        try:
            appointment = self._book(
                hall,
                service,
                day,
                start,
                id_hash,
                phone_hash,
                phone=phone,
                values={
                    "name_masked": mask_name(name),
                    "phone_hash": phone_hash,
                    "phone_masked": mask_phone(phone),
                    "id_hash": id_hash,
                    "id_masked": mask_id_number(id_number),
                },
            )
        except IntegrityError:
            # The same person booked this service and day in a concurrent request.
            raise _duplicate() from None
        if self.notices is not None:
            return appointment  # the confirmation went into the outbox with the booking
        self._notify(
            Notice(
                NoticeKind.BOOKED,
                appointment.hall,
                f"预约成功:{appointment.slot_start.astimezone(_zone(self, hall)):%m月%d日 %H:%M},"
                f"预约码 {appointment.code}",
                phone_masked=appointment.phone_masked,
                phone_hash=phone_hash,
                phone=phone,
            )
        )
        return appointment

    def _book(
        self,
        hall: str,
        service: str,
        day: date,
        start: datetime,
        id_hash: str,
        phone_hash: str,
        values: dict[str, Any],
        phone: str | None = None,
    ) -> Appointment:
        now = self.clock.now()
        if start.tzinfo is None:
            raise InvalidInput("the slot start needs a time zone")
        with self.unit() as uow:
            hall_id, config = self.db.hall_config(uow.conn, hall)
            if not config.service(service).active:
                raise InvalidInput(f"service {service} takes no appointments now")
            rules = bookings.settings(uow.conn, hall_id)
            slot = find_slot(
                day_slots(config.hours, config.zone, day, rules.slots_of(service)), start
            )
            check_bookable(config.hours, rules, slot, now, config.business_date(now))
            self._check_ban(uow, id_hash, phone_hash, now, rules, config)
            if bookings.holding_booking(uow.conn, hall_id, service, day, id_hash) is not None:
                raise _duplicate()
            if not bookings.take_place(uow.conn, hall_id, service, slot.start, slot.capacity):
                raise Conflict("this slot is fully booked; choose another", code="slot_full")
            row = self._insert(uow, hall_id, service, day, slot, id_hash, values, now)
            appointment = self._view(row, config, rules)
            if self.notices is not None and phone is not None:
                self.notices.booked(uow, config, row.code, slot.start, phone, phone_hash)
            uow.record(appointment.event(EventType.APPOINTMENT_BOOKED, now))
            self.engine.bus.commit(uow)
            return appointment

    def _check_ban(
        self,
        uow: UnitOfWork,
        id_hash: str,
        phone_hash: str,
        now: datetime,
        rules: AppointmentSettings,
        config: HallConfig,
    ) -> None:
        """Refuse a booking after repeated no-shows that count (``counted_no_shows``)."""
        since = now - timedelta(days=rules.ban_lookback_days)
        missed = bookings.no_show_history(uow.conn, id_hash, since)
        phones = bookings.verified_phones(uow.conn, id_hash) if missed else {}
        until = banned_until(counted_no_shows(missed, phones, phone_hash), now, rules)
        if until is not None:
            raise Forbidden(
                f"after {rules.ban_no_shows} missed appointments within "
                f"{rules.ban_lookback_days} days, booking is suspended until "
                f"{config.business_date(until).isoformat()}",
                code="booking_banned",
            )

    def _insert(
        self,
        uow: UnitOfWork,
        hall_id: int,
        service: str,
        day: date,
        slot: Slot,
        id_hash: str,
        values: dict[str, Any],
        now: datetime,
    ) -> Row[Any]:
        code = new_code()
        bookings.insert_appointment(
            uow.conn,
            {
                "id": repo.new_id(),
                "code": code,
                "hall_id": hall_id,
                "service": service,
                "business_date": day,
                "slot_start": slot.start,
                "slot_end": slot.end,
                "status": AppointmentStatus.BOOKED.value,
                "person_key": id_hash,
                "booked_at": now,
                **values,
            },
        )
        row = bookings.by_code(uow.conn, code)
        assert row is not None
        return row

    def cancel(self, code: str) -> Appointment:
        """The holder cancels, until the cut-off; the place goes back to the slot."""
        now = self.clock.now()
        with self.unit() as uow:
            row = self._row(uow, code, lock=True)
            rules = bookings.settings(uow.conn, row.hall_id)
            if row.status == AppointmentStatus.BOOKED.value and not can_cancel(
                now, row.slot_start, rules
            ):
                raise Conflict(
                    f"appointments can be cancelled until {rules.cancel_cutoff_minutes} "
                    "minutes before the slot starts",
                    code="cancel_cutoff",
                )
            appointment = self._cancel_row(uow, row, rules, now)
            self.engine.bus.commit(uow)
        return appointment

    def close_day(self, hall: str, day: date, reason: str = "") -> int:
        """The hall closes on ``day``: every booking of that day is cancelled and its holder
        told (a ``cancelled`` notice in the same transaction); audited. The number cancelled."""
        from queue_engine.adapters import outbox_store

        now = self.clock.now()
        with self.unit() as uow:
            hall_id, config = self.db.hall_config(uow.conn, hall)
            rules = bookings.settings(uow.conn, hall_id)
            rows = outbox_store.booked_on(uow.conn, hall_id, day)
            for row in rows:
                self._cancel_row(uow, row, rules, now, by="hall", reason=reason[:200])
                if self.notices is not None:
                    params = {"date": day.isoformat(), "code": row.code}
                    refs = [("appointment", row.code)]
                    self.notices.tell(uow, "cancelled", hall=config.code, refs=refs, params=params)
            detail = {"close_day": day.isoformat(), "cancelled": len(rows), "reason": reason[:200]}
            uow.record_audit(now, detail)
            self.engine.bus.commit(uow)
        return len(rows)

    def _cancel_row(
        self,
        uow: UnitOfWork,
        row: Row[Any],
        rules: AppointmentSettings,
        now: datetime,
        **payload: Any,
    ) -> Appointment:
        if row.status != AppointmentStatus.BOOKED.value:
            raise Conflict(f"the appointment is {row.status}", code="invalid_transition")
        changed = bookings.save_appointment(
            uow.conn,
            row.id,
            row.version,
            status=AppointmentStatus.CANCELLED.value,
            cancelled_at=now,
            person_key=None,
        )
        if not changed:
            raise Conflict("the appointment was changed meanwhile; reload it")
        bookings.release_place(uow.conn, row.hall_id, row.service, row.slot_start)
        config = self.db.hall_config_by_id(uow.conn, row.hall_id)
        appointment = self._view(bookings.by_code(uow.conn, row.code) or row, config, rules)
        uow.record(appointment.event(EventType.APPOINTMENT_CANCELLED, now, **payload))
        return appointment

    # -- the ID's holder ---------------------------------------------------------------------
    # Whoever proves an ID number (an ``IdProof``: today at a kiosk) sees every booking made
    # under it, confirms one as their own (verified: its no-show then counts, its phone becomes
    # the ID's phone on file) or cancels one, whoever made it and whichever phone it names.

    def held_by(self, hall: str, proof: IdProof) -> list[Appointment]:
        """The bookings of ``hall`` under the proven ID number, from today on, by slot."""
        now = self.clock.now()
        with UnitOfWork(self.db, write=False) as uow:
            hall_id, config = self.db.hall_config(uow.conn, hall)
            rules = bookings.settings(uow.conn, hall_id)
            rows = bookings.held_under(
                uow.conn, hall_id, self._id_hash(proof), config.business_date(now)
            )
            return [self._view(r, config, rules) for r in rows]

    def confirm(self, code: str, proof: IdProof, hall: str | None = None) -> Appointment:
        """The ID's holder confirms a booking under their ID as theirs: it is now verified."""
        now = self.clock.now()
        with self.unit() as uow:
            row = self._held_row(uow, code, proof, hall)
            if row.status != AppointmentStatus.BOOKED.value:
                raise Conflict(f"the appointment is {row.status}", code="invalid_transition")
            if row.verified_at is None and not bookings.save_appointment(
                uow.conn, row.id, row.version, verified_at=now, verified_via=str(proof.method)
            ):
                raise Conflict("the appointment was changed meanwhile; reload it")
            config = self.db.hall_config_by_id(uow.conn, row.hall_id)
            rules = bookings.settings(uow.conn, row.hall_id)
            appointment = self._view(bookings.by_code(uow.conn, row.code) or row, config, rules)
            uow.commit()
        return appointment

    def cancel_as_holder(self, code: str, proof: IdProof, hall: str | None = None) -> Appointment:
        """The ID's holder cancels a booking under their ID, at any time before it is used.

        No cut-off: the holder is in the hall, and the booking may be somebody else's doing
        that blocks their own (one booking per person, service and day).
        """
        now = self.clock.now()
        with self.unit() as uow:
            row = self._held_row(uow, code, proof, hall)
            rules = bookings.settings(uow.conn, row.hall_id)
            appointment = self._cancel_row(
                uow, row, rules, now, by="id_holder", via=str(proof.method)
            )
            self.engine.bus.commit(uow)
        return appointment

    def _id_hash(self, proof: IdProof) -> str:
        return keyed_hash(proof.id_number, self.pepper, "id")

    def _held_row(self, uow: UnitOfWork, code: str, proof: IdProof, hall: str | None) -> Row[Any]:
        """The booking ``code`` if it was made under the proven ID (in ``hall``), else 404."""
        row = self._row(uow, code, lock=True)
        config = self.db.hall_config_by_id(uow.conn, row.hall_id)
        if row.id_hash != self._id_hash(proof) or (hall is not None and config.code != hall):
            raise NotFound("no such appointment under this ID number")
        return row

    # -- at the kiosk ------------------------------------------------------------------------

    def find_today(self, hall: str, phone: str, id_last4: str) -> str:
        """The code of today's booking matching a phone and the last 4 characters of the ID."""
        phone = check_phone(phone)
        last4 = id_last4.strip().upper()
        if len(last4) != 4:
            raise InvalidInput("give the last 4 characters of the ID number")
        now = self.clock.now()
        with UnitOfWork(self.db, write=False) as uow:
            hall_id, config = self.db.hall_config(uow.conn, hall)
            rows = bookings.for_phone_on(
                uow.conn,
                hall_id,
                keyed_hash(phone, self.pepper, "phone"),
                config.business_date(now),
            )
        for row in rows:
            if row.id_masked.endswith(last4) and row.slot_start + timedelta(hours=24) > now:
                return str(row.code)
        raise NotFound("no appointment today for that phone number and ID")

    def check_in(self, code: str, hall: str | None = None) -> CheckIn:
        """Turn an appointment into a ticket: an appointment ticket within the check-in window,
        an ordinary walk-in ticket after it (the same day); too early is refused."""
        now = self.clock.now()
        with self.unit() as uow:
            row = self._row(uow, code, lock=True)
            config = self.db.hall_config_by_id(uow.conn, row.hall_id)
            if hall is not None and config.code != hall:
                raise NotFound("no such appointment in this hall")
            rules = bookings.settings(uow.conn, row.hall_id)
            timing = check_in_timing(now, row.slot_start, rules)
            self._check_can_check_in(row, timing, config, rules, now)
            late = timing is CheckInTiming.LATE
            ticket = self.engine.issue_in(
                uow,
                row.hall_id,
                config,
                row.service,
                Channel.KIOSK if late else Channel.APPOINTMENT,
                slot_start=None if late else row.slot_start,
                check_hours=late,
            )
            masks = (row.id_masked, row.name_masked)
            record_check_in(uow, ticket, row.hall_id, row.id_hash, masks)
            status = (
                row.status
                if row.status == AppointmentStatus.NO_SHOW.value
                else (AppointmentStatus.LATE.value if late else AppointmentStatus.CHECKED_IN.value)
            )
            verified = (
                {}
                if row.verified_at is not None
                else {"verified_at": now, "verified_via": Verification.CHECK_IN.value}
            )
            if not bookings.save_appointment(
                uow.conn,
                row.id,
                row.version,
                status=status,
                checked_in_at=now,
                ticket_id=ticket.id,
                **verified,
            ):
                raise Conflict("the appointment was changed meanwhile; try again")
            fresh = bookings.by_code(uow.conn, row.code)
            assert fresh is not None
            appointment = self._view(fresh, config, rules)
            kind = EventType.APPOINTMENT_LATE if late else EventType.APPOINTMENT_CHECKED_IN
            uow.record(appointment.event(kind, now, ticket_number=ticket.number))
            self.engine.bus.commit(uow)
        return CheckIn(appointment, ticket, late)

    @staticmethod
    def _check_can_check_in(
        row: Row[Any],
        timing: CheckInTiming,
        config: HallConfig,
        rules: AppointmentSettings,
        now: datetime,
    ) -> None:
        missed_today = (
            row.status == AppointmentStatus.NO_SHOW.value
            and row.ticket_id is None
            and config.business_date(now) == row.business_date
        )
        if row.status != AppointmentStatus.BOOKED.value and not missed_today:
            raise Conflict(f"the appointment is {row.status}", code="invalid_transition")
        if timing is CheckInTiming.EARLY:
            opens = check_in_window(row.slot_start, rules)[0].astimezone(config.zone)
            raise Conflict(
                f"check-in opens at {opens:%H:%M}, {rules.check_in_before_minutes} minutes "
                "before the slot",
                code="too_early",
            )
        if timing is CheckInTiming.LATE and config.business_date(now) != row.business_date:
            raise Conflict("this appointment was for another day", code="expired")

    # -- housekeeping ------------------------------------------------------------------------

    def sweep(self) -> int:
        """Mark appointments never checked in as no-shows once their window has closed."""
        now = self.clock.now()
        marked = 0
        with self.unit() as uow:
            rules_of: dict[int, AppointmentSettings] = {}
            for row in bookings.unattended(uow.conn, now, SWEEP_BATCH):
                if row.hall_id not in rules_of:
                    rules_of[row.hall_id] = bookings.settings(uow.conn, row.hall_id)
                rules = rules_of[row.hall_id]
                if now <= check_in_window(row.slot_start, rules)[1]:
                    continue
                if not bookings.save_appointment(
                    uow.conn,
                    row.id,
                    row.version,
                    status=AppointmentStatus.NO_SHOW.value,
                    no_show_at=now,
                ):
                    continue
                config = self.db.hall_config_by_id(uow.conn, row.hall_id)
                view = self._view(row, config, rules)
                uow.record(view.event(EventType.APPOINTMENT_NO_SHOW, now))
                marked += 1
            self.engine.bus.commit(uow)
        return marked

    def send_reminders(self) -> int:
        """Remind holders whose slot starts within the hour (once each)."""
        now = self.clock.now()
        notices: list[Notice] = []
        with self.unit() as uow:
            for row in bookings.to_remind(uow.conn, now + timedelta(minutes=REMIND_MINUTES), now):
                if bookings.save_appointment(uow.conn, row.id, row.version, reminded_at=now):
                    config = self.db.hall_config_by_id(uow.conn, row.hall_id)
                    local = row.slot_start.astimezone(config.zone)
                    if self.notices is not None:
                        params = {"service": config.service(row.service).name_zh}
                        params |= {"time": f"{local:%H:%M}", "code": row.code}
                        refs = [("appointment", row.code)]
                        self.notices.tell(
                            uow, "reminder", hall=config.code, refs=refs, params=params
                        )
                        continue
                    notices.append(
                        Notice(
                            NoticeKind.REMINDER,
                            config.code,
                            f"您预约的{config.service(row.service).name_zh}将于 {local:%H:%M} "
                            "开始,请提前到大厅签到",
                            phone_masked=row.phone_masked,
                            phone_hash=row.phone_hash,
                        )
                    )
            if self.notices is not None:
                self.notices.remind_day_before(uow, now, self.db.hall_config_by_id)
            uow.commit()
        for notice in notices:
            self._notify(notice)
        return len(notices)


def _duplicate() -> Conflict:
    return Conflict(
        "you already have an appointment for this service on that day (under this ID number); "
        "if you did not make it, see and cancel it at a kiosk of the hall with your ID card",
        code="duplicate",
    )


def _zone(desk: AppointmentDesk, hall: str) -> Any:
    config = desk.db.known_config(hall)
    return config.zone if config is not None else None


MOVES_QUEUE_FORWARD = frozenset(
    {EventType.TICKET_CALLED, EventType.TICKET_CANCELLED, EventType.TICKET_TRANSFERRED}
)


class TurnNotices:
    """Sends "your turn is near" once a waiting ticket has ``k`` people ahead of it.

    Subscribed to the queue engine: it looks at the queue after every committed call, so a
    failure here never fails the call. Appointment tickets are told by their masked phone;
    remote tickets (no phone) through the notifier's ticket channel.
    """

    def __init__(self, desk: AppointmentDesk, ahead: int | None = None, memory: int = 5000) -> None:
        self.desk = desk
        self._ahead = ahead  # None: each hall's own ``notify_ahead`` setting
        self._told: dict[str, None] = {}
        self._memory = memory

    def __call__(self, stored: Sequence[StoredEvent]) -> None:
        """Tickets move forward when one is called, cancelled or transferred away."""
        for item in stored:
            e = item.event
            if e.type in MOVES_QUEUE_FORWARD and e.service:
                self._check(e.hall, e.service)

    def _check(self, hall: str, service: str) -> None:
        engine = self.desk.engine
        now = engine.clock.now()
        with UnitOfWork(self.desk.db, write=False) as uow:  # one read for all of it
            hall_id, config = self.desk.db.hall_config(uow.conn, hall)
            ahead = self._ahead
            if ahead is None:
                ahead = bookings.settings(uow.conn, hall_id).notify_ahead
            # The first ``ahead + 1`` of the queue are among its lines' heads that deep.
            heads = repo.line_heads(
                uow.conn, hall_id, config.business_date(now), [service], now, ahead + 1
            )
            waiting = [repo.candidate_from_row(r) for r in heads.values()]
            order = queue_order(waiting, now, config.dispatch)
            if len(order) <= ahead or order[ahead].ticket_id in self._told:
                return
            target = order[ahead]
            row = bookings.by_ticket(uow.conn, target.ticket_id)
            number = format_number(config.service(service).prefix, target.seq)
            notices = self.desk.notices
            refs = (
                []
                if notices is None
                else notices.refs(None if row is None else row.code, target.ticket_id)
            )
            # A write transaction only for a citizen who left an address (issue 16).
            reachable = notices is not None and notices.reachable(uow, refs)
        self._told[target.ticket_id] = None
        while len(self._told) > self._memory:
            self._told.pop(next(iter(self._told)))
        if notices is not None:  # keyed per ticket: once, whichever process sees it
            if not reachable:
                return
            with self.desk.unit() as wuow:
                notices.tell(
                    wuow,
                    "turn_near",
                    hall=hall,
                    refs=refs,
                    params={"number": number, "ahead": ahead},
                    key=f"turn_near:{target.ticket_id}",
                )
                wuow.commit()
            return
        self.desk._notify(
            Notice(
                NoticeKind.TURN_NEAR,
                hall,
                f"{number} 号:前面还有 {ahead} 人,请到大厅等候叫号",
                phone_masked=None if row is None else row.phone_masked,
                phone_hash=None if row is None else row.phone_hash,
                ticket_id=target.ticket_id,
            )
        )
