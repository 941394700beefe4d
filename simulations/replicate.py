"""Independent replications of a scenario, run in parallel processes, with confidence intervals.

One run of a random day is an anecdote; the planner needs the spread. Each replication gets its
own random stream spawned from one seed (numpy's ``SeedSequence``), so results are reproducible
and independent whatever the number of processes. A replication sends back its summary only (a
few kilobytes), never its arrays; the first one writes the event log itself when one is asked for.
"""

from __future__ import annotations

import os
from dataclasses import replace
from typing import Any

import numpy as np

from .kpis import aggregate, summarize
from .model import simulate
from .scenario import Scenario


def seeds(seed: int | None, n: int) -> list[int]:
    """``n`` independent child seeds of ``seed``."""
    return [int(s.generate_state(1)[0]) for s in np.random.SeedSequence(seed).spawn(n)]


def run_one(
    scenario: Scenario, seed: int, estimates: bool = False, out: str | None = None
) -> dict[str, Any]:
    """The KPIs of one run; with ``out``, its event log written there (``rows`` in the result).

    The wait estimate every citizen would be given is worked out only when it is recorded:
    for the event log (its ``ticket.issued`` payloads) or an EWT study (``estimates``).
    """
    result = simulate(scenario, seed, record_estimates=estimates or out is not None)
    # estimates recorded for the log alone: no EWT figures from one replication out of many
    summary = summarize(result if estimates else replace(result, estimates=None))
    if out is not None:
        from .eventlog import write_event_log

        with open(out, "w", encoding="utf-8", newline="") as fh:
            summary["rows"] = write_event_log(result, fh)
    return summary


def workers_for(n: int, workers: int | None = None) -> int:
    return max(1, min(n, workers if workers is not None else (os.cpu_count() or 1)))


def replicate(
    scenario: Scenario,
    replications: int = 10,
    seed: int | None = 0,
    workers: int | None = None,
    estimates: bool = False,
    out: str | None = None,
) -> dict[str, Any]:
    """Summary of ``replications`` runs (SPEC §5 ``hall simulate`` JSON); with ``out``, the
    first run's event log is written there and ``event_log`` says so."""
    if replications < 1:
        raise ValueError("at least one replication is needed")
    child = seeds(seed, replications)
    n = workers_for(replications, workers)
    outs = [out] + [None] * (replications - 1)
    flags = [estimates] * replications
    if n == 1:
        runs = [run_one(scenario, s, e, o) for s, e, o in zip(child, flags, outs, strict=True)]
    else:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(n) as pool:
            runs = list(pool.map(run_one, [scenario] * replications, child, flags, outs))
    rows = runs[0].pop("rows", None)
    summary = {"scenario": scenario.name, "seed": seed, **aggregate(runs)}
    if out is not None:
        summary["event_log"] = {"file": out, "rows": rows}
    return summary
