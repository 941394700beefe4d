"""Appointments over HTTP (SPEC §5): slots, booking, the holder's view and cancel, check-in.

Booking is public, so it is rate-limited per client and per phone number. Responses carry
only masked names, phones and ID numbers; the codes are the holder's key.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from flask import request

from queue_engine.domain.access import Role
from queue_engine.domain.errors import InvalidInput
from queue_engine.domain.identity import IdProof, keyed_hash, normalize_phone
from queue_engine.domain.model import HallConfig
from queue_engine.services.appointments import Appointment, CheckIn

from ..auth import current_user, require_hall, require_roles
from ..clients import client_key, client_may, client_quota, insufficient_scope, no_client
from ..extensions import limiter
from ..serialize import iso, ticket_json
from ..state import hall_services
from ..validation import parse_day
from . import booking_schemas as b
from .rating_keys import with_rating_key
from .routes import _config_of, _engine, api, staff_doc

MAX_DAYS_AWAY = 400  # far beyond any booking horizon; keeps date arithmetic in range


def parse_date(text: str | None, config: HallConfig) -> date:
    today = config.business_date(_engine().clock.now())
    if text is None:  # no date asked for; an empty one is a malformed date (422)
        return today
    day = parse_day(text)
    if abs((day - today).days) > MAX_DAYS_AWAY:
        raise InvalidInput(f"{day.isoformat()} is too far from today")
    return day


def parse_start(text: str, day: date, config: HallConfig) -> datetime:
    """``HH:MM`` in the hall's time zone on ``day``, or a full ISO 8601 timestamp."""
    try:
        if len(text) <= 5:
            return datetime.combine(day, time.fromisoformat(text), config.zone)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput("the start is HH:MM or an ISO 8601 time") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=config.zone)


def appointment_json(a: Appointment, config: HallConfig) -> dict[str, Any]:
    service = config.service(a.service)
    return {
        "code": a.code,
        "hall": a.hall,
        "service": a.service,
        "service_name": service.name_zh,
        "service_name_en": service.name_en,
        "date": a.business_date.isoformat(),
        "start": iso(a.slot_start),
        "end": iso(a.slot_end),
        "status": str(a.status),
        "name": a.name_masked,
        "phone": a.phone_masked,
        "id_number": a.id_masked,
        "cancel_until": iso(a.cancel_until),
        "check_in_opens": iso(a.check_in_opens),
        "check_in_closes": iso(a.check_in_closes),
        "ticket_id": a.ticket_id,
        "verified": a.verified,
    }


def check_in_json(result: CheckIn) -> dict[str, Any]:
    config = _config_of(result.ticket.hall)
    view = _engine().view(result.ticket)
    out = with_rating_key(ticket_json(view.ticket, config, view.position, view.estimate))
    out["late"] = result.late
    out["appointment"] = appointment_json(result.appointment, config)
    return out


def phone_key() -> str:
    """Rate-limit key of the phone in the JSON body (hashed: never kept in the clear)."""
    body = request.get_json(silent=True)
    value = body.get("phone") if isinstance(body, dict) else None
    if not isinstance(value, str) or not value:
        return "phone:none"
    return "phone:" + keyed_hash(normalize_phone(value)[:20], b"rate-limit-key", "limit")[:32]


def id_key() -> str:
    """Rate-limit key of the ID number in the JSON body (hashed), the citizen's other key."""
    body = request.get_json(silent=True)
    value = body.get("id_number") if isinstance(body, dict) else None
    if not isinstance(value, str) or not value:
        return "id:none"
    return "id:" + keyed_hash(value.strip().upper()[:20], b"rate-limit-key", "limit")[:32]


def from_client() -> bool:
    """An API client (issue 20) books for many citizens from one address: its quota applies
    instead of the per-address limit; each citizen stays limited by phone and ID number."""
    return not no_client()


@api.get("/halls/<string:hall>/services/<string:service>/slots")
@api.input(b.SlotsQuery, location="query", arg_name="query")
@api.output(b.SlotsOut)
@api.doc(summary="Appointment slots of a service on a date, with capacity and places left")
def slots(hall: str, service: str, query: b.SlotsQuery) -> dict[str, Any]:
    config = _config_of(hall)
    day = hall_services().appointments.slots(hall, service, parse_date(query.date, config))
    return {
        "hall": day.hall,
        "service": day.service,
        "date": day.day.isoformat(),
        "bookable_dates": [d.isoformat() for d in day.bookable_days],
        "slots": [
            {
                "start": iso(s.start),
                "end": iso(s.end),
                "time": s.start.astimezone(config.zone).strftime("%H:%M"),
                "capacity": s.capacity,
                "available": s.available,
                "bookable": s.bookable,
            }
            for s in day.slots
        ],
    }


@api.post("/halls/<string:hall>/appointments")
@limiter.limit("20 per minute; 200 per day", exempt_when=from_client)
@limiter.limit(client_quota("book"), key_func=client_key("book"), exempt_when=no_client)
@limiter.limit("5 per hour; 10 per day", key_func=phone_key)
@limiter.limit("5 per hour; 10 per day", key_func=id_key)
@api.input(b.AppointmentIn, arg_name="body")
@api.output(b.AppointmentOut, status_code=201)
@api.doc(
    summary="Book an appointment slot",
    description="Public. The ID number must be a valid 18-digit resident ID number and the "
    "phone a mainland mobile number; both are stored only hashed and masked.",
    responses={
        403: "booking suspended after repeated no-shows",
        409: "the slot is full, or the person already booked this service that day",
        422: "invalid person, service, date or slot",
        429: "too many bookings from this client address or phone or ID number (an API "
        "client: over its quota)",
    },
    security=[{}, {"ClientCredentials": ["book"]}],
)
def book(hall: str, body: b.AppointmentIn) -> Any:
    config = _config_of(hall)
    if not no_client() and not client_may("book", config.code):
        return insufficient_scope("book")
    day = parse_date(body.date, config)
    start = parse_start(body.start, day, config)
    if abs((start.date() - day).days) > 1:
        raise InvalidInput("the start must be on the booked day")
    if body.service not in {s.code for s in config.services}:
        raise InvalidInput(f"hall {config.code} has no service {body.service!r}")
    appointment = hall_services().appointments.book(
        hall, body.service, day, start, body.name, body.phone, body.id_number
    )
    return appointment_json(appointment, config), 201


@api.get("/appointments/<string:code>")
@api.output(b.AppointmentOut)
@api.doc(summary="An appointment, for its holder (codes are unguessable)")
def get_appointment(code: str) -> dict[str, Any]:
    appointment = hall_services().appointments.appointment(code)
    return appointment_json(appointment, _config_of(appointment.hall))


@api.delete("/appointments/<string:code>")
@api.output(b.AppointmentOut)
@api.doc(
    summary="Cancel an appointment (its holder), until the cut-off before the slot",
    responses={409: "already cancelled or used, or past the cut-off"},
)
def cancel_appointment(code: str) -> dict[str, Any]:
    appointment = hall_services().appointments.cancel(code)
    return appointment_json(appointment, _config_of(appointment.hall))


def _kiosk_hall() -> str | None:
    user = current_user()
    return None if user is None or user.role is Role.ADMIN else user.hall


@api.post("/appointments/<string:code>/check-in")
@api.output(b.CheckInOut, status_code=201)
@require_roles(Role.KIOSK)
@staff_doc(
    "Check an appointment in at the kiosk: an appointment ticket, or a walk-in ticket if late",
    r404="no such appointment in the kiosk's hall",
    r409="too early, another day, cancelled or already checked in",
)
def check_in(code: str) -> tuple[dict[str, Any], int]:
    return check_in_json(hall_services().appointments.check_in(code, _kiosk_hall())), 201


@api.post("/halls/<string:hall>/appointments/check-in")
@api.input(b.PhoneCheckIn, arg_name="body")
@api.output(b.CheckInOut, status_code=201)
@require_roles(Role.KIOSK)
@staff_doc(
    "Check in today's appointment found by phone number and the last 4 characters of the ID",
    r404="no appointment today for these",
    r409="too early, cancelled or already checked in",
)
def check_in_by_phone(hall: str, body: b.PhoneCheckIn) -> tuple[dict[str, Any], int]:
    require_hall(hall)
    desk = hall_services().appointments
    code = desk.find_today(hall, body.phone, body.id_last4)
    return check_in_json(desk.check_in(code, hall)), 201


# -- the ID's holder, at the kiosk ------------------------------------------------------------
# A booking made under an ID number is its holder's to see and cancel, whoever made it. The
# kiosk is where the holder proves the ID today (IdProof.at_kiosk); a remote proof (a one-time
# code to the phone on file) will build the same IdProof at a door of its own.


@api.post("/halls/<string:hall>/appointments/lookup")
@limiter.limit("30 per minute")
@api.input(b.HolderIn, arg_name="body")
@api.output(b.HeldOut)
@require_roles(Role.KIOSK)
@staff_doc(
    "The bookings of the hall made under an ID number shown at the kiosk, from today on",
    r422="not a valid resident ID number",
)
def held_appointments(hall: str, body: b.HolderIn) -> dict[str, Any]:
    require_hall(hall)
    config = _config_of(hall)
    held = hall_services().appointments.held_by(hall, IdProof.at_kiosk(body.id_number))
    return {"hall": config.code, "appointments": [appointment_json(a, config) for a in held]}


@api.post("/appointments/<string:code>/confirm")
@api.input(b.HolderIn, arg_name="body")
@api.output(b.AppointmentOut)
@require_roles(Role.KIOSK)
@staff_doc(
    "The ID's holder confirms a booking under their ID as their own (it is then verified)",
    r404="no such appointment under this ID number in the kiosk's hall",
    r409="cancelled, used or missed already",
)
def confirm_appointment(code: str, body: b.HolderIn) -> dict[str, Any]:
    desk = hall_services().appointments
    appointment = desk.confirm(code, IdProof.at_kiosk(body.id_number), _kiosk_hall())
    return appointment_json(appointment, _config_of(appointment.hall))


@api.post("/appointments/<string:code>/cancel")
@api.input(b.HolderIn, arg_name="body")
@api.output(b.AppointmentOut)
@require_roles(Role.KIOSK)
@staff_doc(
    "The ID's holder cancels a booking made under their ID (no cut-off: they are in the hall)",
    r404="no such appointment under this ID number in the kiosk's hall",
    r409="cancelled, used or missed already",
)
def cancel_held_appointment(code: str, body: b.HolderIn) -> dict[str, Any]:
    desk = hall_services().appointments
    appointment = desk.cancel_as_holder(code, IdProof.at_kiosk(body.id_number), _kiosk_hall())
    return appointment_json(appointment, _config_of(appointment.hall))
