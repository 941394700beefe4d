"""The pool gate: first come, first served; a freed place goes to the longest waiting thread."""

from __future__ import annotations

import threading
import time

from queue_engine.adapters.fair_gate import FairGate


def wait_until(condition: object, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


def test_places_are_handed_on_in_the_order_threads_came() -> None:
    gate = FairGate(1)
    assert gate.enter(1)
    order: list[int] = []

    def waiter(n: int) -> None:
        assert gate.enter(5)
        order.append(n)
        gate.leave()

    threads = []
    for n in range(5):
        t = threading.Thread(target=waiter, args=(n,))
        t.start()
        threads.append(t)
        wait_until(lambda n=n: gate.waiting == n + 1)
    gate.leave()
    for t in threads:
        t.join()
    assert order == [0, 1, 2, 3, 4]
    assert gate.free == 1 and gate.waiting == 0


def test_a_thread_that_gives_a_place_back_cannot_take_it_again_before_a_waiter() -> None:
    # The pool's own queue lets the thread that has just returned a connection take it again
    # (it still runs); the gate hands the place to the waiter instead.
    gate = FairGate(1)
    assert gate.enter(1)
    entered = threading.Event()

    def waiter() -> None:
        assert gate.enter(5)
        entered.set()
        time.sleep(0.05)
        gate.leave()

    t = threading.Thread(target=waiter)
    t.start()
    wait_until(lambda: gate.waiting == 1)
    gate.leave()
    assert gate.free == 0  # passed on, not freed
    assert not gate.enter(0.0)  # nor can this thread barge in before the waiter
    t.join()
    assert entered.is_set()


def test_no_place_within_the_timeout_and_the_turn_is_given_up() -> None:
    gate = FairGate(1)
    assert gate.enter(1)
    result: list[bool] = []
    t = threading.Thread(target=lambda: result.append(gate.enter(0.05)))
    t.start()
    t.join()
    assert result == [False] and gate.waiting == 0
    gate.leave()
    assert gate.free == 1


def test_a_nested_unit_on_the_same_thread_takes_no_second_place() -> None:
    gate = FairGate(1)
    assert gate.enter(1)
    assert gate.enter(0.0)  # would wait for itself otherwise
    gate.leave()
    assert gate.free == 0
    gate.leave()
    assert gate.free == 1
