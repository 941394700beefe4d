"""Cells of the files the hall exports, made safe to open in a spreadsheet.

Excel and LibreOffice run a cell that begins with ``=``, ``+``, ``-`` or ``@`` (and, through
a tab or a carriage return before one, a cell that looks harmless) as a formula. A citizen's
comment or an account name such as ``=HYPERLINK("http://…")`` would then run on the machine of
whoever opens the report. Like a clerk who writes a leading apostrophe so the spreadsheet
keeps what was typed, every export (the event log CSV, the reports' CSV and XLSX) passes its
cells through ``spreadsheet_safe``; numbers, and text that is a plain number, stay numbers.
"""

from __future__ import annotations

import re
from typing import TypeVar

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
T = TypeVar("T")


def spreadsheet_safe(value: T) -> T | str:
    """``value`` as a spreadsheet shows it and never runs it: ``=1+2`` → ``'=1+2``.

    Anything but text is returned as it is (numbers stay numeric), and so is text that is a
    plain number such as ``-3.5``: no formula can hide in it.
    """
    if not isinstance(value, str) or not value.startswith(FORMULA_STARTS):
        return value
    if _PLAIN_NUMBER.fullmatch(value):
        return value
    return "'" + value
