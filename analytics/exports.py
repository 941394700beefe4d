"""Report downloads: CSV (UTF-8 with BOM, so Excel shows Chinese), XLSX and PNG charts.

Charts are drawn with matplotlib's Agg backend (no display) in Noto Sans CJK, the font the
hall's machines and CI install (fonts-noto-cjk).
"""

from __future__ import annotations

import functools
import io
import math
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib import font_manager
from matplotlib.figure import Figure
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from queue_engine.domain.cells import spreadsheet_safe

CJK_FONTS = ["Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Sans CJK TC", "DejaVu Sans"]
BLUE, RED, AMBER, GREEN, INK = "#0b5cad", "#c8102e", "#a86200", "#10805a", "#33415c"


def _plain(table: pd.DataFrame) -> pd.DataFrame:
    """Dates as text, floats rounded, text never a formula: what a person opens in a sheet."""
    flat = table.reset_index() if any(n is not None for n in table.index.names) else table
    out = flat.copy()
    for column in out.columns:
        series = out[column]
        if pd.api.types.is_datetime64_any_dtype(series):
            if getattr(series.dt, "tz", None) is not None:
                out[column] = series.dt.strftime("%Y-%m-%d %H:%M:%S%z")
            else:
                out[column] = series.dt.strftime("%Y-%m-%d")
        elif pd.api.types.is_float_dtype(series):
            out[column] = series.round(4)
        elif not pd.api.types.is_numeric_dtype(series):  # text (numbers stay numbers)
            out[column] = series.map(spreadsheet_safe)
    return out


def csv_bytes(table: pd.DataFrame) -> bytes:
    return _plain(table).to_csv(index=False).encode("utf-8-sig")


def xlsx_bytes(sheets: Mapping[str, pd.DataFrame]) -> bytes:
    """One workbook, a sheet per table; bold header, frozen first row, fitted column widths."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, table in sheets.items():
            plain = _plain(table)
            plain.to_excel(writer, sheet_name=name[:31], index=False)
            sheet = writer.sheets[name[:31]]
            sheet.freeze_panes = "A2"
            for cell in sheet[1]:
                cell.font = Font(bold=True, color="FFFFFF")
                cell.fill = PatternFill("solid", fgColor="0B5CAD")
            for index, column in enumerate(plain.columns, start=1):
                longest = max([len(str(column)), *(len(str(v)) for v in plain[column].head(200))])
                sheet.column_dimensions[get_column_letter(index)].width = min(40, longest + 3)
    return buffer.getvalue()


@functools.cache
def _cjk_fonts() -> list[str]:
    """The font list for charts, with Noto CJK made known to matplotlib if it is installed.

    matplotlib lists the system's fonts once and caches the list on disk: fonts installed
    after its first run (fonts-noto-cjk on a fresh machine) are missing from that list.
    """
    known = {font.name for font in font_manager.fontManager.ttflist}
    if not known & set(CJK_FONTS[:-1]):
        for path in font_manager.findSystemFonts():
            if "CJK" in path.rsplit("/", 1)[-1]:
                font_manager.fontManager.addfont(path)
    return CJK_FONTS


def _figure(title: str, width: float = 10, height: float = 4.2) -> tuple[Figure, Any]:
    fonts = _cjk_fonts()
    with plt.rc_context({"font.family": fonts, "axes.unicode_minus": False}):
        fig = Figure(figsize=(width, height), dpi=110)
        ax = fig.subplots()
    ax.set_title(title, loc="left", fontsize=13, color=INK, fontfamily=fonts)
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="y", color="#e7ecf3")
    ax.set_axisbelow(True)
    return fig, ax


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def _numbers(values: Sequence[Any]) -> list[float]:
    return [float("nan") if v is None else float(v) for v in values]


def _fonts(ax: Any) -> None:
    for label in [*ax.get_xticklabels(), *ax.get_yticklabels()]:
        label.set_fontfamily(CJK_FONTS)


def hourly_chart(hourly: Mapping[str, Sequence[Any]], labels: Mapping[str, str]) -> bytes:
    """Arrivals per hour (bars) with the mean and 90th-percentile wait (lines)."""
    fig, ax = _figure(labels["title"])
    hours = list(hourly["hours"])
    ax.bar(hours, _numbers(hourly["arrivals"]), color=BLUE, label=labels["arrivals"])
    ax.set_ylabel(labels["arrivals"], fontfamily=CJK_FONTS)
    right = ax.twinx()
    right.plot(hours, _numbers(hourly["wait_mean"]), color=RED, marker="o", label=labels["wait"])
    right.plot(
        hours, _numbers(hourly["wait_p90"]), color=AMBER, ls="--", marker=".", label=labels["p90"]
    )
    right.set_ylabel(labels["minutes"], fontfamily=CJK_FONTS)
    right.spines[["top"]].set_visible(False)
    handles = ax.get_legend_handles_labels()[0] + right.get_legend_handles_labels()[0]
    ax.legend(handles=handles, loc="upper left", prop={"family": CJK_FONTS}, frameon=False)
    _fonts(ax)
    return _png(fig)


def service_level_chart(hourly: Mapping[str, Sequence[Any]], labels: Mapping[str, str]) -> bytes:
    fig, ax = _figure(labels["title"])
    hours = list(hourly["hours"])
    for key, color in (("sl5", GREEN), ("sl15", BLUE)):
        series = _numbers(hourly["service_level_5" if key == "sl5" else "service_level_15"])
        ax.plot(hours, series, color=color, marker="o", label=labels[key])
    ax.set_ylim(0, 1.05)
    ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    ax.legend(loc="lower left", prop={"family": CJK_FONTS}, frameon=False)
    _fonts(ax)
    return _png(fig)


def bar_chart(
    names: Sequence[str], values: Sequence[Any], title: str, colors: Sequence[str] | None = None
) -> bytes:
    """One bar per window (or day), e.g. served per window or the flag scores."""
    fig, ax = _figure(title, width=min(14.0, max(8.0, 0.45 * len(names) + 3)), height=3.4)
    numbers = [0.0 if v is None or math.isnan(float(v)) else float(v) for v in values]
    ax.bar([str(n) for n in names], numbers, color=list(colors) if colors else BLUE)
    _fonts(ax)
    return _png(fig)
