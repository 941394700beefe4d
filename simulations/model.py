"""The SimPy model of a hall: windows call tickets with the live hall's own dispatch policy.

Picture the hall as a stage play. The script (all arrivals of the run: who comes, when, for what,
how long they will take, how patient they are) is written in advance with numpy; SimPy then plays
it. Each window is an actor (a process) that, when free, asks
``queue_engine.domain.policy.choose_next`` which ticket to call, exactly as the live engine does;
citizens are plain rows in arrays.

Two things keep it fast without changing any decision:

* The policy only ever picks, per service and class, the ticket queued first (or a checked-in
  appointment), so the model hands it the *head* of each service's regular and priority queue and
  all waiting appointment tickets instead of the whole queue: the same minimum of the same keys.
  When that short list has one ticket there is no choice to make and the policy is not asked.
* Impatient citizens leave lazily: a ticket whose patience ran out is dropped (and logged as
  cancelled at the moment it gave up) when it reaches the head of its queue.

Several services on one ticket (issue 18): each service of a citizen is a row of its own (a
*segment*), linked to the next by ``Arrivals.next``. A later segment is not in the script's
arrival stream: it joins its line when the previous one finishes, placed by the ticket's
original issue time (ahead of tickets issued after it), so the same policy decides.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Generator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import simpy

from queue_engine.domain.estimate import HandlingStats, OpenWindow, estimate_wait
from queue_engine.domain.policy import Candidate, DispatchRules, GuardKind, WindowView, choose_next

from .scenario import Empirical, Exponential, Lognormal, Scenario, clock_minutes

DAY = 1440.0
INF = math.inf

WAITING, DONE, NO_SHOW, ABANDONED, CLOSED, IN_SERVICE = 0, 1, 2, 3, 4, 5
LATE_AFTER_MINUTES = 15.0  # later appointment arrivals become walk-ins (SPEC §4)


@dataclass
class SimWindow:
    """One window: skills, the absolute minutes it is open, and its state during a run."""

    id: int
    skills: dict[str, bool]
    starts: list[float]
    ends: list[float]
    ptr: int = 0
    idle: bool = False
    wake: simpy.Event | None = None
    cycle: int = 0
    busy: float = 0.0
    skill_idx: list[int] = field(default_factory=list)
    views: tuple[OpenWindow, OpenWindow] = field(init=False)  # as the estimate sees it

    def __post_init__(self) -> None:
        self.views = (OpenWindow(self.skills, False), OpenWindow(self.skills, True))

    lines: list[deque[int]] = field(default_factory=list)  # regular and priority walk-in lines
    booked: list[list[int]] = field(default_factory=list)  # checked-in appointments

    def available(self, t: float) -> bool:
        while self.ptr < len(self.ends) and self.ends[self.ptr] <= t:
            self.ptr += 1
        return self.ptr < len(self.ends) and self.starts[self.ptr] <= t

    def next_start(self) -> float | None:
        return self.starts[self.ptr] if self.ptr < len(self.starts) else None

    @property
    def open_minutes(self) -> float:
        return math.fsum(e - s for s, e in zip(self.starts, self.ends, strict=True))


@dataclass
class Arrivals:
    """The script of a run: one entry per citizen, sorted by arrival time."""

    t: np.ndarray  # arrival minute since the first day's midnight
    service: np.ndarray  # index into scenario.services
    priority: np.ndarray  # bool
    slot: np.ndarray  # slot start minute, nan for walk-ins
    handling: np.ndarray  # minutes
    gives_up: np.ndarray  # minute at which patience runs out (inf when patient)
    no_show: np.ndarray  # bool: will not come when called
    next: np.ndarray | None = None  # the citizen's next segment (row index), −1 after the last

    def __post_init__(self) -> None:
        if self.next is None:
            self.next = np.full(self.t.size, -1, dtype=np.int64)
        nxt = self.next
        self.first = np.ones(self.t.size, dtype=bool)  # the rows that arrive on their own
        self.first[nxt[nxt >= 0]] = False


@dataclass
class SimResult:
    """What happened to every citizen and window in one run (times in minutes)."""

    scenario: Scenario
    arrivals: Arrivals
    called: np.ndarray
    finished: np.ndarray
    window: np.ndarray
    status: np.ndarray
    ended: np.ndarray  # when an abandoned or closed-out ticket left
    windows: list[SimWindow]
    estimates: list[tuple[float, float]] | None
    appointment_no_shows: int
    ready: np.ndarray | None = None  # when each row joined its line (nan: never)


def window_schedule(
    scenario: Scenario, open_hours: list[bool] | None, breaks: list[tuple[int, int]]
) -> list[tuple[float, float]]:
    """The open intervals of one window over all days (a window open at closing time stays until
    its queue is empty, at the latest midnight)."""
    first = scenario.open_minute
    length = scenario.day_minutes
    days = 1 if scenario.horizon_minutes is not None else scenario.days
    intervals: list[tuple[float, float]] = []
    for d in range(days):
        base = d * DAY + first
        day: list[tuple[float, float]] = []
        step = 60 if open_hours is None or len(open_hours) == scenario.hours else 30
        for h in range(math.ceil(length / step - 1e-9)):
            if open_hours is not None and not open_hours[h]:
                continue
            s, e = base + step * h, base + min(step * (h + 1), length)
            if day and day[-1][1] == s:
                day[-1] = (day[-1][0], e)
            else:
                day.append((s, e))
        for bs, be in breaks:
            cut: list[tuple[float, float]] = []
            for s, e in day:
                b0, b1 = d * DAY + bs, d * DAY + be
                if b1 <= s or b0 >= e:
                    cut.append((s, e))
                    continue
                if s < b0:
                    cut.append((s, b0))
                if b1 < e:
                    cut.append((b1, e))
            day = cut
        if scenario.horizon_minutes is None and day and day[-1][1] >= base + length:
            day[-1] = (day[-1][0], d * DAY + DAY)
        intervals.extend(day)
    return intervals


def build_windows(scenario: Scenario) -> list[SimWindow]:
    """Expand the scenario's window entries into numbered windows with their schedules."""
    taken = {w.id for w in scenario.windows if w.id is not None}
    next_id = 1
    windows: list[SimWindow] = []
    codes = [s.code for s in scenario.services]
    for group in scenario.windows:
        skills = {**{s: False for s in group.secondary}, **{s: True for s in group.services}}
        breaks = [(clock_minutes(b.start), clock_minutes(b.end)) for b in group.breaks]
        schedule = window_schedule(scenario, group.open, breaks)
        for _ in range(group.size):
            if group.id is not None:
                wid = group.id
            else:
                while next_id in taken:
                    next_id += 1
                wid = next_id
                taken.add(wid)
            windows.append(
                SimWindow(
                    wid,
                    skills,
                    [s for s, _ in schedule],
                    [e for _, e in schedule],
                    skill_idx=[codes.index(c) for c in skills],
                )
            )
    return sorted(windows, key=lambda w: w.id)


def _handling(
    spec: Exponential | Lognormal | Empirical, n: int, rng: np.random.Generator
) -> np.ndarray:
    if isinstance(spec, Exponential):
        return rng.exponential(spec.mean_minutes, n)
    if isinstance(spec, Lognormal):
        sigma2 = math.log1p(spec.cv**2)
        return rng.lognormal(math.log(spec.mean_minutes) - sigma2 / 2, math.sqrt(sigma2), n)
    return rng.choice(np.asarray(spec.samples, dtype=float), n)


def _poisson_times(
    rates: list[float], start: float, length: float, rng: np.random.Generator
) -> np.ndarray:
    """Arrival minutes of a Poisson stream whose hourly rate changes each hour."""
    parts = []
    for h, rate in enumerate(rates):
        span = min(60.0, length - 60 * h)
        if rate <= 0 or span <= 0:
            continue
        n = rng.poisson(rate * span / 60)
        parts.append(start + 60 * h + np.sort(rng.uniform(0, span, n)))
    return np.concatenate(parts) if parts else np.empty(0)


def _stats(spec: Exponential | Lognormal | Empirical) -> HandlingStats:
    """What the estimate knows of a service's handling time: its mean and variability."""
    return HandlingStats(spec.mean_minutes, spec.cv if isinstance(spec, Lognormal) else 1.0)


def script(scenario: Scenario, rng: np.random.Generator) -> tuple[Arrivals, int]:
    """Every citizen of the run, drawn in advance; also how many booked citizens never came."""
    days = 1 if scenario.horizon_minutes is not None else scenario.days
    length, first = scenario.day_minutes, scenario.open_minute
    appt = scenario.appointments
    cols: dict[str, list[np.ndarray]] = {k: [] for k in ("t", "s", "slot")}
    missed = 0
    for d in range(days):
        base = d * DAY + first
        for k, svc in enumerate(scenario.services):
            rates = scenario.rates(svc)
            walk = _poisson_times(
                [r * (1 - svc.appointment_share) for r in rates], base, length, rng
            )
            cols["t"].append(walk)
            cols["s"].append(np.full(walk.size, k))
            cols["slot"].append(np.full(walk.size, np.nan))
            if svc.appointment_share <= 0:
                continue
            slots = np.arange(0.0, length, appt.slot_minutes)
            booked = rng.poisson(
                [
                    rates[int(s // 60)] * svc.appointment_share * appt.slot_minutes / 60
                    for s in slots
                ]
            )
            slot_of = np.repeat(base + slots, booked)
            shows = rng.random(slot_of.size) < appt.show_rate
            missed += int((~shows).sum())
            slot_of = slot_of[shows]
            t = (
                slot_of
                - appt.early_mean_minutes
                + rng.normal(0, appt.punctuality_sd_minutes, slot_of.size)
                if appt.punctuality_sd_minutes
                else slot_of - appt.early_mean_minutes
            )
            t = np.clip(t, base, base + length - 1e-6)
            late = t > slot_of + LATE_AFTER_MINUTES
            cols["t"].append(t)
            cols["s"].append(np.full(t.size, k))
            cols["slot"].append(np.where(late, np.nan, slot_of))
    t = np.concatenate(cols["t"])
    order = np.argsort(t, kind="stable")
    t = t[order]
    service = np.concatenate(cols["s"])[order].astype(np.int64)
    slot = np.concatenate(cols["slot"])[order]
    n = t.size
    handling = np.empty(n)
    gives_up = np.full(n, INF)
    priority = np.zeros(n, dtype=bool)
    walk_in = np.isnan(slot)
    for k, svc in enumerate(scenario.services):
        mine = service == k
        handling[mine] = _handling(svc.service_time, int(mine.sum()), rng)
        priority[mine] = (rng.random(int(mine.sum())) < svc.priority_share) & walk_in[mine]
        if svc.patience is not None:
            patient = mine & walk_in
            gives_up[patient] = t[patient] + rng.exponential(
                svc.patience.mean_minutes, int(patient.sum())
            )
    no_show = (rng.random(n) < scenario.no_show_rate) & walk_in
    arrivals = Arrivals(t, service, priority, slot, handling, gives_up, no_show)
    return with_later_services(scenario, arrivals, rng), missed


def with_later_services(scenario: Scenario, a: Arrivals, rng: np.random.Generator) -> Arrivals:
    """The script with the later services of multi-service citizens as rows of their own."""
    multi = scenario.multi_service
    if not multi.chains or multi.share_two + multi.share_three <= 0:
        return a
    codes = [s.code for s in scenario.services]
    draw = rng.random(a.t.size)
    extra = np.where(
        draw < multi.share_three, 2, np.where(draw < multi.share_two + multi.share_three, 1, 0)
    )
    rows: list[tuple[int, int]] = []  # (first row, service index) of every later segment, in order
    for i in np.flatnonzero(extra):
        chain = multi.chains.get(codes[int(a.service[i])], [])
        rows.extend((int(i), codes.index(c)) for c in chain[: int(extra[i])])
    if not rows:
        return a
    n, m = a.t.size, len(rows)
    owner = np.asarray([r[0] for r in rows], dtype=np.int64)
    service = np.asarray([r[1] for r in rows], dtype=np.int64)
    handling = np.empty(m)
    for k, svc in enumerate(scenario.services):
        mine = service == k
        handling[mine] = _handling(svc.service_time, int(mine.sum()), rng)
    nxt = np.full(n + m, -1, dtype=np.int64)
    last = np.arange(n)  # each citizen's last segment so far
    for j, i in enumerate(owner.tolist()):
        nxt[last[i]] = n + j
        last[i] = n + j
    return Arrivals(
        t=np.concatenate([a.t, a.t[owner]]),  # queued at the ticket's original issue time
        service=np.concatenate([a.service, service]),
        priority=np.concatenate([a.priority, a.priority[owner]]),
        slot=np.concatenate([a.slot, np.full(m, np.nan)]),
        handling=np.concatenate([a.handling, handling]),
        gives_up=np.concatenate([a.gives_up, np.full(m, INF)]),  # already being served
        no_show=np.concatenate([a.no_show, np.zeros(m, dtype=bool)]),
        next=nxt,
    )


def dispatch_rules(scenario: Scenario) -> DispatchRules:
    d = scenario.dispatch
    return DispatchRules(GuardKind(d.guard), d.aging_minutes, d.ratio_priority, d.ratio_regular)


def midnight(scenario: Scenario) -> datetime:
    """The first simulated day's local midnight, as an aware datetime."""
    return datetime.combine(
        date.fromisoformat(scenario.start_date), time(0), ZoneInfo(scenario.timezone)
    )


class Hall:
    """One run of a scenario: queues per service, windows as SimPy processes."""

    def __init__(
        self,
        scenario: Scenario,
        seed: int | None = None,
        record_estimates: bool = False,
        arrivals: Arrivals | None = None,
    ) -> None:
        self.scenario = scenario
        self.rules = dispatch_rules(scenario)
        self.t0 = midnight(scenario)
        rng = np.random.default_rng(seed)
        self.arrivals, self.appointment_no_shows = (
            script(scenario, rng) if arrivals is None else (arrivals, 0)
        )
        self.windows = build_windows(scenario)
        n = self.arrivals.t.size
        self.called = [math.nan] * n
        self.finished = [math.nan] * n
        self.ended = [math.nan] * n
        self.window = [0] * n
        self.status = [WAITING] * n
        k = len(scenario.services)
        self.regular: list[deque[int]] = [deque() for _ in range(k)]
        self.urgent: list[deque[int]] = [deque() for _ in range(k)]
        self.booked: list[list[int]] = [[] for _ in range(k)]
        self.candidates: dict[int, Candidate] = {}
        for w in self.windows:
            w.lines = [q for s in w.skill_idx for q in (self.regular[s], self.urgent[s])]
            w.booked = [self.booked[s] for s in w.skill_idx]
        self.codes = [s.code for s in scenario.services]
        # what the wait estimate reads, kept up to date instead of recounted for every citizen:
        # tickets in line per service, and the windows that serve each service (in id order)
        self.waiting: dict[str, int] = dict.fromkeys(self.codes, 0)
        self.serving = [[w for w in self.windows if c in w.skills] for c in self.codes]
        self.handling_stats = [_stats(s.service_time) for s in scenario.services]
        self.by_service = [
            sorted(
                (w for w in self.windows if c in w.skills), key=lambda w: (not w.skills[c], w.id)
            )
            for c in self.codes
        ]
        self.estimates: list[tuple[float, float]] | None = (
            [(math.nan, math.nan)] * n if record_estimates else None
        )
        self.ready = [math.nan] * n
        self._next: list[int] = self.arrivals.next.tolist()  # type: ignore[union-attr]
        self.env = simpy.Environment()
        a = self.arrivals
        self._service: list[int] = a.service.tolist()
        self._handling: list[float] = a.handling.tolist()
        self._no_show: list[bool] = a.no_show.tolist()
        self._gives_up: list[float] = a.gives_up.tolist()
        self._line_of: list[deque[int] | list[int]] = [[]] * n  # each ticket's line, on enqueue

    # -- the script ---------------------------------------------------------------------------
    def _arrive(self) -> Generator[simpy.Event, None, None]:
        env = self.env
        a = self.arrivals
        times, services = a.t.tolist(), a.service.tolist()
        urgent, slots = a.priority.tolist(), a.slot.tolist()
        for i in np.flatnonzero(a.first).tolist():  # later segments join when they are due
            t = times[i]
            if t > env.now:
                yield env.timeout(t - env.now)
            s = services[i]
            if self.estimates is not None:
                self.estimates[i] = self._estimate(s, t)
            self.ready[i] = t
            self.enqueue(i, s, slots[i] == slots[i], urgent[i])
            self._wake(s, t)

    def _wake(self, s: int, t: float) -> None:
        """Wake the first idle, open window that serves service ``s``."""
        for w in self.by_service[s]:
            if w.idle and w.available(t):
                w.idle = False
                assert w.wake is not None
                w.wake.succeed()
                break

    def next_segment(self, i: int, now: float) -> None:
        """Segment ``i`` is done: the citizen's next service (if any) waits at once, in the
        place its ticket's original issue time gives it (ahead of later tickets)."""
        j = self._next[i]
        if j < 0:
            return
        s = self._service[j]
        line = self.urgent[s] if self.arrivals.priority[j] else self.regular[s]
        times = self.arrivals.t
        at = len(line)
        while at > 0 and (times[line[at - 1]], line[at - 1]) > (times[j], j):
            at -= 1
        line.insert(at, j)
        self._line_of[j] = line
        self.waiting[self.codes[s]] += 1
        self.ready[j] = now
        self._wake(s, now)

    def enqueue(self, i: int, s: int, booked: bool, urgent: bool) -> None:
        """Put ticket ``i`` of service ``s`` in line (``booked``: a checked-in appointment)."""
        line: deque[int] | list[int] = (
            self.booked[s] if booked else self.urgent[s] if urgent else self.regular[s]
        )
        line.append(i)
        self._line_of[i] = line
        self.waiting[self.codes[s]] += 1

    def _opening(self) -> Generator[simpy.Event, None, None]:
        """Wake idle windows when they (re)open, e.g. after lunch, to find a queue already there."""
        starts = sorted((s, w.id, w) for w in self.windows for s in w.starts)
        for s, _, w in starts:
            if s > self.env.now:
                yield self.env.timeout(s - self.env.now)
            if w.idle and w.wake is not None and not w.wake.triggered:
                w.idle = False
                w.wake.succeed()

    # -- the policy ---------------------------------------------------------------------------
    def _candidate(self, i: int) -> Candidate:
        c = self.candidates.get(i)
        if c is None:
            a = self.arrivals
            slot = float(a.slot[i])
            c = Candidate(
                ticket_id=str(i),
                service=self.codes[int(a.service[i])],
                queued_at=self.t0 + timedelta(minutes=float(a.t[i])),
                seq=i,
                priority=bool(a.priority[i]),
                slot_start=None if slot != slot else self.t0 + timedelta(minutes=slot),
            )
            self.candidates[i] = c
        return c

    def _heads(self, w: SimWindow, now: float) -> list[int]:
        gives_up = self._gives_up
        heads: list[int] = []
        for q in w.lines:
            if q:
                if gives_up[q[0]] <= now:
                    self._give_up(q, now)
                    if not q:
                        continue
                heads.append(q[0])
        for booked in w.booked:
            heads.extend(booked)
        return heads

    def _give_up(self, q: deque[int], now: float) -> None:
        """Drop the tickets at the head of ``q`` whose patience ran out before ``now``."""
        gives_up = self._gives_up
        while q and gives_up[q[0]] <= now:
            i = q.popleft()
            self.waiting[self.codes[self._service[i]]] -= 1
            self.status[i] = ABANDONED
            self.ended[i] = gives_up[i]

    def pick(self, w: SimWindow, now: float) -> int | None:
        """The ticket ``w`` calls at ``now``: the policy's choice among the queue heads."""
        heads = self._heads(w, now)
        if not heads:
            return None
        if len(heads) == 1:
            chosen = heads[0]
        else:
            decision = choose_next(
                WindowView(w.id, w.skills, w.cycle),
                [self._candidate(i) for i in heads],
                self.t0 + timedelta(minutes=now),
                self.rules,
            )
            assert decision is not None
            w.cycle = decision.next_cycle_position
            chosen = int(decision.ticket_id)
        self._remove(chosen)
        return chosen

    def _remove(self, i: int) -> None:
        line = self._line_of[i]
        if isinstance(line, deque):
            line.popleft()  # the policy only ever picks the head of a walk-in line
        else:
            line.remove(i)
        self.waiting[self.codes[self._service[i]]] -= 1
        if self.candidates:
            self.candidates.pop(i, None)

    # -- the windows --------------------------------------------------------------------------
    def _serve(self, w: SimWindow) -> Generator[simpy.Event, None, None]:
        env = self.env
        handling, no_show = self._handling, self._no_show
        grace = self.scenario.no_show_wait_minutes
        while True:
            now = env.now
            if not w.available(now):
                start = w.next_start()
                if start is None:
                    return
                yield env.timeout(start - now)
                continue
            i = self.pick(w, now)
            if i is None:
                w.idle = True
                w.wake = env.event()
                yield w.wake
                continue
            self.called[i] = now
            self.window[i] = w.id
            self.status[i] = IN_SERVICE
            if no_show[i]:
                self.status[i] = NO_SHOW
                w.busy += grace
                yield env.timeout(grace)
                self.finished[i] = env.now
                continue
            w.busy += handling[i]
            yield env.timeout(handling[i])
            self.status[i] = DONE
            self.finished[i] = env.now
            self.next_segment(i, env.now)

    def _estimate(self, s: int, now: float) -> tuple[float, float]:
        """The wait the kiosk would print for a citizen of service ``s`` arriving ``now``: the
        live engine's ``estimate_wait`` on the open windows that serve ``s`` (the others take
        no share of it) and the tickets in line per service."""
        code = self.codes[s]
        windows = [w.views[w.idle] for w in self.serving[s] if w.available(now)]
        est = estimate_wait(code, self.waiting[code], windows, self.waiting, self.handling_stats[s])
        return est.median_minutes, est.p90_minutes

    def run(self) -> SimResult:
        env = self.env
        env.process(self._arrive())
        env.process(self._opening())
        for w in self.windows:
            env.process(self._serve(w))
        horizon = self.scenario.horizon_minutes
        env.run(until=horizon if horizon is not None else self.scenario.days * DAY)
        for w in self.windows:
            w.ptr = 0
        status = np.asarray(self.status)
        ended = np.asarray(self.ended)
        still = status == WAITING
        gave_up = still & (self.arrivals.gives_up <= env.now)
        status[gave_up] = ABANDONED
        ended[gave_up] = self.arrivals.gives_up[gave_up]
        if horizon is None:
            closed = status == WAITING
            status[closed] = CLOSED
            ended[closed] = (np.floor(self.arrivals.t[closed] / DAY) + 1) * DAY - 1e-6
        return SimResult(
            self.scenario,
            self.arrivals,
            np.asarray(self.called),
            np.asarray(self.finished),
            np.asarray(self.window),
            status,
            ended,
            self.windows,
            self.estimates,
            self.appointment_no_shows,
            np.asarray(self.ready),
        )


def simulate(
    scenario: Scenario, seed: int | None = None, record_estimates: bool = False
) -> SimResult:
    """Run ``scenario`` once with ``seed``."""
    return Hall(scenario, seed, record_estimates).run()
