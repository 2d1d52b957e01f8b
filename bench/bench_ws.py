"""Benchmark the WebSocket fan-out: 1,000 clients on one quote channel of a real desk server.

A desk runs in a subprocess as `marketdesk up` runs it (SQLite, in-process bus, the simulated market of 500
symbols ticking every second; one year of history instead of ten, to start in seconds: the ticks are the
same). The first account is registered; its access token opens 1,000 WebSocket connections from client
processes (one by default; the `websockets` sans-I/O protocol on asyncio, offering permessage-deflate as
browsers do), each subscribed to `quotes:SIMX`. Every client answers the desk's heartbeats, as `DeskClient` does.

- ws_1k_clients_p50_ms / ws_1k_clients_p99_ms: tick-to-client latency, the client's receive time minus the
  quote's own `ts` (the instant the simulated ticker priced the batch, on the desk's wall clock). It spans
  pricing all 500 symbols, publishing them on the bus, the fan-out and the socket, up to the moment the bytes
  reach the client's process; server and clients share the machine clock. Goal: p99 < 100 ms.
- ws_1k_clients_relay_p99_ms: the receive time minus the envelope's `ts`, stamped as the server's relay took
  the quote off the bus: the fan-out, socket and client part alone.
- ws_server_cpu_per_delivery_us: the server's CPU time in the window, less what it spends ticking with no
  clients, per quote delivered: the cost of one client receiving one message, far less swayed by other
  processes on the machine than the latencies are.
- ws_memory_per_connection_kb: the server's VmRSS after the clients connected and subscribed minus before,
  divided by the clients.
- ws_1k_clients_connected, ws_1k_clients_messages: the clients that stayed connected throughout the window
  and the quotes they received in it (the figures above are over these).

Run: .venv/bin/python bench/bench_ws.py [--clients 1000] [--processes 1] [--seconds 15]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from multiprocessing.connection import Connection
from pathlib import Path

import httpx
from websockets.client import ClientProtocol
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.uri import parse_uri

from benchkit import emit

CHANNEL = "quotes:SIMX"
EMAIL = "bench@example.com"
PASSWORD = "violet trombone harbour 42"  # noqa: S105 (the benchmark's throwaway account)
START_TIMEOUT_S = 90.0
CONNECTS_AT_ONCE = 50
PONG = json.dumps({"op": "pong"})


def raise_open_files(wanted: int) -> None:
    """Raise the soft limit of open files (inherited by the server subprocess) to `wanted` if allowed."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def rss_kb(pid: int) -> int:
    """Resident memory of a process from /proc/<pid>/status (VmRSS, kB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def cpu_s(pid: int) -> float:
    """User + system CPU time of a process so far, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_server(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MARKETDESK_")}
    env["MARKETDESK_LOG_LEVEL"] = "WARNING"
    env["MARKETDESK_SIM_HISTORY_YEARS"] = "1"
    command = [sys.executable, "-m", "marketdesk.cli", "up", "--port", str(port), "--data-dir", str(data_dir)]
    log = (data_dir / "server.log").open("wb")
    return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)  # noqa: S603 - our own CLI


def wait_ready(process: subprocess.Popen[bytes], url: str, log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the desk exited with {process.returncode}:\n{log_path.read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise SystemExit(f"the desk was not ready within {START_TIMEOUT_S:.0f} s:\n{log_path.read_text()[-2000:]}")


def stop_server(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


# ---- the client processes ---------------------------------------------------------------------------------
# Each client is the `websockets` sans-I/O protocol on a plain asyncio connection, offering permessage-deflate
# as browsers do. It stamps the arrival time as the bytes reach its process and keeps the frame; JSON is read
# after the window, so one client's parsing never delays the next one's stamp.


class Client(asyncio.Protocol):
    """One WebSocket client subscribed to `CHANNEL`, recording (arrival time, frame) in the window."""

    def __init__(self, url: str, token: str, ready: asyncio.Future[None]) -> None:
        self.protocol = ClientProtocol(parse_uri(url), extensions=[ClientPerMessageDeflateFactory()])
        self.request = self.protocol.connect()
        self.request.headers["Authorization"] = f"Bearer {token}"
        self.ready = ready
        self.window = (float("inf"), float("inf"))
        self.frames: list[tuple[float, bytes]] = []
        self.closed = False
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.protocol.send_request(self.request)
        self.flush()

    def data_received(self, data: bytes) -> None:
        arrived = time.time()
        self.protocol.receive_data(data)
        for event in self.protocol.events_received():
            if isinstance(event, Response):
                if event.status_code != 101:
                    self.fail(f"the desk answered the handshake with {event.status_code}")
                    return
                self.protocol.send_text(json.dumps({"op": "subscribe", "channels": [CHANNEL]}).encode())
            elif isinstance(event, Frame) and event.opcode is Opcode.TEXT:
                text = bytes(event.data)
                if self.window[0] <= arrived <= self.window[1]:
                    self.frames.append((arrived, text))
                if b'"heartbeat"' in text:
                    self.protocol.send_text(PONG.encode())
                elif not self.ready.done() and b'"subscribed"' in text:
                    self.ready.set_result(None)
        self.flush()

    def flush(self) -> None:
        assert self.transport is not None
        for chunk in self.protocol.data_to_send():
            if chunk:
                self.transport.write(chunk)

    def fail(self, why: str) -> None:
        if not self.ready.done():
            self.ready.set_exception(RuntimeError(why))
        self.connection_lost(None)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if not self.ready.done():
            self.ready.set_exception(RuntimeError(f"the connection dropped: {exc}"))

    def close(self) -> None:
        if self.transport is not None and not self.closed:
            self.protocol.send_close()
            self.flush()
            self.transport.close()


async def run_clients(url: str, token: str, count: int, pipe: Connection) -> None:
    loop = asyncio.get_running_loop()
    uri = parse_uri(url)
    gate = asyncio.Semaphore(CONNECTS_AT_ONCE)

    async def opened() -> Client:
        async with gate:
            ready: asyncio.Future[None] = loop.create_future()
            _, client = await loop.create_connection(lambda: Client(url, token, ready), uri.host, uri.port)
            await asyncio.wait_for(ready, 60)
            return client

    clients = await asyncio.gather(*(opened() for _ in range(count)))
    pipe.send(("ready", count))
    window: tuple[float, float] = await loop.run_in_executor(None, pipe.recv)
    for client in clients:
        client.window = window
    await asyncio.sleep(max(0.0, window[1] - time.time()) + 0.5)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    closed = sum(client.closed for client in clients)
    for client in clients:
        client.close()
    tick_ms: list[float] = []
    relay_ms: list[float] = []
    for client in clients:
        for arrived, text in client.frames:
            message = json.loads(text)
            if message["type"] == "message":
                tick_ms.append((arrived - epoch_s(message["data"]["ts"])) * 1000)
                relay_ms.append((arrived - epoch_s(message["ts"])) * 1000)
    pipe.send(("done", tick_ms, relay_ms, closed, usage.ru_utime + usage.ru_stime))


def epoch_s(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


def client_process(url: str, token: str, count: int, pipe: Connection) -> None:
    raise_open_files(count + 256)
    asyncio.run(run_clients(url, token, count, pipe))


# ---- the conductor ----------------------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    return statistics.quantiles(values, n=1000)[round(share * 1000) - 1]


def measure(url: str, server_pid: int, token: str, clients: int, processes: int, seconds: float) -> None:
    ws_url = url.replace("http://", "ws://") + "/api/v1/ws"
    time.sleep(2)  # a few ticks, so the baselines include a running quote stream
    idle_cpu = cpu_s(server_pid)
    time.sleep(3)
    idle_cpu_per_s = (cpu_s(server_pid) - idle_cpu) / 3
    before_kb = rss_kb(server_pid)
    spawn = multiprocessing.get_context("spawn")
    shares = [clients // processes + (1 if i < clients % processes else 0) for i in range(processes)]
    pipes, workers = [], []
    for share in shares:
        ours, theirs = spawn.Pipe()
        worker = spawn.Process(target=client_process, args=(ws_url, token, share, theirs), daemon=True)
        worker.start()
        pipes.append(ours)
        workers.append(worker)
    try:
        started = time.monotonic()
        for pipe in pipes:
            if not pipe.poll(120):
                raise SystemExit("a client process did not connect its clients within 120 s")
            assert pipe.recv()[0] == "ready"
        connect_s = time.monotonic() - started
        time.sleep(2)  # let the server settle with every client subscribed
        after_kb = rss_kb(server_pid)
        window = (time.time() + 1.0, time.time() + 1.0 + seconds)
        for pipe in pipes:
            pipe.send(window)
        time.sleep(max(0.0, window[0] - time.time()))
        server_cpu = cpu_s(server_pid)
        time.sleep(max(0.0, window[1] - time.time()))
        server_cpu = cpu_s(server_pid) - server_cpu
        tick_ms: list[float] = []
        relay_ms: list[float] = []
        closed, client_cpu = 0, 0.0
        for pipe in pipes:
            if not pipe.poll(seconds + 60):
                raise SystemExit("a client process did not report")
            _, ticks, relays, lost, used = pipe.recv()
            tick_ms += ticks
            relay_ms += relays
            closed += lost
            client_cpu += used
    finally:
        for worker in workers:
            worker.join(timeout=30)
            if worker.is_alive():
                worker.kill()
    if not tick_ms:
        raise SystemExit("no quotes reached the clients in the window")
    emit("ws_1k_clients_p50_ms", statistics.median(tick_ms), "ms")
    emit("ws_1k_clients_p99_ms", percentile(tick_ms, 0.99), "ms")
    emit("ws_1k_clients_relay_p99_ms", percentile(relay_ms, 0.99), "ms")
    emit("ws_server_cpu_per_delivery_us", (server_cpu - idle_cpu_per_s * seconds) / len(tick_ms) * 1e6, "us")
    emit("ws_memory_per_connection_kb", (after_kb - before_kb) / clients, "kB")
    emit("ws_1k_clients_connected", clients - closed, "clients")
    emit("ws_1k_clients_messages", len(tick_ms), "messages")
    print(
        f"bench_ws: {clients} clients in {processes} processes connected in {connect_s:.1f} s; "
        f"{len(tick_ms)} quotes in {seconds:.0f} s; max {max(tick_ms):.1f} ms; server RSS "
        f"{before_kb / 1024:.0f} → {after_kb / 1024:.0f} MiB; server CPU {server_cpu / seconds:.0%} of a core in the "
        f"window; client processes {client_cpu:.1f} CPU-s in all; load average {os.getloadavg()[0]:.1f} on "
        f"{os.cpu_count()} CPUs",
        file=sys.stderr,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=15.0)
    options = parser.parse_args()
    raise_open_files(options.clients + 1024)
    folder = Path(tempfile.mkdtemp(prefix="bench-ws-"))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    server = start_server(folder, port)
    try:
        wait_ready(server, url, folder / "server.log")
        print(f"bench_ws: the desk was ready in {time.monotonic() - started:.0f} s", file=sys.stderr)
        registered = httpx.post(f"{url}/api/v1/auth/register", json={"email": EMAIL, "password": PASSWORD}, timeout=30)
        if registered.status_code != 201:
            raise SystemExit(f"register answered {registered.status_code}: {registered.text[:300]}")
        token = registered.json()["access_token"]
        measure(url, server.pid, token, options.clients, options.processes, options.seconds)
    finally:
        stop_server(server)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
