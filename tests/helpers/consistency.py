"""Invariants that must hold in any committed state of the database, whatever happened."""

from __future__ import annotations

from collections import Counter, defaultdict

from sqlalchemy import select

from queue_engine.adapters.orm import EventRow, TicketCounterRow, TicketRow, WindowRow
from queue_engine.adapters.unit_of_work import Database, UnitOfWork

LAST_EVENT_FOR_STATUS = {
    "waiting": {"ticket.issued", "ticket.transferred", "ticket.no_show"},
    "called": {"ticket.called", "ticket.recalled"},
    "serving": {"ticket.started"},
    "done": {"ticket.finished"},
    "no_show": {"ticket.no_show"},
    "cancelled": {"ticket.cancelled"},
}


def assert_consistent(db: Database) -> dict[str, int]:
    """Check tickets, events, counters and windows agree; return ticket counts by status."""
    with UnitOfWork(db, write=False) as uow:
        s = uow.session
        tickets = list(s.scalars(select(TicketRow)))
        windows = list(s.scalars(select(WindowRow)))
        counters = list(s.scalars(select(TicketCounterRow)))
        ticket_events: dict[str, list[str]] = defaultdict(list)
        for ticket_id, kind in s.execute(
            select(EventRow.ticket_id, EventRow.type).order_by(EventRow.id)
        ):
            if ticket_id is not None:
                ticket_events[ticket_id].append(kind)

    by_id = {t.id: t for t in tickets}
    assert set(ticket_events) <= set(by_id), "events for tickets that do not exist"
    for t in tickets:
        kinds = ticket_events[t.id]
        assert kinds and kinds[0] == "ticket.issued", f"{t.id} lacks its issued event"
        assert kinds.count("ticket.issued") == 1
        assert kinds[-1] in LAST_EVENT_FOR_STATUS[t.status], (t.status, kinds)

    numbers = defaultdict(list)
    for t in tickets:
        numbers[(t.hall_id, t.prefix, t.business_date)].append(t.seq)
    for key, seqs in numbers.items():
        assert sorted(seqs) == list(range(1, len(seqs) + 1)), f"gaps or repeats in {key}"
    for c in counters:
        assert c.last_seq == len(numbers[(c.hall_id, c.prefix, c.business_date)])

    holders = {w.current_ticket_id: w for w in windows if w.current_ticket_id is not None}
    for t in tickets:
        if t.status in ("called", "serving"):
            assert t.id in holders and holders[t.id].id == t.window_id, f"{t.id} lost its window"
    for ticket_id, w in holders.items():
        assert by_id[ticket_id].status in ("called", "serving"), "window holds a finished ticket"
        assert w.state == "open"
    return dict(Counter(t.status for t in tickets))
