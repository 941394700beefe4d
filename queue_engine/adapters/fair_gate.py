"""A first-come, first-served gate in front of a connection pool.

SQLAlchemy's ``QueuePool`` wakes a waiting thread when a connection comes back, but does not
hand the connection to it: the thread that has just returned one (and still holds the GIL)
takes it again for its next command before the woken thread runs. With more threads than
connections (16 clerks and 8 kiosks on a pool of 20), the same few threads can keep every
connection while another waits out the pool's timeout: pool exhaustion with connections
free most of the time. The gate admits at most as many units of work as the pool holds and
hands a place that comes free straight to the thread that has waited longest.
"""

from __future__ import annotations

import threading
from collections import deque


class FairGate:
    """At most ``places`` holders at once; waiting threads enter in the order they came.

    Re-entrant per thread: a unit of work opened inside another one on the same thread takes
    no second place (it could otherwise wait for itself).
    """

    def __init__(self, places: int) -> None:
        self._free = places
        self._lock = threading.Lock()
        self._waiting: deque[threading.Event] = deque()
        self._held = threading.local()

    def enter(self, timeout: float) -> bool:
        """Take a place (False when none came free within ``timeout`` seconds)."""
        depth = getattr(self._held, "depth", 0)
        if depth:
            self._held.depth = depth + 1
            return True
        with self._lock:
            if self._free > 0 and not self._waiting:
                self._free -= 1
                self._held.depth = 1
                return True
            turn = threading.Event()
            self._waiting.append(turn)
        if not turn.wait(timeout):
            with self._lock:
                if not turn.is_set():  # nobody handed us a place: give up our turn
                    self._waiting.remove(turn)
                    return False
            # handed a place just as the wait ran out: keep it
        self._held.depth = 1
        return True

    def leave(self) -> None:
        """Give the place back: to the longest waiting thread, if any."""
        depth = self._held.depth - 1
        self._held.depth = depth
        if depth:
            return
        with self._lock:
            if self._waiting:
                self._waiting.popleft().set()  # the place passes on, never becomes free
            else:
                self._free += 1

    @property
    def free(self) -> int:
        """Places nobody holds (all of them once every unit of work has closed)."""
        return self._free

    @property
    def waiting(self) -> int:
        return len(self._waiting)
