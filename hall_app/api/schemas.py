"""Request and response models of the HTTP API (pydantic), source of the OpenAPI document."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, model_validator

from hall_app.validation import Strict

Priority = Literal["none", "elderly", "disabled", "military", "pregnant"]
PauseCategory = Literal["lunch", "meeting", "away", "system", "other"]


class TokenIn(Strict):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)


class TokenOut(BaseModel):
    token: str
    username: str
    role: str
    hall: str | None
    expires_in: int


class TicketIn(Strict):
    service: str | None = Field(
        default=None, min_length=1, max_length=32, description="service code, e.g. SOCIAL"
    )
    services: list[Annotated[str, Field(min_length=1, max_length=32)]] | None = Field(
        default=None,
        min_length=1,
        max_length=5,
        description="several services on one ticket, in order (instead of `service`)",
    )
    channel: Literal["kiosk", "app", "web"] = "kiosk"
    priority: Priority = "none"
    id_number: str | None = Field(
        default=None, max_length=18, description="resident ID (kept only hashed and masked)"
    )
    id_name: str | None = Field(
        default=None, max_length=40, description="the card's name; kept masked only (张*)"
    )
    proxy_id_number: str | None = Field(
        default=None, max_length=18, description="代办: the ID of who takes the ticket for another"
    )
    phone: str | None = Field(
        default=None,
        max_length=20,
        description="a mobile number for the ticket's notices (kept encrypted, issue 17)",
    )
    wechat_openid: str | None = Field(
        default=None,
        max_length=64,
        description="the citizen's WeChat openid (the app's tickets), for subscribe messages",
    )

    @model_validator(mode="after")
    def _one_of_service(self) -> TicketIn:
        if (self.service is None) == (self.services is None):
            raise ValueError("give either service or services")
        return self

    @property
    def codes(self) -> list[str]:
        return self.services if self.services is not None else [self.service or ""]

    @property
    def plain(self) -> bool:
        """A request as before this issue: one service, no identity."""
        return self.services is None and self.id_number is None and self.proxy_id_number is None


class FinishIn(Strict):
    outcome: (
        Literal["completed", "accepted", "needs_documents", "rejected", "consultation"] | None
    ) = Field(default=None, description="办结, 受理, 补正材料, 不予受理, 咨询")
    reason: str | None = Field(default=None, max_length=40, description="a reason code")


class PauseIn(Strict):
    reason: str = Field(
        min_length=1,
        max_length=200,
        description="e.g. 午休, 系统故障; staff see it (phones and ID numbers masked)",
    )
    category: PauseCategory | None = Field(
        default=None,
        description="what public screens show (午休 lunch, 会议 meeting, 临时离开 away, "
        "系统故障 system, 其他 other); default: the one the reason begins with, else other",
    )


class TransferIn(Strict):
    service: str | None = Field(default=None, min_length=1, max_length=32)
    window: int | None = Field(default=None, ge=1, le=2**31 - 1, description="window id")


class Estimate(BaseModel):
    median_minutes: float
    p90_minutes: float


class SegmentOut(BaseModel):
    index: int
    service: str
    status: str
    outcome: str | None
    reason: str | None


class TicketOut(BaseModel):
    id: str
    number: str
    hall: str
    service: str
    service_name: str
    service_name_en: str
    status: str
    channel: str
    priority: str
    business_date: str
    issued_at: str
    called_at: str | None
    started_at: str | None
    finished_at: str | None
    window: str | None
    window_name: str | None
    position: int | None
    estimated_wait: Estimate | None
    estimate_at_issue: Estimate | None
    recalls: int
    services: list[SegmentOut] = Field(default_factory=list)
    current_service: str | None = None
    segment: int = Field(default=0, description="index of the current service (from 0)")
    identified: bool = False
    proxy: bool = False


class Skill(BaseModel):
    service: str
    primary: bool


class CurrentTicket(BaseModel):
    number: str
    service: str
    status: str


class WindowOut(BaseModel):
    id: int
    number: int
    name: str
    zone: str
    state: str
    clerk: str | None
    paused_reason: str | None = Field(
        description="staff: the clerk's reason (masked); public: the category's label"
    )
    pause_category: PauseCategory | None
    since: str | None
    skills: list[Skill]
    current_ticket: CurrentTicket | None


class WindowsOut(BaseModel):
    hall: str
    windows: list[WindowOut]


class ServiceOut(BaseModel):
    code: str
    prefix: str
    name_zh: str
    name_en: str
    zone: str
    standard_minutes: float
    active: bool
    waiting: int
    longest_wait_minutes: float
    estimated_wait: Estimate | None


class ServicesOut(BaseModel):
    hall: str
    name_zh: str
    name_en: str
    services: list[ServiceOut]


class QueueEntry(BaseModel):
    id: str = Field(description="the ticket's id (for a chosen call, issue 18)")
    number: str
    service: str
    priority: str
    waited_minutes: float
    appointment: bool


class HeldEntry(BaseModel):
    id: str
    number: str
    service: str


class WindowQueueOut(BaseModel):
    window: WindowOut
    current: TicketOut | None
    queue: list[QueueEntry]
    held: list[HeldEntry] = Field(description="tickets this window has on hold (挂起)")
    today: dict[str, float]


class LiveOut(BaseModel):
    hall: str
    business_date: str
    windows: list[WindowOut]
    queues: list[ServiceOut]
    kpis: dict[str, float]
    alerts: list[dict[str, Any]]


class CallChosenIn(Strict):
    ticket: str = Field(min_length=1, max_length=32, description="the waiting ticket's id")
    reason: str = Field(min_length=1, max_length=200, description="why out of turn (audited)")


class WalkInIn(Strict):
    service: str = Field(min_length=1, max_length=32)
    reason: str = Field(min_length=1, max_length=200, description="why without a ticket")


class NextServicesIn(Strict):
    services: list[Annotated[str, Field(min_length=1, max_length=32)]] = Field(
        max_length=4, description="the services after the current one, in order ([] : none)"
    )


class IdentityIn(Strict):
    id_number: str = Field(min_length=1, max_length=18, description="resident ID read or typed")


class EidIn(Strict):
    code: str = Field(
        min_length=1, max_length=512, description="the QR code's text as the reader scanned it"
    )


class IdentityOut(BaseModel):
    masked_id: str = Field(description="4101**********1234")
    age_band: str = Field(description="0-17, 18-19, 20-29 … 60-69, 70+")
    elderly: bool = Field(description="old enough for the elderly priority and the 长辈版")


class EidOut(IdentityOut):
    id_number: str = Field(
        description="for this kiosk page's memory only, until the ticket request is answered"
    )
    name: str | None = Field(default=None, description="the platform's name (kept masked only)")
