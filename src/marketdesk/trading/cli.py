"""`marketdesk compliance …`: judge an order against a trade history under a day-trading policy, offline.

    marketdesk compliance check --policy legacy-pdt --history trades.csv --order "BUY 100 AAPL @ 190" \\
        --at 2026-05-20T10:30 --equity 18000
    marketdesk compliance day-trades --history trades.csv --json

`check` builds an `AccountSnapshot` from the file and calls `marketdesk.trading.compliance.check`, the same
function the live order path calls. Positions start flat before the first row; `--equity` is the account's
equity (and its previous-close equity); prices are each symbol's last row unless the order gives one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from marketdesk.cliutil import Json, emit, err, handles_errors
from marketdesk.errors import Rejected
from marketdesk.trading import pdt
from marketdesk.trading.compliance import AccountSnapshot, ComplianceSettings, MissingPrice, Policy, check
from marketdesk.trading.tradefile import decimal_option, parse_order, parse_time, read_history

compliance_app = typer.Typer(help="Day-trading compliance: check an order, list day trades.", no_args_is_help=True)

History = Annotated[Path, typer.Option("--history", help="CSV of time,symbol,side,qty,price (one row per fill)")]


def _calendar() -> Any:
    from marketdesk.marketdata.calendar import ExchangeCalendar

    return ExchangeCalendar("XNYS")


@compliance_app.command("check")
@handles_errors
def check_command(
    history: History,
    order: Annotated[str, typer.Option("--order", help='the order, e.g. "BUY 100 AAPL" or "SELL 5 MSFT @ 410"')],
    at: Annotated[str, typer.Option("--at", help="when it would be placed (ISO time; no zone = New York)")],
    equity: Annotated[str, typer.Option("--equity", help="account equity in dollars (also the previous close's)")],
    policy: Annotated[
        str, typer.Option("--policy", help="legacy-pdt, intraday-margin, cash-account, off or auto")
    ] = "auto",
    as_json: Json = False,
) -> None:
    """Would this order be allowed? The reason, and the day-trade count, as the live path decides it."""
    try:
        chosen = Policy.parse(policy)
        instant = parse_time(at, field="--at")
    except ValueError as exc:
        raise Rejected(str(exc)) from None
    intent = parse_order(order)
    money = decimal_option(equity, field="--equity")
    if money < 0:
        raise Rejected("--equity must not be negative")
    executions = [e for e in read_history(history) if e.time <= instant]
    snapshot = AccountSnapshot(at=instant, equity=money, executions=tuple(executions), previous_close_equity=money)
    try:
        decision = check(snapshot, intent, ComplianceSettings(policy=chosen), _calendar())
    except MissingPrice as exc:
        raise Rejected(str(exc)) from None

    def human() -> None:
        verdict = "[green]ALLOWED[/green]" if decision.allowed else "[red]DENIED[/red]"
        reason = decision.reason.removeprefix("allowed: ")
        Console().print(f"{verdict} under {decision.policy.value}: {reason}", highlight=False)
        for warning in decision.warnings:
            Console().print(f"[yellow]warning:[/yellow] {warning}", highlight=False)
        if decision.day_trades is not None:
            left = decision.status["day_trades_remaining"]
            Console().print(f"day trades in the last 5 business days: {decision.day_trades} ({left} left)")

    emit(as_json, decision.to_dict(), human)
    if not decision.allowed:
        raise typer.Exit(1)


@compliance_app.command("day-trades")
@handles_errors
def day_trades_command(history: History, as_json: Json = False) -> None:
    """The day trades in a history, per trade date (legacy-pdt counting)."""
    book = pdt.DayTradeBook.of(read_history(history))
    grouped = pdt.day_trades_by_day(book)
    days = [
        {"date": day, "day_trades": len(trades), "symbols": sorted({t.symbol for t in trades}),
         "trades": book.trades_per_day.get(day, 0)}
        for day, trades in grouped
    ]  # fmt: skip

    def human() -> None:
        if not days:
            err.print("no day trades in this history", highlight=False)
            return
        table = Table("Date", "Day trades", "Symbols", "Trades that day", title=f"{len(book.day_trades)} day trades")
        for day, trades in grouped:
            symbols = ", ".join(sorted({t.symbol for t in trades}))
            table.add_row(day.isoformat(), str(len(trades)), symbols, str(book.trades_per_day.get(day, 0)))
        Console().print(table)

    emit(as_json, {"total": len(book.day_trades), "days": days}, human)


__all__ = ["compliance_app"]
