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

import numpy as np
import pandas as pd

from .load import zone_of

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


def _issue_payloads(payloads: pd.Series) -> pd.DataFrame:
    """Slot start and the estimate given, from the ``ticket.issued`` payloads."""
    slot: list[object] = []
    median: list[float] = []
    p90: list[float] = []
    for text in payloads.fillna("{}"):
        data = json.loads(text) if text != "{}" else {}
        slot.append(data.get("slot_start"))
        estimate = data.get("estimated_wait") or {}
        median.append(float(estimate.get("median_minutes", np.nan)))
        p90.append(float(estimate.get("p90_minutes", np.nan)))
    return pd.DataFrame(
        {
            "slot_start": pd.to_datetime(
                pd.Series(slot, dtype=object, index=payloads.index), utc=True, format="ISO8601"
            ),
            "est_median": median,
            "est_p90": p90,
        },
        index=payloads.index,
    )


def tickets(events: pd.DataFrame) -> pd.DataFrame:
    """One row per ticket issued in the log (see the module text), indexed by ticket id."""
    zone = zone_of(events)
    issued = events.loc[events["type"] == ISSUED].drop_duplicates("ticket_id")
    out = pd.DataFrame(
        {
            "number": issued["ticket_number"].to_numpy(),
            "service": issued["service"].astype(object).to_numpy(),
            "channel": issued["channel"].astype(object).to_numpy(),
            "priority": issued["priority"].astype(object).to_numpy(),
            "issued_at": issued["ts"].to_numpy(),
        },
        index=pd.Index(issued["ticket_id"].to_numpy(), name="ticket_id"),
    )
    out["issued_at"] = pd.to_datetime(out["issued_at"], utc=True)
    extra = _issue_payloads(issued["payload"])
    for column in extra.columns:
        out[column] = extra[column].set_axis(out.index)
    local = _local(out["issued_at"], zone)
    out["business_date"] = _day(local)
    out["hour"] = local.dt.hour
    out["weekday"] = local.dt.day_of_week
    out["wait_from"] = out["issued_at"].where(
        out["slot_start"].isna() | (out["slot_start"] <= out["issued_at"]), out["slot_start"]
    )
    _add_life(out, events)
    waited = _minutes(out["first_called_at"] - out["wait_from"])
    out["wait_minutes"] = waited.clip(lower=0.0)
    out["ewt_error"] = out["wait_minutes"] - out["est_median"]
    return out


def _add_life(out: pd.DataFrame, events: pd.DataFrame) -> None:
    """First call, final state and service, transfers and requeues of each ticket."""
    mine = events.loc[events["ticket_id"].isin(out.index) & (events["type"] != EVALUATION)]
    first_call = (
        mine.loc[mine["type"] == CALLED].drop_duplicates("ticket_id").set_index("ticket_id")
    )
    out["first_called_at"] = first_call["ts"].reindex(out.index)
    out["first_window"] = first_call["window"].astype(object).reindex(out.index)
    out["first_clerk"] = first_call["clerk"].astype(object).reindex(out.index)
    last = mine.drop_duplicates("ticket_id", keep="last").set_index("ticket_id")
    kind = last["type"].astype(object)
    requeued = last["payload"].fillna("").str.contains(_REQUEUED, regex=True)
    status = kind.map(
        {
            ISSUED: "waiting",
            CALLED: "called",
            RECALLED: "called",
            STARTED: "serving",
            FINISHED: "done",
            NO_SHOW: "no_show",
            TRANSFERRED: "waiting",
            CANCELLED: "cancelled",
        }
    )
    status = status.where(~((kind == NO_SHOW) & requeued), "waiting")
    out["status"] = status.reindex(out.index).fillna("waiting")
    out["final_service"] = last["service"].astype(object).reindex(out.index)
    out["final_at"] = (
        last["ts"].reindex(out.index).where(out["status"].isin(["done", "no_show", "cancelled"]))
    )
    counts = mine.groupby(["ticket_id", "type"], observed=True).size().unstack(fill_value=0)
    out["transfers"] = _count(counts, TRANSFERRED, out.index)
    out["recalls"] = _count(counts, RECALLED, out.index)
    no_shows = mine.loc[mine["type"] == NO_SHOW]
    requeues = no_shows["payload"].fillna("").str.contains(_REQUEUED, regex=True)
    out["requeues"] = (
        requeues.groupby(no_shows["ticket_id"]).sum().reindex(out.index, fill_value=0).astype(int)
    )


def _count(counts: pd.DataFrame, kind: str, index: pd.Index) -> pd.Series:
    if kind not in counts.columns:
        return pd.Series(0, index=index)
    return counts[kind].reindex(index, fill_value=0).astype(int)


def visits(events: pd.DataFrame, ticket_rows: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per call of a ticket at a window, with how that call ended."""
    zone = zone_of(events)
    rows = ticket_rows if ticket_rows is not None else tickets(events)
    mine = events.loc[events["type"].isin(VISIT_TYPES) & events["ticket_id"].isin(rows.index)]
    codes, _ = pd.factorize(mine["ticket_id"])
    order = np.argsort(codes, kind="stable")
    mine = mine.iloc[order]
    codes = codes[order]
    kind = mine["type"].astype(object).to_numpy()
    is_call = kind == CALLED
    # visit number: calls so far within the ticket (events before a first call are dropped)
    calls = pd.Series(is_call.astype(np.int64)).groupby(codes).cumsum().to_numpy()
    keep = calls > 0
    frame = pd.DataFrame(
        {
            "ticket_id": mine["ticket_id"].to_numpy()[keep],
            "visit": calls[keep],
            "type": kind[keep],
            "ts": mine["ts"].to_numpy()[keep],
            "service": mine["service"].astype(object).to_numpy()[keep],
            "window": mine["window"].astype(object).to_numpy()[keep],
            "clerk": mine["clerk"].astype(object).to_numpy()[keep],
            "requeued": mine["payload"].fillna("").str.contains(_REQUEUED).to_numpy()[keep],
        }
    )
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True)
    head = frame.loc[frame["type"] == CALLED].drop_duplicates(["ticket_id", "visit"])
    out = head.set_index(["ticket_id", "visit"])[["service", "window", "clerk"]].copy()
    out["called_at"] = head.set_index(["ticket_id", "visit"])["ts"]
    started = frame.loc[frame["type"] == STARTED].drop_duplicates(["ticket_id", "visit"])
    out["started_at"] = started.set_index(["ticket_id", "visit"])["ts"]
    ends = frame.loc[frame["type"].isin(list(VISIT_ENDS))].drop_duplicates(["ticket_id", "visit"])
    ends = ends.set_index(["ticket_id", "visit"])
    out["ended_at"] = ends["ts"]
    out["outcome"] = ends["type"].map(VISIT_ENDS)
    out["outcome"] = out["outcome"].fillna("active")
    out["requeued"] = ends["requeued"].reindex(out.index).fillna(False).astype(bool)
    recalls = frame.loc[frame["type"] == RECALLED].groupby(["ticket_id", "visit"]).size()
    out["recalls"] = recalls.reindex(out.index, fill_value=0).astype(int)
    out = out.reset_index()
    handled = _minutes(out["ended_at"] - out["started_at"])
    out["handling_minutes"] = handled.where(out["outcome"] == "finished")
    ended = out["ended_at"].where(out["ended_at"].notna(), events["ts"].max())
    out["busy_minutes"] = _minutes(ended - out["called_at"]).clip(lower=0.0)
    parent = rows.reindex(out["ticket_id"])
    for column in ("business_date", "channel", "priority"):
        out[column] = parent[column].to_numpy()
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
            "start": mine["ts"].to_numpy(),
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


def evaluations(events: pd.DataFrame, ticket_rows: pd.DataFrame) -> pd.DataFrame:
    """The 好差评 ratings, with the dimensions of the rated ticket."""
    mine = events.loc[events["type"] == EVALUATION]
    scores = mine["payload"].fillna("").str.extract(r'"score"\s*:\s*(\d)', expand=False)
    comments = [
        str(json.loads(p).get("comment", "")) if isinstance(p, str) else "" for p in mine["payload"]
    ]
    out = pd.DataFrame(
        {
            "ticket_id": mine["ticket_id"].to_numpy(),
            "ts": mine["ts"].to_numpy(),
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
