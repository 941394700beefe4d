"""HTTP throughput: issue + call-next through `hall serve`, next to a minimal Flask endpoint.

Both servers run the same way (Werkzeug, threaded; SQLite in WAL mode) and are loaded by the
same number of client threads with keep-alive connections, alternately, in one run:

- hall: each client owns a window and loops issue (app channel) → call-next → start → finish;
- minimal: each client loops POST /insert (one committed row per request).

Printed: requests/s of both, the ratio, hall visits (issue+call pairs)/s, and p50/p99 latency
of the issue and call-next requests.

    .venv/bin/python bench/http.py [--clients 8] [--seconds 10] [--rounds 2]
"""

from __future__ import annotations

import sys
from pathlib import Path

# This file is called http.py (as the issue names it): keep it from shadowing the standard
# library's ``http`` package, which requests imports.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def server(command: list[str], port: int, env: dict[str, str]) -> Iterator[str]:
    with subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    ) as proc:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                requests.get(base + "/", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.2)
        try:
            yield base
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def run_clients(clients: int, seconds: float, loop) -> tuple[int, list[float], int]:
    """Run ``loop(session, record)`` in threads for ``seconds``; (requests, latencies, errors)."""
    stop = time.monotonic() + seconds
    lock = threading.Lock()
    totals = {"requests": 0, "errors": 0}
    latencies: list[float] = []

    def worker(index: int) -> None:
        session = requests.Session()
        local: list[float] = []
        count = errors = 0

        def record(response: requests.Response, elapsed: float, timed: bool) -> None:
            nonlocal count, errors
            count += 1
            if response.status_code >= 400:
                errors += 1
            if timed:
                local.append(elapsed)

        while time.monotonic() < stop:
            loop(index, session, record)
        session.close()
        with lock:
            totals["requests"] += count
            totals["errors"] += errors
            latencies.extend(local)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return totals["requests"], latencies, totals["errors"]


def timed_post(session: requests.Session, url: str, **kwargs) -> tuple[requests.Response, float]:
    started = time.perf_counter()
    response = session.post(url, timeout=30, **kwargs)
    return response, (time.perf_counter() - started) * 1000


def clerk_tokens(base: str, clients: int) -> dict[int, str]:
    """One login per clerk for the whole run (logins are throttled to 10 a minute)."""
    tokens = {}
    for w in range(10, 10 + clients):
        response = requests.post(
            f"{base}/api/v1/auth/token",
            json={"username": f"clerk{w:02d}", "password": "zmd-clerk-2026"},
            timeout=10,
        )
        response.raise_for_status()
        tokens[w] = response.json()["token"]
    return tokens


def hall_round(base: str, tokens: dict[int, str], seconds: float) -> dict[str, float]:
    windows = sorted(tokens)
    clients = len(windows)
    for w in windows:
        requests.post(
            f"{base}/api/v1/windows/{w}/open",
            headers={"Authorization": f"Bearer {tokens[w]}"},
            timeout=10,
        )
    services = {
        10: "SOCIAL",
        11: "SOCIAL",
        12: "MEDICAL",
        13: "HPF",
        14: "HPF",
        15: "RESIDENCE",
        16: "TALENT",
        17: "SOCIAL",
        18: "MEDICAL",
        19: "ELDER",
        20: "ELDER",
        21: "POLICY",
    }
    visits = [0] * clients

    def loop(index: int, session: requests.Session, record) -> None:
        w = windows[index]
        headers = {"Authorization": f"Bearer {tokens[w]}"}
        r, ms = timed_post(
            session,
            f"{base}/api/v1/halls/ZMD/tickets",
            json={"service": services[w], "channel": "app"},
        )
        record(r, ms, True)
        r, ms = timed_post(session, f"{base}/api/v1/windows/{w}/call-next", headers=headers)
        record(r, ms, True)
        if r.status_code == 200:
            ticket = r.json()["id"]
            for step in ("start", "finish"):
                r, ms = timed_post(
                    session, f"{base}/api/v1/tickets/{ticket}/{step}", headers=headers
                )
                record(r, ms, False)
            visits[index] += 1

    started = time.perf_counter()
    count, latencies, errors = run_clients(clients, seconds, loop)
    elapsed = time.perf_counter() - started
    for w in windows:
        requests.post(
            f"{base}/api/v1/windows/{w}/close",
            headers={"Authorization": f"Bearer {tokens[w]}"},
            timeout=10,
        )
    return {
        "rps": count / elapsed,
        "visits_per_s": sum(visits) / elapsed,
        "errors": errors,
        "p50_ms": percentile(latencies, 0.5),
        "p99_ms": percentile(latencies, 0.99),
    }


def minimal_round(base: str, clients: int, seconds: float) -> dict[str, float]:
    def loop(index: int, session: requests.Session, record) -> None:
        r, ms = timed_post(session, f"{base}/insert")
        record(r, ms, True)

    started = time.perf_counter()
    count, latencies, errors = run_clients(clients, seconds, loop)
    elapsed = time.perf_counter() - started
    return {
        "rps": count / elapsed,
        "errors": errors,
        "p50_ms": percentile(latencies, 0.5),
        "p99_ms": percentile(latencies, 0.99),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    args.clients = min(args.clients, 12)
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "HALL_DATABASE_URL": f"sqlite:///{tmp}/hall.db",
            "HALL_INSTANCE_PATH": tmp,
            "PYTHONPATH": str(ROOT),
        }
        subprocess.run(
            [str(BIN / "hall"), "init", "--demo", "--always-open"],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        hall_port, minimal_port = free_port(), free_port()
        hall_cmd = [str(BIN / "hall"), "serve", "--port", str(hall_port)]
        minimal_cmd = [
            sys.executable,
            str(ROOT / "bench" / "minimal_app.py"),
            f"sqlite:///{tmp}/minimal.db",
            str(minimal_port),
        ]
        hall, minimal = [], []
        with (
            server(hall_cmd, hall_port, env) as hall_base,
            server(minimal_cmd, minimal_port, env) as minimal_base,
        ):
            tokens = clerk_tokens(hall_base, args.clients)
            hall_round(hall_base, tokens, 2)  # warm-up
            minimal_round(minimal_base, args.clients, 2)
            for _ in range(args.rounds):
                minimal.append(minimal_round(minimal_base, args.clients, args.seconds))
                hall.append(hall_round(hall_base, tokens, args.seconds))

    def med(rows: list[dict[str, float]], key: str) -> float:
        return round(statistics.median(r[key] for r in rows), 1)

    result = {
        "clients": args.clients,
        "minimal_rps": med(minimal, "rps"),
        "minimal_p99_ms": med(minimal, "p99_ms"),
        "hall_rps": med(hall, "rps"),
        "hall_visits_per_s": med(hall, "visits_per_s"),
        "hall_issue_call_p50_ms": med(hall, "p50_ms"),
        "hall_issue_call_p99_ms": med(hall, "p99_ms"),
        "ratio": round(med(hall, "rps") / med(minimal, "rps"), 2),
        "errors": sum(r["errors"] for r in hall + minimal),
    }
    print(
        f"bench/http.py  {datetime.now(UTC):%Y-%m-%d %H:%M} UTC  {args.clients} clients, "
        f"{args.rounds} x {args.seconds:g} s each"
    )
    print(
        f"minimal Flask+SQLAlchemy insert: {result['minimal_rps']} req/s "
        f"(p99 {result['minimal_p99_ms']} ms)"
    )
    print(
        f"hall API: {result['hall_rps']} req/s = {result['ratio']:.0%} of minimal; "
        f"{result['hall_visits_per_s']} visits/s; issue+call-next p50 "
        f"{result['hall_issue_call_p50_ms']} ms, p99 {result['hall_issue_call_p99_ms']} ms; "
        f"errors {result['errors']}"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
