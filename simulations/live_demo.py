"""``hall demo``: play a simulated day against a running server through its real HTTP API.

Like a rehearsal with stand-ins: the citizens of a planning scenario take tickets at the kiosk
(or in the app), the demo clerks log in, open their windows, call, start and finish tickets,
take a staggered lunch pause, and some citizens leave a review; everything goes through
``/api/v1`` exactly as people would, so the board, the window screens and the supervisor's
dashboard come alive. Time runs faster than real time (``simpy.rt``): at ``--speed 60`` one
simulated minute lasts one real second and a nine-hour day about nine minutes.

The dispatch itself is the server's: the driver only presses "call next". ``POST /auth/token``
allows ten logins a minute, so each clerk logs in once, and waits politely when told to. The
driver stops when the server stops answering.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

import numpy as np
import simpy
import simpy.rt

from queue_engine.seed import DEMO_USERS

from .demo import NINE_HOUR_PROFILE, demo_scenario
from .model import _handling, script

log = logging.getLogger("hall.demo")
API = "/api/v1"
GIVE_UP_SECONDS = 15.0  # the server is gone once it has not answered for this long


class ServerGone(RuntimeError):
    """The server stopped answering: the demo ends with it."""


@dataclass
class Reply:
    status: int
    body: Any


class Client:
    """A small JSON client on urllib (no extra dependency), tolerant of a busy server."""

    def __init__(self, base: str, timeout: float = 10.0, give_up: float = GIVE_UP_SECONDS) -> None:
        self.base = base.rstrip("/")
        self.timeout = timeout
        self.give_up = give_up
        self.failing_since: float | None = None

    def call(self, method: str, path: str, body: Any = None, token: str | None = None) -> Reply:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + API + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if token is not None:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                raw = response.read()
                reply = Reply(response.status, json.loads(raw) if raw else None)
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                reply = Reply(exc.code, json.loads(raw) if raw else None)
            except ValueError:
                reply = Reply(exc.code, None)
        except (urllib.error.URLError, OSError) as exc:
            now = time.monotonic()
            self.failing_since = self.failing_since or now
            if now - self.failing_since > self.give_up:
                raise ServerGone(f"{self.base} does not answer: {exc}") from None
            return Reply(0, None)
        self.failing_since = None
        return reply

    def wait_until_up(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.base + API + "/openapi.json", timeout=2):
                    return
            except (urllib.error.URLError, OSError):
                time.sleep(0.5)
        raise ServerGone(f"no server at {self.base} after {seconds:.0f} s")


@dataclass
class Stats:
    tickets: int = 0
    called: int = 0
    finished: int = 0
    no_shows: int = 0
    evaluations: int = 0
    errors: int = 0


class Demo:
    """One simulated day (or several) played against the server."""

    def __init__(
        self,
        client: Client,
        hall: str,
        speed: float,
        seed: int,
        per_day: float,
        tokens: dict[str, str] | None = None,
    ) -> None:
        self.client = client
        self.tokens = {} if tokens is None else tokens
        self.hall = hall
        self.rng = np.random.default_rng(seed)
        self.scenario = demo_scenario(1, per_day=per_day, profile=NINE_HOUR_PROFILE)
        self.env = simpy.rt.RealtimeEnvironment(factor=60.0 / speed, strict=False)
        self.users = {name: password for name, password, _, _ in DEMO_USERS}
        self.stats = Stats()
        self.rating_keys: dict[str, str] = {}  # the citizens' slips: ticket id → rating key
        self.kiosk_token: str | None = None
        self.day_over = False

    # -- helpers ------------------------------------------------------------------------------
    def login(self, username: str) -> Generator[simpy.Event, None, str]:
        """A token for ``username`` (once a run); when rate-limited, wait and retry."""
        if username in self.tokens:
            return self.tokens[username]
        while True:
            reply = self.client.call(
                "POST", "/auth/token", {"username": username, "password": self.users[username]}
            )
            if reply.status == 200:
                self.tokens[username] = str(reply.body["token"])
                return self.tokens[username]
            if reply.status not in (0, 429):
                raise RuntimeError(f"{username} cannot log in: {reply.status} {reply.body}")
            yield self.env.timeout(self._minutes(7.0))

    def _minutes(self, seconds: float) -> float:
        """Simulated minutes that last ``seconds`` of real time."""
        return seconds / self.env.factor

    # -- citizens -----------------------------------------------------------------------------
    def citizens(self) -> Generator[simpy.Event, None, None]:
        self.kiosk_token = yield from self.login("kiosk")
        arrivals, _ = script(self.scenario, self.rng)
        codes = [s.code for s in self.scenario.services]
        start = self.scenario.open_minute
        for t, k, urgent in zip(
            arrivals.t.tolist(), arrivals.service.tolist(), arrivals.priority.tolist(), strict=True
        ):
            if t - start > self.env.now:
                yield self.env.timeout(t - start - self.env.now)
            channel = "kiosk" if self.rng.random() < 0.8 else "app"
            body = {"service": codes[k], "channel": channel, "priority": self._reason(urgent)}
            # App tickets too go with the kiosk's token: one driver plays every citizen's phone
            # from one address, which the public per-address limit would rightly throttle.
            token = self.kiosk_token
            reply = self.client.call("POST", f"/halls/{self.hall}/tickets", body, token)
            if reply.status == 201:
                self.stats.tickets += 1
                self.rating_keys[reply.body["id"]] = reply.body.get("rating_key", "")
            else:
                self.stats.errors += 1
                log.warning("ticket for %s refused: %s %s", codes[k], reply.status, reply.body)
        yield self.env.timeout(max(self.scenario.day_minutes - self.env.now, 0) + 30)
        self.day_over = True

    def _reason(self, urgent: bool) -> str:
        if not urgent:
            return "none"
        return str(self.rng.choice(["elderly", "disabled", "military", "pregnant"]))

    # -- clerks -------------------------------------------------------------------------------
    def clerk(
        self, number: int, window_id: int, lunch_at: float
    ) -> Generator[simpy.Event, None, None]:
        username = f"clerk{number:02d}"
        if username not in self.users:
            return
        token = yield from self.login(username)
        self.client.call("POST", f"/windows/{window_id}/open", {}, token)
        lunch_done = False
        handling = {s.code: s.service_time for s in self.scenario.services}
        while not (self.day_over and self.env.now > self.scenario.day_minutes):
            if not lunch_done and self.env.now >= lunch_at:
                self.client.call("POST", f"/windows/{window_id}/pause", {"reason": "午休"}, token)
                yield self.env.timeout(30)
                self.client.call("POST", f"/windows/{window_id}/resume", {}, token)
                lunch_done = True
            reply = self.client.call("POST", f"/windows/{window_id}/call-next", {}, token)
            if reply.status != 200:
                if reply.status == 409:  # left with an active ticket (e.g. a restart): finish it
                    self._clear(window_id, token)
                yield self.env.timeout(0.5)
                continue
            ticket = reply.body
            self.stats.called += 1
            yield self.env.timeout(0.3)  # the citizen walks up
            if self.rng.random() < self.scenario.no_show_rate:
                self.client.call("POST", f"/tickets/{ticket['id']}/no-show", {}, token)
                self.stats.no_shows += 1
                continue
            self.client.call("POST", f"/tickets/{ticket['id']}/start", {}, token)
            minutes = float(_handling(handling[ticket["service"]], 1, self.rng)[0])
            yield self.env.timeout(minutes)
            done = self.client.call("POST", f"/tickets/{ticket['id']}/finish", {}, token)
            if done.status == 200:
                self.stats.finished += 1
                self._maybe_evaluate(ticket["id"])
        self.client.call("POST", f"/windows/{window_id}/close", {}, token)

    def _clear(self, window_id: int, token: str) -> None:
        reply = self.client.call("GET", f"/windows/{window_id}", None, token)
        current = (reply.body or {}).get("current") if reply.status == 200 else None
        if current:
            if current["status"] == "called":
                self.client.call("POST", f"/tickets/{current['id']}/start", {}, token)
            self.client.call("POST", f"/tickets/{current['id']}/finish", {}, token)

    def _maybe_evaluate(self, ticket_id: str) -> None:
        key = self.rating_keys.pop(ticket_id, None)  # the slip: rated or not, it leaves
        if self.rng.random() >= 0.4 or not key:
            return
        score = int(self.rng.choice([5, 5, 5, 4, 4, 3, 2, 1], p=None))
        comment = {1: "等候时间太长", 2: "材料要求没有一次说清楚"}.get(score)
        body: dict[str, Any] = {"score": score, "key": key}
        if comment:
            body["comment"] = comment
        if self.client.call("POST", f"/tickets/{ticket_id}/evaluation", body).status == 201:
            self.stats.evaluations += 1

    # -- the day ------------------------------------------------------------------------------
    def windows(self) -> list[tuple[int, int]]:
        reply = self.client.call("GET", f"/halls/{self.hall}/windows")
        if reply.status != 200:
            raise RuntimeError(f"hall {self.hall}: {reply.status} {reply.body}")
        return sorted((w["number"], w["id"]) for w in reply.body["windows"])

    def run(self, windows: int | None = None, until: float | None = None) -> Stats:
        """Play one day; ``windows`` limits how many clerks take part, ``until`` the minutes."""
        chosen = self.windows()[:windows]
        self.env.process(self.citizens())
        for n, (number, window_id) in enumerate(chosen):
            lunch = 150 + 90 * (n % 3) / 2  # staggered: 11:00, 11:45, 12:30
            self.env.process(self.clerk(number, window_id, lunch))
        self.env.run(until=until if until is not None else self.scenario.day_minutes + 60)
        return self.stats


def play(
    url: str,
    hall: str = "ZMD",
    speed: float = 60.0,
    seed: int = 0,
    days: int = 0,
    per_day: float = 2000.0,
    windows: int | None = None,
    minutes: float | None = None,
    wait: float = 30.0,
    give_up: float = GIVE_UP_SECONDS,
) -> Stats:
    """Play ``days`` days (0: until the server stops); returns the counts of the last day."""
    client = Client(url, give_up=give_up)
    client.wait_until_up(wait)
    day = 0
    stats = Stats()
    tokens: dict[str, str] = {}
    while days == 0 or day < days:
        demo = Demo(client, hall, speed, seed + day, per_day, tokens)
        stats = demo.run(windows, minutes)
        log.info("demo day %d: %s", day + 1, stats)
        day += 1
    return stats
