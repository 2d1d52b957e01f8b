"""Helpers of the tests against a real uvicorn server in the test's own event loop (see conftest.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from websockets.asyncio.client import ClientConnection, connect

from marketdesk.bus import InMemoryBus
from marketdesk.desk import Desk
from marketdesk.realtime.endpoints import hub_of
from marketdesk.realtime.fanout import Hub
from marketdesk.telemetry import REGISTRY


@dataclass
class Served:
    """The served app and desk, its address, and the admin's access token."""

    app: FastAPI
    desk: Desk
    url: str
    token: str

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/api/v1/ws"

    @property
    def bus(self) -> InMemoryBus:
        assert isinstance(self.desk.bus, InMemoryBus)
        return self.desk.bus

    @property
    def hub(self) -> Hub:
        return hub_of(self.app)

    async def connect(self, token: str | None = None, **options: Any) -> ClientConnection:
        """A raw `websockets` client with the admin's (or `token`'s) bearer header."""
        headers = {"Authorization": f"Bearer {token or self.token}"}
        return await connect(self.ws_url, additional_headers=headers, open_timeout=10, **options)


def open_clients() -> float:
    """The desk's gauge of open WebSocket clients, as /metrics reports it."""
    value = REGISTRY.get_sample_value("marketdesk_websocket_clients")
    assert value is not None
    return value


async def eventually(check: Callable[[], bool], timeout_s: float = 10.0, what: str = "the condition") -> None:
    """Wait until `check()` is true, polling; fail saying `what` did not happen."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout_s} s")
        await asyncio.sleep(0.02)
