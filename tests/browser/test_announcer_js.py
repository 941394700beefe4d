"""The board's announcement queue and texts (static/display/announce.js), run in chromium.

The queue is played here by a stand-in loudspeaker that records each step and takes a few
milliseconds, so these tests check the order and the rules, not sound: one call at a time, in
the order called, chime first, said `repeat` times, never dropped, once per event, and never
stalled by a speech engine that does not answer.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from display.announce import AnnouncementError, announcement

pytestmark = pytest.mark.browser

ANNOUNCE_JS = Path(__file__).resolve().parents[2] / "display/static/display/announce.js"

# A loudspeaker that logs "chime A001", "say A001 #0", ... and checks that steps never overlap.
FAKE_PLAYER = """
window.makePlayer = (options = {}) => {
  const log = [];
  let active = 0;
  const step = (entry, ms) => {
    active += 1;
    if (active > 1) log.push("OVERLAP");
    log.push(entry);
    return new Promise((resolve) => setTimeout(() => { active -= 1; resolve(); }, ms));
  };
  return {
    log,
    chime: (item) => step(`chime ${item.number}`, 5),
    say: (item, round) => {
      if (options.hang && options.hang.includes(item.number)) {
        log.push(`hang ${item.number} #${round}`);
        return new Promise(() => {});  // a speech engine that never says it has finished
      }
      if (options.fail && options.fail.includes(item.number)) throw new Error("no voice");
      return step(`say ${item.number} #${round}`, options.sayMs || 10);
    },
  };
};
window.call = (number, window, id) => ({ ...HallAnnounce.announcement(number, window), id });
window.drained = (queue) => new Promise((resolve) => {
  const poll = () => (queue.length === 0 ? resolve() : setTimeout(poll, 5));
  poll();
});
"""


@pytest.fixture(scope="module")
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context()
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.set_content("<!doctype html><html><body></body></html>")
    tab.add_script_tag(path=str(ANNOUNCE_JS))
    tab.add_script_tag(content=FAKE_PLAYER)
    yield tab
    context.close()
    assert errors == []


def run(page: Any, script: str) -> Any:
    """Run an async function body in the page and return its result."""
    return page.evaluate(f"async () => {{ {script} }}")


# -- texts ---------------------------------------------------------------------------------

SAMPLES = [
    ("A023", 5),
    ("F1000", 15),
    ("B100", 10),
    ("C010", 20),
    ("N999", 22),
    ("K00001", 1),
    ("L042", 101),
    ("M777", 110),
    ("E123", 999),
    ("A023", "15"),
    ("a023", 5),
    ("A23", 5),
    ("A023", 0),
    ("A023", "05"),
    ("A023", 1000),
    ("A023号", 5),
    ("", ""),
]


def test_the_browser_builds_the_same_texts_as_the_server(page: Any) -> None:
    browser_texts = page.evaluate(
        "samples => samples.map(([n, w]) => HallAnnounce.announcement(n, w))",
        [list(s) for s in SAMPLES],
    )
    for (number, window), in_browser in zip(SAMPLES, browser_texts, strict=True):
        try:
            expected = announcement(number, window)
        except AnnouncementError:
            assert in_browser is None, (number, window)
            continue
        assert in_browser == {
            "number": expected.number,
            "window": expected.window,
            "text": expected.text,
            "speech": expected.speech,
        }


# -- the queue -----------------------------------------------------------------------------


def test_calls_in_quick_succession_are_said_one_after_another_in_order(page: Any) -> None:
    result = run(
        page,
        """
        const player = makePlayer();
        const q = new HallAnnounce.AnnouncementQueue(player, { repeat: 2, gapMs: 1 });
        q.enqueue(call("A001", 1, "e1"));
        q.enqueue(call("A002", 2, "e2"));
        q.enqueue(call("B001", 3, "e3"));
        const queuedAtOnce = q.announcements.slice();
        await drained(q);
        return { queuedAtOnce, played: q.played, log: player.log };
        """,
    )
    texts = ["请 A001 号到 1 号窗口办理", "请 A002 号到 2 号窗口办理", "请 B001 号到 3 号窗口办理"]
    assert result["queuedAtOnce"] == texts
    assert result["played"] == texts
    assert result["log"] == [
        "chime A001", "say A001 #0", "say A001 #1",
        "chime A002", "say A002 #0", "say A002 #1",
        "chime B001", "say B001 #0", "say B001 #1",
    ]  # fmt: skip


def test_a_call_arriving_while_another_is_said_waits_its_turn(page: Any) -> None:
    log = run(
        page,
        """
        const player = makePlayer({ sayMs: 40 });
        const q = new HallAnnounce.AnnouncementQueue(player, { repeat: 1, gapMs: 1 });
        q.enqueue(call("A001", 1, "x1"));
        await new Promise((r) => setTimeout(r, 20));  // A001 is being said now
        q.enqueue(call("C007", 4, "x2"));
        await drained(q);
        return player.log;
        """,
    )
    assert log == ["chime A001", "say A001 #0", "chime C007", "say C007 #0"]


def test_the_repeat_count_is_configurable(page: Any) -> None:
    log = run(
        page,
        """
        const player = makePlayer();
        const q = new HallAnnounce.AnnouncementQueue(player, { repeat: 3, gapMs: 1 });
        q.enqueue(call("D004", 7, "r1"));
        await drained(q);
        return player.log;
        """,
    )
    assert log == ["chime D004", "say D004 #0", "say D004 #1", "say D004 #2"]


def test_an_event_is_announced_once_but_a_recall_is_announced_again(page: Any) -> None:
    played = run(
        page,
        """
        const q = new HallAnnounce.AnnouncementQueue(makePlayer(), { repeat: 1, gapMs: 1 });
        const first = q.enqueue(call("A001", 1, "called-1"));
        const again = q.enqueue(call("A001", 1, "called-1"));   // the same event twice
        const recall = q.enqueue(call("A001", 1, "recalled-1"));  // the clerk's recall
        await drained(q);
        return { first, again, recall, played: q.played };
        """,
    )
    assert (played["first"], played["again"], played["recall"]) == (True, False, True)
    assert played["played"] == ["请 A001 号到 1 号窗口办理"] * 2


def test_a_speech_engine_that_never_finishes_does_not_stall_the_queue(page: Any) -> None:
    result = run(
        page,
        """
        const player = makePlayer({ hang: ["A001"] });
        const q = new HallAnnounce.AnnouncementQueue(
          player, { repeat: 1, gapMs: 1, stepTimeoutMs: 60 });
        q.enqueue(call("A001", 1, "h1"));
        q.enqueue(call("A002", 2, "h2"));
        await drained(q);
        return { log: player.log, played: q.played };
        """,
    )
    assert result["log"] == ["chime A001", "hang A001 #0", "chime A002", "say A002 #0"]
    assert result["played"] == ["请 A001 号到 1 号窗口办理", "请 A002 号到 2 号窗口办理"]


def test_a_failing_voice_does_not_lose_the_calls_after_it(page: Any) -> None:
    played = run(
        page,
        """
        const q = new HallAnnounce.AnnouncementQueue(
          makePlayer({ fail: ["A001"] }), { repeat: 2, gapMs: 1 });
        q.enqueue(call("A001", 1, "f1"));
        q.enqueue(call("A002", 2, "f2"));
        await drained(q);
        return q.played;
        """,
    )
    assert played == ["请 A001 号到 1 号窗口办理", "请 A002 号到 2 号窗口办理"]


def test_a_long_backlog_is_said_once_per_call_until_it_has_caught_up(page: Any) -> None:
    log = run(
        page,
        """
        const player = makePlayer();
        const q = new HallAnnounce.AnnouncementQueue(player, { repeat: 2, gapMs: 1, backlog: 2 });
        for (const [n, w] of [["A001", 1], ["A002", 2], ["A003", 1], ["A004", 2]]) {
          q.enqueue(call(n, w, n));
        }
        await drained(q);
        return player.log.filter((entry) => entry.startsWith("say"));
        """,
    )
    # A001 starts with three behind it and A002 with two: once each; then the normal twice.
    assert log == [
        "say A001 #0", "say A002 #0", "say A003 #0", "say A003 #1", "say A004 #0", "say A004 #1",
    ]  # fmt: skip


def test_the_queue_keeps_bounded_logs_for_days_of_calls(page: Any) -> None:
    sizes = run(
        page,
        """
        const player = { chime: () => null, say: () => null };
        const q = new HallAnnounce.AnnouncementQueue(
          player, { repeat: 1, gapMs: 0, logSize: 5, seenSize: 20 });
        for (let i = 1; i <= 60; i += 1) {
          q.enqueue(call(`F${String(i).padStart(3, "0")}`, 10, `id-${i}`));
        }
        await drained(q);
        return {
          announcements: q.announcements.length, played: q.played.length,
          seen: q.seen.keys.size, last: q.played[q.played.length - 1],
          // a recent event id is still refused
          recentAgain: q.enqueue(call("F060", 10, "id-60")),
        };
        """,
    )
    assert sizes == {
        "announcements": 5,
        "played": 5,
        "seen": 20,
        "last": "请 F060 号到 10 号窗口办理",
        "recentAgain": False,
    }
