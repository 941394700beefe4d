"""Personal data in free text that staff type: masked before the text is kept anywhere.

A clerk who pauses a window may type "午休 13800138000" or note an ID number to call back. Like
a receptionist who writes "138****8000" on the shared notepad, the hall keeps such text only
with mainland mobile numbers, resident ID numbers and other long numbers masked, so that the
stored row, the event log, its exports and the staff screens never hold the full number.
"""

from __future__ import annotations

import re

from queue_engine.domain.identity import mask_id_number, mask_phone

_FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")
# Longest first: an ID number contains runs that look like phones.
_ID_NUMBER = re.compile(r"(?<![0-9])(?:[0-9]{17}[0-9Xx]|[0-9]{15})(?![0-9A-Za-z])")
_PHONE = re.compile(
    r"(?<![0-9])(?:(?:\+|00)?86[ -]?)?(1[3-9][0-9])[ -]?([0-9]{4})[ -]?([0-9]{4})(?![0-9])"
)
_LANDLINE = re.compile(r"(?<![0-9])(0[0-9]{2,3})-([0-9]{7,8})(?![0-9])")
_LONG_NUMBER = re.compile(r"(?<![0-9*])[0-9]{7,}(?![0-9])")


def mask_personal_data(text: str) -> str:
    """``text`` with phones, ID numbers and other numbers of 7 or more digits masked.

    ``午休 13800138000`` → ``午休 138****8000``; an 18-digit ID number keeps its first and last
    four characters; any other long number keeps its last two digits. Dates and times
    (``2026-11-26``, ``13:00``) and ticket numbers (``A023``) are left as they are.
    """
    text = text.translate(_FULL_WIDTH_DIGITS)
    text = _ID_NUMBER.sub(_masked_id, text)
    text = _PHONE.sub(lambda m: mask_phone("".join(m.groups())), text)
    text = _LANDLINE.sub(lambda m: f"{m[1]}-{'*' * (len(m[2]) - 2)}{m[2][-2:]}", text)
    return _LONG_NUMBER.sub(lambda m: "*" * (len(m[0]) - 2) + m[0][-2:], text)


def _masked_id(match: re.Match[str]) -> str:
    number = match[0].upper()
    if len(number) == 18:
        return mask_id_number(number)
    return f"{number[:4]}{'*' * 7}{number[-4:]}"
