"""The shapes of a hall's configuration (pydantic): the admin API, the admin pages and the YAML
file of ``hall config export/import`` all validate with these same models.

Opening hours are written the way a hall's door sign reads — per weekday an opening and a
closing time, and optionally a lunch break — and stored as the periods ``queue_engine.domain.hours``
works with (``09:00-12:00``, ``13:30-17:30``).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, StrictBool, field_validator, model_validator
from pydantic_core import PydanticCustomError

from queue_engine.domain.hours import WEEKDAY_NAMES, format_period, parse_period

from ..validation import Strict

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
RoleName = Literal["admin", "supervisor", "clerk", "kiosk"]
CODE = r"^[A-Z0-9][A-Z0-9_-]{0,31}$"
HALL_CODE = r"^[A-Z0-9][A-Z0-9_-]{1,15}$"
USERNAME = r"^[A-Za-z0-9._-]{3,64}$"
CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")


def _clock(value: str | None, field: str) -> str | None:
    if value is None or value == "":
        return None
    if not CLOCK.match(value):
        raise PydanticCustomError("bad_time", "{field}: a time like 09:00", {"field": field})
    return value


def _minutes(value: str) -> int:
    hours, minutes = value.split(":")
    return int(hours) * 60 + int(minutes)


class DayHours(Strict):
    """One weekday: open from ``open`` to ``close``, shut from ``lunch_start`` to ``lunch_end``."""

    open: str = Field(examples=["09:00"])
    close: str = Field(examples=["17:30"])
    lunch_start: str | None = Field(default=None, examples=["12:00"])
    lunch_end: str | None = Field(default=None, examples=["13:30"])

    @field_validator("open", "close", "lunch_start", "lunch_end", mode="before")
    @classmethod
    def _sexagesimal(cls, value: Any) -> Any:
        """YAML 1.1 reads an unquoted ``12:30`` as the number 750 (minutes): take it back."""
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 1440:
            return f"{value // 60:02d}:{value % 60:02d}"
        return value

    @model_validator(mode="after")
    def _in_order(self) -> DayHours:
        for name in ("open", "close", "lunch_start", "lunch_end"):
            _clock(getattr(self, name), name)
        if self.open == "24:00" or _minutes(self.close) <= _minutes(self.open):
            raise PydanticCustomError("close_before_open", "closing time must be after opening")
        if (self.lunch_start is None) != (self.lunch_end is None):
            raise PydanticCustomError("lunch_incomplete", "a lunch break needs a start and an end")
        if self.lunch_start is not None and self.lunch_end is not None:
            points = [self.open, self.lunch_start, self.lunch_end, self.close]
            minutes = [_minutes(p) for p in points]
            if minutes != sorted(set(minutes)):
                raise PydanticCustomError(
                    "lunch_outside", "the lunch break must lie inside the opening hours"
                )
        return self

    def periods(self) -> list[str]:
        if self.lunch_start is None or self.lunch_end is None:
            return [f"{self.open}-{self.close}"]
        return [f"{self.open}-{self.lunch_start}", f"{self.lunch_end}-{self.close}"]

    @classmethod
    def from_periods(cls, periods: list[str]) -> DayHours:
        parsed = [parse_period(p) for p in periods]
        first, last = format_period(parsed[0]), format_period(parsed[-1])
        if len(parsed) == 1:
            return cls(open=first[:5], close=first[6:])
        return cls(open=first[:5], close=last[6:], lunch_start=first[6:], lunch_end=last[:5])


class Hours(Strict):
    """Opening hours: a day missing (or null) is closed; holidays follow the national calendar."""

    days: dict[Weekday, DayHours | None] = Field(default_factory=dict)
    always_open: bool = Field(default=False, description="round the clock, every day")
    follow_holidays: bool = Field(
        default=True, description="closed on statutory holidays, open on adjusted working weekends"
    )
    closed_dates: list[date] = Field(default_factory=list, max_length=366)
    open_dates: list[date] = Field(default_factory=list, max_length=366)

    def to_mapping(self) -> dict[str, Any]:
        return {
            "weekly": {day: hours.periods() for day, hours in self.days.items() if hours},
            "always_open": self.always_open,
            "follow_holidays": self.follow_holidays,
            "closed_dates": sorted({d.isoformat() for d in self.closed_dates}),
            "open_dates": sorted({d.isoformat() for d in self.open_dates}),
        }

    @classmethod
    def from_mapping(cls, data: dict[str, Any]) -> Hours:
        weekly = data.get("weekly", {})
        days = {
            day: DayHours.from_periods(weekly[day]) if weekly.get(day) else None
            for day in WEEKDAY_NAMES
        }
        return cls.model_validate(
            {
                "days": days,
                "always_open": bool(data.get("always_open", False)),
                "follow_holidays": bool(data.get("follow_holidays", True)),
                "closed_dates": list(data.get("closed_dates", [])),
                "open_dates": list(data.get("open_dates", [])),
            }
        )


def _zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise PydanticCustomError(
            "bad_timezone", "unknown time zone {zone}", {"zone": value}
        ) from None
    return value


class HallIn(Strict):
    name_zh: str = Field(min_length=1, max_length=100, examples=["驻马店市民中心"])
    name_en: str = Field(min_length=1, max_length=100, examples=["Zhumadian Citizen Centre"])
    timezone: str = Field(default="Asia/Shanghai", max_length=64, examples=["Asia/Shanghai"])
    notice: str = Field(default="", max_length=500, description="the notice line of the board")
    hours: Hours = Field(default_factory=Hours)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return _zone(value)


class HallCreateIn(HallIn):
    code: str = Field(pattern=HALL_CODE, examples=["XPX"], description="2–16 capitals, digits")


class HallOut(HallCreateIn):
    config_version: int


class HallsOut(BaseModel):
    halls: list[HallOut]


class NoShowIn(Strict):
    """What happens when a called citizen does not come."""

    mode: Literal["void", "requeue"] = "void"
    behind: int = Field(default=3, ge=0, le=50, description="requeue behind this many tickets")
    max_requeues: int = Field(default=1, ge=0, le=10)


class DispatchIn(Strict):
    """The fairness guard: aging (long waits first) or a priority:regular ratio."""

    guard: Literal["none", "aging", "ratio"] = "aging"
    aging_minutes: float = Field(default=20, gt=0, le=240)
    ratio_priority: int = Field(default=1, ge=1, le=10)
    ratio_regular: int = Field(default=2, ge=1, le=10)


class AppointmentRulesIn(Strict):
    """The hall's appointment settings (a service may have slots of its own)."""

    slot_minutes: int = Field(default=30, ge=5, le=240)
    slot_capacity: int = Field(default=5, ge=1, le=1000)
    horizon_working_days: int = Field(default=5, ge=0, le=60)
    cancel_cutoff_minutes: int = Field(default=120, ge=0, le=10080)
    check_in_before_minutes: int = Field(default=30, ge=0, le=240)
    check_in_after_minutes: int = Field(default=15, ge=0, le=240)
    ban_no_shows: int = Field(default=2, ge=1, le=100)
    ban_lookback_days: int = Field(default=30, ge=0, le=365)
    ban_days: int = Field(default=30, ge=0, le=365)
    follow_up_working_days: int = Field(default=15, ge=1, le=100)
    notify_ahead: int = Field(default=3, ge=0, le=50)


class WindowRulesIn(Strict):
    """Who works where: by default a clerk has one window open at a time."""

    clerk_many_windows: StrictBool = Field(
        default=False, description="true: a clerk may keep several windows open at once"
    )


class CallingRulesIn(Strict):
    """无声叫号: zones whose calls go by SMS/WeChat/push only, the board quiet (issue 17)."""

    silent_zones: list[Annotated[str, Field(min_length=1, max_length=50)]] = Field(
        default_factory=list, max_length=50, description="zone names of the hall"
    )


IdentityModeIn = Literal["off", "optional", "required"]


class IdentityRulesIn(Strict):
    """身份核验 and 一人一号 (issue 18): off/optional/required for the hall and per service, the
    limits per citizen and day, and the ages that give the elderly priority."""

    mode: IdentityModeIn = Field(default="optional", description="the hall's default")
    services: dict[Annotated[str, Field(pattern=CODE, max_length=32)], IdentityModeIn] = Field(
        default_factory=dict, max_length=200, description="a service's own mode (code → mode)"
    )
    per_service: int = Field(default=1, ge=1, le=20, description="N: live tickets per service")
    total: int = Field(default=3, ge=1, le=20, description="M: live tickets in all, per day")
    elderly_age: int = Field(default=70, ge=50, le=120, description="elderly priority from")
    zone_ages: dict[
        Annotated[str, Field(min_length=1, max_length=50)], Annotated[int, Field(ge=50, le=120)]
    ] = Field(
        default_factory=lambda: {"老年服务专区": 60},
        max_length=50,
        description="a zone's own elderly age (老年人专区: 60)",
    )

    @model_validator(mode="after")
    def _total_covers_per_service(self) -> IdentityRulesIn:
        if self.total < self.per_service:
            raise ValueError("total (M) must be at least per_service (N)")
        return self


class RulesIn(Strict):
    no_show: NoShowIn = Field(default_factory=NoShowIn)
    dispatch: DispatchIn = Field(default_factory=DispatchIn)
    appointments: AppointmentRulesIn = Field(default_factory=AppointmentRulesIn)
    windows: WindowRulesIn = Field(default_factory=WindowRulesIn)
    calling: CallingRulesIn = Field(default_factory=CallingRulesIn)
    identity: IdentityRulesIn = Field(default_factory=IdentityRulesIn)


class SlotsIn(Strict):
    minutes: int = Field(ge=5, le=240, examples=[30])
    capacity: int = Field(ge=1, le=1000, examples=[5])


class ServiceIn(Strict):
    prefix: str = Field(pattern=r"^[A-Z]$", description="the ticket letter", examples=["A"])
    name_zh: str = Field(min_length=1, max_length=100, examples=["企业开办"])
    name_en: str = Field(min_length=1, max_length=100, examples=["Business start-up"])
    zone: str = Field(min_length=1, max_length=100, examples=["企业开办专区"])
    standard_minutes: float = Field(gt=0, le=480, description="standard handling time")
    active: bool = Field(default=True, description="false: no new tickets; waiting ones served")
    daily_cap: int | None = Field(default=None, ge=1, le=100000, description="tickets a day")
    appointment: SlotsIn | None = Field(
        default=None, description="slots of its own; null: the hall's slot settings"
    )


class ServiceCreateIn(ServiceIn):
    code: str = Field(pattern=CODE, examples=["ENT"], description="capitals, digits, - and _")


class ServiceOut(ServiceCreateIn):
    pass


class ServicesOut(BaseModel):
    hall: str
    services: list[ServiceOut]


class WindowIn(Strict):
    number: int = Field(ge=1, le=9999, examples=[7])
    name: str = Field(min_length=1, max_length=100, examples=["综合窗口1"])
    zone: str = Field(min_length=1, max_length=100, examples=["综合受理区"])
    primary: list[str] = Field(default_factory=list, max_length=100, description="service codes")
    secondary: list[str] = Field(default_factory=list, max_length=100, description="helps with")
    evaluator_device: str | None = Field(
        default=None, max_length=64, description="the kiosk account of its evaluator screen"
    )
    active: bool = True

    @field_validator("evaluator_device")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value or None

    @model_validator(mode="after")
    def _skills_once(self) -> WindowIn:
        every = [*self.primary, *self.secondary]
        if len(every) != len(set(every)):
            raise PydanticCustomError(
                "skill_twice", "a service is listed twice (primary and secondary?)"
            )
        return self


class WindowOut(WindowIn):
    id: int
    state: str
    clerk: str | None


class WindowsOut(BaseModel):
    hall: str
    windows: list[WindowOut]


class UserOut(BaseModel):
    username: str
    role: str
    hall: str | None
    display_name: str
    active: bool


class UsersOut(BaseModel):
    users: list[UserOut]


class UserCreateIn(Strict):
    username: str = Field(pattern=USERNAME, examples=["wang.li"])
    role: RoleName
    hall: str | None = Field(default=None, max_length=16, description="null: every hall")
    display_name: str = Field(default="", max_length=100)
    active: bool = True
    password: str = Field(min_length=8, max_length=256)


class UserUpdateIn(Strict):
    role: RoleName | None = None
    hall: str | None = Field(default=None, max_length=16)
    display_name: str | None = Field(default=None, max_length=100)
    active: bool | None = None


class StaffContactIn(Strict):
    """Absent: kept; null or empty: removed; a value: set (the addresses kept encrypted)."""

    phone: str | None = Field(default=None, max_length=20, description="mobile for cards")
    wechat_openid: str | None = Field(default=None, max_length=64)
    heads_department: str | None = Field(
        default=None, max_length=60, description="the department this account heads"
    )


class StaffContactOut(BaseModel):
    username: str
    phone: bool
    wechat: bool
    heads_department: str | None


class PasswordIn(Strict):
    password: str = Field(min_length=8, max_length=256)


class AuditOut(BaseModel):
    ts: str
    actor: str
    role: str
    action: str
    target: str
    detail: dict[str, Any]


class HistoryOut(BaseModel):
    hall: str
    changes: list[AuditOut]


class HallConfigFile(Strict):
    """A hall's whole configuration: the YAML file of ``hall config export/import``."""

    hall: HallCreateIn
    rules: RulesIn = Field(default_factory=RulesIn)
    services: list[ServiceCreateIn] = Field(default_factory=list, max_length=500)
    windows: list[WindowIn] = Field(default_factory=list, max_length=1000)

    def stored(self) -> dict[str, Any]:
        """The form the administration desk takes (hours as stored periods)."""
        data = self.model_dump(mode="json")
        data["hall"]["hours"] = self.hall.hours.to_mapping()
        return data

    @classmethod
    def from_stored(cls, data: dict[str, Any]) -> HallConfigFile:
        hall = {**data["hall"], "hours": Hours.from_mapping(data["hall"]["hours"])}
        return cls.model_validate({**data, "hall": hall})


def hall_out(data: dict[str, Any]) -> dict[str, Any]:
    """A hall from the desk with its hours in the API's form."""
    return {**data, "hours": Hours.from_mapping(data["hours"]).model_dump(mode="json")}
