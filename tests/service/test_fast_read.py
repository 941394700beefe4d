"""The fast paths (pyarrow's CSV reader, payloads through a regex) give what the slow ones give."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics import load
from analytics.kpis import DIMENSIONS, Ledger, kpis
from analytics.load import _typed, read_events_csv
from analytics.tickets import _comments, _issue_payloads, _json_list
from queue_engine.domain.events import EVENT_COLUMNS
from tests.helpers.eventlogs import worked_example


def _slow(source: Path | io.StringIO, monkeypatch: pytest.MonkeyPatch) -> pd.DataFrame:
    """``read_events_csv`` as it reads without pyarrow."""
    with monkeypatch.context() as patch:
        patch.setattr(load, "_read_arrow", lambda _source: None)
        return read_events_csv(source)


def _odd_log(path: Path) -> Path:
    """A log with what the fast reader must read as pandas does: a comment over two lines,
    quotes, empty fields, "NA"-like text, a fractional second, a payload of another form."""
    path = worked_example().write(path)
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    rated = frame.index[frame["type"] == "evaluation"][0]
    comment = {"comment": '排队"太久"\n下次早来', "score": 2}
    frame.loc[rated, "payload"] = json.dumps(comment, ensure_ascii=False, indent=1)
    issued = frame.index[frame["type"] == "ticket.issued"]
    frame.loc[issued[0], "payload"] = '{"estimated_wait": {"median_minutes": 3, "p90_minutes": 7}}'
    frame.loc[issued[1], "ticket_number"] = "NA"
    frame.loc[issued[1], "ts"] = frame.loc[issued[1], "ts"].replace("+08:00", ".250+08:00")
    frame.to_csv(path, index=False)
    return path


def test_pyarrow_and_pandas_read_the_same_frame_and_kpis(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _odd_log(tmp_path / "odd.csv")
    fast, slow = read_events_csv(path), _slow(path, monkeypatch)
    pd.testing.assert_frame_equal(fast, slow)
    assert fast.attrs == slow.attrs == {"timezone": "Asia/Shanghai"}
    assert "\n" in str(fast.loc[fast["type"] == "evaluation", "payload"].iloc[0])
    assert (fast["ticket_number"] == "NA").sum() >= 1  # text, not missing
    fast_ledger, slow_ledger = Ledger.from_events(fast), Ledger.from_events(slow)
    for dim in ((), *DIMENSIONS):
        pd.testing.assert_frame_equal(kpis(fast_ledger, dim), kpis(slow_ledger, dim))
    comments = fast_ledger.reviews["comment"].tolist()
    assert '排队"太久"\n下次早来' in comments


def test_text_streams_and_bad_files_read_as_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = worked_example().write(tmp_path / "e.csv")
    text = path.read_text(encoding="utf-8")
    pd.testing.assert_frame_equal(read_events_csv(io.StringIO(text)), _slow(path, monkeypatch))
    missing = tmp_path / "missing.csv"
    missing.write_text(text.replace("payload", "other"), encoding="utf-8")
    with pytest.raises(ValueError):
        read_events_csv(missing)


def test_blank_text_without_missing_values_becomes_none() -> None:
    """The database reader's frames: text columns with "" and no missing value at all."""
    row = dict.fromkeys(EVENT_COLUMNS, "x")
    row.update(ts="2026-11-26T09:00:00+08:00", ticket_number="", payload="")
    frame = pd.DataFrame([row], dtype=object)
    typed = _typed(frame, "Asia/Shanghai")
    assert typed.loc[0, "ticket_number"] is None
    assert typed.loc[0, "payload"] == ""


_NUMBER = st.one_of(
    st.integers(-10_000, 10_000), st.floats(allow_nan=False, allow_infinity=False, width=64)
)
_ESTIMATE = st.one_of(
    st.none(),
    st.fixed_dictionaries({"median_minutes": _NUMBER, "p90_minutes": _NUMBER}),
    st.fixed_dictionaries({"p90_minutes": _NUMBER}),
)
_SLOT = st.sampled_from(["2026-11-26T09:30:00+08:00", "2026-11-26T01:30:00.5+00:00", ""])


@st.composite
def _issue_payload(draw: st.DrawFn) -> str | None:
    payload: dict[str, object] = {}
    if draw(st.booleans()):
        payload["estimated_wait"] = draw(_ESTIMATE)
    if draw(st.booleans()):
        payload["slot_start"] = draw(_SLOT)
    if draw(st.booleans()):
        payload["appointment"] = draw(st.integers(1, 99))
    form = draw(st.sampled_from(["compact", "sorted", "spaced", "empty", "none"]))
    if form == "empty":
        return ""
    if form == "none":
        return None
    if form == "spaced":
        return json.dumps(payload)
    return json.dumps(payload, sort_keys=form == "sorted", separators=(",", ":"))


@settings(max_examples=60, deadline=None)
@given(st.lists(_issue_payload(), min_size=1, max_size=12))
def test_issue_payloads_read_as_json_reads_them(payloads: list[str | None]) -> None:
    index = pd.Index([f"t{i}" for i in range(len(payloads))], name="ticket_id")
    fast = _issue_payloads(pd.Series(payloads, dtype=object), index)
    data = _json_list(pd.Series(payloads, dtype=object))
    estimates = [d.get("estimated_wait") or {} for d in data]
    median = np.array([e.get("median_minutes", np.nan) for e in estimates], float)
    p90 = np.array([e.get("p90_minutes", np.nan) for e in estimates], float)
    slot = pd.Series([d.get("slot_start") for d in data], dtype=object, index=index)
    np.testing.assert_array_equal(fast["est_median"].to_numpy(), median)
    np.testing.assert_array_equal(fast["est_p90"].to_numpy(), p90)
    expected = pd.to_datetime(slot, utc=True, format="ISO8601")
    pd.testing.assert_series_equal(fast["slot_start"], expected, check_names=False)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.one_of(st.none(), st.text(max_size=6)),
            st.integers(1, 5),
            st.booleans(),
        ),
        min_size=1,
        max_size=10,
    )
)
def test_comments_read_as_json_reads_them(rows: list[tuple[str | None, int, bool]]) -> None:
    texts = []
    for comment, score, sort_keys in rows:
        payload: dict[str, object] = {"score": score}
        if comment is not None:
            payload["comment"] = comment
        texts.append(json.dumps(payload, ensure_ascii=False, sort_keys=sort_keys))
    expected = [str(d.get("comment", "")) for d in _json_list(pd.Series(texts, dtype=object))]
    assert _comments(np.array(texts, dtype=object)) == expected
