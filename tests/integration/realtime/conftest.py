"""A real uvicorn server in the test's own event loop, serving a desk over the small fake market, so a test
can reach the server's bus, hub and metrics while real clients talk to it over TCP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from wsserver import Served, eventually

from marketdesk.app import create_app
from marketdesk.clock import SimClock
from marketdesk.desk import Desk
from support.auth import PASSWORD, api_desk
from support.servers import free_port


@pytest.fixture
def served_desk(tmp_path: Path, clock: SimClock) -> Desk:
    return api_desk(tmp_path, clock)  # prepared with asyncio.run, so before the test's loop runs


@pytest.fixture
def ws_options() -> dict[str, Any]:
    """`app.state` settings of the WebSocket API (ws_heartbeat_s, …); a test module overrides this fixture."""
    return {}


@pytest.fixture
async def served(served_desk: Desk, ws_options: dict[str, Any]) -> AsyncIterator[Served]:
    """The desk served by uvicorn on a free port, with `ws_options` set on `app.state`."""
    app = create_app(desk=served_desk, web=False)
    for name, value in ws_options.items():
        setattr(app.state, name, value)
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan="on", timeout_graceful_shutdown=5
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    await eventually(lambda: server.started or serving.done(), 60, "the server start")
    if serving.done():
        serving.result()  # raises why it could not start
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            answer = await http.post("/api/v1/auth/register", json={"email": "admin@example.com", "password": PASSWORD})
            assert answer.status_code == 201, answer.text
        yield Served(app, served_desk, url, answer.json()["access_token"])
    finally:
        server.should_exit = True
        await asyncio.wait_for(serving, 30)
