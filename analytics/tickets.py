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
# The payloads a log mostly holds, as ``queue_engine.domain.events`` writes them (compact, keys
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


def _extract(
    texts: np.ndarray[Any, Any], pattern: str, numbers: tuple[str, ...] = ()
) -> tuple[np.ndarray[Any, Any], dict[str, np.ndarray[Any, Any]]] | None:
    """Which texts match ``pattern`` and its named groups in each, all at once with pyarrow
    (``None`` without pyarrow). Groups are text (``""``: left out), those in ``numbers``
    floats (NaN: left out), parsed as ``json`` parses them: to the nearest double."""
    try:
        import pyarrow as pa
        import pyarrow.compute as pc
    except ImportError:  # pragma: no cover - pyarrow is a dependency
        return None
    strings = pa.array(texts, type=pa.string(), from_pandas=True)
    found = pc.extract_regex(strings, pattern=pattern)
    valid = found.is_valid()
    matched: np.ndarray[Any, Any] = valid.to_numpy(zero_copy_only=False)
    missing = pa.scalar(None, pa.string())
    groups: dict[str, np.ndarray[Any, Any]] = {}
    for i in range(found.type.num_fields):
        name = found.type.field(i).name
        field = found.field(i)
        if name in numbers:
            given = pc.and_(valid, pc.not_equal(field, ""))
            number = pc.cast(pc.if_else(given, field, missing), pa.float64())
            groups[name] = number.to_numpy(zero_copy_only=False)
        else:
            groups[name] = field.to_numpy(zero_copy_only=False).astype(object)
    return matched, groups


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
    found = _extract(texts, _ISSUE_PAYLOAD, numbers=("median", "p90"))
    if found is None:
        rest = np.arange(n)
    else:
        matched, groups = found
        rest = np.flatnonzero(~matched)
        done = np.flatnonzero(matched)
        median[done] = groups["median"][done]
        p90[done] = groups["p90"][done]
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
    """A category column of the events at these rows (−1: missing), with only the categories
    used there (as ``_category`` of its text would give, without making the text)."""
    dtype = column.dtype
    if isinstance(dtype, pd.CategoricalDtype) and dtype.categories.is_monotonic_increasing:
        codes = np.where(rows >= 0, column.cat.codes.to_numpy()[rows], -1)
        subset = pd.Categorical.from_codes(codes, dtype=dtype).remove_unused_categories()
        return cast(pd.Categorical, subset)
    values = column.to_numpy(dtype=object)[rows]
    values[rows < 0] = None
    return _category(values)


def _first(group: np.ndarray[Any, Any], size: int, rows: np.ndarray[Any, Any]) -> Any:
    """The first of ``rows`` in each group (groups 0…size−1 that occur, in group order)."""
    first = np.full(size, np.iinfo(np.int64).max)
    np.minimum.at(first, group, rows.astype(np.int64))
    return first[first != np.iinfo(np.int64).max]


def _last(group: np.ndarray[Any, Any], size: int) -> Any:
    """The position of the last element of each group (those that occur, in group order)."""
    last = np.full(size, -1, dtype=np.int64)
    np.maximum.at(last, group, np.arange(len(group), dtype=np.int64))
    return last[last >= 0]


def _mapped(values: np.ndarray[Any, Any], names: dict[str, str]) -> np.ndarray[Any, Any]:
    """Each value's name in ``names`` (an object array)."""
    mapped = np.full(len(values), None, dtype=object)
    for value, name in names.items():  # a handful of kinds: one comparison each
        mapped[values == value] = name
    return mapped


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
    columns = ["ticket_id", "ticket_number", "service", "channel", "priority", "ts", "payload"]
    issued = events.loc[events["type"] == ISSUED, columns].drop_duplicates("ticket_id")
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
        out[column] = extra[column].array  # same index: no aligning
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
    service = events["service"].to_numpy(dtype=object)[life]

    calls = np.flatnonzero(kind == CALLED)
    rows = _first(code[calls], n, calls)  # each called ticket's first call, by ticket
    first_ts = np.full(n, np.datetime64("NaT"), dtype=ts.dtype)
    first_ts[code[rows]] = ts[rows]
    out["first_called_at"] = _aware(first_ts, out.index)
    at_event = np.full(n, -1)
    at_event[code[rows]] = np.flatnonzero(life)[rows]
    for name, column in (("first_window", "window"), ("first_clerk", "clerk")):
        out[name] = _subset(events[column], at_event)

    reverse = _last(code, n)  # each ticket's last life event, by ticket
    last_code = code[reverse]
    last_kind = kind[reverse]
    status = np.full(n, "waiting", dtype=object)
    status[last_code] = _mapped(last_kind, _STATUS)
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
    ended = (status == "done") | (status == "no_show") | (status == "cancelled")
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
    head = np.flatnonzero(is_call)
    n = len(head)

    def slot(rows: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        """The visit (row of ``out``) of events with ``visit > 0``: the latest call before."""
        latest: np.ndarray[Any, Any] = calls[rows] - 1
        return latest

    def at(kinds: list[str]) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
        """(visit row, event row) of the first event of these kinds in each visit."""
        of_kind = np.logical_or.reduce([kind == k for k in kinds])
        rows_of_kind = np.flatnonzero(of_kind & (visit > 0))
        first_of = _first(slot(rows_of_kind), n, rows_of_kind)
        return slot(first_of), first_of

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
    start_slots, start_rows = at([STARTED])
    started[start_slots] = ts[start_rows]
    out["started_at"] = _aware(started)
    ended = np.full(n, np.datetime64("NaT"), dtype=ts.dtype)
    outcome = np.full(n, "active", dtype=object)
    requeued = np.zeros(n, dtype=bool)
    end_slots, end_rows = at(list(VISIT_ENDS))
    ended[end_slots] = ts[end_rows]
    outcome[end_slots] = _mapped(kind[end_rows], VISIT_ENDS)
    no_show = kind[end_rows] == NO_SHOW
    payloads = events["payload"].to_numpy(dtype=object)[mask][order]
    requeued[end_slots[no_show]] = _requeued(pd.Series(payloads[end_rows[no_show]], dtype=object))
    out["ended_at"] = _aware(ended)
    out["outcome"] = _text(outcome)
    out["requeued"] = requeued
    recall_rows = np.flatnonzero((kind == RECALLED) & (visit > 0))
    out["recalls"] = np.bincount(slot(recall_rows), minlength=n)[:n]
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
        matched, groups = found
        rest = np.flatnonzero(~matched)
        done = np.flatnonzero(matched)
        c1, c2 = groups["c1"][done], groups["c2"][done]
        comments[done] = np.where(c1 == "", c2, c1)
    if len(rest):
        data = _json_list(pd.Series(texts[rest], dtype=object))
        comments[rest] = [str(d.get("comment", "")) for d in data]
    return list(comments)


def evaluations(
    events: pd.DataFrame,
    ticket_rows: pd.DataFrame,
    codes: np.ndarray[Any, Any] | None = None,
) -> pd.DataFrame:
    """The 好差评 ratings, with the dimensions of the rated ticket (``codes`` as in
    ``visits``)."""
    rated = (events["type"] == EVALUATION).to_numpy()
    mine = events.loc[rated]
    texts = mine["payload"].to_numpy(dtype=object)
    found = _extract(texts, _SCORE)
    if found is not None:
        score_text = found[1]["score"]
        score_text[~found[0]] = None
        scores = pd.Series(score_text, dtype=object)
    else:
        scores = mine["payload"].fillna("").str.extract(_SCORE, expand=False)
    comments = _comments(texts)
    out = pd.DataFrame(
        {
            "ticket_id": _text(mine["ticket_id"].to_numpy(dtype=object)),
            "ts": mine["ts"].array,
            "score": pd.to_numeric(scores, errors="coerce").to_numpy(),
            "comment": _text(np.asarray(comments, dtype=object)),
            **{c: _text(mine[c].to_numpy(dtype=object)) for c in ("service", "window", "clerk")},
        }
    )
    out["ts"] = pd.to_datetime(out["ts"], utc=True)
    rows = codes[rated] if codes is not None else _codes(mine, ticket_rows.index)
    # every rated ticket issued in the log (as a rule): its rows by position, no look-up
    whole = bool((rows >= 0).all())
    parent = ticket_rows.iloc[rows] if whole else ticket_rows.reindex(out["ticket_id"])
    for column in ("business_date", "hour", "channel", "priority"):
        out[column] = parent[column].to_numpy()
    own = _local(out["ts"], zone_of(events))
    out["business_date"] = pd.to_datetime(out["business_date"]).fillna(_day(own))
    out["hour"] = out["hour"].fillna(own.dt.hour)
    return out.dropna(subset=["score"]).reset_index(drop=True)
