"""HTTP throughput: issue + call-next through `hall serve`, next to a minimal Flask endpoint.

``--workload mixed``: both servers run the same way (Werkzeug, threaded; SQLite in WAL mode)
and are loaded by the same number of client threads with keep-alive connections, alternately,
in one run:

- hall: each client owns a window and loops issue (app channel) → call-next → start → finish;
- minimal: each client loops POST /insert (one committed row per request).

Printed: requests/s of both, the ratio, hall visits (issue+call pairs)/s, and p50/p99 latency
of the issue and call-next requests.

    .venv/bin/python bench/http.py --workload mixed [--clients 8] [--seconds 10] [--rounds 2]

``--workload peer`` (the default; issue 16) is the load another open-source queue system
publishes for itself, against ``hall serve`` started as ``make run`` starts it (``hall init
--demo --always-open``, then ``hall serve``; SQLite in the instance folder): 8 client threads,
a new TCP connection for every request; first ``--tickets`` (2,000) tickets issued over three
services (kiosk token, channel kiosk), then ``--calls`` (1,000) of them called by 8 clerks at
their windows, each call a full cycle call-next + start + finish. Printed: tickets issued/s,
full call cycles/s, p50/p99 of every request kind, and the issue latency of the first and last
200 tickets (the cost of an issue with a long queue), and whether the server's log has a
development-server warning. ``--ref REV`` runs the same against the tree of REV first;
``--servers default,werkzeug`` runs each tree with plain ``hall serve`` (its default server:
gunicorn since issue 16) and with ``hall serve --server werkzeug``; ``--gc-stats`` logs every
garbage collection in the server processes and prints count, total and longest per generation.

    .venv/bin/python bench/http.py [--workload peer] [--tickets 2000] [--calls 1000] [--ref main]
        [--servers default,werkzeug] [--gc-stats]

Run it as a script (as above) or as ``python -m bench.http``; either way this file keeps
itself from shadowing the standard library's ``http``.
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


def process_cpu_ms(pid: int) -> float:
    """CPU time (user + system) of a process and its children alive now (gunicorn's worker)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        for each in [str(pid), *children]:
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    except OSError:
        return float("nan")
    return total * 1000 / tick


@contextmanager
def server(
    command: list[str],
    port: int,
    env: dict[str, str],
    log: Path | None = None,
    started: list[subprocess.Popen] | None = None,
    cwd: Path | None = None,
) -> Iterator[str]:
    """``command`` serving on ``port``. ``cwd``: the tree to serve (``python -c`` puts the
    working directory first on ``sys.path``, before ``PYTHONPATH``: without it a ``--ref`` run
    would serve this checkout's code)."""
    out = log.open("wb") if log else subprocess.DEVNULL
    with subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=cwd) as proc:
        if started is not None:
            started.append(proc)
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
            proc.wait(timeout=15)
            if log:
                out.close()  # type: ignore[union-attr]


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


PEER_SERVICES = ("SOCIAL", "MEDICAL", "HPF")
PEER_WINDOWS = (10, 11, 12, 13, 14, 17, 18, 19)  # the windows serving those three


def fresh_post(url: str, **kwargs) -> tuple[requests.Response, float]:
    """POST on a new TCP connection (``Connection: close``), as the peer's clients do."""
    headers = {**kwargs.pop("headers", {}), "Connection": "close"}
    started = time.perf_counter()
    response = requests.post(url, timeout=60, headers=headers, **kwargs)
    return response, (time.perf_counter() - started) * 1000


def share_out(total: int, clients: int, work) -> tuple[float, int]:
    """Run ``work(i)`` for i in range(total) on ``clients`` threads; (seconds, errors)."""
    next_item = iter(range(total))
    lock = threading.Lock()
    errors = [0]

    def worker(index: int) -> None:
        while True:
            with lock:
                item = next(next_item, None)
            if item is None:
                return
            if not work(index, item):
                with lock:
                    errors[0] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - started, errors[0]


def peer_round(
    base: str, tokens: dict[int, str], tickets: int, calls: int, cpu_ms=lambda: float("nan")
) -> dict:
    """The peer's workload once: ``tickets`` issued, then ``calls`` called (full cycles).

    Tickets are issued as the hall's kiosks issue them (kiosk token, channel kiosk): public
    app/web tickets are rate-limited per client address (``HALL_RATE_LIMIT_TICKETS``).
    """
    windows = list(tokens)
    r = requests.post(
        f"{base}/api/v1/auth/token",
        json={"username": "kiosk", "password": "zmd-kiosk-2026"},
        timeout=10,
    )
    r.raise_for_status()
    kiosk = r.json()["token"]
    issue_ms: list[tuple[int, float]] = []
    lock = threading.Lock()

    def issue(_index: int, item: int) -> bool:
        service = PEER_SERVICES[item % len(PEER_SERVICES)]
        r, ms = fresh_post(
            f"{base}/api/v1/halls/ZMD/tickets",
            json={"service": service, "channel": "kiosk"},
            headers=auth(kiosk),
        )
        with lock:
            issue_ms.append((item, ms))
        return r.status_code == 201

    for w in windows:
        fresh_post(f"{base}/api/v1/windows/{w}/open", headers=auth(tokens[w]))
    cpu_before = cpu_ms()
    issue_seconds, issue_errors = share_out(tickets, len(windows), issue)
    issue_cpu = cpu_ms() - cpu_before
    step_ms: dict[str, list[float]] = {"call-next": [], "start": [], "finish": []}

    def cycle(index: int, _item: int) -> bool:
        w = windows[index]
        r, ms = fresh_post(f"{base}/api/v1/windows/{w}/call-next", headers=auth(tokens[w]))
        with lock:
            step_ms["call-next"].append(ms)
        if r.status_code != 200:
            return False
        ticket = r.json()["id"]
        for step in ("start", "finish"):
            r, ms = fresh_post(f"{base}/api/v1/tickets/{ticket}/{step}", headers=auth(tokens[w]))
            with lock:
                step_ms[step].append(ms)
            if r.status_code != 200:
                return False
        return True

    cpu_before = cpu_ms()
    call_seconds, call_errors = share_out(calls, len(windows), cycle)
    cycle_cpu = cpu_ms() - cpu_before
    for w in windows:
        fresh_post(f"{base}/api/v1/windows/{w}/close", headers=auth(tokens[w]))
    ordered = [ms for _, ms in sorted(issue_ms)]
    every = [ms for _, ms in issue_ms] + [ms for v in step_ms.values() for ms in v]
    return {
        "issued_per_s": round(tickets / issue_seconds, 1),
        "calls_per_s": round(calls / call_seconds, 1),
        "issue_p50_ms": round(percentile(ordered, 0.5), 1),
        "issue_p99_ms": round(percentile(ordered, 0.99), 1),
        "first_200_issues_p50_ms": round(percentile(ordered[:200], 0.5), 1),
        "last_200_issues_p50_ms": round(percentile(ordered[-200:], 0.5), 1),
        **{
            f"{step}_{q}_ms": round(percentile(values, p), 1)
            for step, values in step_ms.items()
            for q, p in (("p50", 0.5), ("p99", 0.99))
        },
        "every_request_p99_ms": round(percentile(every, 0.99), 1),
        "server_cpu_ms_per_issue": round(issue_cpu / tickets, 2),
        "server_cpu_ms_per_cycle": round(cycle_cpu / calls, 2),
        "errors": issue_errors + call_errors,
    }


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def unpack(ref: str, into: Path) -> Path:
    """The tree of ``ref`` (``git archive``: the repository's worktrees stay as they are)."""
    import tarfile

    archive = into / "ref.tar"
    with archive.open("wb") as out:
        subprocess.run(["git", "-C", str(ROOT), "archive", ref], stdout=out, check=True)
    tree = into / "tree"
    with tarfile.open(archive) as tar:
        tar.extractall(tree, filter="data")
    return tree


# Run before ``hall``'s own code in every server process (``--gc-stats``): each collection of
# the cyclic garbage collector, its generation and how long it took, one line per collection
# appended to $HALL_BENCH_GC_LOG (gunicorn's worker inherits it through the fork).
GC_PRELUDE = """
import gc, os, time
_fd = os.open(os.environ["HALL_BENCH_GC_LOG"], os.O_WRONLY | os.O_CREAT | os.O_APPEND)
_t = [0.0]
def _gc(phase, info):
    if phase == "start":
        _t[0] = time.perf_counter()
    else:
        ms = (time.perf_counter() - _t[0]) * 1000
        os.write(_fd, f"{os.getpid()} {time.time():.3f} {info['generation']} {ms:.3f}\\n".encode())
gc.callbacks.append(_gc)
"""


def gc_summary(log: Path, since: float) -> dict[str, float]:
    """Collections during the workload (after ``since``), per generation: count, total, max ms.

    Only the process that served (the one with the most collections: gunicorn's worker, not its
    master, which only watches the worker).
    """
    rows = [line.split() for line in log.read_text().splitlines()] if log.exists() else []
    rows = [r for r in rows if float(r[1]) >= since]
    pids = [r[0] for r in rows]
    serving = max(set(pids), key=pids.count) if pids else ""
    rows = [r for r in rows if r[0] == serving]
    out: dict[str, float] = {}
    for generation in ("0", "1", "2"):
        ms = [float(r[3]) for r in rows if r[2] == generation and float(r[1]) >= since]
        out[f"gc{generation}_count"] = len(ms)
        out[f"gc{generation}_total_ms"] = round(sum(ms), 1)
        out[f"gc{generation}_max_ms"] = round(max(ms, default=0.0), 1)
    return out


def peer(args: argparse.Namespace) -> None:
    """The peer workload against ``hall serve`` as ``make run`` starts it (this tree, --ref).

    ``--servers default,werkzeug``: each tree once with plain ``hall serve`` (its default
    server) and once with ``hall serve --server werkzeug``, in this order.
    """
    servers = [s.strip() for s in args.servers.split(",") if s.strip()]
    print(
        f"bench/http.py --workload peer  {datetime.now(UTC):%Y-%m-%d %H:%M} UTC  "
        f"{len(PEER_WINDOWS)} client threads, new connection per request, {args.tickets} issued "
        f"over {', '.join(PEER_SERVICES)}, then {args.calls} called (call-next + start + finish); "
        f"servers: {', '.join(servers)}; load average {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        trees = [("this checkout", ROOT)]
        if args.ref:
            trees.insert(0, (args.ref, unpack(args.ref, Path(tmp))))
        sides = [(tree, code, name) for tree, code in trees for name in servers]
        for tree, code, name in sides:
            label = f"{tree}, {'hall serve' if name == 'default' else '--server ' + name}"
            instance = Path(tmp) / f"instance-{len(results)}"
            gc_log = Path(tmp) / f"gc-{len(results)}.log"
            env = {k: v for k, v in os.environ.items() if not k.startswith("HALL_")} | {
                "HALL_INSTANCE_PATH": str(instance),
                "PYTHONPATH": str(code),
            }
            prelude = ""
            if args.gc_stats:
                env["HALL_BENCH_GC_LOG"] = str(gc_log)
                prelude = GC_PRELUDE
            hall = [sys.executable, "-c", prelude + "from hall_app.cli import main; main()"]
            subprocess.run(
                [*hall, "init", "--demo", "--always-open"],
                env=env,
                cwd=code,
                check=True,
                stdout=subprocess.DEVNULL,
            )
            port = free_port()
            flags = [] if name == "default" else ["--server", name]
            log = Path(tmp) / f"serve-{len(results)}.log"
            started: list[subprocess.Popen] = []
            command = [*hall, "serve", "--port", str(port), *flags]
            with server(command, port, env, log, started, cwd=code) as base:
                tokens = {}
                for w in PEER_WINDOWS:
                    r = requests.post(
                        f"{base}/api/v1/auth/token",
                        json={"username": f"clerk{w:02d}", "password": "zmd-clerk-2026"},
                        timeout=10,
                    )
                    r.raise_for_status()
                    tokens[w] = r.json()["token"]
                since = time.time()
                pid = started[0].pid
                row = {
                    "code": label,
                    **peer_round(
                        base, tokens, args.tickets, args.calls, lambda p=pid: process_cpu_ms(p)
                    ),
                }
            text = log.read_text(errors="replace")
            row["server_line"] = next(
                (line for line in text.splitlines() if line.startswith("serving on")), ""
            )
            row["dev_server_warning"] = any(
                words in text.lower() for words in ("development server", "production web server")
            )
            if args.gc_stats:
                row |= gc_summary(gc_log, since)
            results.append(row)
            print(
                f"{label:<34} issued {row['issued_per_s']:>6}/s (p50 {row['issue_p50_ms']} ms, "
                f"p99 {row['issue_p99_ms']} ms; first 200 p50 {row['first_200_issues_p50_ms']} "
                f"ms, last 200 {row['last_200_issues_p50_ms']} ms)   called "
                f"{row['calls_per_s']:>6}/s (call-next p50 {row['call-next_p50_ms']} ms, "
                f"p99 {row['call-next_p99_ms']} ms)   every request p99 "
                f"{row['every_request_p99_ms']} ms   server CPU per issue "
                f"{row['server_cpu_ms_per_issue']} ms, per call cycle "
                f"{row['server_cpu_ms_per_cycle']} ms   errors {row['errors']}   "
                f"dev-server warning in the log: {'yes' if row['dev_server_warning'] else 'no'}",
                flush=True,
            )
            if args.gc_stats:
                print(
                    "    collections during the workload: "
                    + ", ".join(
                        f"gen {g} {row[f'gc{g}_count']} (total {row[f'gc{g}_total_ms']} ms, "
                        f"max {row[f'gc{g}_max_ms']} ms)"
                        for g in "012"
                    ),
                    flush=True,
                )
    print(json.dumps(results))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", choices=("peer", "mixed"), default="peer")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--tickets", type=int, default=2000)
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--ref", help="peer workload: also run the tree of this commit first")
    parser.add_argument(
        "--servers",
        default="default",
        help="peer workload: comma-separated, each 'default' (plain hall serve) or a --server "
        "value (gunicorn, werkzeug); e.g. default,werkzeug",
    )
    parser.add_argument(
        "--gc-stats",
        action="store_true",
        help="peer workload: log the servers' garbage collections and print them per generation",
    )
    args = parser.parse_args()
    if args.workload == "peer":
        peer(args)
        return
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
        # The same server as the minimal app's (Werkzeug): the comparison is of the apps.
        hall_cmd = [str(BIN / "hall"), "serve", "--port", str(hall_port), "--server", "werkzeug"]
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
