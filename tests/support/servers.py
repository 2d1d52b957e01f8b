"""Real desk servers in subprocesses (`python -m marketdesk.cli up`) on free loopback ports, for tests that
need separate processes: the browser suite and the multi-worker fan-out test."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from support.auth import PASSWORD

START_TIMEOUT_S = 240.0  # two desks storing their markets while the other xdist worker runs flat out


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def server_env(settings: Mapping[str, str]) -> dict[str, str]:
    # A server must not inherit pytest's variables (NiceGUI changes behaviour when it sees
    # PYTEST_CURRENT_TEST) nor any MARKETDESK_* setting of the developer's shell.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "MARKETDESK_"))}
    env.update(settings)
    return env


def tail(path: Path, lines: int = 40) -> str:
    if not path.exists():
        return "(no server log)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


@dataclass(frozen=True)
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path


def wait_ready(server: Server, timeout_s: float = START_TIMEOUT_S) -> None:
    """Wait for /readyz to answer 200; raise with the server's log when it exits or never gets ready."""
    deadline = time.monotonic() + timeout_s
    last = "no answer yet"
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"the desk server exited with code {server.process.returncode}:\n{tail(server.log_path)}"
            )
        try:
            response = httpx.get(f"{server.url}/readyz", timeout=2.0)
            if response.status_code == 200:
                return
            last = response.text
        except httpx.HTTPError as exc:
            last = repr(exc)
        time.sleep(0.25)
    # where it is stuck: `marketdesk up` prints every thread's stack to its log on SIGUSR1
    server.process.send_signal(signal.SIGUSR1)
    time.sleep(1.0)
    raise RuntimeError(
        f"the desk server was not ready within {timeout_s:.0f} s ({last}); its log, ending with its threads' "
        f"stacks:\n{tail(server.log_path, lines=200)}"
    )


def stop(server: Server) -> None:
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGINT)
        try:
            server.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait(timeout=5)


@contextmanager
def running_desk(
    data_dir: Path, settings: Mapping[str, str], log_name: str = "server.log", port: int | None = None
) -> Iterator[Server]:
    """`marketdesk up` with `settings` (MARKETDESK_* variables) on `port` (a free one by default), ready on
    entry, stopped on exit."""
    port = port or free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir / log_name
    env = server_env({**settings, "MARKETDESK_DATA_DIR": str(data_dir), "MARKETDESK_PORT": str(port)})
    command = [sys.executable, "-m", "marketdesk.cli", "up", "--port", str(port), "--data-dir", str(data_dir)]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)  # noqa: S603 - our own CLI
    server = Server(f"http://127.0.0.1:{port}", process, log_path)
    try:
        wait_ready(server)
        yield server
    finally:
        stop(server)


def first_admin_token(url: str, email: str = "admin@example.com", password: str = PASSWORD) -> str:
    """Register the first account of a running desk (it becomes the admin) and return its access token.

    On a desk that already has users, sign that account in instead.
    """
    response = httpx.post(f"{url}/api/v1/auth/register", json={"email": email, "password": password}, timeout=30)
    if response.status_code != 201:
        response = httpx.post(f"{url}/api/v1/auth/login", json={"email": email, "password": password}, timeout=30)
    response.raise_for_status()
    token: str = response.json()["access_token"]
    return token
