"""Browser tests: a real ``hall serve`` in a subprocess, driven by Debian's chromium.

Playwright never downloads a browser here: the session-wide `browser` fixture of
tests/conftest.py launches Debian's chromium; without it these tests are skipped (or fail with
HALL_REQUIRE_SERVICES=1).

``server`` is one demo hall for the whole session, signed into through the pages;
``hall_server`` (the board tests) is a demo hall per module, driven through the JSON API by
``tests.helpers.display.HallServer``, which can also restart it.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.fakes.card_reader import FakeCardReader
from tests.fakes.eid_platform import APP_ID as EID_APP_ID
from tests.fakes.eid_platform import KEY as EID_KEY
from tests.fakes.eid_platform import FakeEidPlatform
from tests.helpers.display import HallServer

# A loaded 2-core CI machine can take a few seconds for a page to react: wait up to 10 s.
expect.set_options(timeout=10_000)

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "hall_app" / "translations"
SCREENSHOTS = ROOT / "docs" / "screenshots"


def compile_translations() -> None:
    """Compile the .po catalogs that are newer than their .mo (as ``pybabel compile`` does)."""
    for po_path in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file)
        with mo_path.open("wb") as mo_file:
            write_mo(mo_file, catalog)


def _hall_command() -> str:
    local = Path(sys.executable).parent / "hall"
    found = str(local) if local.exists() else shutil.which("hall")
    if found is None:
        pytest.fail("the `hall` command is not installed (pip install -e .)")
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"hall serve exited ({process.returncode}):\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url + "login", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.1)
    pytest.fail(f"hall serve did not answer at {url}:\n{log.read_text()[-3000:]}")


# The kiosk PC's card reader bridge the pages are configured with (a fake, ``card_reader``).
CARD_READER_PORT = _free_port()


@pytest.fixture(scope="session")
def card_reader() -> Iterator[FakeCardReader]:
    """The fake card reader at the address the session's server gives its kiosk pages."""
    reader = FakeCardReader(CARD_READER_PORT)
    yield reader
    reader.close()


# The identity platform of electronic IDs / app QR codes the server asks (a fake on loopback).
EID_PORT = _free_port()


@pytest.fixture(scope="session")
def eid_platform() -> Iterator[FakeEidPlatform]:
    """The fake identity platform at the address the session's server is configured with."""
    platform = FakeEidPlatform(EID_PORT)
    yield platform
    platform.close()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of a freshly initialised demo hall served by ``hall serve``."""
    compile_translations()
    folder = tmp_path_factory.mktemp("hall-server")
    env = {
        **os.environ,
        "HALL_DATABASE_URL": f"sqlite:///{folder / 'hall.db'}",
        "HALL_INSTANCE_PATH": str(folder),
        "HALL_SECRET_KEY": secrets.token_hex(32),
        # One address takes app tickets for many "citizens" here.
        "HALL_RATE_LIMIT_TICKETS": "10000 per minute",
        "HALL_RATE_LIMIT_LOGIN": "1000 per minute",  # every browser test signs in
        "HALL_CARD_READER_URL": f"http://127.0.0.1:{CARD_READER_PORT}",
        "HALL_EID_URL": f"http://127.0.0.1:{EID_PORT}/resolve",
        "HALL_EID_APP_ID": EID_APP_ID,
        "HALL_EID_KEY": EID_KEY,
    }
    env.pop("HALL_MESSAGE_QUEUE", None)
    hall = _hall_command()
    subprocess.run(
        [hall, "init", "--demo", "--always-open"],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=120,
    )
    port = _free_port()
    log_path = folder / "serve.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [hall, "serve", "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            url = f"http://127.0.0.1:{port}/"
            _wait_until_up(url, process, log_path)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture(scope="module")
def hall_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HallServer]:
    server = HallServer(tmp_path_factory.mktemp("hall-server"))
    server.init()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def new_context(browser: Browser, server: str) -> Iterator[Callable[..., BrowserContext]]:
    """Open isolated browser contexts (own cookies) on the server; all closed after the test.

    Contexts send ``Accept-Language: zh-CN`` unless told otherwise, as the hall's devices do.
    """
    opened: list[BrowserContext] = []

    def make(**options: Any) -> BrowserContext:
        options.setdefault("locale", "zh-CN")  # a hall's devices; Accept-Language picks zh
        context = browser.new_context(base_url=server, **options)
        context.set_default_timeout(10_000)
        opened.append(context)
        return context

    yield make
    for context in opened:
        context.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture
def sign_in() -> Callable[[Page, str, str], None]:
    """Sign a page in through the staff login form."""

    def submit(page: Page, username: str, password: str) -> None:
        page.goto("/login")
        page.fill('input[name="username"]', username)
        page.fill('input[name="password"]', password)
        page.click('button[type="submit"]')

    return submit


WaitUntil = Callable[[Page, str], None]


@pytest.fixture
def wait_until() -> WaitUntil:
    """Poll a JavaScript condition until it is true (10 s at most).

    Playwright's ``wait_for_function`` evaluates its predicate from a string inside the page,
    which our Content-Security-Policy rightly forbids (no ``unsafe-eval``); ``page.evaluate``
    is not subject to it, so the condition is polled from here.
    """

    def wait(page: Page, condition: str) -> None:
        for _ in range(100):
            if page.evaluate(f"() => Boolean({condition})"):
                return
            page.wait_for_timeout(100)
        raise AssertionError(f"still false after 10 s: {condition}")

    return wait
