"""What the hall hears: the text of a call, as shown on the board and as given to a voice.

A call in a Chinese service hall sounds like a station announcement: "请 A 零 二 三 号,到
五 号窗口办理". Two readings meet in it, and both follow hall practice:

- the ticket number is read digit by digit (A023 → "A 零 二 三"), in Chinese characters and
  separated by spaces. Handed "A023" as it is, a Mandarin voice reads "A 二十三" and handed
  "023" it may read "零二十三"; characters one by one leave it no choice. The prefix letter stays
  a Latin capital: zh-CN voices (and espeak-ng's Mandarin voice) say its English name, "A" /
  "诶", which is what citizens hear in every hall;
- the window number is a quantity, read as a normal number (15 → "十五", 10 → "十",
  22 → "二十二", 101 → "一百零一"), so "十五号窗口", not "一五号窗口".

The text on screen keeps the numerals ("请 A023 号到 5 号窗口办理"). ``static/display/
announce.js`` builds the same texts in the browser; a browser test checks the two agree.
This module is pure: no I/O, no Flask.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DIGITS = "零一二三四五六七八九"
TICKET_NUMBER = re.compile(r"[A-Z][0-9]{3,5}")
WINDOW_NUMBER = re.compile(r"[1-9][0-9]{0,2}")
MAX_WINDOW = 999


class AnnouncementError(ValueError):
    """A ticket or window number that no call could have: nothing is announced for it."""


@dataclass(frozen=True)
class Announcement:
    """One call: the ticket, the window, the text shown and the text spoken."""

    number: str
    window: int
    text: str
    speech: str


def read_digits(digits: str) -> str:
    """``"023"`` → ``"零 二 三"``: one character per digit, so no voice reads a quantity."""
    if not digits.isascii() or not digits.isdigit():
        raise AnnouncementError(f"not digits: {digits!r}")
    return " ".join(DIGITS[int(d)] for d in digits)


def read_number(value: int) -> str:
    """A whole number 0–9999 as spoken Mandarin: 10 → "十", 15 → "十五", 105 → "一百零五"."""
    if not 0 <= value <= 9999:
        raise AnnouncementError(f"cannot read {value} as a window number")
    if value == 0:
        return DIGITS[0]
    units = ((1000, "千"), (100, "百"), (10, "十"), (1, ""))
    parts: list[str] = []
    gap = False  # a zero between two non-zero places is read once: 1005 → 一千零五
    for size, unit in units:
        digit = value // size % 10
        if digit == 0:
            gap = bool(parts)
            continue
        if gap:
            parts.append(DIGITS[0])
            gap = False
        parts.append(DIGITS[digit] + unit)
    spoken = "".join(parts)
    return spoken[1:] if spoken.startswith("一十") else spoken  # 十五, not 一十五


def read_ticket(number: str) -> str:
    """``"A023"`` → ``"A 零 二 三"``."""
    checked = ticket_number(number)
    return f"{checked[0]} {read_digits(checked[1:])}"


def ticket_number(number: object) -> str:
    """The ticket number itself, if it is one (a capital letter and 3–5 digits)."""
    if not isinstance(number, str) or not TICKET_NUMBER.fullmatch(number):
        raise AnnouncementError(f"not a ticket number: {number!r}")
    return number


def window_number(window: object) -> int:
    """A window number (1–999) from an int or its decimal label, e.g. ``"5"``."""
    if isinstance(window, bool):
        raise AnnouncementError(f"not a window number: {window!r}")
    if isinstance(window, int):
        if 1 <= window <= MAX_WINDOW:
            return window
    elif isinstance(window, str) and WINDOW_NUMBER.fullmatch(window):
        return int(window)
    raise AnnouncementError(f"not a window number: {window!r}")


def announcement(number: object, window: object) -> Announcement:
    """The call of ticket ``number`` to ``window``: "请 A023 号到 5 号窗口办理"."""
    ticket = ticket_number(number)
    desk = window_number(window)
    return Announcement(
        number=ticket,
        window=desk,
        text=f"请 {ticket} 号到 {desk} 号窗口办理",
        speech=f"请 {read_ticket(ticket)} 号,到 {read_number(desk)} 号窗口办理",
    )
