"""FastAPI dependencies shared by every router: the desk and a unit-of-work session."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request, WebSocket
from sqlalchemy.ext.asyncio import AsyncSession

from marketdesk.desk import Desk


def get_desk(request: Request) -> Desk:
    desk: Desk = request.app.state.desk
    return desk


def get_desk_ws(websocket: WebSocket) -> Desk:
    desk: Desk = websocket.app.state.desk
    return desk


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction per request: committed when the handler returns, rolled back when it raises."""
    desk: Desk = request.app.state.desk
    async with desk.db.session() as session:
        yield session


DeskDep = Annotated[Desk, Depends(get_desk)]
# scope="function": the unit of work commits when the handler returns, before the response is sent, so a
# client that reads right after a write sees it (the default scope would commit after sending)
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
