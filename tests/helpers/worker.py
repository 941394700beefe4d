"""A hall worker for crash tests: issues and serves tickets until it is killed.

Usage, from the repository root (or with it on PYTHONPATH):

    python -m tests.helpers.worker DATABASE_URL HALL FIRST_WINDOW_ID WINDOWS

It prints one line per committed change ("issued ID", "called ID", "finished ID"), flushed.
"""

from __future__ import annotations

import sys

from queue_engine.adapters.unit_of_work import Database
from queue_engine.services.tickets import QueueEngine


def main() -> None:
    url, hall, first, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    engine = QueueEngine(Database(url))
    windows = list(range(first, first + count))
    for w in windows:
        engine.open_window(w, f"w{w}")
    print("ready", flush=True)
    n = 0
    while True:
        ticket = engine.issue(hall, "A" if n % 2 else "B", check_hours=False).ticket
        print("issued", ticket.id, flush=True)
        w = windows[n % len(windows)]
        current = engine.current_ticket(w)
        if current is not None:
            if current.status == "called":
                engine.start(current.id)
            engine.finish(current.id)
            print("finished", current.id, flush=True)
        called = engine.call_next(w)
        if called is not None:
            print("called", called.id, flush=True)
        n += 1


if __name__ == "__main__":
    main()
