"""Notices to citizens as outbox rows, written inside the unit of work of their cause.

The desks say what happened (a booking, a reminder due, a turn near, a call); this module
knows how to reach the citizen (the encrypted contacts of the appointment or ticket), picks the
template, and drops one row per address into the outbox, keyed so that the same notice is
never queued twice (``kind:ref:channel``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from queue_engine.adapters import citizen_records as bookings
from queue_engine.adapters import outbox_store as store
from queue_engine.adapters import repository as repo
from queue_engine.adapters.unit_of_work import UnitOfWork
from queue_engine.domain.errors import InvalidInput
from queue_engine.domain.events import DomainEvent, EventType
from queue_engine.domain.identity import check_phone, keyed_hash
from queue_engine.domain.model import Channel, HallConfig, Ticket
from queue_engine.domain.notice_templates import render
from queue_engine.services.outbox import Outbox

APPOINTMENT = "appointment"
TICKET = "ticket"
URGENT_KINDS = frozenset({"called", "turn_near", "missed", "remote_confirmed"})
REMOTE_CHANNELS = frozenset({Channel.APP, Channel.WEB})
OPENID_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


def check_contact(phone: str | None, openid: str | None) -> dict[str, str]:
    """The addresses a citizen gave with a ticket, by channel (``InvalidInput`` if malformed)."""
    contact: dict[str, str] = {}
    if phone:
        contact["sms"] = check_phone(phone)
    if openid:
        if not 6 <= len(openid) <= 64 or not set(openid) <= OPENID_CHARS:
            raise InvalidInput("wechat_openid is not a WeChat openid", code="wechat_openid")
        contact["wechat"] = openid
    return contact


class NoticeQueue:
    """Queues notices for appointments and tickets through the outbox."""

    def __init__(
        self, outbox: Outbox, purge_days: int | None = None, pepper: bytes | None = None
    ) -> None:
        self.outbox = outbox
        self.purge_days = purge_days if purge_days is not None else outbox.rules.purge_days
        self.pepper = pepper  # keys the phone hash of a ticket's phone (rate limits)

    def remember(
        self,
        uow: UnitOfWork,
        *,
        hall: str,
        subject: str,
        ref: str,
        channel: str,
        to: str,
        visit_at: datetime,
        phone_hash: str | None = None,
        lang: str = "zh",
    ) -> None:
        """Keep an address (sealed) for an appointment or ticket until N days after the visit."""
        ciphertext, key_id = self.outbox.seal(channel, to)
        store.save_contact(
            uow.conn,
            {
                "hall": hall,
                "subject": subject,
                "ref": ref,
                "channel": channel,
                "ciphertext": ciphertext,
                "key_id": key_id,
                "phone_hash": phone_hash,
                "lang": lang,
                "created_at": self.outbox.clock.now(),
                "purge_after": visit_at + timedelta(days=self.purge_days),
            },
        )

    def tell(
        self,
        uow: UnitOfWork,
        kind: str,
        *,
        hall: str,
        refs: list[tuple[str, str]],
        params: dict[str, Any],
        key: str | None = None,
        template: str | None = None,
        due_at: datetime | None = None,
    ) -> int:
        """One outbox row per address known for ``refs`` (subject, ref); the rows queued."""
        queued = 0
        seen: set[str] = set()
        for subject, ref in refs:
            for contact in store.contacts(uow.conn, subject, ref):
                if contact.channel in seen:
                    continue
                seen.add(contact.channel)
                self.outbox.enqueue(
                    uow,
                    channel=contact.channel,
                    kind=kind,
                    hall=hall,
                    key=f"{key or kind + ':' + ref}:{contact.channel}",
                    to="",
                    text=render(template or kind, params, contact.lang),
                    params=params,
                    urgent=kind in URGENT_KINDS,
                    due_at=due_at,
                    phone_hash=contact.phone_hash,
                    sealed=(contact.ciphertext, contact.key_id),
                    purge_after=contact.purge_after,
                )
                queued += 1
        return queued

    def booked(
        self,
        uow: UnitOfWork,
        config: HallConfig,
        code: str,
        start: datetime,
        phone: str,
        phone_hash: str,
    ) -> None:
        """The booking confirmation; the phone is kept sealed for reminders and calls."""
        self.remember(
            uow,
            hall=config.code,
            subject=APPOINTMENT,
            ref=code,
            channel="sms",
            to=phone,
            visit_at=start,
            phone_hash=phone_hash,
        )
        when = f"{start.astimezone(config.zone):%m月%d日 %H:%M}"
        self.tell(
            uow,
            "booked",
            hall=config.code,
            refs=[(APPOINTMENT, code)],
            params={"when": when, "code": code},
        )

    def remind_day_before(self, uow: UnitOfWork, now: datetime, config_of: Any) -> int:
        """Reminders the day before (``remind_day_hours``): each booking passes the hour once;
        the key keeps it to one notice, quiet hours move a night one to the morning."""
        hours = self.outbox.rules.remind_day_hours
        if hours <= 0:
            return 0
        window = (now + timedelta(hours=hours - 1), now + timedelta(hours=hours))
        queued = 0
        for row in store.booked_starting_between(uow.conn, *window):
            config: HallConfig = config_of(uow.conn, row.hall_id)
            local = row.slot_start.astimezone(config.zone)
            params = {"service": config.service(row.service).name_zh, "time": f"{local:%H:%M}"}
            params["code"] = row.code
            refs = [(APPOINTMENT, row.code)]
            key = f"reminder_day:{row.code}"
            queued += self.tell(
                uow, "reminder_day", hall=config.code, refs=refs, params=params, key=key
            )
        return queued

    def ticket_contact(
        self, uow: UnitOfWork, config: HallConfig, ticket: Ticket, contact: Mapping[str, str]
    ) -> None:
        """Keep the addresses given with a ticket (sealed); a remote ticket (app, web) is
        confirmed to them at once (``remote_confirmed``), in the issue's transaction."""
        for channel, to in contact.items():
            phone_hash = None
            if channel == "sms" and self.pepper is not None:
                phone_hash = keyed_hash(to, self.pepper, "phone")
            self.remember(
                uow,
                hall=config.code,
                subject=TICKET,
                ref=ticket.id,
                channel=channel,
                to=to,
                visit_at=ticket.issued_at,
                phone_hash=phone_hash,
            )
        if ticket.channel not in REMOTE_CHANNELS or not contact:
            return
        estimate = ticket.estimate
        minutes = 0 if estimate is None else round(estimate.median_minutes)
        params = {"number": ticket.number, "ahead": ticket.position or 0, "minutes": minutes}
        key = f"remote_confirmed:{ticket.id}"
        self.tell(
            uow,
            "remote_confirmed",
            hall=config.code,
            refs=[(TICKET, ticket.id)],
            params=params,
            key=key,
        )

    def reachable(self, uow: UnitOfWork, refs: list[tuple[str, str]]) -> bool:
        """Whether any address is known for ``refs`` (a notice to them would be queued)."""
        return any(store.contacts(uow.conn, subject, ref) for subject, ref in refs)

    def refs(self, code: str | None, ticket_id: str | None) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        if ticket_id:
            out.append((TICKET, ticket_id))
        if code:
            out.append((APPOINTMENT, code))
        return out


class TicketNotices:
    """Called, missed (过号) and the rating invitation, queued inside the ticket's transaction.

    Registered with ``MessageBus.within``: the rows stand or fall with the call itself.
    ``base_url`` prefixes the ticket page link of the rating invitation (``HALL_PUBLIC_URL``).
    ``invite(uow, finished)`` records the rating invitation of a finished service and gives
    its link (with the invitation's key), or None: not invited (no contact, or invited
    already), and then no ``rating_invite`` notice either.
    """

    KINDS = {  # noqa: RUF012
        EventType.TICKET_CALLED: "called",
        EventType.TICKET_RECALLED: "called",
        EventType.TICKET_NO_SHOW: "missed",
        EventType.TICKET_FINISHED: "rating_invite",
    }

    def __init__(
        self,
        notices: NoticeQueue,
        base_url: str = "",
        invite: Callable[[UnitOfWork, DomainEvent], str | None] | None = None,
    ) -> None:
        self.notices = notices
        self.base_url = base_url.rstrip("/")
        self.invite = invite

    def __call__(self, uow: UnitOfWork, events: Sequence[DomainEvent]) -> None:
        for e in events:
            kind = self.KINDS.get(e.type)
            if kind is None or not e.ticket_id:
                continue
            booking = bookings.by_ticket(uow.conn, e.ticket_id)
            refs = self.notices.refs(None if booking is None else booking.code, e.ticket_id)
            params: dict[str, Any] = {"number": e.ticket_number or "", "window": e.window or ""}
            if kind == "rating_invite":
                link = (
                    f"{self.base_url}/t/{e.ticket_id}"
                    if self.invite is None
                    else self.invite(uow, e)
                )
                if link is None:
                    continue
                params["link"] = link
            key = f"{kind}:{e.ticket_id}:{int(e.ts.timestamp() * 1000)}"
            if kind == "rating_invite":  # one per service segment (the clerk's too)
                key = f"{kind}:{e.ticket_id}:{e.payload.get('segment', 0)}"
            self.notices.tell(uow, kind, hall=e.hall, refs=refs, params=params, key=key)


class CaseNotices:
    """The 好差评 case's notices to the citizen who rated, in the case's transaction:
    ``callback_scheduled`` when a bad review opens a case (回访 by its deadline) and
    ``rectified`` when the problem is put right, with the link to rate the rectification.

    ``link_of(ticket_id, ticket_channel)`` gives the ticket page address with the holder's
    rating key in its fragment (the page's rectification card needs the key).
    """

    def __init__(self, notices: NoticeQueue, link_of: Callable[[str, str], str]) -> None:
        self.notices = notices
        self.link_of = link_of

    def __call__(self, uow: UnitOfWork, events: Sequence[DomainEvent]) -> None:
        for e in events:
            if not e.ticket_id:
                continue
            if e.type is EventType.CASE_OPENED:
                self._callback(uow, e)
            elif e.type is EventType.CASE_CHANGED and e.payload.get("to") == "rectified":
                self._rectified(uow, e)

    def _refs(self, uow: UnitOfWork, ticket_id: str) -> list[tuple[str, str]]:
        booking = bookings.by_ticket(uow.conn, ticket_id)
        return self.notices.refs(None if booking is None else booking.code, ticket_id)

    def _callback(self, uow: UnitOfWork, e: DomainEvent) -> None:
        deadline = date.fromisoformat(str(e.payload["callback_deadline"]))
        params = {"when": f"{deadline:%m月%d日}", "number": e.ticket_number or ""}
        key = f"callback_scheduled:{e.payload['case']}"
        assert e.ticket_id is not None
        refs = self._refs(uow, e.ticket_id)
        self.notices.tell(uow, "callback_scheduled", hall=e.hall, refs=refs, params=params, key=key)

    def _rectified(self, uow: UnitOfWork, e: DomainEvent) -> None:
        assert e.ticket_id is not None
        row = repo.get_ticket_row(uow.conn, e.ticket_id)
        params = {"number": e.ticket_number or "", "link": self.link_of(e.ticket_id, row.channel)}
        key = f"rectified:{e.payload['case']}"
        refs = self._refs(uow, e.ticket_id)
        self.notices.tell(uow, "rectified", hall=e.hall, refs=refs, params=params, key=key)
