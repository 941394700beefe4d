"""Independent replications of a scenario, run in parallel processes, with confidence intervals.

One run of a random day is an anecdote; the planner needs the spread. Each replication gets its
own random stream spawned from one seed (numpy's ``SeedSequence``), so results are reproducible
and independent whatever the number of processes.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np

from .kpis import aggregate, summarize
from .model import SimResult, simulate
from .scenario import Scenario


def seeds(seed: int | None, n: int) -> list[int]:
    """``n`` independent child seeds of ``seed``."""
    return [int(s.generate_state(1)[0]) for s in np.random.SeedSequence(seed).spawn(n)]


def run_one(scenario: Scenario, seed: int) -> dict[str, Any]:
    return summarize(simulate(scenario, seed, record_estimates=True))


def workers_for(n: int, workers: int | None = None) -> int:
    return max(1, min(n, workers if workers is not None else (os.cpu_count() or 1)))


def replicate(
    scenario: Scenario, replications: int = 10, seed: int | None = 0, workers: int | None = None
) -> dict[str, Any]:
    """Summary of ``replications`` runs (SPEC §5 ``hall simulate`` JSON)."""
    if replications < 1:
        raise ValueError("at least one replication is needed")
    child = seeds(seed, replications)
    n = workers_for(replications, workers)
    if n == 1:
        runs = [run_one(scenario, s) for s in child]
    else:
        with ProcessPoolExecutor(n) as pool:
            runs = list(pool.map(run_one, [scenario] * replications, child))
    return {"scenario": scenario.name, "seed": seed, **aggregate(runs)}


def first_run(scenario: Scenario, seed: int | None) -> SimResult:
    """The first replication again, with estimates recorded, for its event log."""
    return simulate(scenario, seeds(seed, 1)[0], record_estimates=True)
