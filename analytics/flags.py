"""Monthly red and black flags (红黑旗) of windows: a composite score that is fair to every window.

Each window is measured on six components over the month (docs/flags.md has the reasoning):

* satisfaction — mean 好差评 score of its visits (reviews whose follow-up case was excluded on
  appeal do not count); higher is better;
* waiting — Σ actual waits ÷ Σ expected waits of the tickets it called first, the expectation
  being the hall-wide mean wait of the same service; lower is better;
* handling — Σ handling times ÷ Σ expected handling times of its finished visits, expected =
  the hall-wide mean handling time of the same service, so a window with harder services is
  not punished for them; lower is better;
* no-show — the share of its calls ending as no-show minus the share expected from the hall's
  no-show rate of each service it called; lower is better;
* alerts — alerts raised about the window per 100 calls; lower is better;
* attendance — days the window was open ÷ days the hall was open; higher is better;
* one_visit (最多跑一次, issue 18) — the share of its finished segments that did not send the
  citizen back for missing documents (补正材料) minus the share expected from the hall's rate
  of each service it finished; higher is better. Its weight is 0 unless the hall sets one, so
  a hall that does not weigh it ranks exactly as before.

Each component is standardised across the ranked windows (z-score, signed so that higher is
better) and the composite is the T-score ``50 + 10 × Σ wₖ·zₖ / Σ wₖ``. Windows with fewer than
``min_visits`` calls are listed but not ranked. The ``red`` best get red flags and the
``black`` worst black flags — at most half of the ranked windows each, and only windows above
(red) or below (black) the average score of 50.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import pandas as pd

from .kpis import Ledger
from .visits import segment_outcomes

COMPONENTS: dict[str, int] = {  # component → direction (+1: higher is better)
    "satisfaction": 1,
    "waiting": -1,
    "handling": -1,
    "no_show": -1,
    "alerts": -1,
    "attendance": 1,
    "one_visit": 1,
}
WINDOW_ALERT_KINDS = frozenset(
    {
        "handling_long",
        "idle_with_queue",
        "paused_long",
        "not_open",
        "bad_review",
        "case_overdue",
        "callback_overdue",
        "no_show_rate",
        "recall_rate",
    }
)


def _default_weights() -> dict[str, float]:
    return {
        "satisfaction": 0.25,
        "waiting": 0.15,
        "handling": 0.20,
        "no_show": 0.10,
        "alerts": 0.15,
        "attendance": 0.15,
        "one_visit": 0.0,
    }


@dataclass(frozen=True)
class FlagConfig:
    """The formula's knobs: component weights, flag counts and the volume needed to rank."""

    weights: Mapping[str, float] = field(default_factory=_default_weights)
    red: int = 3
    black: int = 3
    min_visits: int = 30

    def __post_init__(self) -> None:
        unknown = set(self.weights) - set(COMPONENTS)
        if unknown:
            raise ValueError(f"unknown flag component(s): {', '.join(sorted(unknown))}")
        if any(w < 0 for w in self.weights.values()) or sum(self.weights.values()) <= 0:
            raise ValueError("weights must be ≥ 0 and not all 0")
        if self.red < 0 or self.black < 0 or self.min_visits < 0:
            raise ValueError("flag counts and min_visits must be ≥ 0")

    def to_mapping(self) -> dict[str, Any]:
        return {
            "weights": dict(self.weights),
            "red": self.red,
            "black": self.black,
            "min_visits": self.min_visits,
        }

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None) -> FlagConfig:
        data = dict(data or {})
        unknown = set(data) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"unknown flag setting(s): {', '.join(sorted(unknown))}")
        given = data.pop("weights", None) or {}
        weights = {**_default_weights(), **{k: float(v) for k, v in given.items()}}
        return cls(weights=weights, **{k: int(v) for k, v in data.items()})


def _expected(rows: pd.DataFrame, value: str, key: str = "service") -> pd.Series:
    """Each row's hall-wide mean of ``value`` for its own ``key`` (the service-mix baseline)."""
    means = rows.groupby(key)[value].transform("mean")
    expected: pd.Series = means
    return expected


def _reviews(ledger: Ledger, events: pd.DataFrame | None) -> pd.DataFrame:
    reviews = ledger.reviews
    if events is None or reviews.empty:
        return reviews
    changed = events.loc[events["type"] == "case.changed", ["ticket_id", "payload"]]
    appealed = changed["payload"].fillna("").str.contains(r'"to"\s*:\s*"excluded"')
    excluded = changed.loc[appealed, "ticket_id"]
    return reviews.loc[~reviews["ticket_id"].isin(excluded)]


def _alerts(events: pd.DataFrame | None) -> pd.Series:
    if events is None:
        return pd.Series(dtype=float)
    raised = events.loc[(events["type"] == "alert.raised") & events["window"].notna()]
    if raised.empty:
        return pd.Series(dtype=float)
    kind = raised["payload"].str.extract(r'"kind"\s*:\s*"(\w+)"', expand=False)
    alert_id = raised["payload"].str.extract(r'"alert"\s*:\s*(\d+)', expand=False)
    frame = pd.DataFrame({"window": raised["window"].astype(str), "kind": kind, "alert": alert_id})
    frame = frame.loc[frame["kind"].isin(WINDOW_ALERT_KINDS)].drop_duplicates(["window", "alert"])
    counts: pd.Series = frame.groupby("window").size().astype(float)
    return counts


def _one_visit(events: pd.DataFrame | None) -> pd.DataFrame:
    """Per window: segments with an outcome, those returned for documents, and the component."""
    columns = ["outcomes", "returns", "one_visit"]
    if events is None:
        return pd.DataFrame(columns=columns, dtype=float)
    segments = segment_outcomes(events)
    if segments.empty:
        return pd.DataFrame(columns=columns, dtype=float)
    segments["returned"] = segments["returned"].astype(float)
    segments["expected"] = _expected(segments, "returned")
    by_window = segments.groupby("window")
    return pd.DataFrame(
        {
            "outcomes": by_window.size(),
            "returns": by_window["returned"].sum(),
            "one_visit": by_window["expected"].mean() - by_window["returned"].mean(),
        }
    )


def components(ledger: Ledger, events: pd.DataFrame | None = None) -> pd.DataFrame:
    """The raw components per window (with the numbers behind them), before scoring."""
    visits = ledger.visits.loc[ledger.visits["window"].notna()].copy()
    visits["window"] = visits["window"].astype(str)
    finished = visits.loc[visits["outcome"] == "finished"].copy()
    finished["expected_handling"] = _expected(finished, "handling_minutes")
    visits["no_show"] = (visits["outcome"] == "no_show").astype(float)
    visits["expected_no_show"] = _expected(visits, "no_show")
    called = ledger.tickets.loc[ledger.tickets["first_window"].notna()].copy()
    called["first_window"] = called["first_window"].astype(str)
    called["expected_wait"] = _expected(called, "wait_minutes")
    reviews = _reviews(ledger, events)
    opened = ledger.open.assign(window=ledger.open["window"].astype(str))
    hall_days = opened["business_date"].nunique()

    by_visit = visits.groupby("window")
    by_finish = finished.groupby("window")
    by_ticket = called.groupby("first_window")
    out = pd.DataFrame(
        {
            "visits": by_visit.size(),
            "served": by_finish.size(),
            "handling_minutes": by_finish["handling_minutes"].sum(),
            "expected_handling_minutes": by_finish["expected_handling"].sum(),
            "no_show_rate": by_visit["no_show"].mean(),
            "expected_no_show_rate": by_visit["expected_no_show"].mean(),
            "waited_minutes": by_ticket["wait_minutes"].sum(),
            "expected_wait_minutes": by_ticket["expected_wait"].sum(),
            "reviews": reviews.assign(window=reviews["window"].astype(str))
            .groupby("window")
            .size(),
            "satisfaction": reviews.assign(window=reviews["window"].astype(str))
            .groupby("window")["score"]
            .mean(),
            "alerts_raised": _alerts(events),
            "open_days": opened.groupby("window")["business_date"].nunique(),
        }
    )
    out = out.join(_one_visit(events), how="left")
    out.index.name = "window"
    for column in (
        "visits",
        "served",
        "reviews",
        "alerts_raised",
        "open_days",
        "outcomes",
        "returns",
    ):
        out[column] = out[column].fillna(0).astype(int)
    out["handling"] = out["handling_minutes"] / out["expected_handling_minutes"].where(
        out["expected_handling_minutes"] > 0
    )
    out["waiting"] = out["waited_minutes"] / out["expected_wait_minutes"].where(
        out["expected_wait_minutes"] > 0
    )
    out["no_show"] = out["no_show_rate"] - out["expected_no_show_rate"]
    out["alerts"] = 100 * out["alerts_raised"] / out["visits"].where(out["visits"] > 0)
    out["attendance"] = out["open_days"] / hall_days if hall_days else np.nan
    return out.sort_index(key=lambda idx: idx.map(lambda w: (len(w), w)))


def rank_windows(
    ledger: Ledger, events: pd.DataFrame | None = None, config: FlagConfig | None = None
) -> pd.DataFrame:
    """Components, their z-scores, the composite T-score, the rank and the flag of each window."""
    config = config or FlagConfig()
    table = components(ledger, events)
    ranked = table["visits"] >= config.min_visits
    total_weight = 0.0
    composite = pd.Series(0.0, index=table.index)
    for name, direction in COMPONENTS.items():
        weight = float(config.weights.get(name, 0.0))
        values = table.loc[ranked, name].astype(float)
        values = values.fillna(values.mean())  # no reviews, say: neither praised nor blamed
        spread = values.std(ddof=0)
        z = (values - values.mean()) / spread if spread and spread > 0 else values * 0.0
        table[f"z_{name}"] = (direction * z).reindex(table.index)
        if weight > 0:
            composite = composite.add(weight * table[f"z_{name}"].fillna(0.0), fill_value=0.0)
            total_weight += weight
    table["score"] = (50 + 10 * composite / total_weight).where(ranked)
    table["rank"] = table["score"].rank(ascending=False, method="min")
    table["flag"] = ""
    order = table.loc[ranked].sort_values(["score", "visits"], ascending=[False, False])
    n = len(order)
    # A flag is earned: red only above the hall's average window (50), black only below it.
    red = order.index[: min(config.red, n // 2)]
    black = order.index[n - min(config.black, n // 2) :] if config.black else order.index[:0]
    table.loc[[w for w in red if order.loc[w, "score"] > 50 + 1e-9], "flag"] = "red"
    table.loc[[w for w in black if order.loc[w, "score"] < 50 - 1e-9], "flag"] = "black"
    return table


def drill_down(
    ledger: Ledger, window: str, events: pd.DataFrame | None = None
) -> dict[str, pd.DataFrame]:
    """The visits, waits and reviews behind a window's score, each with its expected value."""
    visits = ledger.visits.copy()
    visits["window"] = visits["window"].astype(str)
    finished = visits["outcome"] == "finished"
    visits["expected_handling_minutes"] = (
        visits.loc[finished].groupby("service")["handling_minutes"].transform("mean")
    )
    numbers = ledger.tickets["number"]
    mine = visits.loc[visits["window"] == window].copy()
    mine["number"] = numbers.reindex(mine["ticket_id"]).to_numpy()
    called = ledger.tickets.loc[ledger.tickets["first_window"].astype(str) == window].copy()
    expected_wait = ledger.tickets.groupby("service")["wait_minutes"].mean()
    called["expected_wait_minutes"] = called["service"].map(expected_wait)
    reviews = _reviews(ledger, events)
    reviews = reviews.loc[reviews["window"].astype(str) == window].copy()
    reviews["number"] = numbers.reindex(reviews["ticket_id"]).to_numpy()
    return {
        "visits": mine[
            [
                "number", "business_date", "service", "clerk", "called_at", "outcome",
                "handling_minutes", "expected_handling_minutes", "recalls",
            ]
        ].sort_values("called_at"),
        "waits": called.reset_index()[
            ["number", "business_date", "service", "wait_minutes", "expected_wait_minutes"]
        ],
        "reviews": reviews[["number", "business_date", "service", "score", "comment"]],
    }  # fmt: skip
