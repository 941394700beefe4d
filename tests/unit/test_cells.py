"""Exports a spreadsheet opens never run a cell as a formula; numbers stay numbers.

A cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is a formula to
Excel and LibreOffice: a citizen's comment or an account name like ``=HYPERLINK(...)`` would
run on a supervisor's machine. Every export (the event log CSV, the reports' CSV and XLSX)
goes through ``spreadsheet_safe``.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from openpyxl import load_workbook

from analytics.exports import csv_bytes, xlsx_bytes
from queue_engine.adapters.event_csv import csv_row
from queue_engine.domain.cells import spreadsheet_safe

DANGEROUS = ["=1+2", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)", "\t=1", "\r=1", '=HYPERLINK("x")']


@pytest.mark.parametrize("value", DANGEROUS)
def test_a_cell_beginning_a_formula_is_text(value: str) -> None:
    assert spreadsheet_safe(value) == "'" + value


@pytest.mark.parametrize("value", [-3.5, 0, 12, "-3.5", "+7", "-12", "1e-3", "SOCIAL", "", None])
def test_numbers_and_plain_text_are_left_alone(value: object) -> None:
    assert spreadsheet_safe(value) == value


def _table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "clerk": ["-clerk", "=1+2", "clerk10"],
            "comment": ["@x", "好", None],
            "wait": [-3.5, 2.0, 1],
        }
    )


def test_report_csv_cells_are_escaped_and_numbers_kept() -> None:
    rows = list(csv.DictReader(io.StringIO(csv_bytes(_table()).decode("utf-8-sig"))))
    assert [r["clerk"] for r in rows] == ["'-clerk", "'=1+2", "clerk10"]
    assert [r["comment"] for r in rows] == ["'@x", "好", ""]
    assert [float(r["wait"]) for r in rows] == [-3.5, 2.0, 1.0]


def test_report_xlsx_cells_are_text_never_formulas_and_numbers_numeric() -> None:
    sheet = load_workbook(io.BytesIO(xlsx_bytes({"t": _table()})))["t"]
    assert [c.value for c in sheet["A"][1:]] == ["'-clerk", "'=1+2", "clerk10"]
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)
    assert [c.value for c in sheet["C"][1:]] == [-3.5, 2.0, 1.0]
    assert all(c.data_type == "n" for c in sheet["C"][1:])


def test_event_log_csv_cells_are_escaped() -> None:
    stored = {
        "event_id": 7,
        "hall": "ZMD",
        "ts": datetime(2026, 11, 26, 2, tzinfo=UTC),
        "type": "evaluation",
        "ticket_number": "F001",
        "service": "SOCIAL",
        "window": "10",
        "clerk": '=HYPERLINK("http://evil.example")',
        "channel": "web",
        "priority": "none",
        "payload": '{"score": 1, "comment": "=1+2"}',
    }
    row = csv_row(stored, ZoneInfo("Asia/Shanghai"))
    assert row["clerk"] == "'" + stored["clerk"]
    assert row["payload"] == stored["payload"]  # JSON text begins with "{"
    assert (row["event_id"], row["window"]) == ("7", "10")
    assert row["ts"] == "2026-11-26T10:00:00+08:00"
