"""`marketdesk users …`: make the first admin (or any user) from the machine the desk runs on, list users, and
rotate the token signing key. Register it in marketdesk.cli with `app.add_typer(users_app, name="users")`.

    marketdesk users create --role admin --email ann@example.com            (asks for the password twice)
    printf '%s\\n' "$PASSWORD" | marketdesk users create --email bo@example.com --role trader --password-stdin

The shared options, error path and output helpers come from `marketdesk.cliutil`.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from marketdesk.accounts.roles import Role
from marketdesk.cliutil import DataDir, Json, emit, err, handles_errors, settings_for
from marketdesk.errors import Rejected

users_app = typer.Typer(help="Users of the desk: create, list; rotate the token signing key.", no_args_is_help=True)

T = TypeVar("T")


def _with_accounts(data_dir: Path | None, action: Callable[[Any, Any], Awaitable[T]]) -> T:
    """Migrate the database, then run `action(desk, session)` in one unit of work (no market, no server)."""
    from marketdesk.clock import LiveClock
    from marketdesk.db import upgrade
    from marketdesk.desk import build_desk

    settings = settings_for(data_dir)
    upgrade(settings.effective_database_url)
    desk = build_desk(settings, LiveClock())

    async def run() -> T:
        try:
            async with desk.db.session() as session:
                await desk.accounts.start(session)
                return await action(desk, session)
        finally:
            await desk.db.dispose()

    return asyncio.run(run())


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        if not line:
            raise Rejected("no password on stdin", hint="Pipe it in: printf '%s\\n' \"$PASSWORD\" | marketdesk …")
        return line.rstrip("\r\n")
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True, err=True))


@users_app.command("create")
@handles_errors
def create_command(
    email: Annotated[str, typer.Option(help="the user's email (their sign-in name)")],
    role: Annotated[Role, typer.Option(help="admin, trader or viewer")] = Role.VIEWER,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="read the password from stdin")] = False,
    data_dir: DataDir = None,
    as_json: Json = False,
) -> None:
    """Create a user. A desk's first user must be an admin."""

    password = _read_password(password_stdin)

    async def create(desk: Any, session: Any) -> Any:
        return await desk.accounts.create_user(session, email, password, role)

    view = _with_accounts(data_dir, create)
    payload = {"id": view.id, "email": view.email, "role": view.role.value}
    emit(as_json, payload, lambda: err.print(f"created {view.role.value} {view.email}", highlight=False))


@users_app.command("list")
@handles_errors
def list_command(data_dir: DataDir = None, as_json: Json = False) -> None:
    """List the desk's users."""
    from rich.console import Console
    from rich.table import Table

    async def users(desk: Any, session: Any) -> Any:
        return await desk.accounts.users(session)

    views = _with_accounts(data_dir, users)
    payload = [
        {"id": v.id, "email": v.email, "role": v.role.value, "disabled": v.disabled, "created_at": v.created_at}
        for v in views
    ]

    def human() -> None:
        table = Table("email", "role", "state", "created", title="users")
        for view in views:
            state = "disabled" if view.disabled else "active"
            table.add_row(view.email, view.role.value, state, view.created_at.date().isoformat())
        Console().print(table)

    emit(as_json, payload, human)


@users_app.command("rotate-key")
@handles_errors
def rotate_key_command(data_dir: DataDir = None, as_json: Json = False) -> None:
    """Make a new token signing key. Tokens signed by the old one keep working until they expire."""

    async def rotate(desk: Any, session: Any) -> Any:
        return await desk.accounts.rotate_signing_key(session)

    kid = _with_accounts(data_dir, rotate)
    emit(as_json, {"kid": kid}, lambda: err.print(f"signing key {kid} is now current", highlight=False))
