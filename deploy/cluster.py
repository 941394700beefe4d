"""The production shape on loopback: N ``hall serve`` processes behind nginx, PostgreSQL, Redis.

For tests and benchmarks. It creates its own PostgreSQL database and Redis channel, runs nginx
as the current user with its own prefix, configuration, pid file and logs in a temporary
folder, and stops only what it started (its processes by their ids, its database by name).
With ``proxies=True`` the servers reach PostgreSQL and Redis through cuttable TCP proxies
(``deploy/tcpproxy.py``), so that tests can simulate outages without touching the real servers.

    .venv/bin/python deploy/cluster.py [--processes 3] [--port 8080]   # Ctrl-C stops it
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent))
from tcpproxy import TcpProxy

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
NGINX_TEMPLATE = Path(__file__).with_name("nginx.conf.template")
POSTGRES_ADMIN_URL = os.environ.get(
    "HALL_TEST_POSTGRES_URL", "postgresql://root@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("HALL_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
START_TIMEOUT = 60.0


def free_port() -> int:
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def nginx_binary() -> str:
    found = shutil.which("nginx") or "/usr/sbin/nginx"
    if not os.access(found, os.X_OK):
        raise RuntimeError("nginx is not installed (Debian: apt-get install nginx)")
    return found


@dataclass
class Node:
    name: str
    port: int
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


@dataclass
class Cluster:
    processes: int = 3
    port: int = 0
    proxies: bool = False
    threads: int = 200
    minimal: bool = False
    env: dict[str, str] = field(default_factory=dict)
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="hall-cluster-")))
    nodes: list[Node] = field(default_factory=list)
    database_url: str = ""

    def __post_init__(self) -> None:
        self.tag = secrets.token_hex(4)
        self.database = f"hall_cluster_{self.tag}"
        self.pg_proxy: TcpProxy | None = None
        self.redis_proxy: TcpProxy | None = None
        self._nginx: subprocess.Popen[bytes] | None = None
        self._minimal: subprocess.Popen[bytes] | None = None
        self._created_database = False
        self.minimal_port = 0
        self._files: list[IO[bytes]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> Cluster:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        (self.workdir / "logs").mkdir(parents=True, exist_ok=True)
        self._create_database()
        pg = make_url(self.database_url)
        redis = make_url(REDIS_URL)
        if self.proxies:
            self.pg_proxy = TcpProxy((pg.host or "127.0.0.1", pg.port or 5432)).start()
            self.redis_proxy = TcpProxy((redis.host or "127.0.0.1", redis.port or 6379)).start()
            pg = pg.set(host="127.0.0.1", port=self.pg_proxy.port)
            redis = redis.set(host="127.0.0.1", port=self.redis_proxy.port)
        self.base_env = {
            **os.environ,
            "HALL_ENV": "production",
            "HALL_SERVER": "gunicorn",
            "HALL_THREADS": str(self.threads),
            "HALL_DATABASE_URL": pg.render_as_string(hide_password=False),
            "HALL_MESSAGE_QUEUE": redis.set(database="15").render_as_string(hide_password=False),
            "HALL_MESSAGE_CHANNEL": f"hall-cluster-{self.tag}",
            "HALL_SECRET_KEY": secrets.token_hex(32),
            "HALL_PII_PEPPER": secrets.token_hex(32),
            "HALL_PII_KEY": f"k1:{base64.b64encode(secrets.token_bytes(32)).decode()}",
            "HALL_INSTANCE_PATH": str(self.workdir / "instance"),
            "HALL_PROXY_COUNT": "1",
            "HALL_LOG_FORMAT": "json",
            "PROMETHEUS_MULTIPROC_DIR": str(self.workdir / "metrics"),
            **self.env,
        }
        (self.workdir / "metrics").mkdir(exist_ok=True)
        init = subprocess.run(
            [str(BIN / "hall"), "init", "--demo", "--always-open"],
            env=self.base_env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if init.returncode != 0:
            raise RuntimeError(f"hall init failed:\n{init.stderr[-3000:]}")
        for i in range(self.processes):
            node = Node(f"node{i + 1}", free_port(), self.workdir / "logs" / f"node{i + 1}.log")
            self.nodes.append(node)
            self._launch(node)
        if self.minimal:
            self._start_minimal()
        self.port = self.port or free_port()
        self._start_nginx()
        for node in self.nodes:
            self.wait_ready(node)
        self._wait_http(f"{self.url}/readyz")

    def stop(self) -> None:
        """Stop nginx, the servers and the proxies we started; drop our database."""
        if self._nginx is not None:
            _terminate(self._nginx, signal.SIGQUIT)
            self._nginx = None
        for node in self.nodes:
            self.kill(node, signal.SIGTERM)
        if self._minimal is not None:
            _terminate(self._minimal, signal.SIGTERM)
            self._minimal = None
        for proxy in (self.pg_proxy, self.redis_proxy):
            if proxy is not None:
                proxy.stop()
        for handle in self._files:
            handle.close()
        self._files.clear()
        if self._created_database:
            admin = create_engine(_psycopg(POSTGRES_ADMIN_URL), isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)'))
            admin.dispose()
            self._created_database = False
        if not os.environ.get("HALL_CLUSTER_KEEP"):  # keep logs for a post-mortem on demand
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Cluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- server processes --------------------------------------------------------------------

    def _launch(self, node: Node) -> None:
        node.log = node.log_path.open("ab")
        node.process = subprocess.Popen(
            [str(BIN / "hall"), "serve", "--port", str(node.port)],
            env={**self.base_env, "HALL_NODE": node.name},
            stdin=subprocess.DEVNULL,
            stdout=node.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: gunicorn's master and worker
        )

    def kill(self, node: Node, sig: int = signal.SIGKILL) -> None:
        """Signal a server's process group (master and worker) and reap it."""
        if node.process is not None and node.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(node.process.pid, sig)
            try:
                node.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(node.process.pid, signal.SIGKILL)
                node.process.wait(timeout=10)
        if node.log is not None:
            node.log.close()
            node.log = None

    def restart(self, node: Node) -> None:
        self.kill(node, signal.SIGTERM)
        self._launch(node)
        self.wait_ready(node)

    def wait_ready(self, node: Node) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if not node.alive:
                raise RuntimeError(f"{node.name} exited:\n{self.output(node)}")
            with contextlib.suppress(requests.RequestException):
                if requests.get(f"{node.url}/readyz", timeout=2).status_code == 200:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"{node.name} not ready:\n{self.output(node)}")

    def output(self, node: Node) -> str:
        if node.log is not None:
            node.log.flush()
        return node.log_path.read_text(errors="replace")[-4000:]

    def node_of_port(self, port: int) -> Node:
        return next(n for n in self.nodes if n.port == port)

    # -- nginx -------------------------------------------------------------------------------

    def _start_nginx(self) -> None:
        prefix = self.workdir / "nginx"
        for sub in ("logs", "temp"):
            (prefix / sub).mkdir(parents=True, exist_ok=True)
        servers = "\n".join(
            f"        server 127.0.0.1:{n.port} max_fails=1 fail_timeout=5s;" for n in self.nodes
        )
        minimal = f"127.0.0.1:{self.minimal_port}" if self.minimal else "127.0.0.1:9"
        user = "" if os.geteuid() != 0 else "user root;"
        conf = NGINX_TEMPLATE.read_text().format(
            user=user,
            prefix=prefix,
            port=self.port,
            servers=servers,
            minimal=minimal,
        )
        (prefix / "nginx.conf").write_text(conf)
        binary = nginx_binary()
        args = [binary, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-e"]
        check = subprocess.run(
            [*args, str(prefix / "logs" / "error.log"), "-t"],
            capture_output=True,
            text=True,
            check=False,
        )
        if check.returncode != 0:
            raise RuntimeError(f"nginx configuration rejected:\n{check.stderr}")
        self._nginx = subprocess.Popen(
            [*args, str(prefix / "logs" / "error.log"), "-g", "daemon off;"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self._log_file(prefix / "logs" / "stderr.log"),
        )

    def _start_minimal(self) -> None:
        self.minimal_port = free_port()
        url = self.base_env["HALL_DATABASE_URL"]
        log = self._log_file(self.workdir / "logs" / "minimal.log")
        self._minimal = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "--chdir",
                str(ROOT / "bench"),
                "--bind",
                f"127.0.0.1:{self.minimal_port}",
                "--worker-class",
                "gthread",
                "--threads",
                str(self.threads),
                "--workers",
                "1",
                "--keep-alive",
                "15",  # as hall serve's gunicorn
                f"minimal_app:create_minimal_app({url!r})",
            ],
            env=self.base_env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self._wait_http(f"http://127.0.0.1:{self.minimal_port}/insert", method="POST")

    def _log_file(self, path: Path) -> IO[bytes]:
        handle = path.open("ab")
        self._files.append(handle)
        return handle

    def _wait_http(self, url: str, method: str = "GET") -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            with contextlib.suppress(requests.RequestException):
                if requests.request(method, url, timeout=2).status_code < 500:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"{url} did not answer")

    # -- database ----------------------------------------------------------------------------

    def _create_database(self) -> None:
        admin = create_engine(_psycopg(POSTGRES_ADMIN_URL), isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{self.database}"'))
        finally:
            admin.dispose()
        self._created_database = True
        url = make_url(POSTGRES_ADMIN_URL).set(database=self.database)
        self.database_url = url.render_as_string(hide_password=False)


def _psycopg(url: str) -> str:
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def _terminate(process: subprocess.Popen[Any], sig: int) -> None:
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def main() -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop everything, as on Ctrl-C
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--processes", type=int, default=3)
    parser.add_argument("--port", type=int, default=8080)
    args = parser.parse_args()
    with Cluster(processes=args.processes, port=args.port) as cluster:
        print(f"hall cluster on {cluster.url}/ ({args.processes} processes, {cluster.workdir})")
        print("demo accounts as printed by `hall init --demo`; Ctrl-C stops everything")
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(3600)


if __name__ == "__main__":
    main()
