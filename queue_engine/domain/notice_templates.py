"""The texts of notices, in zh-CN and English, one template per kind.

Like the hall's stack of printed forms: each kind of letter has its wording fixed once, with
blanks (``{number}``, ``{window}``) the clerk fills in. SMS gateways in China bill per segment:
70 characters fit one, a longer text goes in segments of 67 (``sms_segments``), so every
Chinese template stays within one segment with its sample values; admins preview them all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from queue_engine.domain.outbox import sms_segments

TEMPLATES: dict[str, tuple[str, str]] = {
    "booked": (
        "预约成功:{when},预约码 {code},请按时到大厅签到",
        "Booked for {when}, code {code}. Please check in at the hall on time.",
    ),
    "reminder_day": (
        "提醒:您预约的{service}在明天 {time},预约码 {code}",
        "Reminder: your {service} appointment is tomorrow at {time}, code {code}.",
    ),
    "reminder": (
        "您预约的{service}将于 {time} 开始,请提前到大厅签到",
        "Your {service} appointment starts at {time}. Please check in at the hall.",
    ),
    "cancelled": (
        "抱歉,{date} 大厅暂停办理,您的预约({code})已取消,请重新预约",
        "Sorry, the hall is closed on {date}: appointment {code} is cancelled. Please rebook.",
    ),
    "remote_confirmed": (
        "取号成功:{number} 号,前面 {ahead} 人,约 {minutes} 分钟",
        "Ticket {number}: {ahead} ahead of you, about {minutes} minutes.",
    ),
    "turn_near": (
        "{number} 号:前面还有 {ahead} 人,请到大厅等候叫号",
        "{number}: {ahead} ahead of you. Please come to the waiting area.",
    ),
    "called": (
        "请 {number} 号到 {window} 号窗口办理",
        "Number {number}, please go to window {window}.",
    ),
    "missed": (
        "{number} 号已过号,请到取号机或服务台重新排队",
        "Number {number} was called and missed. Please rejoin at a kiosk or the desk.",
    ),
    "rating_invite": (
        "感谢办理,请为本次服务评价:{link}",
        "Thank you. Please rate the service: {link}",
    ),
    "callback_scheduled": (
        "您的评价已收到,工作人员将于 {when} 前回访",
        "We received your rating; staff will call you back by {when}.",
    ),
    "rectified": (
        "您反映的问题已整改,请对整改结果评价:{link}",
        "The problem you reported has been put right. Please rate the rectification: {link}",
    ),
    "card_yellow": (
        "【效能监察预警】{window} 号窗口{reason}(期限 {deadline}),请尽快处理",
        "Efficiency warning (yellow card): window {window}, {reason_en} (due {deadline}). "
        "Please act now.",
    ),
    "card_red": (
        "【效能监察问责】{window} 号窗口{reason}(期限 {deadline}),已发红牌,请督办",
        "Accountability (red card): window {window}, {reason_en} (due {deadline}). "
        "Please supervise.",
    ),
}

SAMPLES: dict[str, Any] = {
    "when": "11月27日 09:30",
    "code": "K7M2Q9W3XA",
    "service": "社保",
    "time": "09:30",
    "date": "2026-11-27",
    "number": "A012",
    "ahead": 3,
    "minutes": 12,
    "window": 5,
    "link": "https://hall.example/r/ZMD/abc",
    "reason": "差评整改逾期",
    "reason_en": "rectification overdue",
    "deadline": "2026-11-27",
}


@dataclass(frozen=True)
class Rendered:
    kind: str
    lang: str
    text: str
    segments: int


def render(kind: str, params: dict[str, Any], lang: str = "zh") -> str:
    """The text of ``kind`` in ``lang`` ("zh" or "en") with ``params`` filled in."""
    zh, en = TEMPLATES[kind]
    return (en if lang == "en" else zh).format_map(_Blank(params))


class _Blank(dict[str, Any]):
    """A missing parameter stays visible as ``{name}`` instead of raising."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def previews() -> list[Rendered]:
    """Every template rendered with sample values, with its SMS segment count."""
    out: list[Rendered] = []
    for kind in TEMPLATES:
        for lang in ("zh", "en"):
            text = render(kind, SAMPLES, lang)
            out.append(Rendered(kind, lang, text, sms_segments(text)))
    return out
