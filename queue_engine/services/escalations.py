"""Escalation cards (效能监察) reach people: a yellow card the window's clerk and the head of
its department, a red card the hall's supervisors, as notices through the outbox (issue 19).

Like the duty roster pinned by the supervisor's door: each member of staff has left a phone
number or a WeChat account with the administrator, sealed in an envelope only the messenger
opens; when a card is issued, the messenger takes one letter per person (one per address),
and for somebody who left no address a note goes on the staff board instead (the ``log``
channel: a masked log line that the delivery log keeps for admins).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from queue_engine.adapters import citizen_records as bookings
from queue_engine.adapters import outbox_store as store
from queue_engine.adapters import staff_store as staff
from queue_engine.adapters.unit_of_work import UnitOfWork
from queue_engine.domain.access import Actor
from queue_engine.domain.efficiency import REASON_LABELS, CardReason
from queue_engine.domain.errors import InvalidInput
from queue_engine.domain.events import DomainEvent, EventType
from queue_engine.domain.identity import keyed_hash
from queue_engine.domain.notice_templates import render
from queue_engine.services.admin import AdminDesk, require_user_admin
from queue_engine.services.desk import Desk
from queue_engine.services.notices import NoticeQueue, check_contact

STAFF = "staff"  # the contacts' subject of a staff address (ref: the username)
REASONS_EN = {
    CardReason.CALLBACK_OVERDUE: "call-back overdue",
    CardReason.RECTIFY_OVERDUE: "rectification overdue",
}
MAX_DEPARTMENT = 60


class CardNotices:
    """``card.issued`` → one notice per recipient and address, in the sweep's transaction."""

    def __init__(self, notices: NoticeQueue) -> None:
        self.notices = notices

    def __call__(self, uow: UnitOfWork, events: Sequence[DomainEvent]) -> None:
        for e in events:
            if e.type is EventType.CARD_ISSUED:
                self._card(uow, e)

    def recipients(self, uow: UnitOfWork, e: DomainEvent) -> list[str]:
        """Yellow: the rated clerk and the department's heads; red: the hall's supervisors."""
        if e.payload["colour"] == "red":
            return staff.supervisors(uow.conn, e.hall)
        case = bookings.case_by_id(uow.conn, int(e.payload["case"]))
        clerk = [] if case is None or not case.clerk else [str(case.clerk)]
        heads = staff.department_heads(uow.conn, e.hall, str(e.payload.get("department") or ""))
        return list(dict.fromkeys(clerk + heads))

    def _card(self, uow: UnitOfWork, e: DomainEvent) -> None:
        p = e.payload
        kind = f"card_{p['colour']}"
        reason = CardReason(p["reason"])
        params = {
            "window": e.window or "",
            "reason": REASON_LABELS[reason],
            "reason_en": REASONS_EN[reason],
            "deadline": p["deadline"],
            "case": p["case"],
            "card": p["card"],
        }
        for username in self.recipients(uow, e):
            key = f"{kind}:{p['card']}:{username}"
            refs = [(STAFF, username)]
            if self.notices.tell(uow, kind, hall=e.hall, refs=refs, params=params, key=key):
                continue
            self.notices.outbox.enqueue(  # no address left: the staff board (log channel)
                uow,
                channel="log",
                kind=kind,
                hall=e.hall,
                key=f"{key}:log",
                to=username,
                text=render(kind, params),
                params={**params, "staff": username},
            )


class StaffContactDesk(Desk):
    """Where a member of staff is reached (phone, WeChat openid, sealed) and which department
    they head; written by administrators through the admin API, audited."""

    def __init__(self, admin: AdminDesk, notices: NoticeQueue, pepper: bytes) -> None:
        self.admin = admin
        self.db = admin.db
        self.notices = notices
        self.pepper = pepper

    def view(self, actor: Actor, username: str) -> dict[str, Any]:
        self.admin.user(actor, username)  # 404 / 403 as for the account itself
        with UnitOfWork(self.db, write=False) as uow:
            return self._view(uow, username)

    def _view(self, uow: UnitOfWork, username: str) -> dict[str, Any]:
        channels = {c.channel for c in store.contacts(uow.conn, STAFF, username)}
        return {
            "username": username,
            "phone": "sms" in channels,
            "wechat": "wechat" in channels,
            "heads_department": staff.heads_department(uow.conn, username),
        }

    def update(self, actor: Actor, username: str, data: Mapping[str, Any]) -> dict[str, Any]:
        """Set (a value), remove (null or empty) or keep (absent) each of ``phone``,
        ``wechat_openid`` and ``heads_department``."""
        user = self.admin.user(actor, username)
        require_user_admin(actor, user["hall"])
        given = check_contact(data.get("phone") or None, data.get("wechat_openid") or None)
        now = self.admin.clock.now()
        with self.unit() as uow:
            before = self._view(uow, username)
            for field, channel in (("phone", "sms"), ("wechat_openid", "wechat")):
                if field not in data:
                    continue
                if channel in given:
                    self._keep(uow, user["hall"], username, channel, given[channel], now)
                else:
                    store.remove_contact(uow.conn, STAFF, username, channel)
            if "heads_department" in data:
                staff.set_heads_department(uow.conn, username, _department(data))
            after = self._view(uow, username)
            uow.record_audit(now, {"staff_contact": username, "before": before, "after": after})
            uow.commit()
        return after

    def _keep(
        self, uow: UnitOfWork, hall: str | None, username: str, channel: str, to: str, now: Any
    ) -> None:
        ciphertext, key_id = self.notices.outbox.seal(channel, to)
        phone_hash = keyed_hash(to, self.pepper, "phone") if channel == "sms" else None
        store.save_contact(
            uow.conn,
            {
                "hall": hall or "*",
                "subject": STAFF,
                "ref": username,
                "channel": channel,
                "ciphertext": ciphertext,
                "key_id": key_id,
                "phone_hash": phone_hash,
                "lang": "zh",
                "created_at": now,
                "purge_after": None,
            },
        )


def _department(data: Mapping[str, Any]) -> str | None:
    value = " ".join(str(data.get("heads_department") or "").split())
    if len(value) > MAX_DEPARTMENT:
        raise InvalidInput(f"a department name is at most {MAX_DEPARTMENT} characters")
    return value or None
