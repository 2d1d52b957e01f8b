"""`marketdesk decisions …`: the decision log and the historical verdict backtest, on the desk's own data dir.
Registered by the main CLI: `app.add_typer(decisions_app, name="decisions")`.

    marketdesk decisions backtest --start 2013-04-01 --end 2017-12-31 --every month --json
    marketdesk decisions list --user ann@example.com
    marketdesk decisions stats --json
    marketdesk decisions measure            (what a scheduler runs: measure every outcome that is due)

The backtest reads the prices and fundamentals imported with `marketdesk data import …`. `list` and `stats`
read one user's log: `--user EMAIL`, which may be left out when the desk has a single user.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from marketdesk.cliutil import DataDir, Json, emit, err, handles_errors, progress_bar, settings_for
from marketdesk.errors import NotFound, Rejected

decisions_app = typer.Typer(
    help="The decision log (your verdicts and how they did) and the historical verdict backtest.",
    no_args_is_help=True,
)
T = TypeVar("T")
User = Annotated[str | None, typer.Option("--user", help="the user's email (default: the desk's only user)")]


def _day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise Rejected(f"{option} {text!r} is not a date", hint="Write it like 2015-06-30.") from None


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:+.2f}%"


def _rate(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f}%"


def _with_desk(data_dir: Path | None, action: Callable[[Any, Any], Awaitable[T]]) -> T:
    """Migrate the database, then run `action(desk, session)` in one unit of work (no server, no market feed)."""
    from marketdesk.clock import LiveClock
    from marketdesk.db import upgrade
    from marketdesk.desk import build_desk

    settings = settings_for(data_dir)
    upgrade(settings.effective_database_url)
    desk = build_desk(settings, LiveClock())

    async def run() -> T:
        try:
            async with desk.db.session() as session:
                return await action(desk, session)
        finally:
            await desk.db.dispose()

    return asyncio.run(run())


async def _user(desk: Any, session: Any, email: str | None) -> Any:
    from marketdesk.accounts.roles import CurrentUser

    users = [u for u in await desk.accounts.users(session) if not u.disabled]
    if email is not None:
        users = [u for u in users if u.email.lower() == email.strip().lower()]
        if not users:
            raise NotFound(f"no user {email!r}", hint="`marketdesk users list` shows the desk's users.")
    elif len(users) != 1:
        raise Rejected(f"the desk has {len(users)} users: say whose log to read", hint="Add --user EMAIL.")
    found = users[0]
    return CurrentUser(id=found.id, email=found.email, role=found.role, session_id="cli", via="cli")


def _stats_table(title: str, groups: list[dict[str, Any]], horizons: list[int]) -> Table:
    table = Table(title=title)
    table.add_column("group")
    table.add_column("count", justify="right")
    for horizon in horizons:
        table.add_column(f"win {horizon}d", justify="right")
        table.add_column(f"mean {horizon}d", justify="right")
        table.add_column(f"median {horizon}d", justify="right")
    for group in groups:
        cells = [group["key"], f"{group['count']:,}"]
        for h in group["horizons"]:
            cells += [_rate(h["win_rate"]), _percent(h["mean_excess"]), _percent(h["median_excess"])]
        table.add_row(*cells)
    return table


@decisions_app.command("backtest")
@handles_errors
def backtest_command(
    start: Annotated[str, typer.Option(help="first rebalance day, YYYY-MM-DD", show_default=False)],
    end: Annotated[str, typer.Option(help="last rebalance day, YYYY-MM-DD", show_default=False)],
    every: Annotated[str, typer.Option(help="rebalance on the last session of each week, month or quarter")] = "month",
    preset: Annotated[str | None, typer.Option(help="the screener preset [default: balanced]")] = None,
    universe: Annotated[str, typer.Option(help="the universe to screen")] = "all",
    benchmark: Annotated[
        str | None, typer.Option(help="benchmark symbol [default: the screener's: SPY, else ^GSPC]")
    ] = None,
    data_dir: DataDir = None,
    as_json: Json = False,
) -> None:
    """Run the screener point-in-time over stored history and report, per verdict, how the names did against
    the benchmark 30, 60 and 90 days later (no look-ahead: fundamentals count from their filing date)."""
    from marketdesk.decisions.backtest import report_dict
    from marketdesk.decisions.history import verdict_backtest

    first, last = _day(start, "--start"), _day(end, "--end")
    with progress_bar("screening point-in-time", not as_json) as progress:

        async def run(desk: Any, session: Any) -> Any:
            return await verdict_backtest(
                session, desk.store, start=first, end=last, every=every, preset=preset, universe=universe,
                benchmark=benchmark or desk.screener.loader.benchmark_symbol, progress=progress,
            )  # fmt: skip

        report = _with_desk(data_dir, run)
    payload = report_dict(report)

    def human() -> None:
        console = Console()
        err.print(
            f"{payload['rebalances']} rebalances ({payload['every']}) from {payload['start']} to {payload['end']}, "
            f"{payload['observations']:,} verdicts on {payload['universe']} names, preset {payload['preset']}, "
            f"against {payload['benchmark']}; win = beat the benchmark",
            highlight=False,
        )
        console.print(_stats_table("by verdict", payload["by_verdict"], payload["horizons"]))
        console.print(_stats_table("by signal", payload["by_signal"], payload["horizons"]))

    emit(as_json, payload, human)


@decisions_app.command("list")
@handles_errors
def list_command(
    user: User = None,
    symbol: Annotated[str | None, typer.Option(help="only this symbol")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="at most this many, newest first")] = 100,
    data_dir: DataDir = None,
    as_json: Json = False,
) -> None:
    """A user's logged decisions, newest first, with their outcomes (due ones measured first)."""
    from marketdesk.decisions.schemas import DecisionOut

    async def run(desk: Any, session: Any) -> Any:
        who = await _user(desk, session, user)
        return await desk.decisions.decisions(session, who, symbol=symbol, limit=limit)

    views = _with_desk(data_dir, run)
    rows = [DecisionOut.of(v).model_dump(mode="json") for v in views]

    def human() -> None:
        if not rows:
            err.print("no decisions logged yet (log one with POST /api/v1/decisions, or from the trade ticket)")
            return
        table = Table("date", "symbol", "verdict", "score", "preset", "price", "30d", "60d", "90d", title="decisions")
        for row in rows:
            cells = []
            for outcome in row["outcomes"]:
                cells.append(
                    _percent(outcome["excess_return"]) if outcome["status"] == "measured" else outcome["status"]
                )
            table.add_row(row["price_date"], row["symbol"], row["verdict"], f"{row['score']:.1f}", row["preset"],
                          row["price"], *cells)  # fmt: skip
        Console().print(table)

    emit(as_json, rows, human)


@decisions_app.command("stats")
@handles_errors
def stats_command(user: User = None, data_dir: DataDir = None, as_json: Json = False) -> None:
    """A user's win rate (beat the benchmark) and excess return by verdict, preset and signal type."""
    from marketdesk.decisions.schemas import StatsOut

    async def run(desk: Any, session: Any) -> Any:
        who = await _user(desk, session, user)
        stats = await desk.decisions.stats(session, who)
        return StatsOut.of(stats, desk.decisions.horizons)

    payload = _with_desk(data_dir, run).model_dump(mode="json")

    def human() -> None:
        err.print(f"{payload['total']} decisions; win = beat the benchmark; excess = return − benchmark's")
        for title in ("by_verdict", "by_preset", "by_signal"):
            Console().print(_stats_table(title.replace("_", " "), payload[title], payload["horizons"]))

    emit(as_json, payload, human)


@decisions_app.command("measure")
@handles_errors
def measure_command(data_dir: DataDir = None, as_json: Json = False) -> None:
    """Measure every user's outcomes that are due and have prices (idempotent; what a scheduler runs)."""

    async def run(desk: Any, session: Any) -> Any:
        return await desk.decisions.measure_due(session)

    report = _with_desk(data_dir, run)
    payload = {"checked": report.checked, "measured": report.measured, "waiting": report.waiting}
    emit(as_json, payload, lambda: err.print(
        f"measured {report.measured} outcomes of {report.checked} due decisions; {report.waiting} wait for prices"
    ))  # fmt: skip
