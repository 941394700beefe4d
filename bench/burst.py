"""A burst of calls across two server processes: how late do live events reach the screens?

Two ``hall serve`` processes on one PostgreSQL database share live events through Redis
(``HALL_MESSAGE_QUEUE``, deploy/cluster.py). K Socket.IO clients join the hall room, half on
each process (``--via nginx``: through the production nginx instead). 4 kiosks issue
``--tickets`` tickets alternately through both processes while 12 clerks (half on each) call,
start and finish them. The clients are python-socketio (``--clients python``, in their own
process; ``python-inline``: the same with each message handled on its socket's read thread
instead of a new thread per message) or the pages' own socket.io-client in Node
(``--clients node``).

Printed per stage, over every ``ticket.*`` event at every client:
command start (event ts) → published after the commit (``sent_at``) → heard from Redis by
the client's process (``heard_at``) → arrived at the client; and call-next sent → its
``ticket.called`` at every client (what a citizen waits for).

    .venv/bin/python bench/burst.py [--server werkzeug|gunicorn] [--via direct|nginx]
                                    [--clients python|node] [--sockets 40] [--tickets 200]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "deploy"))

import argparse
import itertools
import json
import os
import signal
import subprocess
import threading
import time
import uuid
from datetime import datetime
from typing import Any

import requests

API = "/api/v1"
SERVICES = ("SOCIAL", "TAX", "REALTY", "HPF", "ENT")
WINDOWS = (10, 8, 4, 13, 1, 11, 9, 5, 14, 2, 12, 6)  # skills cover SERVICES


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def stamp(text: str | None) -> float | None:
    return datetime.fromisoformat(text).timestamp() * 1000 if text else None


# -- the clients' process: python-socketio, same protocol as bench/burst_clients.mjs -------------


def python_clients() -> None:
    import engineio
    import socketio

    if "--inline" in sys.argv:  # every message on its socket's read thread, in order
        trigger = engineio.Client._trigger_event

        def inline(self: Any, event: str, *args: Any, **kwargs: Any) -> Any:
            kwargs.pop("run_async", None)
            return trigger(self, event, *args, **kwargs)

        engineio.Client._trigger_event = inline
    config = json.loads(sys.stdin.readline())
    arrivals: list[list[Any]] = []
    lock = threading.Lock()
    joined = threading.Semaphore(0)
    clients = []
    for i in range(config["sockets"]):
        client = socketio.Client(reconnection=False)

        def record(name: str, data: Any = None, i: int = i) -> None:
            arrived = time.time() * 1000
            if name == "snapshot":
                joined.release()
                return
            if name.startswith("ticket.") and isinstance(data, dict):
                row = [i, name, data.get("ticket_number"), arrived, data.get("ts")]
                with lock:
                    arrivals.append([*row, data.get("sent_at"), data.get("heard_at")])

        client.on("*", record)
        client.connect(config["urls"][i % len(config["urls"])], transports=["websocket"])
        client.emit("join", {"hall": config["hall"]})
        clients.append(client)
    got = sum(joined.acquire(timeout=30) for _ in clients)
    print(f"ready {got}", flush=True)
    sys.stdin.readline()
    with lock:
        print(json.dumps(arrivals), flush=True)
    os._exit(0)  # the sockets close with the process (a client's disconnect can block)


class Clients:
    def __init__(self, kind: str, urls: list[str], sockets: int) -> None:
        command = (
            ["node", str(ROOT / "bench" / "burst_clients.mjs")]
            if kind == "node"
            else [sys.executable, __file__, "--clients-process"]
            + (["--inline"] if kind == "python-inline" else [])
        )
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT
        )
        assert self.process.stdin is not None and self.process.stdout is not None
        config = {"urls": urls, "sockets": sockets, "hall": "ZMD"}
        self.process.stdin.write(json.dumps(config) + "\n")
        self.process.stdin.flush()
        self.joined = int(self.process.stdout.readline().split()[1])

    def stop(self) -> list[list[Any]]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write("stop\n")
        self.process.stdin.flush()
        arrivals: list[list[Any]] = json.loads(self.process.stdout.readline())
        self.process.wait(30)
        return arrivals


# -- the burst -------------------------------------------------------------------------------


def burst(urls: list[str], secret_key: str, args: argparse.Namespace) -> dict[str, float]:
    from itsdangerous import URLSafeTimedSerializer

    secret = URLSafeTimedSerializer(secret_key, salt="hall-api-token")

    def bearer(name: str, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {secret.dumps({'u': name, 'r': role})}"}

    clients = Clients(args.clients, urls, args.sockets)
    issued = itertools.count()
    done_issuing = threading.Event()
    called_at: dict[str, float] = {}  # ticket number → when its call-next was sent (ms)
    lock = threading.Lock()

    def kiosk(i: int) -> None:
        http = requests.Session()
        for n in itertools.count():
            if next(issued) >= args.tickets:
                break
            url = f"{urls[(i + n) % len(urls)]}{API}/halls/ZMD/tickets"
            headers = {**bearer("kiosk", "kiosk"), "Idempotency-Key": uuid.uuid4().hex}
            body = {"service": SERVICES[(i + n) % len(SERVICES)], "channel": "kiosk"}
            http.post(url, json=body, headers=headers, timeout=30).raise_for_status()
            time.sleep(args.think)

    def clerk(k: int, window: int) -> None:
        http = requests.Session()
        http.headers.update(bearer(f"clerk{window:02d}", "clerk"))
        base = urls[k % len(urls)]
        http.post(f"{base}{API}/windows/{window}/open", timeout=30)
        while True:
            sent = time.time() * 1000
            response = http.post(f"{base}{API}/windows/{window}/call-next", timeout=30)
            if response.status_code == 204:
                if done_issuing.is_set():
                    break
                time.sleep(0.05)
                continue
            response.raise_for_status()
            ticket = response.json()
            with lock:
                called_at[ticket["number"]] = sent
            for step in ("start", "finish"):
                http.post(f"{base}{API}/tickets/{ticket['id']}/{step}", timeout=30)
        http.post(f"{base}{API}/windows/{window}/close", timeout=30)

    kiosks = [threading.Thread(target=kiosk, args=(i,)) for i in range(args.kiosks)]
    clerks = [threading.Thread(target=clerk, args=(k, w)) for k, w in enumerate(WINDOWS)]
    started = time.monotonic()
    for thread in kiosks + clerks:
        thread.start()
    for thread in kiosks:
        thread.join()
    done_issuing.set()
    for thread in clerks:
        thread.join()
    elapsed = time.monotonic() - started
    time.sleep(args.settle)
    arrivals = clients.stop()

    stages: dict[str, list[float]] = {"commit": [], "relay": [], "deliver": [], "total": []}
    call_lat: list[float] = []
    per_socket: dict[int, int] = {}
    for sock, name, number, arrived, ts, sent_at, heard_at in arrivals:
        start, sent, heard = stamp(ts), stamp(sent_at), stamp(heard_at)
        assert start is not None
        stages["total"].append(arrived - start)
        if sent is not None:
            stages["commit"].append(sent - start)
            if heard is not None:
                stages["relay"].append(heard - sent)
                stages["deliver"].append(arrived - heard)
        if name == "ticket.called" and number in called_at:
            call_lat.append(arrived - called_at[number])
            per_socket[sock] = per_socket.get(sock, 0) + 1
    expected = len(called_at) * clients.joined
    print(
        f"burst: {len(called_at)} calls, {args.tickets} tickets in {elapsed:.1f} s; "
        f"{clients.joined}/{args.sockets} {args.clients} clients joined; "
        f"ticket.called received {len(call_lat)}/{expected}"
    )
    names = {
        "commit": "command start → published after commit",
        "relay": "published → heard from Redis by the client's process",
        "deliver": "heard → arrived at the client (emit, socket writer, network)",
        "total": "command start → client",
    }
    for key, label in names.items():
        v = stages[key]
        print(
            f"  {label:62s} p50 {percentile(v, 0.5):8.1f}  p99 {percentile(v, 0.99):8.1f}  "
            f"max {max(v, default=float('nan')):8.1f} ms"
        )
    print(
        f"  {'call-next sent → its ticket.called at every client':62s} "
        f"p50 {percentile(call_lat, 0.5):8.1f}  p99 {percentile(call_lat, 0.99):8.1f}  "
        f"max {max(call_lat, default=float('nan')):8.1f} ms"
    )
    return {"p99": percentile(call_lat, 0.99), "missing": expected - len(call_lat)}


def main() -> None:
    if "--clients-process" in sys.argv:
        python_clients()
        return
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", choices=("werkzeug", "gunicorn"), default="werkzeug")
    parser.add_argument("--via", choices=("direct", "nginx"), default="direct")
    parser.add_argument(
        "--clients",
        choices=("python", "python-inline", "node"),
        default="python",
        help="python-socketio as it comes (a new thread per message), or handling messages on "
        "each socket's read thread, or socket.io-client in Node",
    )
    parser.add_argument("--sockets", type=int, default=40)
    parser.add_argument("--tickets", type=int, default=200)
    parser.add_argument("--kiosks", type=int, default=4)
    parser.add_argument("--think", type=float, default=0.1, help="a kiosk's pause (s)")
    parser.add_argument("--settle", type=float, default=10.0, help="wait for the last events (s)")
    args = parser.parse_args()
    from cluster import Cluster

    env = {"HALL_SERVER": args.server, "HALL_RATE_LIMIT_TICKETS": "1000000 per minute"}
    with Cluster(processes=2, threads=100, env=env) as cluster:
        urls = [cluster.url] if args.via == "nginx" else [n.url for n in cluster.nodes]
        print(f"2 × hall serve ({args.server}), clients {args.via}, PostgreSQL, Redis")
        burst(urls, cluster.base_env["HALL_SECRET_KEY"], args)


if __name__ == "__main__":
    main()
