"""`marketdesk audit …`: verify the hash chain and export the log. Registered by the main CLI:
`app.add_typer(audit_app)`.

The shared options, error path and output helpers come from `marketdesk.cliutil`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

from marketdesk.cliutil import DataDir, Json, emit, err, handles_errors, settings_for
from marketdesk.config import Settings
from marketdesk.errors import Rejected

audit_app = typer.Typer(help="The audit log: verify its hash chain, export it.", no_args_is_help=True)


@audit_app.command("verify")
@handles_errors
def verify_command(
    data_dir: DataDir = None,
    anchor: Annotated[
        str | None,
        typer.Option(help="SEQ:HASH reported by an earlier verify; detects entries deleted from the end"),
    ] = None,
    as_json: Json = False,
) -> None:
    """Check that no audit entry was edited, deleted or reordered. Exit 0 when intact, 1 when not."""

    settings = settings_for(data_dir)
    result = asyncio.run(_verify(settings, _parse_anchor(anchor)))
    payload = {
        "ok": result.ok,
        "checked": result.checked,
        "first_bad_seq": result.first_bad_seq,
        "problem": result.problem,
        "last_seq": result.last_seq,
        "head_hash": result.head_hash,
    }

    def human() -> None:
        if result.ok and result.last_seq:
            err.print(
                f"audit log intact: {result.checked} entries; the last is {result.last_seq}:{result.head_hash}",
                highlight=False,
            )
        elif result.ok:
            err.print("audit log intact: it is empty")

    emit(as_json, payload, human)
    if not result.ok:
        err.print(
            f"[red]error:[/red] audit log broken at entry {result.first_bad_seq}: {result.problem}", highlight=False
        )
        raise typer.Exit(1)


@audit_app.command("export")
@handles_errors
def export_command(
    csv_path: Annotated[Path, typer.Option("--csv", help="the CSV file to write", show_default=False)],
    data_dir: DataDir = None,
    start: Annotated[str | None, typer.Option(help="first day or instant, YYYY-MM-DD or ISO 8601 (UTC)")] = None,
    end: Annotated[str | None, typer.Option(help="last day (included) or instant (excluded), ISO 8601 (UTC)")] = None,
    as_json: Json = False,
) -> None:
    """Export the audit log as CSV, oldest first, with each entry's hashes."""

    settings = settings_for(data_dir)
    first = _parse_instant(start, "--start", end_of_day=False)
    last = _parse_instant(end, "--end", end_of_day=True)
    if first is not None and last is not None and last <= first:
        raise Rejected("--end must be after --start", hint="Swap them, or leave one out.")
    if not csv_path.parent.is_dir():
        raise Rejected(f"the folder of {csv_path} does not exist", hint="Create it first, or pick another path.")
    rows = asyncio.run(_export(settings, csv_path, first, last))
    payload = {"rows": rows, "path": str(csv_path)}
    emit(as_json, payload, lambda: err.print(f"exported {rows} audit entries to {csv_path}", highlight=False))


def _parse_anchor(text: str | None) -> tuple[int, str] | None:
    if text is None:
        return None
    seq, sep, digest = text.partition(":")
    if not sep or not seq.isdigit() or len(digest) != 64:
        raise Rejected(
            f"--anchor {text!r} is not SEQ:HASH", hint="Pass the last_seq:head_hash an earlier verify printed."
        )
    return int(seq), digest


def _parse_instant(text: str | None, option: str, *, end_of_day: bool) -> datetime | None:
    if text is None:
        return None
    try:
        if len(text) == 10:  # a day: from its start, or (for --end) through its end
            day = datetime.combine(date.fromisoformat(text), time(), tzinfo=UTC)
            return day + timedelta(days=1) if end_of_day else day
        instant = datetime.fromisoformat(text)
    except ValueError:
        raise Rejected(f"{option} {text!r} is not a date or an instant", hint="Write it like 2026-11-20.") from None
    return instant if instant.tzinfo is not None else instant.replace(tzinfo=UTC)


async def _verify(settings: Settings, anchor: tuple[int, str] | None) -> Any:
    async def action(service: Any, session: Any) -> Any:
        return await service.verify(session, anchor=anchor)

    return await _with_audit(settings, action)


async def _export(settings: Settings, path: Path, start: datetime | None, end: datetime | None) -> Any:
    async def action(service: Any, session: Any) -> Any:
        return await service.export_csv(session, path, start=start, end=end)

    return await _with_audit(settings, action)


async def _with_audit(settings: Settings, action: Callable[[Any, Any], Any]) -> Any:
    from marketdesk.audit.service import AuditService
    from marketdesk.clock import LiveClock
    from marketdesk.db import Database, upgrade

    await asyncio.to_thread(upgrade, settings.effective_database_url)
    database = Database(settings.effective_database_url)
    try:
        async with database.session() as session:
            return await action(AuditService(LiveClock()), session)
    finally:
        await database.dispose()
