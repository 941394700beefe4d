"""Several server processes behind nginx, on PostgreSQL and Redis: events, calls, crashes.

Every client here goes through nginx; a ``hall_node`` cookie pins it to one process. The last
tests leave the cluster changed (a process SIGKILLed, windows left open by the fuzz run), so they
run last in this module (the cluster is module-scoped).
"""

from __future__ import annotations

import itertools
import re
import threading
import time
import uuid
from collections import Counter, defaultdict
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import run_state_machine_as_test
from prometheus_client.parser import text_string_to_metric_families
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from deploy.cluster import Cluster
from queue_engine.adapters.unit_of_work import Database
from tests.helpers.cluster import API, Listener, hall_workflow, query, session_on, token
from tests.helpers.consistency import assert_consistent

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

LIFE = ["ticket.issued", "ticket.called", "ticket.started", "ticket.finished"]
RETRYABLE = (requests.ConnectionError, requests.Timeout)


def consistent(cluster: Cluster) -> dict[str, int]:
    db = Database(cluster.database_url)
    try:
        return assert_consistent(db)
    finally:
        db.dispose()


def last_event_id(cluster: Cluster) -> int:
    return int(query(cluster, "SELECT coalesce(max(id), 0) FROM events")[0][0])


def events_since(cluster: Cluster, after: int) -> list[Any]:
    return query(
        cluster,
        "SELECT event_id, type, ticket_id FROM events WHERE id > :after "
        "AND (type LIKE 'ticket.%' OR type LIKE 'window.%') ORDER BY id",
        after=after,
    )


def clerk_session(cluster: Cluster, node: str, window: int) -> requests.Session:
    return session_on(cluster, node, token(cluster, f"clerk{window:02d}", "clerk"))


def serve_until_empty(http: requests.Session, window: int, served: list[str]) -> None:
    """Call, start and finish until nothing is eligible."""
    base = http.base  # type: ignore[attr-defined]
    while True:
        called = http.post(f"{base}{API}/windows/{window}/call-next", timeout=10)
        if called.status_code == 204:
            break
        assert called.status_code == 200, called.text
        ticket = called.json()["id"]
        served.append(ticket)
        for step in ("start", "finish"):
            done = http.post(f"{base}{API}/tickets/{ticket}/{step}", timeout=10)
            assert done.status_code == 200, done.text


def run_all(*targets: Any) -> None:
    errors: list[BaseException] = []

    def guard(target: Any) -> None:
        try:
            target()
        except BaseException as exc:  # re-raised in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=guard, args=(t,)) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    if errors:
        raise errors[0]


def pinned(cluster: Cluster, node: str, bearer: str) -> requests.Session:
    http = session_on(cluster, node, bearer)
    http.base = cluster.url  # type: ignore[attr-defined]
    return http


def test_clients_on_every_process_get_every_event_in_the_same_order(cluster: Cluster) -> None:
    names = [n.name for n in cluster.nodes]
    listeners = [Listener(cluster, name, {"hall": "ZMD"}).connect() for name in names * 2]
    try:
        assert sorted(listener.node() for listener in listeners) == sorted(names * 2)
        start = last_event_id(cluster)
        kiosk = token(cluster, "kiosk", "kiosk")
        windows = dict(zip(names, (10, 11, 12), strict=True))

        def kiosk_on(node: str) -> None:
            http = pinned(cluster, node, kiosk)
            for _ in range(5):
                body = {"service": "SOCIAL", "channel": "kiosk"}
                issued = http.post(f"{cluster.url}{API}/halls/ZMD/tickets", json=body, timeout=10)
                assert issued.status_code == 201, issued.text

        clerks = {
            node: pinned(cluster, node, token(cluster, f"clerk{w:02d}", "clerk"))
            for node, w in windows.items()
        }
        for node, window in windows.items():
            opened = clerks[node].post(f"{cluster.url}{API}/windows/{window}/open", timeout=10)
            assert opened.status_code == 200, opened.text
        run_all(*(lambda n=n: kiosk_on(n) for n in names))
        served: list[str] = []
        run_all(
            *(lambda n=n, w=w: serve_until_empty(clerks[n], w, served) for n, w in windows.items())
        )
        for node, window in windows.items():
            closed = clerks[node].post(f"{cluster.url}{API}/windows/{window}/close", timeout=10)
            assert closed.status_code == 200, closed.text

        stored = events_since(cluster, start)
        wanted = {row.event_id for row in stored}
        assert len(served) == 15 and len(wanted) == 15 * 4 + 6
        for listener in listeners:
            listener.wait_for_ids(wanted)
        sequences = [[i for i in listener.event_ids() if i in wanted] for listener in listeners]
        assert all(sequence == sequences[0] for sequence in sequences)  # one order for all
        assert len(sequences[0]) == len(wanted)  # each event once
        position = {event_id: i for i, event_id in enumerate(sequences[0])}
        lives: dict[str, list[tuple[int, str]]] = defaultdict(list)
        for row in stored:
            if row.ticket_id:
                lives[row.ticket_id].append((position[row.event_id], row.type))
        for life in lives.values():
            assert [kind for _, kind in sorted(life)] == LIFE
    finally:
        for listener in listeners:
            listener.close()
    consistent(cluster)


def test_clerks_on_different_processes_calling_at_once_never_share_a_ticket(
    cluster: Cluster,
) -> None:
    kiosk = pinned(cluster, "node1", token(cluster, "kiosk", "kiosk"))
    issued = set()
    for _ in range(30):
        body = {"service": "SOCIAL", "channel": "kiosk"}
        response = kiosk.post(f"{cluster.url}{API}/halls/ZMD/tickets", json=body, timeout=10)
        assert response.status_code == 201, response.text
        issued.add(response.json()["id"])
    windows = (10, 11, 12, 14, 19)  # SOCIAL: primary or secondary skill
    nodes = itertools.cycle(n.name for n in cluster.nodes)
    clerks = {
        w: pinned(cluster, next(nodes), token(cluster, f"clerk{w:02d}", "clerk")) for w in windows
    }
    for window, http in clerks.items():
        assert http.post(f"{cluster.url}{API}/windows/{window}/open", timeout=10).status_code == 200
    barrier = threading.Barrier(len(windows))
    served: dict[int, list[str]] = {w: [] for w in windows}

    def clerk(window: int) -> None:
        barrier.wait()
        serve_until_empty(clerks[window], window, served[window])

    run_all(*(lambda w=w: clerk(w) for w in windows))
    for window, http in clerks.items():
        assert (
            http.post(f"{cluster.url}{API}/windows/{window}/close", timeout=10).status_code == 200
        )

    everything = [ticket for tickets in served.values() for ticket in tickets]
    assert len(everything) == len(set(everything))  # nobody got a ticket twice
    assert issued <= set(everything)  # and none was skipped
    assert sum(1 for tickets in served.values() if tickets) >= 3
    calls = query(
        cluster,
        "SELECT ticket_id, count(*) FROM events WHERE type = 'ticket.called' "
        "AND ticket_id = ANY(:ids) GROUP BY ticket_id",
        ids=list(issued),
    )
    assert {row[0] for row in calls} == issued and {row[1] for row in calls} == {1}
    consistent(cluster)


def issue_retrying(
    http: requests.Session, url: str, key: str, deadline: float, service: str = "TAX"
) -> dict[str, Any]:
    """Issue with an Idempotency-Key, retrying through failures until it answers 201."""
    body = {"service": service, "channel": "kiosk"}
    while time.monotonic() < deadline:
        try:
            response = http.post(url, json=body, headers={"Idempotency-Key": key}, timeout=5)
        except RETRYABLE:
            time.sleep(0.05)
            continue
        if response.status_code == 201:
            return dict(response.json())
        assert response.status_code in (502, 503, 504), response.text
        time.sleep(0.05)
    raise AssertionError(f"{key} never issued")


def test_db_outage_gives_503_then_recovers_without_restart(cluster: Cluster) -> None:
    assert cluster.pg_proxy is not None
    kiosk_token = token(cluster, "kiosk", "kiosk")
    sessions = [pinned(cluster, n.name, kiosk_token) for n in cluster.nodes]
    url = f"{cluster.url}{API}/halls/ZMD/tickets"
    statuses: Counter[int] = Counter()
    counting = threading.Lock()
    keys: list[str] = []
    stop = threading.Event()

    def load(http: requests.Session) -> None:
        while not stop.is_set():
            key = f"db-{uuid.uuid4().hex}"
            keys.append(key)
            try:
                response = http.post(
                    url,
                    json={"service": "RESIDENCE", "channel": "kiosk"},
                    headers={"Idempotency-Key": key},
                    timeout=10,
                )
            except RETRYABLE:
                response = None
            with counting:
                statuses[response.status_code if response is not None else 0] += 1
            if response is None:
                continue
            if response.status_code == 503:
                assert response.json()["error"] == "database_unavailable"
                assert response.headers["Retry-After"]
            time.sleep(0.02)

    threads = [threading.Thread(target=load, args=(http,)) for http in sessions]
    for thread in threads:
        thread.start()
    try:
        time.sleep(0.5)
        cluster.pg_proxy.cut()
        time.sleep(0.5)
        for http in sessions:
            down = http.post(url, json={"service": "RESIDENCE", "channel": "kiosk"}, timeout=10)
            assert down.status_code == 503, down.text
            assert down.json() == {
                "error": "database_unavailable",
                "message": "the database is unavailable; retry",
            }
            ready = http.get(f"{cluster.url}/readyz", timeout=10)
            assert ready.status_code == 503
            assert ready.json()["checks"]["database"].startswith("error")
            assert http.get(f"{cluster.url}/healthz", timeout=10).status_code == 200
        # A board joining now is told to try again (503), not left without an answer.
        board = Listener(cluster, cluster.nodes[0].name, {"hall": "ZMD"}).connect(snapshot=False)
        refused = board.wait_for(lambda n, d: n == "error", "an error for the join")
        assert refused["status"] == 503 and refused["error"] == "unavailable", refused
        time.sleep(0.5)
        cluster.pg_proxy.restore()
        recovered = time.monotonic()
        for http in sessions:  # every process recovers by itself, without a restart
            while http.get(f"{cluster.url}/readyz", timeout=10).status_code != 200:
                assert time.monotonic() - recovered < 15, "no recovery"
                time.sleep(0.1)
        board.client.emit("join", {"hall": "ZMD"})  # as the pages do after a 503
        assert board.wait_for(lambda n, d: n == "snapshot", "a snapshot")["hall"]["code"] == "ZMD"
        board.close()
        time.sleep(0.5)
    finally:
        stop.set()
        for thread in threads:
            thread.join(30)
    assert statuses[500] == 0 and statuses[201] > 0 and statuses[503] > 0, statuses
    assert set(statuses) <= {201, 503}, statuses
    # Whatever the outage interrupted: a retry with the same key gives exactly one ticket.
    deadline = time.monotonic() + 20
    for key in keys:
        issue_retrying(sessions[0], url, key, deadline, "RESIDENCE")
    rows = query(
        cluster,
        "SELECT idempotency_key, count(*) FROM tickets WHERE idempotency_key LIKE 'db-%' "
        "GROUP BY idempotency_key",
    )
    assert len(rows) == len(keys) and {row[1] for row in rows} == {1}
    consistent(cluster)


def test_redis_outage_keeps_the_api_working_and_live_events_resume(cluster: Cluster) -> None:
    assert cluster.redis_proxy is not None
    listener = Listener(cluster, "node1", {"hall": "ZMD"}).connect()
    local = Listener(cluster, "node2", {"hall": "ZMD"}).connect()
    kiosk = pinned(cluster, "node2", token(cluster, "kiosk", "kiosk"))
    url = f"{cluster.url}{API}/halls/ZMD/tickets"
    body = {"service": "HPF", "channel": "kiosk"}
    try:
        cluster.redis_proxy.cut()
        time.sleep(0.3)
        for _ in range(3):
            started = time.monotonic()
            response = kiosk.post(url, json=body, timeout=10)
            assert response.status_code == 201, response.text
            assert time.monotonic() - started < 3
        # Meanwhile node2's own screens still hear node2's events.
        number = response.json()["number"]
        local.wait_for(
            lambda n, d: n == "ticket.issued" and d.get("ticket_number") == number,
            "the event on its own process during the outage",
        )
        ready = kiosk.get(f"{cluster.url}/readyz", timeout=10)
        assert ready.status_code == 503
        assert ready.json()["checks"]["database"] == "ok"
        assert ready.json()["checks"]["message_queue"].startswith("error")
        cluster.redis_proxy.restore()
        # Live updates resume by themselves: a new ticket on node2 reaches a board on node1.
        deadline = time.monotonic() + 25
        numbers: set[str] = set()
        while time.monotonic() < deadline:
            numbers.add(kiosk.post(url, json=body, timeout=10).json()["number"])
            got = [
                d
                for n, d, _ in list(listener.events)
                if n == "ticket.issued" and d.get("ticket_number") in numbers
            ]
            if got:
                break
            time.sleep(0.5)
        else:
            pytest.fail("live events did not resume after Redis came back")
        assert kiosk.get(f"{cluster.url}/readyz", timeout=10).status_code == 200
    finally:
        cluster.redis_proxy.restore()
        listener.close()
        local.close()
    consistent(cluster)


@pytest.mark.browser
def test_pages_work_through_nginx_under_the_content_security_policy(
    cluster: Cluster, browser: Any
) -> None:
    """Real pages in chromium through nginx: the CSP blocks nothing they need, the login form
    carries its CSRF token, and Socket.IO connects through the proxy (sticky cookie)."""
    from playwright.sync_api import expect

    kiosk = pinned(cluster, "node1", token(cluster, "kiosk", "kiosk"))
    body = {"service": "POLICY", "channel": "kiosk"}
    ticket = kiosk.post(f"{cluster.url}{API}/halls/ZMD/tickets", json=body, timeout=10).json()
    context = browser.new_context(base_url=cluster.url, locale="zh-CN")
    problems: list[str] = []
    try:
        page = context.new_page()
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.on(
            "console",
            lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None,
        )
        page.goto("/login")
        page.fill('input[name="username"]', "kiosk")
        page.fill('input[name="password"]', "zmd-kiosk-2026")
        page.click('button[type="submit"]')
        expect(page).to_have_url(re.compile(r"/kiosk/ZMD$"), timeout=15_000)
        expect(page.locator("#live-state")).to_have_attribute("data-state", "online")
        page.goto(f"/t/{ticket['id']}")
        expect(page.locator("#t-number")).to_have_text(ticket["number"])
        expect(page.locator("#live-state")).to_have_attribute("data-state", "online")
        for path in ("/book/ZMD", "/display/board/ZMD", "/api/v1/docs"):
            page.goto(path)
            page.wait_for_load_state("networkidle")
        expect(page.locator(".swagger-ui").first).to_be_visible()
    finally:
        context.close()
    assert problems == []


def test_sigkill_of_one_process_under_load_loses_and_duplicates_nothing(cluster: Cluster) -> None:
    victim = cluster.nodes[1]
    names = [n.name for n in cluster.nodes]
    boards = [Listener(cluster, name, {"hall": "ZMD"}).connect() for name in names * 2]
    kiosk_token = token(cluster, "kiosk", "kiosk")
    url = f"{cluster.url}{API}/halls/ZMD/tickets"
    stop = threading.Event()  # kiosks stop taking tickets
    drain = threading.Event()  # every ticket is issued: clerks stop when nothing is left
    keys: dict[str, str] = {}
    deadline = time.monotonic() + 40

    def kiosk(node: str, n: int) -> None:
        http = pinned(cluster, node, kiosk_token)
        for i in itertools.count():
            if stop.is_set():
                return
            key = f"kill-{node}-{n}-{i}"
            keys[key] = issue_retrying(http, url, key, deadline)["id"]

    windows = {8: names[0], 9: names[1], 1: names[2]}
    clerks = {
        w: pinned(cluster, node, token(cluster, f"clerk{w:02d}", "clerk"))
        for w, node in windows.items()
    }
    for window, http in clerks.items():
        assert http.post(f"{cluster.url}{API}/windows/{window}/open", timeout=10).status_code == 200
    served: dict[int, list[str]] = {w: [] for w in windows}
    unanswered: set[str] = set()  # a finish sent when its process died: committed or not

    def clerk(window: int) -> None:
        http = clerks[window]
        while time.monotonic() < deadline:
            finishing = None
            try:
                detail = http.get(f"{cluster.url}{API}/windows/{window}", timeout=5)
                if detail.status_code != 200:
                    time.sleep(0.05)
                    continue
                current = detail.json()["current"]
                if current is None:
                    called = http.post(f"{cluster.url}{API}/windows/{window}/call-next", timeout=5)
                    if called.status_code == 204:
                        if drain.is_set():
                            return
                        time.sleep(0.05)
                    continue
                ticket = current["id"]
                if current["status"] == "called":
                    http.post(f"{cluster.url}{API}/tickets/{ticket}/start", timeout=5)
                elif current["status"] == "serving":
                    finishing = ticket
                    finished = http.post(f"{cluster.url}{API}/tickets/{ticket}/finish", timeout=5)
                    if finished.status_code == 200:
                        served[window].append(ticket)
            except RETRYABLE:
                if finishing is not None:
                    unanswered.add(finishing)
                time.sleep(0.05)

    kiosks = [threading.Thread(target=kiosk, args=(name, k)) for name in names for k in range(2)]
    threads = kiosks + [threading.Thread(target=clerk, args=(w,)) for w in windows]
    for thread in threads:
        thread.start()
    try:
        time.sleep(2.0)
        cluster.kill(victim)  # SIGKILL of master and worker, mid-load
        time.sleep(2.5)
    finally:
        stop.set()
        for thread in kiosks:
            thread.join(45)
        drain.set()
        for thread in threads:
            thread.join(45)
    assert not any(thread.is_alive() for thread in threads)
    try:
        # Nothing lost, nothing twice: one ticket per key, each called once and finished.
        rows = query(
            cluster,
            "SELECT idempotency_key, id, status FROM tickets WHERE idempotency_key LIKE 'kill-%'",
        )
        assert sorted(row[0] for row in rows) == sorted(keys)
        assert {row[1] for row in rows} == set(keys.values())
        assert {row[2] for row in rows} == {"done"}
        everything = [t for tickets in served.values() for t in tickets]
        assert len(everything) == len(set(everything))  # no finish answered twice
        # every ticket's finish answered, but for one whose process died after its commit
        assert set(everything) | unanswered == set(keys.values())
        calls = query(
            cluster,
            "SELECT count(*) FROM events WHERE type = 'ticket.called' AND ticket_id = ANY(:ids)",
            ids=list(keys.values()),
        )
        assert calls[0][0] == len(keys)
        consistent(cluster)
        # The victim's clients reconnected through nginx to a live process with a new snapshot.
        orphans = [board for board in boards if board.cookie.startswith(f"pin-{victim.name}-")]
        assert len(orphans) == 2
        for board in orphans:
            assert board.connects >= 2
            assert board.node() != victim.name
        snapshots = [sum(1 for n, _, _ in board.events if n == "snapshot") for board in orphans]
        assert min(snapshots) >= 2
        # ... and they hear what happens next, like everybody else.
        again = pinned(cluster, names[0], kiosk_token)
        fresh = again.post(url, json={"service": "TAX", "channel": "kiosk"}, timeout=10)
        assert fresh.status_code == 201
        for board in boards:
            board.wait_for(
                lambda n, d: (
                    n == "ticket.issued" and d.get("ticket_number") == fresh.json()["number"]
                ),
                "the first event after the crash",
            )
    finally:
        for board in boards:
            board.close()


def requests_by_route(cluster: Cluster) -> Counter[tuple[str, str, str]]:
    text = requests.get(f"{cluster.url}/metrics", timeout=10).text
    counts: Counter[tuple[str, str, str]] = Counter()
    for family in text_string_to_metric_families(text):
        if family.name == "hall_http_requests":
            for sample in family.samples:
                if sample.name.endswith("_total"):
                    labels = sample.labels
                    counts[(labels["method"], labels["route"], labels["status"])] += sample.value
    return counts


STATEFUL_SCENARIOS = 12
FUZZ = settings(
    max_examples=25,
    stateful_step_count=25,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)


SERVICES = itertools.cycle(["SOCIAL", "TAX", "ENT", "HPF", "MEDICAL", "REALTY"])


def in_the_hall(case: Any) -> Any:
    """Point a generated request at the real hall, its windows and services (bodies and the
    rest stay generated), so that it reaches the engine instead of stopping at a 404."""
    path = case.path_parameters or {}
    if "hall" in path:
        path["hall"] = "ZMD"
    if isinstance(path.get("window_id"), int):
        path["window_id"] = 1 + abs(path["window_id"]) % 22
    if isinstance(case.body, dict) and "service" in case.body:
        case.body["service"] = next(SERVICES)
    return case


def fuzz_operation(operation: Any, headers: dict[str, str]) -> None:
    cases = st.one_of(
        operation.as_strategy(GenerationMode.NEGATIVE),
        operation.as_strategy(GenerationMode.POSITIVE).map(in_the_hall),
    )

    if "/planner/" in operation.path:
        fuzz_planning(cases, headers)
        return

    @given(case=cases)
    @settings(FUZZ, max_examples=8)
    def check(case: Any) -> None:
        response = case.call(headers=headers, timeout=10)
        case.validate_response(response, checks=[not_a_server_error])

    check()


def fuzz_planning(cases: Any, headers: dict[str, str]) -> None:
    """The planner's forecast and roster (issue 21) are seconds of work by nature: fewer
    cases, a longer wait (bounded in the cluster by HALL_PLANNER_REPAIR/_SOLVE_SECONDS)."""

    @given(case=cases)
    @settings(FUZZ, max_examples=3)
    def check_planning(case: Any) -> None:
        response = case.call(headers=headers, timeout=90)
        case.validate_response(response, checks=[not_a_server_error])

    check_planning()


def test_fuzz_over_the_whole_api_through_nginx_gives_no_server_error(cluster: Cluster) -> None:
    """tests/web/test_fuzz.py runs in-process on SQLite; this one runs against the deployment
    (nginx, gunicorn, PostgreSQL, Redis): operation by operation, then chained by the links
    schemathesis infers (a ticket's id from its POST into start/finish/cancel/evaluation...)."""
    schema = schemathesis.openapi.from_url(f"{cluster.url}{API}/openapi.json")
    schema.config.generation.update(with_security_parameters=False)
    headers = {"Authorization": f"Bearer {token(cluster, 'admin', 'admin')}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 30
    # Administration changes (random opening hours, disabled services...) run last: before
    # the hall's day they would close the hall and nothing could be issued.
    config_changes = [
        o for o in operations if o.path.startswith(f"{API}/admin") and o.method.upper() != "GET"
    ]
    for operation in operations:
        if operation not in config_changes:
            fuzz_operation(operation, headers)

    # Stateful: scenarios of real sequences (issue, open, call, start, finish, transfer,
    # cancel, rate...) with bodies generated from the schema, positive and negative.
    # The admin acts at windows that clerks of earlier tests opened: explicitly (row 1 of the
    # security issue: no implicit override).
    workflow = hall_workflow(schema, cluster.url, {**headers, "X-Hall-Override": "true"})
    run_state_machine_as_test(
        workflow, settings=settings(FUZZ, max_examples=STATEFUL_SCENARIOS, phases=[Phase.generate])
    )
    # The run reached the engine: real tickets were issued and read back (any process's
    # /metrics sums all of them: PROMETHEUS_MULTIPROC_DIR).
    served = requests_by_route(cluster)

    assert served[("POST", "/api/v1/halls/<string:hall>/tickets", "201")] > 20
    assert served[("POST", "/api/v1/windows/<int:window_id>/call-next", "200")] > 5
    assert served[("POST", "/api/v1/tickets/<string:ticket_id>/finish", "200")] > 0

    for operation in config_changes:
        fuzz_operation(operation, headers)
    served = requests_by_route(cluster)
    assert served[("PUT", "/api/v1/admin/halls/<string:hall>", "200")] > 0  # reached the desk
    assert not [key for key in served if key[2].startswith("5") and key[2] != "503"]
    for node in cluster.nodes:
        assert "Traceback" not in cluster.output(node), cluster.output(node)
