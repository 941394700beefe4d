"""Request and response models of appointments, evaluations and follow-up cases."""

from __future__ import annotations

from pydantic import BaseModel, Field

from ..validation import Strict
from .schemas import TicketOut


class SlotOut(BaseModel):
    start: str
    end: str
    time: str = Field(description="local start time, HH:MM")
    capacity: int
    available: int
    bookable: bool


class SlotsOut(BaseModel):
    hall: str
    service: str
    date: str
    bookable_dates: list[str]
    slots: list[SlotOut]


class SlotsQuery(Strict):
    date: str | None = Field(default=None, max_length=10, description="YYYY-MM-DD; default today")


class AppointmentIn(Strict):
    service: str = Field(min_length=1, max_length=32)
    date: str = Field(min_length=10, max_length=10, description="YYYY-MM-DD")
    start: str = Field(min_length=4, max_length=40, description="HH:MM local, or ISO 8601")
    name: str = Field(min_length=1, max_length=40)
    phone: str = Field(min_length=1, max_length=20, description="mainland mobile number")
    id_number: str = Field(min_length=1, max_length=24, description="18-digit resident ID")


class AppointmentOut(BaseModel):
    code: str
    hall: str
    service: str
    service_name: str
    service_name_en: str
    date: str
    start: str
    end: str
    status: str
    name: str = Field(description="masked, e.g. 张*")
    phone: str = Field(description="masked, e.g. 138****5678")
    id_number: str = Field(description="masked, e.g. 4101**********1234")
    cancel_until: str
    check_in_opens: str
    check_in_closes: str
    ticket_id: str | None
    verified: bool = Field(
        description="checked in, or confirmed at a kiosk as the ID holder's: its no-show "
        "counts towards the ID number's booking ban"
    )


class HolderIn(Strict):
    id_number: str = Field(
        min_length=1,
        max_length=24,
        description="the 18-digit resident ID number shown at the kiosk",
    )


class HeldOut(BaseModel):
    hall: str
    appointments: list[AppointmentOut]


class PhoneCheckIn(Strict):
    phone: str = Field(min_length=1, max_length=20)
    id_last4: str = Field(min_length=4, max_length=4)


RATING_KEY = (
    "the ticket's rating key, for its holder only: send it with `POST /tickets/{id}/evaluation` "
    "(the kiosk prints it as the slip's QR code; staff answers never carry it)"
)


class IssuedTicketOut(TicketOut):
    rating_key: str = Field(description=RATING_KEY)


class CheckInOut(IssuedTicketOut):
    late: bool = Field(description="after the check-in window: an ordinary walk-in ticket")
    appointment: AppointmentOut


class EvaluationIn(Strict):
    score: int = Field(ge=1, le=5, strict=True, description="5 非常满意 … 1 非常不满意")
    comment: str | None = Field(default=None, max_length=500)
    key: str | None = Field(
        default=None,
        max_length=64,
        description="the ticket's `rating_key` (given with the ticket; the slip's QR code "
        "carries it); without the right key a rating is refused (403 `rating_key`)",
    )
    segment: int = Field(
        default=0, ge=0, le=20, strict=True, description="which service of the visit (一次一评)"
    )
    indicators: dict[str, int] | None = Field(
        default=None,
        description="the hall's on-site indicators (overall, efficiency, quality, attitude), "
        "each 1-5: all that the hall asks, or none",
    )
    reasons: list[str] | None = Field(
        default=None, max_length=20, description="for 1 and 2 only: reasons from the hall's list"
    )


class EvaluationOut(BaseModel):
    ticket: str
    number: str
    score: int
    comment: str
    follow_up: bool
    segment: int = 0
    indicators: dict[str, int] | None = None
    reasons: list[str] = []


class FollowUpIn(Strict):
    key: str | None = Field(default=None, max_length=64)
    segment: int = Field(default=0, ge=0, le=20, strict=True)
    comment: str = Field(min_length=1, max_length=500, description="追评: once, within N days")


class FollowUpOut(BaseModel):
    ticket: str
    segment: int
    score: int
    followed_up: bool


class RectificationIn(Strict):
    key: str | None = Field(default=None, max_length=64)
    segment: int = Field(default=0, ge=0, le=20, strict=True)
    rating: str = Field(
        max_length=16, description="satisfied (满意), basic (基本满意), unsatisfied (不满意)"
    )


class RateLaterOut(BaseModel):
    ticket: str
    channel: str


class RatingFormOut(BaseModel):
    hall: str
    indicators: list[str]
    reasons: list[str]
    follow_up_days: int
    rectification_rating_days: int


class CaseOut(BaseModel):
    id: int
    hall: str
    ticket_number: str
    service: str
    window: str | None
    score: int
    comment: str
    status: str
    supervisor: str | None
    opened_at: str
    deadline: str
    overdue: bool
    note: str
    rerating: int | None
    callback_deadline: str | None = None
    called_back_at: str | None = None
    callback_overdue: bool = False
    resolution: str | None = None
    resolved_at: str | None = None
    rectification_rating: str | None = None
    reasons: list[str] = []
    appeal: str | None = None


class CasesOut(BaseModel):
    hall: str
    cases: list[CaseOut]


class CaseActionIn(Strict):
    note: str | None = Field(default=None, max_length=500)
    reason: str | None = Field(default=None, max_length=500, description="needed for an appeal")
    score: int | None = Field(default=None, ge=1, le=5, strict=True, description="re-rating")
