"""Start-up of the ``hall`` command: wall time of what a user types, now and at an earlier commit.

    .venv/bin/python bench/cli.py [--runs 7] [--ref REF]

Each figure is the median wall time of ``--runs`` subprocesses (after one unmeasured run that
writes the bytecode caches, as a user's second call finds them):

- ``python -c pass``: the interpreter alone, the floor of any command;
- ``hall --help``;
- ``hall user add --username … --password … --role clerk`` on a fresh SQLite file after
  ``hall init`` (a new username each run; the password hash keeps its full scrypt cost);
- ``hall kpis EVENTS.csv`` on a small event log (one simulated morning of a three-window hall).

"before" runs the same commands in the tree of ``--ref`` (default: ``BEFORE``, the last commit
with the eager command line), unpacked with ``git archive`` and put first on ``PYTHONPATH`` so
that this environment's interpreter and packages run that commit's code; "after" runs this
checkout's ``hall`` entry point. Runs alternate between the two so that noise on a shared
machine hits both alike; ``python -c pass`` is measured in the same rounds to show how busy the
machine was.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BEFORE = "3b0ec19"  # queue_engine in layers, before `hall` imported lazily (issue 14)
PYTHON = sys.executable
HALL = str(Path(PYTHON).with_name("hall"))
PASSWORD = "Bench-pass-2026"
SCENARIO = """
name: bench
open: "09:00"
close: "12:00"
services:
  - {code: A, arrivals_per_hour: [40, 60, 40], service_time: {dist: exponential, mean_minutes: 5}}
windows:
  - {count: 3, services: [A]}
targets: {mean_wait_minutes: 5, within_minutes: 10, share: 0.8}
"""


@dataclass
class Variant:
    """One tree of the code: how to call its ``hall``, and the environment to call it in."""

    label: str
    hall: list[str]
    env: dict[str, str]
    cwd: Path

    def run(self, *args: str) -> Timing:
        """Run ``hall ARGS`` once: its wall time, and the CPU time the process used."""
        cpu = _children_cpu()
        started = time.perf_counter()
        subprocess.run(
            [*self.hall, *args],
            env=self.env,
            cwd=self.cwd,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        return Timing(time.perf_counter() - started, _children_cpu() - cpu)


@dataclass(frozen=True)
class Timing:
    wall: float
    cpu: float  # user + system: on a shared machine it moves much less than the wall time


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def base_env(instance: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HALL_")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # a user's shell caches bytecode
    env["HALL_INSTANCE_PATH"] = str(instance)
    env["HALL_DATABASE_URL"] = f"sqlite:///{instance / 'hall.db'}"
    return env


def unpack(ref: str, into: Path) -> Path:
    """The tree of ``ref`` (``git archive``: the repository's worktrees stay as they are)."""
    archive = into / "ref.tar"
    with archive.open("wb") as out:
        subprocess.run(["git", "-C", str(ROOT), "archive", ref], stdout=out, check=True)
    tree = into / "tree"
    with tarfile.open(archive) as tar:
        tar.extractall(tree, filter="data")
    return tree


def variants(ref: str, work: Path) -> list[Variant]:
    tree = unpack(ref, work)
    before_env = {**base_env(work / "before"), "PYTHONPATH": str(tree)}
    console_script = "import sys; from hall_app.cli import main; sys.argv[0] = 'hall'; main()"
    return [
        Variant(f"before ({ref[:12]})", [PYTHON, "-c", console_script], before_env, tree),
        Variant("after (this checkout)", [HALL], base_env(work / "after"), work),
    ]


def event_log(work: Path) -> Path:
    scenario = work / "bench.yaml"
    scenario.write_text(SCENARIO, encoding="utf-8")
    out = work / "events.csv"
    env = base_env(work / "after")
    args = [str(scenario), "--replications", "1", "--workers", "1", "--out", str(out)]
    subprocess.run([HALL, "simulate", *args], env=env, check=True, stdout=subprocess.DEVNULL)
    return out


def measure(runs: int, ref: str) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-cli-") as tmp:
        work = Path(tmp)
        sides = variants(ref, work)
        events = event_log(work)
        for side in sides:
            side.run("init")  # a fresh SQLite file for this side's accounts
        counter = iter(range(10**6))

        def user_add(side: Variant) -> Timing:
            name = f"bench{next(counter)}"
            args = ["--username", name, "--password", PASSWORD, "--role", "clerk"]
            return side.run("user", "add", *args)

        commands: list[tuple[str, Callable[[Variant], Timing]]] = [
            ("hall --help", lambda side: side.run("--help")),
            ("hall user add …", user_add),
            ("hall kpis events.csv", lambda side: side.run("kpis", str(events))),
        ]
        floor = Variant("python", [PYTHON, "-c", "pass"], base_env(work / "after"), work)
        times: dict[tuple[str, str], list[Timing]] = {}
        for _, command in commands:
            for side in sides:
                command(side)  # unmeasured: writes the bytecode caches
        for _ in range(runs):
            times.setdefault(("python -c pass", ""), []).append(floor.run())
            for name, command in commands:
                for side in sides:
                    times.setdefault((name, side.label), []).append(command(side))
        report(times, sides, [name for name, _ in commands], runs)


def report(
    times: dict[tuple[str, str], list[Timing]], sides: list[Variant], names: list[str], runs: int
) -> None:
    width = max(len(n) for n in names) + 2
    header = "".join(f"{side.label:>34}" for side in sides)
    print(f"median of {runs} runs, seconds: wall (CPU of the process)")
    print(f"{'command':<{width}}{header}")
    for name in names:
        print(f"{name:<{width}}" + "".join(_cell(times[(name, s.label)]) for s in sides))
    print(f"{'python -c pass':<{width}}{_cell(times[('python -c pass', '')])}  (the interpreter)")


def _cell(timings: list[Timing]) -> str:
    wall = statistics.median(t.wall for t in timings)
    cpu = statistics.median(t.cpu for t in timings)
    return f"{f'{wall:.3f} ({cpu:.3f})':>34}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--ref", default=BEFORE, help=f"the 'before' commit ({BEFORE})")
    args = parser.parse_args()
    measure(args.runs, args.ref)


if __name__ == "__main__":
    main()
