"""Supervision alerts (效能监察预警): the rules of SPEC §4 as one pure function.

A supervisor walking the hall asks the same questions every few minutes: is anybody waiting
too long, is a clerk stuck with one citizen, is a queue outgrowing its windows, is a window idle
while people wait, paused for too long, not open when it should be, did somebody leave a bad
review, does a window send away or re-call many more citizens than the others? ``evaluate``
asks them of a ``HallPicture`` (what the database says now) and returns the conditions that
hold; the supervision service raises the new ones and clears the ones that went away.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from queue_engine.domain.errors import InvalidInput


class AlertKind(StrEnum):
    WAIT_LONG = "wait_long"
    HANDLING_LONG = "handling_long"
    QUEUE_LONG = "queue_long"
    IDLE_WITH_QUEUE = "idle_with_queue"
    PAUSED_LONG = "paused_long"
    NOT_OPEN = "not_open"
    BAD_REVIEW = "bad_review"
    CASE_OVERDUE = "case_overdue"
    CALLBACK_OVERDUE = "callback_overdue"  # 回访逾期: its own deadline (issue 19)
    NO_SHOW_RATE = "no_show_rate"
    RECALL_RATE = "recall_rate"
    CHOSEN_CALLS = "chosen_calls"  # a window calls chosen tickets out of turn often
    WEBHOOK_DISABLED = "webhook_disabled"  # a webhook receiver failed too often (issue 20)


# Alerts raised by something other than the rules: the rules' round leaves them open until a
# person acknowledges and clears them.
RAISED_ELSEWHERE = frozenset({AlertKind.WEBHOOK_DISABLED.value})


class Severity(StrEnum):
    YELLOW = "yellow"
    RED = "red"


@dataclass(frozen=True)
class Thresholds:
    """Alert thresholds; a hall has one set, and a service may override the first four."""

    wait_yellow_minutes: float = 15.0
    wait_red_minutes: float = 30.0
    handling_factor: float = 2.0  # × the service's standard handling time
    queue_per_window: float = 8.0  # waiting tickets per open window with the skill
    idle_minutes: float = 5.0
    paused_minutes: float = 15.0
    late_open_minutes: float = 10.0  # grace after opening before a scheduled window is late
    scheduled_windows: tuple[int, ...] = ()  # window numbers expected open in opening hours
    rate_min_calls: int = 10  # calls today before a window's rates are judged
    no_show_rate_max: float = 0.25
    recall_rate_max: float = 0.4
    rate_hall_factor: float = 2.0  # …and at least this many times the hall's rate
    chosen_calls_max: int = 5  # chosen (out of turn) calls of a window a day before an alert

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "scheduled_windows":
                if any(not isinstance(n, int) or n <= 0 for n in value):
                    raise InvalidInput("scheduled windows are positive window numbers")
            elif not isinstance(value, int | float) or value < 0:
                raise InvalidInput(f"threshold {f.name} must be a number ≥ 0")
        if self.wait_red_minutes < self.wait_yellow_minutes:
            raise InvalidInput("the red waiting threshold must not be below the yellow one")


SERVICE_KEYS = ("wait_yellow_minutes", "wait_red_minutes", "handling_factor", "queue_per_window")


@dataclass(frozen=True)
class AlertSettings:
    """A hall's thresholds and the per-service overrides (only ``SERVICE_KEYS``)."""

    hall: Thresholds = field(default_factory=Thresholds)
    services: Mapping[str, Mapping[str, float]] = field(default_factory=dict)

    def for_service(self, code: str) -> Thresholds:
        override: Mapping[str, Any] | None = self.services.get(code)
        return replace(self.hall, **override) if override else self.hall

    def to_mapping(self) -> dict[str, Any]:
        hall = {f.name: getattr(self.hall, f.name) for f in fields(self.hall)}
        hall["scheduled_windows"] = list(self.hall.scheduled_windows)
        return {"hall": hall, "services": {k: dict(v) for k, v in self.services.items()}}

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], services: Sequence[str] = ()) -> AlertSettings:
        """Validate stored or submitted settings (unknown keys and services are refused)."""
        hall_data = dict(data.get("hall") or {})
        known = {f.name for f in fields(Thresholds)}
        unknown = set(hall_data) - known
        if unknown:
            raise InvalidInput(f"unknown threshold(s): {', '.join(sorted(unknown))}")
        if "scheduled_windows" in hall_data:
            hall_data["scheduled_windows"] = tuple(hall_data["scheduled_windows"] or ())
        hall = Thresholds(**hall_data)
        overrides: dict[str, dict[str, float]] = {}
        for code, values in dict(data.get("services") or {}).items():
            if services and code not in services:
                raise InvalidInput(f"no service {code!r} in this hall")
            extra = set(values) - set(SERVICE_KEYS)
            if extra:
                raise InvalidInput(f"a service cannot override {', '.join(sorted(extra))}")
            if values:
                replace(hall, **dict(values))  # validates the combination
                overrides[str(code)] = {k: float(v) for k, v in values.items()}
        return cls(hall, overrides)


# -- the picture of a hall -----------------------------------------------------------------


@dataclass(frozen=True)
class ServiceInfo:
    code: str
    name: str
    standard_minutes: float


@dataclass(frozen=True)
class WindowInfo:
    number: int
    state: str  # closed | open | paused
    since: datetime | None
    clerk: str | None
    skills: frozenset[str]
    ticket_number: str | None = None
    ticket_service: str | None = None
    serving_since: datetime | None = None  # the current ticket's start
    last_activity: datetime | None = None  # latest call, finish, no-show or transfer today


@dataclass(frozen=True)
class WaitingTicket:
    number: str
    service: str
    waiting_since: datetime  # the later of issue and slot start
    target_window: int | None = None  # window number of a transfer to one window


@dataclass(frozen=True)
class WindowDay:
    """A window's calls today, and how many ended as no-show or were re-announced."""

    calls: int
    no_shows: int
    recalls: int
    chosen: int = 0  # calls of a chosen ticket out of turn (POST /windows/{id}/call)


@dataclass(frozen=True)
class OpenCase:
    id: int
    ticket_number: str
    service: str
    window: str | None
    score: int
    status: str
    deadline: date
    overdue: bool
    callback_deadline: date | None = None
    callback_overdue: bool = False


@dataclass(frozen=True)
class HallPicture:
    hall: str
    now: datetime
    services: tuple[ServiceInfo, ...]
    windows: tuple[WindowInfo, ...]
    waiting: tuple[WaitingTicket, ...]
    window_days: Mapping[int, WindowDay] = field(default_factory=dict)
    cases: tuple[OpenCase, ...] = ()
    open_since: datetime | None = None  # start of the current opening period; None: closed


@dataclass(frozen=True)
class Condition:
    """An alert condition that holds now; ``key`` identifies it across evaluations."""

    key: str
    kind: AlertKind
    severity: Severity
    subject: str  # what it is about: a service code, window number or case id
    data: Mapping[str, Any]
    window: str | None = None
    service: str | None = None


def _minutes(now: datetime, since: datetime | None) -> float:
    return 0.0 if since is None else max((now - since).total_seconds() / 60, 0.0)


def evaluate(picture: HallPicture, settings: AlertSettings) -> list[Condition]:
    """Every alert condition that holds in the hall now."""
    found: list[Condition] = []
    for rule in RULES:
        found.extend(rule(picture, settings))
    return found


def _eligible(window: WindowInfo, t: WaitingTicket) -> bool:
    if t.target_window is not None:
        return t.target_window == window.number
    return t.service in window.skills


def wait_long(p: HallPicture, s: AlertSettings) -> list[Condition]:
    """Per service: tickets waiting ≥ yellow (≥ red) minutes."""
    out = []
    for service in p.services:
        limits = s.for_service(service.code)
        waits = [_minutes(p.now, t.waiting_since) for t in p.waiting if t.service == service.code]
        over = [w for w in waits if w >= limits.wait_yellow_minutes]
        if not over:
            continue
        longest = max(over)
        red = longest >= limits.wait_red_minutes
        out.append(
            Condition(
                key=f"wait_long:{service.code}",
                kind=AlertKind.WAIT_LONG,
                severity=Severity.RED if red else Severity.YELLOW,
                subject=service.code,
                service=service.code,
                data={
                    "service_name": service.name,
                    "count": len(over),
                    "longest_minutes": round(longest, 1),
                    "threshold_minutes": limits.wait_red_minutes
                    if red
                    else limits.wait_yellow_minutes,
                },
            )
        )
    return out


def handling_long(p: HallPicture, s: AlertSettings) -> list[Condition]:
    """A visit lasting ≥ factor × the service's standard handling time."""
    standard = {x.code: x.standard_minutes for x in p.services}
    out = []
    for w in p.windows:
        if w.serving_since is None or w.ticket_service not in standard:
            continue
        limit = s.for_service(w.ticket_service).handling_factor * standard[w.ticket_service]
        elapsed = _minutes(p.now, w.serving_since)
        if limit > 0 and elapsed >= limit:
            out.append(
                Condition(
                    key=f"handling_long:{w.number}:{w.ticket_number}",
                    kind=AlertKind.HANDLING_LONG,
                    severity=Severity.RED if elapsed >= 2 * limit else Severity.YELLOW,
                    subject=str(w.number),
                    window=str(w.number),
                    service=w.ticket_service,
                    data={
                        "ticket": w.ticket_number,
                        "elapsed_minutes": round(elapsed, 1),
                        "limit_minutes": round(limit, 1),
                        "clerk": w.clerk,
                    },
                )
            )
    return out


def _suggest(p: HallPicture, service: str) -> list[int]:
    """Closed or paused windows that could serve ``service``: specialists first."""
    spare = [w for w in p.windows if w.state != "open" and service in w.skills]
    return [w.number for w in sorted(spare, key=lambda w: (w.state != "paused", len(w.skills)))]


def queue_long(p: HallPicture, s: AlertSettings) -> list[Condition]:
    """More waiting tickets per open window with the skill than allowed (or no such window)."""
    out = []
    for service in p.services:
        waiting = sum(1 for t in p.waiting if t.service == service.code)
        if waiting == 0:
            continue
        serving = [w for w in p.windows if w.state == "open" and service.code in w.skills]
        limit = s.for_service(service.code).queue_per_window
        if serving and waiting <= limit * len(serving):
            continue
        suggestions = _suggest(p, service.code)
        out.append(
            Condition(
                key=f"queue_long:{service.code}",
                kind=AlertKind.QUEUE_LONG,
                severity=Severity.RED if not serving else Severity.YELLOW,
                subject=service.code,
                service=service.code,
                data={
                    "waiting": waiting,
                    "open_windows": len(serving),
                    "per_window_limit": limit,
                    "suggest_windows": suggestions[:3],
                    "skill": service.code,
                    "skill_name": service.name,
                },
            )
        )
    return out


def idle_with_queue(p: HallPicture, s: AlertSettings) -> list[Condition]:
    """An open window without a ticket for ≥ idle minutes while it has eligible tickets."""
    out = []
    for w in p.windows:
        if w.state != "open" or w.ticket_number is not None:
            continue
        eligible = sum(1 for t in p.waiting if _eligible(w, t))
        since = max((t for t in (w.since, w.last_activity) if t is not None), default=None)
        idle = _minutes(p.now, since)
        if eligible and idle >= s.hall.idle_minutes:
            out.append(
                Condition(
                    key=f"idle_with_queue:{w.number}",
                    kind=AlertKind.IDLE_WITH_QUEUE,
                    severity=Severity.YELLOW,
                    subject=str(w.number),
                    window=str(w.number),
                    data={"idle_minutes": round(idle, 1), "eligible": eligible, "clerk": w.clerk},
                )
            )
    return out


def paused_long(p: HallPicture, s: AlertSettings) -> list[Condition]:
    out = []
    for w in p.windows:
        paused = _minutes(p.now, w.since)
        if w.state == "paused" and paused >= s.hall.paused_minutes:
            out.append(
                Condition(
                    key=f"paused_long:{w.number}",
                    kind=AlertKind.PAUSED_LONG,
                    severity=Severity.RED
                    if paused >= 2 * s.hall.paused_minutes
                    else Severity.YELLOW,
                    subject=str(w.number),
                    window=str(w.number),
                    data={"paused_minutes": round(paused, 1), "clerk": w.clerk},
                )
            )
    return out


def not_open(p: HallPicture, s: AlertSettings) -> list[Condition]:
    """A scheduled window still closed ``late_open_minutes`` into an opening period."""
    if p.open_since is None or _minutes(p.now, p.open_since) < s.hall.late_open_minutes:
        return []
    scheduled = set(s.hall.scheduled_windows)
    return [
        Condition(
            key=f"not_open:{w.number}",
            kind=AlertKind.NOT_OPEN,
            severity=Severity.YELLOW,
            subject=str(w.number),
            window=str(w.number),
            data={"late_minutes": round(_minutes(p.now, p.open_since), 1)},
        )
        for w in p.windows
        if w.number in scheduled and w.state == "closed"
    ]


def reviews(p: HallPicture, s: AlertSettings) -> list[Condition]:
    """A bad review until its follow-up case is taken up, a call-back past its deadline until
    it is made, an overdue case until it is closed."""
    out = []
    for case in p.cases:
        common = {
            "case": case.id,
            "ticket": case.ticket_number,
            "score": case.score,
            "deadline": case.deadline.isoformat(),
        }
        if case.overdue:
            out.append(
                Condition(
                    key=f"case_overdue:{case.id}",
                    kind=AlertKind.CASE_OVERDUE,
                    severity=Severity.RED,
                    subject=str(case.id),
                    window=case.window,
                    service=case.service,
                    data=common,
                )
            )
        elif case.callback_overdue:
            out.append(
                Condition(
                    key=f"callback_overdue:{case.id}",
                    kind=AlertKind.CALLBACK_OVERDUE,
                    severity=Severity.YELLOW,
                    subject=str(case.id),
                    window=case.window,
                    service=case.service,
                    data={**common, "callback_deadline": str(case.callback_deadline)},
                )
            )
        if not case.overdue and case.status == "open":
            out.append(
                Condition(
                    key=f"bad_review:{case.id}",
                    kind=AlertKind.BAD_REVIEW,
                    severity=Severity.RED if case.score == 1 else Severity.YELLOW,
                    subject=str(case.id),
                    window=case.window,
                    service=case.service,
                    data=common,
                )
            )
    return out


def window_rates(p: HallPicture, s: AlertSettings) -> list[Condition]:
    """A window whose no-show or recall share today is high, and well above the other windows'."""
    t = s.hall
    total = WindowDay(
        sum(d.calls for d in p.window_days.values()),
        sum(d.no_shows for d in p.window_days.values()),
        sum(d.recalls for d in p.window_days.values()),
    )
    out = []
    for number, day in sorted(p.window_days.items()):
        if day.calls < t.rate_min_calls:
            continue
        others = total.calls - day.calls
        checks = (
            (AlertKind.NO_SHOW_RATE, day.no_shows, total.no_shows, t.no_show_rate_max),
            (AlertKind.RECALL_RATE, day.recalls, total.recalls, t.recall_rate_max),
        )
        for kind, mine, all_of_them, limit in checks:
            rate = mine / day.calls
            rest = (all_of_them - mine) / others if others else None
            unusual = rest is None or rate >= t.rate_hall_factor * rest
            if rate >= limit and unusual:
                out.append(
                    Condition(
                        key=f"{kind}:{number}",
                        kind=kind,
                        severity=Severity.YELLOW,
                        subject=str(number),
                        window=str(number),
                        data={
                            "rate": round(rate, 3),
                            "others_rate": None if rest is None else round(rest, 3),
                            "calls": day.calls,
                            "limit": limit,
                        },
                    )
                )
    return out


def chosen_calls(p: HallPicture, s: AlertSettings) -> list[Condition]:
    """A window that called chosen tickets out of turn more often today than the hall allows."""
    limit = s.hall.chosen_calls_max
    return [
        Condition(
            key=f"{AlertKind.CHOSEN_CALLS}:{number}",
            kind=AlertKind.CHOSEN_CALLS,
            severity=Severity.YELLOW,
            subject=str(number),
            window=str(number),
            data={"chosen": day.chosen, "calls": day.calls, "limit": limit},
        )
        for number, day in sorted(p.window_days.items())
        if day.chosen > limit
    ]


RULES = (
    wait_long,
    handling_long,
    queue_long,
    idle_with_queue,
    paused_long,
    not_open,
    reviews,
    window_rates,
    chosen_calls,
)


# -- words ---------------------------------------------------------------------------------


class _Values(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "—"


_ZH = {
    "wait_long": "{name}:{count} 人等候超过 {threshold_minutes} 分钟,最长 {longest_minutes} 分钟",
    "handling_long": "{subject}号窗口办理 {ticket} 已 {elapsed_minutes} 分钟"
    "(上限 {limit_minutes} 分钟)",
    "queue_long": "{name}排队 {waiting} 人,开放窗口 {open_windows} 个;"
    "建议开启具备「{name}」技能的弹性窗口{suggest_zh}",
    "idle_with_queue": "{subject}号窗口空闲 {idle_minutes} 分钟,有 {eligible} 人可办",
    "paused_long": "{subject}号窗口已暂停 {paused_minutes} 分钟",
    "not_open": "{subject}号窗口按排班应开放,开厅 {late_minutes} 分钟仍未开窗",
    "bad_review": "差评:{ticket}({score} 分),整改期限 {deadline}",
    "case_overdue": "差评整改逾期:{ticket},期限 {deadline}",
    "callback_overdue": "差评回访逾期:{ticket},回访期限 {callback_deadline}",
    "no_show_rate": "{subject}号窗口今日过号率 {rate_pct}(其他窗口 {others_pct},叫号 {calls} 次)",
    "recall_rate": "{subject}号窗口今日重呼率 {rate_pct}(其他窗口 {others_pct},叫号 {calls} 次)",
    "chosen_calls": "{subject}号窗口今日指定叫号 {chosen} 次(上限 {limit} 次,叫号 {calls} 次)",
    "webhook_disabled": "对接系统「{client}」的事件推送连续失败 {failures} 次,"
    "已停用(订阅 {subject})",
}
_EN = {
    "wait_long": "{name}: {count} waiting over {threshold_minutes} min, "
    "longest {longest_minutes} min",
    "handling_long": "Window {subject}: {ticket} in service for {elapsed_minutes} min "
    "(limit {limit_minutes})",
    "queue_long": "{name}: {waiting} waiting for {open_windows} open window(s); "
    "open a flexible window with skill {name}{suggest_en}",
    "idle_with_queue": "Window {subject} idle for {idle_minutes} min with {eligible} "
    "eligible waiting",
    "paused_long": "Window {subject} paused for {paused_minutes} min",
    "not_open": "Window {subject} is scheduled but still closed {late_minutes} min after opening",
    "bad_review": "Bad review: {ticket} ({score}), follow up by {deadline}",
    "case_overdue": "Follow-up overdue: {ticket}, deadline {deadline}",
    "callback_overdue": "Call-back overdue: {ticket}, call back by {callback_deadline}",
    "no_show_rate": "Window {subject}: no-show rate {rate_pct} today (others {others_pct}, "
    "{calls} calls)",
    "recall_rate": "Window {subject}: recall rate {rate_pct} today (others {others_pct}, "
    "{calls} calls)",
    "chosen_calls": "Window {subject}: {chosen} calls out of turn today (limit {limit}, "
    "{calls} calls)",
    "webhook_disabled": "Webhook {subject} of {client} disabled after {failures} failures in a row",
}


def _pct(x: Any) -> str:
    return "—" if x is None else f"{float(x) * 100:.0f}%"


def _num(x: Any) -> Any:
    return f"{x:g}" if isinstance(x, float) else x


def describe(kind: str, subject: str, data: Mapping[str, Any], lang: str = "zh") -> str:
    """The alert as a sentence for the supervisor (``zh`` or ``en``)."""
    values = _Values({k: _num(v) for k, v in data.items()})
    values["subject"] = subject
    values["name"] = data.get("service_name") or data.get("skill_name") or subject
    suggested = [str(n) for n in data.get("suggest_windows") or []]
    values["suggest_zh"] = f"(可开 {'、'.join(suggested)} 号)" if suggested else ""
    values["suggest_en"] = f" (windows {', '.join(suggested)})" if suggested else ""
    values["rate_pct"] = _pct(data.get("rate"))
    values["others_pct"] = _pct(data.get("others_rate"))
    template = (_EN if lang == "en" else _ZH).get(kind, "{kind} {subject}")
    return template.format_map(_Values(values, kind=kind))
