"""Tickets, visits and open times rebuilt from the event log: the rows KPIs are counted on.

The log is a diary of each ticket; reading it back gives three tables:

* ``tickets``: one row per ticket, dated by the business date of its issue (a ticket called
  after local midnight still counts on the day it was taken), with its wait measured from the
  later of issue and slot start (appointments), its final state and the estimate it was given;
* ``visits``: one row per call at a window, ending in finish, transfer or no-show (a requeued
  no-show or a transfer starts a new visit later, possibly at another window and service);
* ``open_intervals``: when each window was open (paused time excluded), and by which clerk.

All three are vectorised: a year of a busy hall is a few million events.
"""

from __future__ import annotations

import json
from datetime import tzinfo
from typing import Any, cast

import numpy as np
import pandas as pd

from .load import TEXT, text_index, zone_of

ISSUED = "ticket.issued"
CALLED = "ticket.called"
RECALLED = "ticket.recalled"
STARTED = "ticket.started"
FINISHED = "ticket.finished"
NO_SHOW = "ticket.no_show"
TRANSFERRED = "ticket.transferred"
CANCELLED = "ticket.cancelled"
EVALUATION = "evaluation"
VISIT_TYPES = (CALLED, RECALLED, STARTED, FINISHED, NO_SHOW, TRANSFERRED)
VISIT_ENDS = {FINISHED: "finished", NO_SHOW: "no_show", TRANSFERRED: "transferred"}
WINDOW_STATES = {
    "window.opened": "open",
    "window.resumed": "open",
    "window.paused": "paused",
    "window.closed": "closed",
}
_REQUEUED = r'"requeued"\s*:\s*true'
# The payloads a log mostly holds, as ``queue_engine.events`` writes them (compact, keys
# sorted); they are read with one vectorised regex, anything else with ``json``.
_NUMBER = r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?"
_PLAIN = r'[^"\\\x00-\x1f]*'  # a JSON string with no escapes: its text is its value
_ESTIMATE = (
    rf'"estimated_wait":(?:null|\{{"median_minutes":(?P<median>{_NUMBER}),'
    rf'"p90_minutes":(?P<p90>{_NUMBER})\}})'
)
_ISSUE_PAYLOAD = (
    rf'^\{{(?:{_ESTIMATE}(?:,"slot_start":"(?P<slot>{_PLAIN})")?'
    rf'|"slot_start":"(?P<slot_only>{_PLAIN})")?\}}$'
)
_COMMENT_PAYLOAD = (
    rf'^\{{(?:"comment":"(?P<c1>{_PLAIN})",)?"score":-?\d+(?:\.\d+)?\}}$'
    rf'|^\{{"score":-?\d+(?:\.\d+)?,"comment":"(?P<c2>{_PLAIN})"\}}$'
)
_SCORE = r'"score"\s*:\s*(?P<score>\d)'


def _local(ts: pd.Series, zone: tzinfo) -> pd.Series:
    local: pd.Series = ts.dt.tz_convert(zone)
    return local


def _day(local: pd.Series) -> pd.Series:
    day: pd.Series = local.dt.tz_localize(None).dt.normalize()
    return day


def _minutes(delta: pd.Series) -> pd.Series:
    """Timedeltas as float minutes."""
    minutes: pd.Series = delta.dt.total_seconds() / 60
    return minutes


def _naive(ts: pd.Series) -> np.ndarray[Any, Any]:
    """UTC instants as a plain datetime64 array (fast; no per-row Timestamp objects)."""
    return np.asarray(ts.dt.tz_localize(None).to_numpy())


def _aware(values: np.ndarray[Any, Any], index: pd.Index | None = None) -> pd.Series:
    series = pd.Series(values, index=index)
    if series.dtype == object:
        series = pd.to_datetime(series)
    aware: pd.Series = series.dt.tz_localize("UTC")
    return aware


def _json_list(texts: pd.Series) -> list[dict[str, Any]]:
    """Many small JSON objects parsed in one call (much faster than one call each)."""
    joined = ",".join(t if isinstance(t, str) and t else "{}" for t in texts)
    parsed: list[dict[str, Any]] = json.loads(f"[{joined}]")
    return parsed


def _extract(texts: np.ndarray[Any, Any], pattern: str) -> dict[str, np.ndarray[Any, Any]] | None:
    """The named groups of ``pattern`` in each text (object arrays; ``None`` where it does not
    match, ``""`` for a group left out), all at once with pyarrow; ``None`` without pyarrow."""
    try:
        import pyarrow as pa
        import pyarrow.compute as pc
    except ImportError:  # pragma: no cover - pyarrow is a dependency
        return None
    strings = pa.array(texts, type=pa.string(), from_pandas=True)
    found = pc.extract_regex(strings, pattern=pattern)
    matched = found.is_valid().to_numpy(zero_copy_only=False)
    groups: dict[str, np.ndarray[Any, Any]] = {}
    for i in range(found.type.num_fields):
        values = found.field(i).to_numpy(zero_copy_only=False).astype(object)
        values[~matched] = None
        groups[found.type.field(i).name] = values
    return groups


def _numbers(texts: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """JSON number texts (from ``_extract``) as floats, ``""`` as NaN; rounded as ``json``
    rounds them (pyarrow's parser, like Python's, gives the nearest double)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    texts = texts.copy()
    texts[texts == ""] = None
    strings = pa.array(texts, type=pa.string(), from_pandas=True)
    numbers: np.ndarray[Any, Any] = pc.cast(strings, pa.float64()).to_numpy(zero_copy_only=False)
    return numbers


def _issue_payloads(payloads: pd.Series, index: pd.Index) -> pd.DataFrame:
    """Slot start and the estimate given, from the ``ticket.issued`` payloads.

    The usual payloads (an estimate, a slot start, both or neither, as the log writes them)
    through one regex; any other through ``json``.
    """
    texts = payloads.to_numpy(dtype=object)
    n = len(texts)
    median = np.full(n, np.nan)
    p90 = np.full(n, np.nan)
    slot = np.full(n, None, dtype=object)
    groups = _extract(texts, _ISSUE_PAYLOAD)
    if groups is None:
        rest = np.arange(n)
    else:
        rest = np.flatnonzero(pd.isna(groups["median"]))  # None: no match
        done = np.flatnonzero(pd.notna(groups["median"]))
        median[done] = _numbers(groups["median"][done])
        p90[done] = _numbers(groups["p90"][done])
        either = groups["slot"][done]
        either[either == ""] = groups["slot_only"][done][either == ""]
        either[either == ""] = None
        slot[done] = either
    if len(rest):
        data = _json_list(pd.Series(texts[rest], dtype=object))
        estimates = [d.get("estimated_wait") or {} for d in data]
        slot[rest] = [d.get("slot_start") for d in data]
        median[rest] = np.array([e.get("median_minutes", np.nan) for e in estimates], float)
        p90[rest] = np.array([e.get("p90_minutes", np.nan) for e in estimates], float)
    return pd.DataFrame(
        {
            "slot_start": pd.to_datetime(
                pd.Series(slot, dtype=object, index=index), utc=True, format="ISO8601"
            ),
            "est_median": median,
            "est_p90": p90,
        },
        index=index,
    )


def _category(values: np.ndarray[Any, Any]) -> pd.Categorical:
    """Short repeated codes (service, window, clerk…) as categories: fast to group by."""
    codes, labels = pd.factorize(values, sort=True)
    if all(isinstance(label, str) for label in labels):
        dtype = pd.CategoricalDtype(text_index(list(labels)))
        return cast(pd.Categorical, pd.Categorical.from_codes(codes, dtype=dtype))
    return pd.Categorical(values)


def _subset(column: pd.Series, rows: np.ndarray[Any, Any]) -> pd.Categorical:
    """A category column of the events at these rows, with only the categories used there
    (as ``_category`` of its text would give, without making the text)."""
    dtype = column.dtype
    if isinstance(dtype, pd.CategoricalDtype) and dtype.categories.is_monotonic_increasing:
        codes = column.cat.codes.to_numpy()[rows]
        subset = pd.Categorical.from_codes(codes, dtype=dtype).remove_unused_categories()
        return cast(pd.Categorical, subset)
    return _category(column.to_numpy(dtype=object)[rows])


def _codes(events: pd.DataFrame, index: pd.Index) -> np.ndarray[Any, Any]:
    """Each event's ticket as a row number of ``index`` (−1: not a ticket of it)."""
    codes: np.ndarray[Any, Any] = index.get_indexer(pd.Index(events["ticket_id"]))
    return codes


def _text(values: np.ndarray[Any, Any]) -> Any:
    """Text values as pandas' ``str`` in plain Python strings (never copied into Arrow)."""
    return pd.array(values, dtype=TEXT)


def tickets(events: pd.DataFrame) -> pd.DataFrame:
    """One row per ticket issued in the log (see the module text), indexed by ticket id."""
    return tickets_and_codes(events)[0]


def tickets_and_codes(events: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray[Any, Any]]:
    """``tickets`` and each event's ticket as a row number of it (−1: none), for ``visits``."""
    zone = zone_of(events)
    issued = events.loc[events["type"] == ISSUED].drop_duplicates("ticket_id")
    index = pd.Index(issued["ticket_id"].to_numpy(dtype=object), dtype=TEXT, name="ticket_id")
    every = np.arange(len(issued))
    out = pd.DataFrame(
        {
            "number": _text(issued["ticket_number"].to_numpy(dtype=object)),
            "service": _subset(issued["service"], every),
            "channel": _subset(issued["channel"], every),
            "priority": _subset(issued["priority"], every),
        },
        index=index,
    )
    out["issued_at"] = _aware(_naive(issued["ts"]), index)
    extra = _issue_payloads(issued["payload"], index)
    for column in extra.columns:
        out[column] = extra[column]
    local = _local(out["issued_at"], zone)
    out["business_date"] = _day(local)
    out["hour"] = local.dt.hour
    out["weekday"] = local.dt.day_of_week
    out["wait_from"] = out["issued_at"].where(
        out["slot_start"].isna() | (out["slot_start"] <= out["issued_at"]), out["slot_start"]
    )
    codes = _codes(events, out.index)
    _add_life(out, events, codes)
    waited = _minutes(out["first_called_at"] - out["wait_from"])
    out["wait_minutes"] = waited.clip(lower=0.0)
    out["ewt_error"] = out["wait_minutes"] - out["est_median"]
    return out, codes


LIFE_TYPES = (ISSUED, CALLED, RECALLED, STARTED, FINISHED, NO_SHOW, TRANSFERRED, CANCELLED)
_STATUS = {
    ISSUED: "waiting",
    CALLED: "called",
    RECALLED: "called",
    STARTED: "serving",
    FINISHED: "done",
    NO_SHOW: "no_show",
    TRANSFERRED: "waiting",
    CANCELLED: "cancelled",
}


def _requeued(payloads: pd.Series) -> np.ndarray[Any, Any]:
    flags: np.ndarray[Any, Any] = (
        payloads.fillna("").str.contains(_REQUEUED, regex=True).to_numpy(dtype=bool)
    )
    return flags


def _add_life(out: pd.DataFrame, events: pd.DataFrame, codes: np.ndarray[Any, Any]) -> None:
    """First call, final state and service, transfers and requeues of each ticket.

    Only the ticket's own life events count: reviews, follow-up cases and alerts that carry
    the ticket's id come after its end and change nothing about it.
    """
    n = len(out)
    life = (codes >= 0) & events["type"].isin(LIFE_TYPES).to_numpy()
    code = codes[life]
    kind = events["type"].to_numpy(dtype=object)[life]
    ts = _naive(events["ts"])[life]
    window = events["window"].to_numpy(dtype=object)[life]
    clerk = events["clerk"].to_numpy(dtype=object)[life]
    service = events["service"].to_numpy(dtype=object)[life]

    calls = np.flatnonzero(kind == CALLED)
    _, first = np.unique(code[calls], return_index=True)
    rows = calls[first]
    first_ts = np.full(n, np.datetime64("NaT"), dtype=ts.dtype)
    first_ts[code[rows]] = ts[rows]
    out["first_called_at"] = _aware(first_ts, out.index)
    for name, values in (("first_window", window), ("first_clerk", clerk)):
        column = np.full(n, None, dtype=object)
        column[code[rows]] = values[rows]
        out[name] = _category(column)

    reverse = len(code) - 1 - np.unique(code[::-1], return_index=True)[1]
    last_code = code[reverse]
    last_kind = kind[reverse]
    status = np.full(n, "waiting", dtype=object)
    status[last_code] = [_STATUS[k] for k in last_kind]
    no_show_rows = np.flatnonzero(kind == NO_SHOW)
    payloads = events["payload"].to_numpy(dtype=object)[life]
    requeued = np.zeros(len(code), dtype=bool)
    requeued[no_show_rows] = _requeued(pd.Series(payloads[no_show_rows], dtype=object))
    status[last_code[requeued[reverse]]] = "waiting"
    out["status"] = _text(status)
    final_service = np.full(n, None, dtype=object)
    final_service[last_code] = service[reverse]
    out["final_service"] = _text(final_service)
    final_at = np.full(n, np.datetime64("NaT"), dtype=ts.dtype)
    final_at[last_code] = ts[reverse]
    ended = np.isin(status, ["done", "no_show", "cancelled"])
    final_at[~ended] = np.datetime64("NaT")
    out["final_at"] = _aware(final_at, out.index)
    out["transfers"] = np.bincount(code[kind == TRANSFERRED], minlength=n)
    out["recalls"] = np.bincount(code[kind == RECALLED], minlength=n)
    out["requeues"] = np.bincount(code[requeued], minlength=n)


def visits(
    events: pd.DataFrame,
    ticket_rows: pd.DataFrame | None = None,
    codes: np.ndarray[Any, Any] | None = None,
) -> pd.DataFrame:
    """One row per call of a ticket at a window, with how that call ended.

    ``codes``: each event's ticket as a row number of ``ticket_rows`` (``tickets_and_codes``).
    """
    zone = zone_of(events)
    rows = ticket_rows if ticket_rows is not None else tickets(events)
    if codes is None:
        codes = _codes(events, rows.index)
    mask = (codes >= 0) & events["type"].isin(VISIT_TYPES).to_numpy()
    order = np.argsort(codes[mask], kind="stable")  # by ticket, in logged order within it
    code = codes[mask][order]
    kind = events["type"].to_numpy(dtype=object)[mask][order]
    ts = _naive(events["ts"])[mask][order]
    is_call = kind == CALLED
    # visit number: calls so far within the ticket (events before a first call are dropped)
    calls = np.cumsum(is_call)
    starts = np.r_[True, code[1:] != code[:-1]] if len(code) else np.zeros(0, dtype=bool)
    first = np.maximum.accumulate(np.where(starts, np.arange(len(code)), 0))
    visit = calls - (calls[first] - is_call[first]) if len(code) else calls
    key = code.astype(np.int64) * 1024 + visit
    head = np.flatnonzero(is_call)
    keys = pd.Index(key[head])
    n = len(head)

    def at(kind_name: str) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
        """(visit row, event row) of the first event of a kind in each visit."""
        rows_of_kind = np.flatnonzero((kind == kind_name) & (visit > 0))
        slots = keys.get_indexer(key[rows_of_kind])
        _, first_of = np.unique(slots, return_index=True)
        return slots[first_of], rows_of_kind[first_of]

    calls_at = np.flatnonzero(mask)[order][head]  # the call events, as rows of ``events``
    parent = code[head]  # and their tickets, as rows of ``rows``
    out = pd.DataFrame(
        {
            "ticket_id": _text(rows.index.to_numpy(dtype=object)[parent]),
            "visit": visit[head],
            **{name: _subset(events[name], calls_at) for name in ("service", "window", "clerk")},
        }
    )
    out["called_at"] = _aware(ts[head])
    started = np.full(n, np.datetime64("NaT"), dtype=ts.dtype)
    slot, row = at(STARTED)
    started[slot] = ts[row]
    out["started_at"] = _aware(started)
    ended = np.full(n, np.datetime64("NaT"), dtype=ts.dtype)
    outcome = np.full(n, "active", dtype=object)
    requeued = np.zeros(n, dtype=bool)
    end_rows = np.flatnonzero(np.isin(kind, list(VISIT_ENDS)) & (visit > 0))
    end_slots = keys.get_indexer(key[end_rows])
    _, first_end = np.unique(end_slots, return_index=True)
    end_slots, end_rows = end_slots[first_end], end_rows[first_end]
    ended[end_slots] = ts[end_rows]
    outcome[end_slots] = [VISIT_ENDS[k] for k in kind[end_rows]]
    no_show = kind[end_rows] == NO_SHOW
    payloads = events["payload"].to_numpy(dtype=object)[mask][order]
    requeued[end_slots[no_show]] = _requeued(pd.Series(payloads[end_rows[no_show]], dtype=object))
    out["ended_at"] = _aware(ended)
    out["outcome"] = _text(outcome)
    out["requeued"] = requeued
    recall_rows = np.flatnonzero((kind == RECALLED) & (visit > 0))
    out["recalls"] = np.bincount(keys.get_indexer(key[recall_rows]), minlength=n)[:n]
    handled = _minutes(out["ended_at"] - out["started_at"])
    out["handling_minutes"] = handled.where(out["outcome"] == "finished")
    last = events["ts"].max() if len(events) else pd.NaT
    busy_end = out["ended_at"].where(out["ended_at"].notna(), last)
    out["busy_minutes"] = _minutes(busy_end - out["called_at"]).clip(lower=0.0)
    out["business_date"] = rows["business_date"].to_numpy()[parent]
    for column in ("channel", "priority"):
        out[column] = _subset(rows[column], parent)
    out["hour"] = _local(out["ended_at"].fillna(out["called_at"]), zone).dt.hour
    return out


def open_intervals(events: pd.DataFrame) -> pd.DataFrame:
    """Periods each window spent open (not paused), with the clerk who opened it."""
    zone = zone_of(events)
    mine = events.loc[events["type"].isin(list(WINDOW_STATES)) & events["window"].notna()]
    frame = pd.DataFrame(
        {
            "window": mine["window"].astype(object).to_numpy(),
            "clerk": mine["clerk"].astype(object).to_numpy(),
            "state": mine["type"].astype(object).map(WINDOW_STATES).to_numpy(),
            "start": mine["ts"].array,
        }
    )
    frame["start"] = pd.to_datetime(frame["start"], utc=True)
    frame = frame.sort_values(["window", "start"], kind="stable")
    following = frame.groupby("window")["start"].shift(-1)
    frame["end"] = following.where(following.notna(), events["ts"].max())
    frame = frame.loc[frame["state"] == "open"].copy()
    frame["minutes"] = _minutes(frame["end"] - frame["start"]).clip(lower=0.0).astype("float64")
    frame["business_date"] = _day(_local(frame["start"], zone))
    return frame.reset_index(drop=True)


def _comments(texts: np.ndarray[Any, Any]) -> list[str]:
    """The comment of each rating (``""`` when none): the usual payloads through a regex."""
    comments = np.full(len(texts), "", dtype=object)
    found = _extract(texts, _COMMENT_PAYLOAD)
    if found is None:
        rest = np.arange(len(texts))
    else:
        rest = np.flatnonzero(pd.isna(found["c1"]))
        done = np.flatnonzero(pd.notna(found["c1"]))
        comments[done] = np.where(found["c1"][done] == "", found["c2"][done], found["c1"][done])
    if len(rest):
        data = _json_list(pd.Series(texts[rest], dtype=object))
        comments[rest] = [str(d.get("comment", "")) for d in data]
    return list(comments)


def evaluations(events: pd.DataFrame, ticket_rows: pd.DataFrame) -> pd.DataFrame:
    """The 好差评 ratings, with the dimensions of the rated ticket."""
    mine = events.loc[events["type"] == EVALUATION]
    texts = mine["payload"].to_numpy(dtype=object)
    found = _extract(texts, _SCORE)
    scores = (
        pd.Series(found["score"], dtype=object)
        if found is not None
        else mine["payload"].fillna("").str.extract(_SCORE, expand=False)
    )
    comments = _comments(texts)
    out = pd.DataFrame(
        {
            "ticket_id": mine["ticket_id"].to_numpy(),
            "ts": mine["ts"].array,
            "score": pd.to_numeric(scores, errors="coerce").to_numpy(),
            "comment": comments,
            "service": mine["service"].astype(object).to_numpy(),
            "window": mine["window"].astype(object).to_numpy(),
            "clerk": mine["clerk"].astype(object).to_numpy(),
        }
    )
    out["ts"] = pd.to_datetime(out["ts"], utc=True)
    parent = ticket_rows.reindex(out["ticket_id"])
    for column in ("business_date", "hour", "channel", "priority"):
        out[column] = parent[column].to_numpy()
    own = _local(out["ts"], zone_of(events))
    out["business_date"] = pd.to_datetime(out["business_date"]).fillna(_day(own))
    out["hour"] = out["hour"].fillna(own.dt.hour)
    return out.dropna(subset=["score"]).reset_index(drop=True)
