"""Simulation speed as a planner feels it: whole ``hall`` commands, timed from outside, vs Ciw.

    .venv/bin/python bench/simulation.py [--rounds 3] [--customers 100000] [--skip-staffing]

1. M/M/5 (ρ 0.9, mean service 5 min, 100,000 customers, one replication): the wall time of the
   whole ``hall simulate`` command (a subprocess: start-up, imports, model, KPIs, JSON), next to
   Ciw as a whole command (a subprocess running a Ciw script on the same model) and Ciw
   in-process, alternating in the same run; customers per second and the ratio ours/Ciw by
   command wall time (goal ≥ 3×). Extra: our model's inner loop in-process.
2. A year of a 12-window, 8-service hall (250 days, ~480,000 citizens, lognormal handling,
   10 % appointments, 5 % priority, 3 % no-shows): ``hall simulate --replications 1`` wall time
   (goal ≤ 5 s).
3. ``hall staff`` on the demo day (the demo hall ZMD, ~2,000 citizens; 10 replications per
   tried plan, the dedicated and comprehensive comparisons included) wall time (goal ≤ 10 s).

Each command's peak memory (maximum resident set of the process) is printed beside its time.
The figures are medians of ``--rounds`` rounds; the machine may be shared.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

HALL = str(Path(sys.executable).with_name("hall"))
LAM, MEAN, SERVERS = 0.9, 5.0, 5  # per minute, minutes, windows: ρ = 0.9

CIW_SCRIPT = f"""
import sys
import ciw
n = int(sys.argv[1])
network = ciw.create_network(
    arrival_distributions=[ciw.dists.Exponential(rate={LAM})],
    service_distributions=[ciw.dists.Exponential(rate={1 / MEAN})],
    number_of_servers=[{SERVERS}],
)
ciw.seed(int(sys.argv[2]))
sim = ciw.Simulation(network)
sim.simulate_until_max_customers(n, method="Finish")
records = sim.get_all_records()
print(len(records), sum(r.waiting_time for r in records) / len(records))
"""


def command(args: list[str]) -> tuple[str, float, float]:
    """Run ``args``; its stdout, wall seconds and peak memory (MiB, from GNU time: the maximum
    resident set of the command itself, not inherited from this process)."""
    timer = shutil.which("time") or "/usr/bin/time"
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss:
        wrapped = [timer, "-f", "%M", "-o", rss.name, *args] if os.path.exists(timer) else args
        start = time.perf_counter()
        proc = subprocess.run(wrapped, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - start
        if proc.returncode:
            raise SystemExit(f"{args} failed: {proc.stderr}")
        text = rss.read().strip().splitlines()
    peak = int(text[-1]) / 1024 if text and text[-1].isdigit() else float("nan")
    return proc.stdout, wall, peak


def mm5_scenario(customers: int) -> dict[str, Any]:
    return {
        "name": "M/M/5 rho 0.9",
        "horizon_minutes": round(customers / LAM),
        "services": [
            {
                "code": "A",
                "arrivals_per_hour": LAM * 60,
                "service_time": {"dist": "exponential", "mean_minutes": MEAN},
            }
        ],
        "windows": [{"count": SERVERS, "services": ["A"]}],
    }


def year_scenario() -> dict[str, Any]:
    means = [2.0, 2.2, 2.4, 2.6, 2.2, 2.4, 2.6, 2.8]
    codes = [f"S{k}" for k in range(1, 9)]
    return {
        "name": "a year of a 12-window, 8-service hall",
        "days": 250,
        "open": "09:00",
        "close": "17:00",
        "services": [
            {
                "code": code,
                "arrivals_per_hour": 30,
                "service_time": {"dist": "lognormal", "mean_minutes": mean, "cv": 0.6},
                "appointment_share": 0.1,
                "priority_share": 0.05,
            }
            for code, mean in zip(codes, means, strict=True)
        ],
        "windows": [
            {
                "count": 3,
                "services": codes[2 * g : 2 * g + 2],
                "secondary": [codes[(2 * g + 2) % 8]],
            }
            for g in range(4)
        ],
        "no_show_rate": 0.03,
    }


def ciw_in_process(customers: int, seed: int) -> tuple[int, float]:
    import ciw

    start = time.perf_counter()
    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(rate=LAM)],
        service_distributions=[ciw.dists.Exponential(rate=1 / MEAN)],
        number_of_servers=[SERVERS],
    )
    ciw.seed(seed)
    sim = ciw.Simulation(network)
    sim.simulate_until_max_customers(customers, method="Finish")
    return len(sim.get_all_records()), time.perf_counter() - start


def ours_in_process(path: Path, seed: int) -> tuple[int, float]:
    from simulations.model import simulate
    from simulations.scenario import load_scenario

    sc = load_scenario(path)
    start = time.perf_counter()
    result = simulate(sc, seed)
    return int(result.arrivals.t.size), time.perf_counter() - start


def mmc(folder: Path, rounds: int, customers: int) -> dict[str, Any]:
    path = folder / "mm5.yaml"
    path.write_text(yaml.safe_dump(mm5_scenario(customers)), encoding="utf-8")
    script = folder / "ciw_mm5.py"
    script.write_text(CIW_SCRIPT, encoding="utf-8")
    figures: dict[str, list[float]] = {k: [] for k in ("ours", "ciw", "ciw_in", "inner", "mem")}
    ciw_mem: list[float] = []
    for r in range(rounds):
        out, wall, peak = command(
            [HALL, "simulate", str(path), "--replications", "1", "--seed", str(r)]
        )
        figures["ours"].append(json.loads(out)["overall"]["arrived"] / wall)
        figures["mem"].append(peak)
        out, wall, peak = command([sys.executable, str(script), str(customers), str(r)])
        figures["ciw"].append(int(out.split()[0]) / wall)
        ciw_mem.append(peak)
        n, seconds = ciw_in_process(customers, r)
        figures["ciw_in"].append(n / seconds)
        n, seconds = ours_in_process(path, r)
        figures["inner"].append(n / seconds)
    ours, ciw = statistics.median(figures["ours"]), statistics.median(figures["ciw"])
    return {
        "command": f"hall simulate mm5.yaml --replications 1  ({customers:,} customers)",
        "ours_command_customers_per_s": round(ours),
        "ciw_command_customers_per_s": round(ciw),
        "ratio_by_command_wall_time": round(ours / ciw, 2),
        "ciw_in_process_customers_per_s": round(statistics.median(figures["ciw_in"])),
        "ours_peak_memory_mib": round(max(figures["mem"])),
        "ciw_command_peak_memory_mib": round(max(ciw_mem)),
        "extra_ours_model_inner_loop_customers_per_s": round(statistics.median(figures["inner"])),
    }


def year(folder: Path, rounds: int) -> dict[str, Any]:
    path = folder / "year.yaml"
    path.write_text(yaml.safe_dump(year_scenario()), encoding="utf-8")
    walls, peaks, arrived = [], [], 0
    for r in range(rounds):
        out, wall, peak = command(
            [HALL, "simulate", str(path), "--replications", "1", "--seed", str(r)]
        )
        walls.append(wall)
        peaks.append(peak)
        summary = json.loads(out)
        arrived = int(summary["overall"]["arrived"])
    return {
        "command": "hall simulate year.yaml --replications 1",
        "citizens": arrived,
        "wall_seconds": round(statistics.median(walls), 2),
        "citizens_per_s": round(arrived / statistics.median(walls)),
        "mean_wait_minutes": summary["overall"]["mean_wait_minutes"]["mean"],
        "peak_memory_mib": round(max(peaks)),
    }


def staffing(folder: Path, rounds: int) -> dict[str, Any]:
    from simulations.demo import demo_scenario

    path = folder / "demo-day.yaml"
    data = demo_scenario().model_dump(mode="json", exclude_defaults=True)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    walls, peaks = [], []
    for _ in range(rounds):
        out, wall, peak = command([HALL, "staff", str(path), "--seed", "1"])
        walls.append(wall)
        peaks.append(peak)
        plan = json.loads(out)
    return {
        "command": "hall staff demo-day.yaml --seed 1",
        "wall_seconds": round(statistics.median(walls), 2),
        "simulated_plans": plan["simulated_plans"],
        "window_hours": plan["window_hours"],
        "peak_memory_mib_main_process": round(max(peaks)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--skip-staffing", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        figures: dict[str, Any] = {
            "mm5": mmc(folder, args.rounds, args.customers),
            "year_12_windows_8_services": year(folder, args.rounds),
        }
        if not args.skip_staffing:
            figures["staff_demo_day"] = staffing(folder, args.rounds)
    figures["cpus"] = os.cpu_count()
    print(json.dumps(figures, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
