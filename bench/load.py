"""Load on the production shape: kiosks, clerks and live screens against the loopback cluster.

deploy/cluster.py starts P ``hall serve`` processes (gunicorn, threads) behind nginx with
PostgreSQL and Redis. Then, for T seconds:

- N kiosks take tickets (kiosk token, Idempotency-Key), each waiting ``--think`` s in between;
- M clerks, each at their own window: call next → start → finish, the same think time;
- K Socket.IO clients over WebSocket through nginx: boards and dashboards (hall room) and
  citizens' ticket pages (their ticket's room), spread over the processes by nginx.

Printed: operations/s, p50/p99 request latency, push latency (an event leaving its process
after the commit → its arrival at a client; also from the change's own timestamp, which is
taken when the command starts), events the boards missed, errors; then the same N+M client threads
against a minimal Flask + SQLAlchemy insert endpoint (bench/minimal_app.py) served the same
way behind the same nginx, in the same run. Loopback only; bounded by --seconds and --max-ops.

    .venv/bin/python bench/load.py [--processes 3] [--kiosks 4] [--clerks 6] [--sockets 200]
                                   [--seconds 20] [--think 0.2]
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/http.py would shadow the standard library's ``http`` package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "deploy"))

import argparse
import itertools
import json
import signal
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import requests
from cluster import Cluster
from itsdangerous import URLSafeTimedSerializer

API = "/api/v1"
SERVICES = ("SOCIAL", "TAX", "REALTY", "HPF", "ENT")
WINDOWS = (10, 8, 4, 13, 1, 11, 9, 5, 14, 2, 12, 6, 3, 7, 19, 20)  # skills cover SERVICES


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


@dataclass
class Tally:
    """Request counts and latencies (ms) of a group of client threads."""

    ops: int = 0
    errors: int = 0
    latencies: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    samples: list[str] = field(default_factory=list)

    def record(self, response: requests.Response | None, ms: float, ok: tuple[int, ...]) -> None:
        with self.lock:
            self.ops += 1
            self.latencies.append(ms)
            if response is None or response.status_code not in ok:
                self.errors += 1
                if len(self.samples) < 5:
                    status = response.status_code if response is not None else "no answer"
                    self.samples.append(f"{status} {response.text[:120] if response else ''}")


def timed(session: requests.Session, method: str, url: str, **kw: object) -> tuple[object, float]:
    started = time.perf_counter()
    try:
        response = session.request(method, url, timeout=30, **kw)  # type: ignore[arg-type]
    except requests.RequestException:
        response = None
    return response, (time.perf_counter() - started) * 1000


# -- Socket.IO clients: bench/screens.mjs (socket.io-client in one Node event loop) ----------


class Screens:
    """The K live screens, run by Node beside this process; figures come back as JSON."""

    def __init__(self, url: str, rooms: list[dict[str, object]]) -> None:
        self.process = subprocess.Popen(
            ["node", str(ROOT / "bench" / "screens.mjs")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps({"url": url, "rooms": rooms}) + "\n")
        self.process.stdin.flush()
        self.joined = int(self.process.stdout.readline().split()[1])  # "ready <joined>"

    def stop(self) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write("stop\n")
        self.process.stdin.flush()
        figures: dict[str, Any] = json.loads(self.process.stdout.readline())
        self.process.wait(30)
        return figures


# -- the run ----------------------------------------------------------------------------------


def hall_load(cluster: Cluster, args: argparse.Namespace) -> dict[str, object]:
    secret = URLSafeTimedSerializer(cluster.base_env["HALL_SECRET_KEY"], salt="hall-api-token")
    bearer = {
        name: {"Authorization": f"Bearer {secret.dumps({'u': name, 'r': role})}"}
        for name, role in [("kiosk", "kiosk"), ("supervisor", "supervisor")]
        + [(f"clerk{w:02d}", "clerk") for w in WINDOWS]
    }
    base = cluster.url
    seed = requests.Session()
    pages = [
        seed.post(
            f"{base}{API}/halls/ZMD/tickets",
            json={"service": "POLICY", "channel": "app"},  # nobody calls these during the run
            timeout=30,
        ).json()["id"]
        for _ in range(args.sockets // 4)
    ]
    rooms: list[dict[str, object]] = [{"ticket": t} for t in pages]
    rooms += [{"hall": "ZMD"}] * (args.sockets - len(rooms))
    screens = Screens(base, rooms)  # a screen that has not joined after 30 s is an error

    kiosks, clerks, dashboards = Tally(), Tally(), Tally()
    stop = time.monotonic() + args.seconds
    budget = itertools.count()

    def running() -> bool:
        return time.monotonic() < stop and next(budget) < args.max_ops

    def kiosk(i: int) -> None:
        http = requests.Session()
        services = itertools.cycle(SERVICES[i % len(SERVICES) :] + SERVICES[: i % len(SERVICES)])
        while running():
            body = {"service": next(services), "channel": "kiosk"}
            headers = {**bearer["kiosk"], "Idempotency-Key": uuid.uuid4().hex}
            url = f"{base}{API}/halls/ZMD/tickets"
            response, ms = timed(http, "POST", url, json=body, headers=headers)
            kiosks.record(response, ms, (201,))
            time.sleep(args.think)

    def clerk(window: int) -> None:
        http = requests.Session()
        http.headers.update(bearer[f"clerk{window:02d}"])
        http.post(f"{base}{API}/windows/{window}/open", timeout=30)
        while running():
            response, ms = timed(http, "POST", f"{base}{API}/windows/{window}/call-next")
            clerks.record(response, ms, (200, 204))
            if response is not None and response.status_code == 200:
                ticket = response.json()["id"]  # type: ignore[attr-defined]
                for step in ("start", "finish"):
                    url = f"{base}{API}/tickets/{ticket}/{step}"
                    response, ms = timed(http, "POST", url)
                    clerks.record(response, ms, (200,))
            time.sleep(args.think)
        http.post(f"{base}{API}/windows/{window}/close", timeout=30)

    def dashboard() -> None:
        http = requests.Session()
        http.headers.update(bearer["supervisor"])
        while time.monotonic() < stop:
            response, ms = timed(http, "GET", f"{base}{API}/halls/ZMD/live")
            dashboards.record(response, ms, (200,))
            time.sleep(2.0)

    threads = [threading.Thread(target=kiosk, args=(i,)) for i in range(args.kiosks)]
    threads += [threading.Thread(target=clerk, args=(w,)) for w in WINDOWS[: args.clerks]]
    threads += [threading.Thread(target=dashboard) for _ in range(2)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    time.sleep(1.5)  # the last pushes
    seen = screens.stop()
    pushes, changes = seen["latencies"], seen["since_change"]
    http = kiosks.latencies + clerks.latencies + dashboards.latencies
    return {
        "seconds": elapsed,
        "ops": kiosks.ops + clerks.ops + dashboards.ops,
        "issued": kiosks.ops,
        "p50": percentile(http, 0.5),
        "p99": percentile(http, 0.99),
        "issue_p99": percentile(kiosks.latencies, 0.99),
        "call_p99": percentile(clerks.latencies, 0.99),
        "errors": kiosks.errors + clerks.errors + dashboards.errors,
        "socket_errors": seen["socket_errors"],
        "failures": seen["failures"],
        "join_retries": seen["join_retries"],
        "sockets": seen["sockets"],
        "pushes": len(pushes),
        "push_p50": percentile(pushes, 0.5),
        "push_p99": percentile(pushes, 0.99),
        "push_max": max(pushes, default=float("nan")),
        "change_p50": percentile(changes, 0.5),
        "change_p99": percentile(changes, 0.99),
        "events": seen["events"],
        "missed": seen["missed"],
        "samples": kiosks.samples + clerks.samples + dashboards.samples,
    }


def minimal_load(cluster: Cluster, args: argparse.Namespace, clients: int) -> dict[str, object]:
    tally = Tally()
    stop = time.monotonic() + args.seconds

    def worker() -> None:
        http = requests.Session()
        while time.monotonic() < stop and tally.ops < args.max_ops:
            response, ms = timed(http, "POST", f"{cluster.url}/minimal/insert")
            tally.record(response, ms, (201,))
            time.sleep(args.think)

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    return {
        "seconds": elapsed,
        "ops": tally.ops,
        "p50": percentile(tally.latencies, 0.5),
        "p99": percentile(tally.latencies, 0.99),
        "errors": tally.errors,
        "samples": tally.samples,
    }


def main() -> None:
    # A timeout's SIGTERM unwinds like Ctrl-C, so the cluster stops what it started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument("--kiosks", type=int, default=4)
    parser.add_argument("--clerks", type=int, default=6)
    parser.add_argument("--sockets", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--think", type=float, default=0.2, help="pause between a client's ops")
    parser.add_argument("--max-ops", type=int, default=50_000)
    args = parser.parse_args()
    args.clerks = min(args.clerks, len(WINDOWS))
    env = {"HALL_RATE_LIMIT_TICKETS": "1000000 per minute", "HALL_LOG_FORMAT": "json"}
    threads = max(64, args.sockets // args.processes + 64)
    with Cluster(processes=args.processes, minimal=True, threads=threads, env=env) as cluster:
        print(
            f"cluster: {args.processes} × hall serve (gunicorn gthread, {threads} threads) behind "
            f"nginx, PostgreSQL, Redis; {args.kiosks} kiosks, {args.clerks} clerks, "
            f"{args.sockets} sockets, {args.seconds:.0f} s, think {args.think} s"
        )
        hall = hall_load(cluster, args)
        base = minimal_load(cluster, args, args.kiosks + args.clerks)
    print(
        f"hall     {hall['ops'] / hall['seconds']:8.1f} ops/s  p50 {hall['p50']:6.1f} ms  "
        f"p99 {hall['p99']:6.1f} ms  (issue p99 {hall['issue_p99']:.1f}, clerk ops p99 "
        f"{hall['call_p99']:.1f})  errors {hall['errors']}  tickets issued {hall['issued']}"
    )
    print(
        f"minimal  {base['ops'] / base['seconds']:8.1f} ops/s  p50 {base['p50']:6.1f} ms  "
        f"p99 {base['p99']:6.1f} ms  errors {base['errors']}"
    )
    print(
        f"push     {hall['sockets']} sockets, {hall['pushes']} pushes: p50 "
        f"{hall['push_p50']:.1f} ms  p99 {hall['push_p99']:.1f} ms  max {hall['push_max']:.1f} ms "
        f"(commit → screen); change → screen p50 {hall['change_p50']:.1f} ms p99 "
        f"{hall['change_p99']:.1f} ms; {hall['events']} events, missed by boards "
        f"{hall['missed']}, socket errors {hall['socket_errors']} (joins retried after a 503: "
        f"{hall['join_retries']})"
    )
    for sample in hall["samples"]:  # type: ignore[attr-defined]
        print("  error sample:", sample)
    for sample in base["samples"]:  # type: ignore[attr-defined]
        print("  minimal endpoint error sample:", sample)
    for reason, count in hall["failures"].items():  # type: ignore[attr-defined]
        print(f"  socket failure: {reason} × {count}")


if __name__ == "__main__":
    main()
