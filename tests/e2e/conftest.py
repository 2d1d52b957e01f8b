"""Browser tests: a real desk server (the default desk: SQLite, the simulated market) started once per test
session in a subprocess on a free loopback port, driven by Debian's Chromium through Playwright.

Every test here is marked `browser` and grouped on one xdist worker (`--dist loadgroup`), so the suite
starts one server and one browser however many workers run.

The desk starts with no users; the session registers its first admin over the API (`desk_admin`), and each
`page` is that admin's browser, signed in by the desk's own cookies. `api` is an HTTP client signed in as the
same admin, so a test compares what the page shows with what the API says. `anonymous_page` has no cookie;
`open_browser()` opens more cookie-less browsers (each its own context) for tests that sign in through the
pages, and `signed_in_browser(email, password)` a browser already signed in as another user. `fresh_desk_url`
is a second, smaller desk that nobody has registered on, for the first-run tests.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "artifacts" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # without these Chromium reaches for the internet (updates, sync, field trials), which is closed here
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SERVER_START_TIMEOUT_S = 90.0
SEED = 7
# a small, fast simulated market that ticks twice a second
SERVER_SETTINGS = {
    "MARKETDESK_TICK_INTERVAL_S": "0.5",
    "MARKETDESK_SIM_SYMBOLS": "120",
    "MARKETDESK_SIM_HISTORY_YEARS": "3",
    "MARKETDESK_LOG_LEVEL": "WARNING",
    "MARKETDESK_ACCESS_TOKEN_MINUTES": "240",  # the browser's cookie outlives the whole run
    "MARKETDESK_RATE_LIMIT_AUTH": "1000/minute",  # every browser here signs in from the same address
    "MARKETDESK_LOGIN_MAX_FAILURES": "2",  # a lock shows after two wrong passwords, without waiting out delays
}
# the first-run desk: nobody has registered, and a smaller market starts sooner
FRESH_DESK_SETTINGS = {"MARKETDESK_SIM_SYMBOLS": "40", "MARKETDESK_SIM_HISTORY_YEARS": "2"}
ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "violet trombone harbour 42"  # noqa: S105 (the e2e desk's own throwaway admin)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _server_env(data_dir: Path, port: int, extra: dict[str, str] | None = None) -> dict[str, str]:
    # The server must not inherit pytest's variables (NiceGUI changes behaviour when it sees
    # PYTEST_CURRENT_TEST) nor any MARKETDESK_* setting of the developer's shell.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "MARKETDESK_"))}
    env.update(SERVER_SETTINGS)
    env.update(extra or {})
    env["MARKETDESK_DATA_DIR"] = str(data_dir)
    env["MARKETDESK_PORT"] = str(port)
    env["MARKETDESK_SEED"] = str(SEED)
    return env


def _tail(path: Path, lines: int = 40) -> str:
    if not path.exists():
        return "(no server log)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def _wait_ready(url: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    last = "no answer yet"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the desk server exited with code {process.returncode}:\n{_tail(log_path)}")
        try:
            response = httpx.get(f"{url}/readyz", timeout=2.0)
            if response.status_code == 200:
                return
            last = response.text
        except httpx.HTTPError as exc:
            last = repr(exc)
        time.sleep(0.25)
    pytest.fail(f"the desk server was not ready within {SERVER_START_TIMEOUT_S:.0f} s ({last}):\n{_tail(log_path)}")


@pytest.fixture(scope="session")
def chromium() -> Path:
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed: run `apt-get install chromium` (make test does this)")
    return CHROMIUM


@contextmanager
def _running_desk(data_dir: Path, extra: dict[str, str] | None = None) -> Iterator[str]:
    """`marketdesk up` on the simulated market in a subprocess, on a free loopback port; yields its base URL."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = data_dir / "server.log"
    command = [
        sys.executable,
        "-m",
        "marketdesk.cli",
        "up",
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
        "--seed",
        str(SEED),
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 (our own CLI, with arguments we built)
            command, cwd=data_dir, env=_server_env(data_dir, port, extra), stdout=log, stderr=subprocess.STDOUT
        )
        try:
            _wait_ready(url, process, log_path)
            yield url
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


@pytest.fixture(scope="session")
def desk_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of a running desk: `marketdesk up` on the simulated market, in a subprocess."""
    with _running_desk(tmp_path_factory.mktemp("desk-data")) as url:
        yield url


@pytest.fixture(scope="module")
def fresh_desk_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A second desk, started for the module that asks for it, on which nobody has registered yet."""
    with _running_desk(tmp_path_factory.mktemp("fresh-desk-data"), FRESH_DESK_SETTINGS) as url:
        yield url


# Playwright's sync API runs an event loop on this thread while it is open, which would break every asyncio
# test that runs after it on the same xdist worker: so it lives per module, never per session.
@pytest.fixture(scope="module")
def playwright_instance() -> Iterator[Playwright]:
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="module")
def browser(chromium: Path, playwright_instance: Playwright) -> Iterator[Browser]:
    launched = playwright_instance.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
    yield launched
    launched.close()


REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[pytest.TestReport]:
    # keep each phase's report on the test, so the page fixture can tell whether the test failed
    report: pytest.TestReport = yield
    item.stash.setdefault(REPORTS, {})[report.when] = report
    return report


@pytest.fixture(scope="session")
def desk_admin(desk_url: str) -> dict[str, str]:
    """Register the fresh desk's first account (its admin); the answer's cookies are what a browser would keep."""
    response = httpx.post(
        f"{desk_url}/api/v1/auth/register", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}, timeout=10.0
    )
    assert response.status_code == 201, response.text
    return {**response.json(), **{name: value for name, value in response.cookies.items()}}


@pytest.fixture(scope="session")
def api(desk_url: str, desk_admin: dict[str, str]) -> Iterator[httpx.Client]:
    """The desk's API, signed in as the admin the browser pages are signed in as."""
    headers = {"Authorization": f"Bearer {desk_admin['access_token']}"}
    with httpx.Client(base_url=desk_url, headers=headers, timeout=10.0) as client:
        yield client


def _cookies(desk_url: str, desk_admin: dict[str, str]) -> list[Any]:
    return [
        {"name": "md_access", "value": desk_admin["md_access"], "url": desk_url, "httpOnly": True, "sameSite": "Lax"},
        {"name": "md_csrf", "value": desk_admin["md_csrf"], "url": desk_url, "sameSite": "Lax"},
    ]


@pytest.fixture
def page(browser: Browser, desk_url: str, desk_admin: dict[str, str], request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh browser context (its own cookies, so its own preferences) on the desk, signed in as the admin. A
    failing test leaves a screenshot of the page in artifacts/screenshots/failed-<test>.png."""
    opened = _open(browser, desk_url, _cookies(desk_url, desk_admin))
    yield opened.page
    opened.close(request, f"failed-{request.node.name}.png")


@pytest.fixture
def anonymous_page(
    browser: Browser, desk_url: str, desk_admin: dict[str, str], request: pytest.FixtureRequest
) -> Iterator[Page]:
    """A browser that has not signed in, on the desk (which has its admin by then)."""
    opened = _open(browser, desk_url, [])
    yield opened.page
    opened.close(request, f"failed-{request.node.name}.png")


@pytest.fixture
def open_browser(browser: Browser, desk_url: str, request: pytest.FixtureRequest) -> Iterator[Callable[..., Page]]:
    """Open a browser that has not signed in, each in its own context: `open_browser()` on the desk, or
    `open_browser(url)` on another one. A failing test leaves a screenshot of each."""
    opened: list[_Opened] = []

    def open_one(base_url: str = desk_url) -> Page:
        opened.append(_open(browser, base_url, []))
        return opened[-1].page

    yield open_one
    errors: list[str] = []
    for index, one in enumerate(opened):
        errors += one.close(request, f"failed-{request.node.name}-{index}.png", check=False)
    assert not errors, f"JavaScript errors on the pages: {errors}"


@pytest.fixture
def signed_in_browser(
    browser: Browser, desk_url: str, request: pytest.FixtureRequest
) -> Iterator[Callable[[str, str], Page]]:
    """Open a browser signed in as a user: `signed_in_browser(email, password)` signs in over the API and gives
    the browser (its own context) the cookies the desk answered with. A failing test leaves a screenshot of each."""
    opened: list[_Opened] = []

    def open_as(email: str, password: str) -> Page:
        response = httpx.post(
            f"{desk_url}/api/v1/auth/login", json={"email": email, "password": password}, timeout=10.0
        )
        assert response.status_code == 200, response.text
        opened.append(_open(browser, desk_url, _cookies(desk_url, dict(response.cookies.items()))))
        return opened[-1].page

    yield open_as
    errors: list[str] = []
    for index, one in enumerate(opened):
        errors += one.close(request, f"failed-{request.node.name}-as-{index}.png", check=False)
    assert not errors, f"JavaScript errors on the pages: {errors}"


class _Opened:
    """A browser context with one page, and the JavaScript errors the page has raised."""

    def __init__(self, context: BrowserContext, page: Page) -> None:
        self.context = context
        self.page = page
        self.errors: list[str] = []
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    def close(self, request: pytest.FixtureRequest, screenshot: str, *, check: bool = True) -> list[str]:
        outcome = request.node.stash.get(REPORTS, {}).get("call")
        if outcome is not None and outcome.failed and not self.page.is_closed():
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            self.page.screenshot(path=str(SCREENSHOTS / screenshot), full_page=True)
        self.context.close()
        if check:
            assert not self.errors, f"JavaScript errors on the page: {self.errors}"
        return self.errors


def _open(browser: Browser, base_url: str, cookies: list[Any]) -> _Opened:
    context = browser.new_context(base_url=base_url, viewport={"width": 1360, "height": 900})
    if cookies:
        context.add_cookies(cookies)
    context.set_default_timeout(15_000)
    return _Opened(context, context.new_page())


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
