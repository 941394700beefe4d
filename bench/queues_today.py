"""Today's queues for the city app (issue 20): the cached widget next to the uncached list.

One process, the Flask test client (no sockets: what is measured is the app's own work), the
demo hall on SQLite with 200 waiting tickets. In the same run, alternately:

- baseline: ``GET /api/v1/halls/ZMD/services`` (the same figures, computed on every request);
- widget: ``GET /api/v1/halls/ZMD/queues/today`` (answered from the in-process cache for
  ``HALL_QUEUES_CACHE_SECONDS``);
- widget with ``If-None-Match`` (what a polling app sends: 304, no body).

Printed: requests/s of each, the ratios to the baseline, and SQL statements per 1,000
requests (counted with SQLAlchemy's ``before_cursor_execute`` event).

    .venv/bin/python bench/queues_today.py [--seconds 3] [--rounds 2]
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/http.py would shadow the standard library's ``http`` package: not on the path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import json
import os
import subprocess
import tempfile
import time
from typing import Any

from sqlalchemy import event

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _app(folder: Path) -> Any:
    env = {**os.environ, "HALL_DATABASE_URL": f"sqlite:///{folder / 'hall.db'}"}
    env["HALL_INSTANCE_PATH"] = str(folder)
    subprocess.run(
        [str(BIN / "hall"), "init", "--demo", "--always-open"],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    os.environ["HALL_INSTANCE_PATH"] = str(folder)
    from hall_app import create_app

    return create_app(
        {
            "TESTING": True,
            "DATABASE_URL": env["HALL_DATABASE_URL"],
            "SECRET_KEY": "bench-queues-today-0123456789abcdef",
            "RATELIMIT_ENABLED": False,
        }
    )


def _run(client: Any, path: str, seconds: float, headers: dict[str, str]) -> tuple[float, int]:
    done = 0
    deadline = time.perf_counter() + seconds
    started = time.perf_counter()
    while time.perf_counter() < deadline:
        response = client.get(path, headers=headers)
        assert response.status_code in (200, 304), response.status_code
        done += 1
    return done / (time.perf_counter() - started), done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        app = _app(Path(tmp))
        client = app.test_client()
        services = [s["code"] for s in client.get("/api/v1/halls/ZMD/services").json["services"]]
        for n in range(200):
            body = {"service": services[n % len(services)], "channel": "app"}
            assert client.post("/api/v1/halls/ZMD/tickets", json=body).status_code == 201
        statements = [0]
        engine = app.extensions["hall"].db.engine
        event.listen(
            engine,
            "before_cursor_execute",
            lambda *a, **k: statements.__setitem__(0, statements[0] + 1),
        )
        etag = client.get("/api/v1/halls/ZMD/queues/today").headers["ETag"]
        cases = {
            "baseline /services": ("/api/v1/halls/ZMD/services", {}),
            "widget /queues/today": ("/api/v1/halls/ZMD/queues/today", {}),
            "widget 304": ("/api/v1/halls/ZMD/queues/today", {"If-None-Match": etag}),
        }
        rates: dict[str, list[float]] = {name: [] for name in cases}
        per_1000: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(args.rounds):
            for name, (path, headers) in cases.items():
                before = statements[0]
                rate, done = _run(client, path, args.seconds, headers)
                rates[name].append(rate)
                per_1000[name].append(1000 * (statements[0] - before) / done)
        app.extensions["hall"].db.dispose()
    best = {name: max(values) for name, values in rates.items()}
    base = best["baseline /services"]
    print(
        json.dumps(
            {
                "requests_per_second": {k: round(v, 1) for k, v in best.items()},
                "ratio_to_baseline": {k: round(v / base, 1) for k, v in best.items()},
                "sql_statements_per_1000_requests": {
                    k: round(min(v), 1) for k, v in per_1000.items()
                },
                "cache_seconds": 5,
                "seconds_per_case": args.seconds,
                "rounds": args.rounds,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
