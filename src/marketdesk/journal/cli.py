"""`marketdesk journal …`: the thesis, trade and market-call journals of a running desk, through its API (like
`marketdesk trade`: the desk process owns the screener's metrics, the prices and the trading accounts' fills).

    export MARKETDESK_TOKEN=…                      # an access token (POST /api/v1/auth/login)
    marketdesk journal thesis add AAPL --reason quality --watch roe --watch pe:down
    marketdesk journal thesis list --due
    marketdesk journal thesis checkin THESIS_ID                  # metrics then and now, the derived status
    marketdesk journal thesis checkin THESIS_ID --action hold    # confirm it and decide
    marketdesk journal trades --tag breakout --from 2026-01-01 --json
    marketdesk journal note ROUND_TRIP_ID --reason "earnings gap" --notes "sized too big"
    marketdesk journal calls add SPY above 600 --by 2027-03-31
    marketdesk journal calls list
    marketdesk journal calls stats
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from marketdesk.cliutil import Json, emit, err, handles_errors
from marketdesk.errors import Rejected
from marketdesk.journal.theses import parse_watch
from marketdesk.kit.timeutil import parse_date
from marketdesk.trading.trade_cli import DEFAULT_URL, Api, Token, Url

journal_app = typer.Typer(help="Thesis, trade and market-call journals (through the desk's API).", no_args_is_help=True)
thesis_app = typer.Typer(help="Why you own it, what to watch, and check-ins.", no_args_is_help=True)
calls_app = typer.Typer(help="Market calls with a due date, judged from prices.", no_args_is_help=True)
journal_app.add_typer(thesis_app, name="thesis")
journal_app.add_typer(calls_app, name="calls")


def _date(text: str | None, option: str) -> str | None:
    if text is None:
        return None
    try:
        return parse_date(text, field=option).isoformat()
    except ValueError as exc:
        raise Rejected(str(exc)) from None


def _fmt(value: Any, pattern: str = "{:,.4g}") -> str:
    return "—" if value is None else pattern.format(value)


# ---- theses ------------------------------------------------------------------------------------------


@thesis_app.command("add")
@handles_errors
def thesis_add(
    symbol: Annotated[str, typer.Argument(help="the ticker")],
    reason: Annotated[
        str, typer.Option("--reason", help="undervalued, growth, quality, momentum, dividend, turnaround or other")
    ],
    watch: Annotated[list[str], typer.Option("--watch", help="a metric to watch, e.g. roe or pe:down (once or twice)")],
    note: Annotated[str, typer.Option("--note", help="the thesis in your words")] = "",
    review_days: Annotated[int | None, typer.Option("--review-days", help="review in N days [default: 30]")] = None,
    review_on: Annotated[str | None, typer.Option("--review-on", help="review on this day (YYYY-MM-DD)")] = None,
    url: Url = DEFAULT_URL,
    token: Token = None,
    as_json: Json = False,
) -> None:
    """Write a thesis: one reason, 1–2 metrics to watch (their values today are kept) and a review date."""
    metrics = []
    for item in watch:
        name, direction = parse_watch(item)
        metrics.append({"metric": name, **({"direction": direction.value} if direction else {})})
    body: dict[str, Any] = {"symbol": symbol, "reason": reason.strip().lower(), "metrics": metrics, "note": note}
    if review_days is not None:
        body["review_in_days"] = review_days
    if review_on is not None:
        body["review_on"] = _date(review_on, "--review-on")
    with Api(url, token) as api:
        thesis = api.call("POST", "/journal/theses", json=body)

    def human() -> None:
        watched = ", ".join(f"{m['metric']} {m['direction']} from {_fmt(m['entry_value'])}" for m in thesis["metrics"])
        Console().print(
            f"thesis {thesis['id']}: {thesis['symbol']} ({thesis['reason']}) watching {watched}; "
            f"review on {thesis['review_on']}",
            highlight=False,
        )

    emit(as_json, thesis, human)


@thesis_app.command("list")
@handles_errors
def thesis_list(
    state: Annotated[str, typer.Option("--state", help="open, closed or all")] = "open",
    due: Annotated[bool, typer.Option("--due", help="only the check-ins due now")] = False,
    url: Url = DEFAULT_URL,
    token: Token = None,
    as_json: Json = False,
) -> None:
    """Your theses, soonest review first (`--due`: the check-ins due)."""
    with Api(url, token) as api:
        rows = (
            api.call("GET", "/journal/theses/due")
            if due
            else api.call("GET", "/journal/theses", params={"state": state})
        )

    def human() -> None:
        if not rows:
            err.print("no check-ins due" if due else "no theses yet: `marketdesk journal thesis add SYMBOL …`")
            return
        table = Table("Thesis", "Symbol", "Reason", "Watching", "Review on", "Status", "State")
        for r in rows:
            watching = ", ".join(f"{m['metric']} {m['direction']}" for m in r["metrics"])
            review = f"{r['review_on']} (due)" if r["due"] else str(r["review_on"])
            table.add_row(r["id"], r["symbol"], r["reason"], watching, review, r["status"] or "—", r["state"])
        Console().print(table)

    emit(as_json, rows, human)


@thesis_app.command("checkin")
@handles_errors
def thesis_checkin(
    thesis_id: Annotated[str, typer.Argument(help="the thesis's id")],
    action: Annotated[
        str | None, typer.Option("--action", help="hold, add, trim, sell or extend_review (without: just look)")
    ] = None,
    status: Annotated[
        str | None, typer.Option("--status", help="working, shaken or broken [default: the derived one]")
    ] = None,
    note: Annotated[str, typer.Option("--note", help="what you saw")] = "",
    next_review_days: Annotated[int | None, typer.Option("--next-review-days", help="next review in N days")] = None,
    url: Url = DEFAULT_URL,
    token: Token = None,
    as_json: Json = False,
) -> None:
    """Each watched metric then and now and the derived status; with --action, confirm it and decide."""
    with Api(url, token) as api:
        if action is None:
            if status is not None or next_review_days is not None or note:
                raise Rejected("--status, --note and --next-review-days need --action", hint="Add --action hold, …")
            preview = api.call("GET", f"/journal/theses/{thesis_id}/checkin")
            emit(as_json, preview, lambda: _show_preview(preview))
            return
        body: dict[str, Any] = {"action": action.strip().lower(), "note": note}
        if status is not None:
            body["status"] = status.strip().lower()
        if next_review_days is not None:
            body["next_review_in_days"] = next_review_days
        result = api.call("POST", f"/journal/theses/{thesis_id}/checkins", json=body)

    def human() -> None:
        checkin, thesis = result["checkin"], result["thesis"]
        overridden = f" (derived: {checkin['derived_status']})" if checkin["overridden"] else ""
        after = "thesis closed" if thesis["state"] == "closed" else f"next review on {thesis['review_on']}"
        Console().print(
            f"{thesis['symbol']}: {checkin['status']}{overridden}, {checkin['action']}; {after}", highlight=False
        )

    emit(as_json, result, human)


def _show_preview(preview: dict[str, Any]) -> None:
    thesis = preview["thesis"]
    table = Table(
        "Metric", "Needs", "Then", "Now", "Change", "Status", title=f"{thesis['symbol']} ({thesis['reason']})"
    )
    for r in preview["readings"]:
        change = _fmt(r["change_pct"], "{:+.1f}%")
        table.add_row(r["metric"], r["direction"], _fmt(r["then"]), _fmt(r["now"]), change, r["status"])
    out = Console()
    out.print(table)
    out.print(f"derived status: [bold]{preview['derived_status']}[/bold] — {preview['reason']}", highlight=False)
    for rule in preview["rules"]:
        out.print(f"  · {rule['description']}", highlight=False)
    out.print("confirm with --action hold|add|trim|sell|extend_review [--status …]", highlight=False)


# ---- trades ------------------------------------------------------------------------------------------


@journal_app.command("trades")
@handles_errors
def trades_command(
    tag: Annotated[str | None, typer.Option("--tag", help='a strategy/signal tag ("untagged": none)')] = None,
    symbol: Annotated[str | None, typer.Option("--symbol", help="one symbol")] = None,
    start: Annotated[str | None, typer.Option("--from", help="from this day (YYYY-MM-DD)")] = None,
    end: Annotated[str | None, typer.Option("--to", help="to this day (YYYY-MM-DD)")] = None,
    status: Annotated[str, typer.Option("--status", help="closed, open or all")] = "all",
    account: Annotated[str | None, typer.Option("--account", help="account name or id (default: all yours)")] = None,
    url: Url = DEFAULT_URL,
    token: Token = None,
    as_json: Json = False,
) -> None:
    """Round trips of your trading accounts with their statistics (closed ones dated by their close)."""
    params = {"tag": tag, "symbol": symbol, "start": _date(start, "--from"), "end": _date(end, "--to")}
    with Api(url, token) as api:
        if account:
            params["account_id"] = api.account_id(account)
        filters = {k: v for k, v in params.items() if v is not None}
        trips = api.call("GET", "/journal/trades", params={**filters, "status": status})
        stats = api.call("GET", "/journal/trades/stats", params=filters)

    def human() -> None:
        if trips:
            table = Table("Round trip", "Symbol", "Side", "Tag", "Qty", "Entry", "Exit", "P&L", "Status", "Closed")
            for t in trips:
                closed = (t["closed_at"] or "")[:10]
                table.add_row(t["id"][:16], t["symbol"], t["side"], t["tag"] or "—", t["qty"], t["entry_price"],
                              t["exit_price"] or "—", t["pnl"], t["status"], closed)  # fmt: skip
            Console().print(table)
        out = Console()
        rate = _fmt(None if stats["win_rate"] is None else stats["win_rate"] * 100, "{:.0f}%")
        factor = _fmt(stats["profit_factor"], "{:.2f}")
        out.print(
            f"{stats['count']} closed ({stats['wins']} won, {stats['losses']} lost), win rate {rate}, P&L "
            f"{stats['pnl']}, average win {stats['average_win'] or '—'}, average loss {stats['average_loss'] or '—'}, "
            f"profit factor {factor}, expectancy {stats['expectancy'] or '—'}",
            highlight=False,
        )
        for label in ("best_signal", "worst_signal"):
            if stats[label]:
                out.print(f"{label.replace('_', ' ')}: {stats[label]['tag']} ({stats[label]['pnl']})", highlight=False)
        for line in stats["notes"]:
            err.print(f"note: {line}", highlight=False)

    emit(as_json, {"round_trips": trips, "stats": stats}, human)


@journal_app.command("note")
@handles_errors
def note_command(
    round_trip_id: Annotated[str, typer.Argument(help="the round trip's id")],
    reason: Annotated[str | None, typer.Option("--reason", help="why you took the trade")] = None,
    notes: Annotated[str | None, typer.Option("--notes", help="what you learned")] = None,
    url: Url = DEFAULT_URL,
    token: Token = None,
    as_json: Json = False,
) -> None:
    """Set your reason and notes on a round trip."""
    body = {k: v for k, v in {"reason": reason, "notes": notes}.items() if v is not None}
    with Api(url, token) as api:
        trip = api.call("PATCH", f"/journal/trades/{round_trip_id}", json=body)
    emit(as_json, trip, lambda: Console().print(f"round trip {trip['id']}: {trip['reason'] or '—'}", highlight=False))


# ---- calls -------------------------------------------------------------------------------------------


@calls_app.command("add")
@handles_errors
def calls_add(
    symbol: Annotated[str, typer.Argument(help="the ticker")],
    direction: Annotated[str, typer.Argument(help="above or below")],
    level: Annotated[str, typer.Argument(help="the price level")],
    by: Annotated[str, typer.Option("--by", help="the due date (YYYY-MM-DD)")],
    any_time: Annotated[
        bool, typer.Option("--any-time", help="hit at any close before the due date, not only the one on it")
    ] = False,
    note: Annotated[str, typer.Option("--note", help="why")] = "",
    url: Url = DEFAULT_URL,
    token: Token = None,
    as_json: Json = False,
) -> None:
    """Make a call: SYMBOL closes above/below LEVEL on the due date (or, --any-time, by it)."""
    try:
        amount = Decimal(level.strip().replace(",", ""))
    except InvalidOperation:
        raise Rejected(f"level {level!r} is not a number", hint="Write it like 600 or 612.50.") from None
    if not amount.is_finite() or amount <= 0:
        raise Rejected(f"level {level} must be a positive price", hint="Write it like 600 or 612.50.")
    if direction.strip().lower() not in {"above", "below"}:
        raise Rejected(f"direction {direction!r} must be above or below")
    body = {
        "symbol": symbol, "direction": direction.strip().lower(), "level": format(amount, "f"),
        "due_on": _date(by, "--by"), "mode": "any_time" if any_time else "at_due_date", "note": note,
    }  # fmt: skip
    with Api(url, token) as api:
        call = api.call("POST", "/journal/calls", json=body)
    emit(as_json, call, lambda: Console().print(f"call {call['id']}: {call['statement']}", highlight=False))


@calls_app.command("list")
@handles_errors
def calls_list(
    outcome: Annotated[str | None, typer.Option("--outcome", help="open, hit, miss or void")] = None,
    symbol: Annotated[str | None, typer.Option("--symbol", help="one symbol")] = None,
    url: Url = DEFAULT_URL,
    token: Token = None,
    as_json: Json = False,
) -> None:
    """Your calls by due date (the ones come due are judged first)."""
    params = {k: v for k, v in {"outcome": outcome, "symbol": symbol}.items() if v is not None}
    with Api(url, token) as api:
        rows = api.call("GET", "/journal/calls", params=params)

    def human() -> None:
        if not rows:
            err.print("no calls yet: `marketdesk journal calls add SPY above 600 --by 2027-03-31`")
            return
        table = Table("Call", "Statement", "Outcome", "Decided", "Why")
        for r in rows:
            table.add_row(r["id"], r["statement"], r["outcome"], r["decided_on"] or "—", r["outcome_reason"] or "—")
        Console().print(table)

    emit(as_json, rows, human)


@calls_app.command("stats")
@handles_errors
def calls_stats(url: Url = DEFAULT_URL, token: Token = None, as_json: Json = False) -> None:
    """Accuracy of your calls: overall, by direction, by mode and by symbol."""
    with Api(url, token) as api:
        stats = api.call("GET", "/journal/calls/stats")

    def human() -> None:
        table = Table("Group", "Calls", "Open", "Hits", "Misses", "Void", "Accuracy")
        groups = [stats["total"], *stats["by_direction"], *stats["by_mode"], *stats["by_symbol"]]
        for a in groups:
            rate = _fmt(None if a["hit_rate"] is None else a["hit_rate"] * 100, "{:.0f}%")
            table.add_row(
                a["key"], str(a["calls"]), str(a["open"]), str(a["hits"]), str(a["misses"]), str(a["void"]), rate
            )
        Console().print(table)
        for line in stats["notes"]:
            err.print(f"note: {line}", highlight=False)

    emit(as_json, stats, human)


@calls_app.command("calendar")
@handles_errors
def calls_calendar(
    start: Annotated[str | None, typer.Option("--from", help="due from this day (YYYY-MM-DD)")] = None,
    end: Annotated[str | None, typer.Option("--to", help="due to this day (YYYY-MM-DD)")] = None,
    url: Url = DEFAULT_URL,
    token: Token = None,
    as_json: Json = False,
) -> None:
    """Your calls by due month and day."""
    params = {k: v for k, v in {"start": _date(start, "--from"), "end": _date(end, "--to")}.items() if v is not None}
    with Api(url, token) as api:
        months = api.call("GET", "/journal/calls/calendar", params=params)

    def human() -> None:
        out = Console()
        for month in months:
            out.print(
                f"[bold]{month['month']}[/bold] ({month['open']} open, {month['hits']} hit, {month['misses']} missed)"
            )
            for day in month["days"]:
                calls = ", ".join(f"{c['symbol']} {c['direction']} {c['level']} [{c['outcome']}]" for c in day["calls"])
                out.print(f"  {day['date']}: {calls}", highlight=False)

    emit(as_json, months, human)
