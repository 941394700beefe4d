"""Simulation scenarios (SPEC §5): what a planner writes down to ask "what if?".

A scenario is like the brief a hall manager gives a consultant: when the hall opens and closes,
how many citizens come for each service in each hour, how long they take, which windows exist
and which services each one handles, and what "good enough" means (the targets). It is read
from YAML or JSON and checked with pydantic, so a typo gives a clear message instead of a
strange result.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

NonNegative = Annotated[float, Field(ge=0)]
Positive = Annotated[float, Field(gt=0)]
Share = Annotated[float, Field(ge=0, le=1)]


class ScenarioError(ValueError):
    """A scenario that cannot be simulated, with a message a planner can act on."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Exponential(_Strict):
    dist: Literal["exponential"]
    mean_minutes: Positive


class Lognormal(_Strict):
    dist: Literal["lognormal"]
    mean_minutes: Positive
    cv: Positive = 1.0


class Empirical(_Strict):
    dist: Literal["empirical"]
    samples: list[Positive] = Field(min_length=1)

    @property
    def mean_minutes(self) -> float:
        return math.fsum(self.samples) / len(self.samples)


Distribution = Annotated[Exponential | Lognormal | Empirical, Field(discriminator="dist")]


class ServiceSpec(_Strict):
    code: str = Field(min_length=1, max_length=20)
    arrivals_per_hour: NonNegative | list[NonNegative]
    service_time: Distribution
    appointment_share: Share = 0.0
    priority_share: Share = 0.0
    patience: Exponential | None = None


class Break(_Strict):
    start: str
    end: str

    @model_validator(mode="after")
    def _ordered(self) -> Break:
        if clock_minutes(self.end) <= clock_minutes(self.start):
            raise ValueError(f"break end {self.end} is not after its start {self.start}")
        return self


class WindowGroup(_Strict):
    """``count`` alike windows, or one window with an ``id``; ``secondary`` skills come last."""

    count: int | None = Field(default=None, ge=0)
    id: int | None = Field(default=None, ge=1)
    services: list[str] = Field(min_length=1)
    secondary: list[str] = []
    open: list[bool] | None = None  # one per opening hour, or per half hour
    breaks: list[Break] = []

    @model_validator(mode="after")
    def _one_kind(self) -> WindowGroup:
        if self.count is not None and self.id is not None:
            raise ValueError("a window entry has either count or id, not both")
        return self

    @property
    def size(self) -> int:
        return 1 if self.count is None else self.count


class Appointments(_Strict):
    """How booked citizens behave: who turns up, and how early or late."""

    slot_minutes: Positive = 30
    show_rate: Share = 0.9
    early_mean_minutes: float = 5.0
    punctuality_sd_minutes: NonNegative = 5.0


class Targets(_Strict):
    mean_wait_minutes: Positive | None = 5.0
    within_minutes: Positive = 10.0
    share: Share | None = 0.9
    max_abandon_share: Share | None = None


class Dispatch(_Strict):
    guard: Literal["none", "aging", "ratio"] = "aging"
    aging_minutes: Positive = 20.0
    ratio_priority: int = Field(default=1, ge=1)
    ratio_regular: int = Field(default=2, ge=1)


class MultiService(_Strict):
    """Citizens with several services on one ticket (一次取号多事项, issue 18).

    ``share_two`` and ``share_three`` of the citizens of a service listed in ``chains`` come for
    2 and 3 services; ``chains[code]`` lists the services that follow ``code``, in order (a
    2-service citizen takes the first, a 3-service one the first two). Each later service waits
    in its line with the ticket's original issue time, as in the live hall.
    """

    share_two: Share = 0.0
    share_three: Share = 0.0
    chains: dict[str, list[str]] = {}

    @model_validator(mode="after")
    def _shares(self) -> MultiService:
        if self.share_two + self.share_three > 1 + 1e-9:
            raise ValueError("share_two + share_three is more than 1")
        for code, chain in self.chains.items():
            if not chain or len(set(chain)) != len(chain) or code in chain:
                raise ValueError(f"chain of {code}: distinct services other than {code}")
        return self


class Scenario(_Strict):
    name: str = "scenario"
    hall: str = "SIM"
    timezone: str = "Asia/Shanghai"
    start_date: str = "2026-03-02"
    days: int = Field(default=1, ge=1, le=366)
    horizon_minutes: Positive | None = None
    warmup_minutes: NonNegative = 0.0
    open: str = "09:00"
    close: str = "17:00"
    services: list[ServiceSpec] = Field(min_length=1)
    windows: list[WindowGroup] = Field(min_length=1)
    no_show_rate: Share = 0.0
    no_show_wait_minutes: NonNegative = 1.0
    appointments: Appointments = Appointments()
    targets: Targets = Targets()
    dispatch: Dispatch = Dispatch()
    multi_service: MultiService = MultiService()

    @field_validator("start_date")
    @classmethod
    def _date(cls, value: str) -> str:
        try:
            date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a date like 2026-03-02") from None
        return value

    @field_validator("open", "close")
    @classmethod
    def _clock(cls, value: str) -> str:
        clock_minutes(value)
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        if self.horizon_minutes is None and clock_minutes(self.close) <= clock_minutes(self.open):
            raise ValueError(f"close {self.close} is not after open {self.open}")
        codes = [s.code for s in self.services]
        if len(set(codes)) != len(codes):
            raise ValueError(f"service codes repeat: {codes}")
        hours = self.hours
        for s in self.services:
            if isinstance(s.arrivals_per_hour, list) and len(s.arrivals_per_hour) != hours:
                raise ValueError(
                    f"service {s.code}: {len(s.arrivals_per_hour)} hourly rates given, "
                    f"but the hall is open {hours} hours"
                )
        ids: set[int] = set()
        for n, w in enumerate(self.windows, 1):
            unknown = sorted(set(w.services + w.secondary) - set(codes))
            if unknown:
                raise ValueError(f"window entry {n} serves unknown services {unknown}")
            if w.open is not None and len(w.open) not in (hours, 2 * hours):
                raise ValueError(
                    f"window entry {n}: open list has {len(w.open)} entries, the hall has "
                    f"{hours} hours ({2 * hours} half hours)"
                )
            if w.id is not None:
                if w.id in ids:
                    raise ValueError(f"window id {w.id} appears twice")
                ids.add(w.id)
        for code, chain in self.multi_service.chains.items():
            unknown = sorted({code, *chain} - set(codes))
            if unknown:
                raise ValueError(f"multi_service chain of {code} names unknown services {unknown}")
        if not any(w.size for w in self.windows):
            raise ValueError("the scenario has no windows")
        return self

    @property
    def open_minute(self) -> float:
        return 0.0 if self.horizon_minutes is not None else float(clock_minutes(self.open))

    @property
    def day_minutes(self) -> float:
        """Length of the arrival period of one day (or of the whole steady-state horizon)."""
        if self.horizon_minutes is not None:
            return self.horizon_minutes
        return float(clock_minutes(self.close) - clock_minutes(self.open))

    @property
    def hours(self) -> int:
        return math.ceil(self.day_minutes / 60 - 1e-9)

    @property
    def expected_arrivals(self) -> float:
        """Citizens one replication is expected to see (all services, all days)."""
        per_hour = sum(sum(self.rates(s)) for s in self.services) / self.hours
        days = 1 if self.horizon_minutes is not None else self.days
        return per_hour * self.day_minutes / 60 * days

    @property
    def window_count(self) -> int:
        return sum(w.size for w in self.windows)

    def rates(self, service: ServiceSpec) -> list[float]:
        """Arrivals per hour of ``service`` for each opening hour."""
        rate = service.arrivals_per_hour
        return list(rate) if isinstance(rate, list) else [float(rate)] * self.hours


def clock_minutes(value: str) -> int:
    """``"09:30"`` → 570; a clear error for anything that is not a 24-hour clock time."""
    try:
        hh, mm = value.split(":")
        hours, minutes = int(hh), int(mm)
    except ValueError:
        raise ValueError(f"{value!r} is not a clock time like 09:00") from None
    if not (0 <= hours <= 24 and 0 <= minutes < 60) or hours * 60 + minutes > 1440:
        raise ValueError(f"{value!r} is not a clock time like 09:00")
    return hours * 60 + minutes


def _describe(error: ValidationError) -> str:
    parts = []
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"] if not str(p).startswith("function-"))
        message = str(item["msg"]).removeprefix("Value error, ")
        parts.append(f"{where}: {message}" if where else message)
    return "; ".join(parts)


def parse_scenario(data: Mapping[str, Any]) -> Scenario:
    """A validated scenario from already-parsed data; ScenarioError says what is wrong."""
    if not isinstance(data, Mapping):
        raise ScenarioError("a scenario is a mapping of names to values")
    try:
        return Scenario.model_validate(dict(data))
    except ValidationError as exc:
        raise ScenarioError(_describe(exc)) from None


def loads_scenario(text: str) -> Scenario:
    """A scenario from YAML or JSON text (JSON is YAML, but its errors read better as JSON)."""
    try:
        data = json.loads(text) if text.lstrip().startswith("{") else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise ScenarioError(f"not valid YAML or JSON: {exc}") from None
    return parse_scenario(data)


def load_scenario(path: str | Path) -> Scenario:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"cannot read {path}: {exc.strerror}") from None
    return loads_scenario(text)
