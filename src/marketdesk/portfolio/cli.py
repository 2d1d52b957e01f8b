"""`marketdesk portfolio …`: your portfolios on a running desk, through its API (the same service the web desk and
REST use; like `marketdesk trade`, it never opens the database itself).

    export MARKETDESK_TOKEN=…                                  # an access token (POST /api/v1/auth/login)
    marketdesk portfolio create "Long term"                    # kept by hand
    marketdesk portfolio create "Paper book" --account Paper   # following a trading account's fills
    marketdesk portfolio import "Long term" activities.csv     # generic or Alpaca layout, detected
    marketdesk portfolio add "Long term" buy AAPL --qty 10 --price 185.64 --date 2024-01-03
    marketdesk portfolio show "Long term" --json                # holdings, P&L, TWR and XIRR
    marketdesk portfolio transactions "Long term"

A portfolio is named by its name or its id.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from marketdesk.cliutil import Json, emit, err, handles_errors
from marketdesk.errors import NotFound, Rejected
from marketdesk.trading.trade_cli import DEFAULT_URL, Api, Token, Url

portfolio_app = typer.Typer(help="Portfolios: holdings, statement imports, P&L, TWR and XIRR.", no_args_is_help=True)

Portfolio = Annotated[str, typer.Argument(help="the portfolio's name or id")]
Day = Annotated[str | None, typer.Option("--date", help="the day, YYYY-MM-DD [default: today, New York]")]
KINDS = ("buy", "sell", "dividend", "split", "deposit", "withdrawal", "fee")


def _portfolio_id(api: Api, wanted: str) -> str:
    portfolios = api.call("GET", "/portfolios")
    for portfolio in portfolios:
        if wanted in (portfolio["id"], portfolio["name"]):
            return str(portfolio["id"])
    names = ", ".join(p["name"] for p in portfolios) or "none yet"
    raise NotFound(f"no portfolio {wanted!r}", hint=f"Yours: {names}.")


@portfolio_app.command("list")
@handles_errors
def list_command(url: Url = DEFAULT_URL, token: Token = None, as_json: Json = False) -> None:
    """Your portfolios."""
    with Api(url, token) as api:
        rows = api.call("GET", "/portfolios")

    def human() -> None:
        if not rows:
            err.print('no portfolios yet: `marketdesk portfolio create "Long term"`', highlight=False)
            return
        table = Table("Name", "Kind", "Transactions", "Id")
        for r in rows:
            table.add_row(r["name"], r["kind"], str(r["transactions"]), r["id"])
        Console().print(table)

    emit(as_json, rows, human)


@portfolio_app.command("create")
@handles_errors
def create_command(
    name: Annotated[str, typer.Argument(help="a name of your choice")],
    account: Annotated[str | None, typer.Option("--account", help="follow this trading account's fills")] = None,
    description: Annotated[str, typer.Option("--description", help="a note for yourself")] = "",
    url: Url = DEFAULT_URL,
    token: Token = None,
    as_json: Json = False,
) -> None:
    """Open a portfolio: kept by hand, or following one of your trading accounts (--account)."""
    with Api(url, token) as api:
        body: dict[str, Any] = {"name": name, "description": description}
        if account:
            body["account_id"] = api.account_id(account)
        created = api.call("POST", "/portfolios", json=body)
    emit(
        as_json, created, lambda: Console().print(f"portfolio {created['name']} ({created['kind']}) · {created['id']}")
    )


@portfolio_app.command("import")
@handles_errors
def import_command(
    portfolio: Portfolio,
    file: Annotated[Path, typer.Argument(help="the statement, CSV")],
    layout: Annotated[str, typer.Option("--layout", help="auto, generic or alpaca")] = "auto",
    column_map: Annotated[
        list[str] | None, typer.Option("--map", help="generic layout: FIELD=COLUMN, e.g. date='Trade Date'")
    ] = None,
    date_format: Annotated[str | None, typer.Option("--date-format", help="strptime format, e.g. %m/%d/%Y")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="check every row, write nothing")] = False,
    url: Url = DEFAULT_URL,
    token: Token = None,
    as_json: Json = False,
) -> None:
    """Import a broker statement; each row is accepted, a duplicate, or rejected with the reason."""
    if not file.is_file():
        raise Rejected(f"no such file: {file}", hint="Check the path.")
    params: dict[str, Any] = {"layout": layout, "dry_run": dry_run}
    if column_map:
        params["column"] = column_map
    if date_format:
        params["date_format"] = date_format
    with Api(url, token) as api:
        files = {"file": (file.name, file.read_bytes(), "text/csv")}
        report = api.call("POST", f"/portfolios/{_portfolio_id(api, portfolio)}/import", files=files, params=params)

    def human() -> None:
        for row in report["rows"]:
            if row["status"] == "rejected":
                err.print(f"line {row['line']}: rejected: {row['reason']}", highlight=False)
        would = "would be " if report["dry_run"] else ""
        err.print(
            f"{report['layout']} statement: {report['accepted']} {would}imported, "
            f"{report['duplicates']} already there, {report['rejected']} rejected",
            highlight=False,
        )

    emit(as_json, report, human)


@portfolio_app.command("add")
@handles_errors
def add_command(
    portfolio: Portfolio,
    kind: Annotated[str, typer.Argument(help=", ".join(KINDS))],
    symbol: Annotated[str | None, typer.Argument(help="the ticker (trades, splits, dividends)")] = None,
    qty: Annotated[str | None, typer.Option("--qty", help="shares (buy, sell)")] = None,
    price: Annotated[str | None, typer.Option("--price", help="per share (buy, sell)")] = None,
    amount: Annotated[str | None, typer.Option("--amount", help="cash (dividend, deposit, withdrawal, fee)")] = None,
    fee: Annotated[str | None, typer.Option("--fee", help="commission (buy, sell)")] = None,
    ratio: Annotated[str | None, typer.Option("--ratio", help="split: new shares per old share, e.g. 4")] = None,
    day: Day = None,
    note: Annotated[str, typer.Option("--note")] = "",
    url: Url = DEFAULT_URL,
    token: Token = None,
    as_json: Json = False,
) -> None:
    """Record one transaction by hand."""
    if kind not in KINDS:
        raise Rejected(f"{kind!r} is not a transaction kind", hint=f"Use one of {', '.join(KINDS)}.")
    body: dict[str, Any] = {"kind": kind, "date": day or _today(), "note": note}
    fields = {"symbol": symbol, "qty": qty, "price": price, "amount": amount, "fee": fee, "ratio": ratio}
    body.update({k: v for k, v in fields.items() if v is not None})
    with Api(url, token) as api:
        added = api.call("POST", f"/portfolios/{_portfolio_id(api, portfolio)}/transactions", json=body)
    emit(as_json, added, lambda: Console().print(f"recorded {_describe(added)} · transaction {added['id']}"))


@portfolio_app.command("transactions")
@handles_errors
def transactions_command(
    portfolio: Portfolio,
    symbol: Annotated[str | None, typer.Option("--symbol")] = None,
    start: Annotated[str | None, typer.Option("--start", help="YYYY-MM-DD")] = None,
    end: Annotated[str | None, typer.Option("--end", help="YYYY-MM-DD")] = None,
    url: Url = DEFAULT_URL,
    token: Token = None,
    as_json: Json = False,
) -> None:
    """The transactions, in the order they happened."""
    params = {k: v for k, v in {"symbol": symbol, "start": start, "end": end}.items() if v}
    with Api(url, token) as api:
        rows = api.call("GET", f"/portfolios/{_portfolio_id(api, portfolio)}/transactions", params=params)

    def human() -> None:
        if not rows:
            err.print("no transactions", highlight=False)
            return
        table = Table("Id", "Date", "Kind", "Symbol", "Qty", "Price", "Amount", "Fee", "Source")
        for r in rows:
            table.add_row(str(r["id"]), r["date"], r["kind"], r["symbol"] or "", r["qty"] or r["ratio"] or "",
                          r["price"] or "", r["amount"] or "", r["fee"], r["source"])  # fmt: skip
        Console().print(table)

    emit(as_json, rows, human)


@portfolio_app.command("show")
@handles_errors
def show_command(
    portfolio: Portfolio,
    as_of: Annotated[str | None, typer.Option("--as-of", help="value at this day's close (YYYY-MM-DD)")] = None,
    start: Annotated[str | None, typer.Option("--start", help="returns from this day")] = None,
    end: Annotated[str | None, typer.Option("--end", help="returns up to this day")] = None,
    url: Url = DEFAULT_URL,
    token: Token = None,
    as_json: Json = False,
) -> None:
    """Holdings with cost basis and P&L, and the total return, TWR and XIRR."""
    with Api(url, token) as api:
        pid = _portfolio_id(api, portfolio)
        valuation = api.call("GET", f"/portfolios/{pid}/valuation", params={"as_of": as_of} if as_of else {})
        ranged = {k: v for k, v in {"start": start, "end": end}.items() if v}
        returns = api.call("GET", f"/portfolios/{pid}/returns", params=ranged)

    def human() -> None:
        console = Console()
        if valuation["simulated"]:
            console.print("[yellow]SIMULATED prices[/yellow]")
        table = Table("Symbol", "Qty", "Avg cost", "Price", "Value", "Unrealized", "Realized", "Dividends", "Weight")
        for h in valuation["holdings"]:
            weight = f"{h['weight']:.1%}" if h["weight"] is not None else "—"
            table.add_row(h["symbol"], h["qty"], h["average_cost"], h["price"] or "—", h["market_value"],
                          h["unrealized_pnl"], h["realized_pnl"], h["dividends"], weight)  # fmt: skip
        console.print(table)
        console.print(
            f"value {valuation['total_value']} (holdings {valuation['market_value']}, cash {valuation['cash']}) "
            f"at the close of {valuation['as_of']} · net contributions {valuation['net_contributions']} · "
            f"total return {valuation['total_return']}",
            highlight=False,
        )
        console.print(
            f"{returns['start']} → {returns['end']}: TWR {_pct(returns['twr'])} "
            f"(annualized {_pct(returns['twr_annualized'])}) · XIRR {_pct(returns['xirr'])} · "
            f"dividends {returns['dividend_income']}",
            highlight=False,
        )
        for note in returns["notes"]:
            err.print(f"note: {note}", highlight=False)

    emit(as_json, {"valuation": valuation, "returns": returns}, human)


@portfolio_app.command("delete")
@handles_errors
def delete_command(
    portfolio: Portfolio,
    confirm: Annotated[str | None, typer.Option("--confirm", help="repeat the portfolio's name")] = None,
    url: Url = DEFAULT_URL,
    token: Token = None,
    as_json: Json = False,
) -> None:
    """Delete a portfolio with its transactions; --confirm must repeat its name."""
    with Api(url, token) as api:
        pid = _portfolio_id(api, portfolio)
        api.call("DELETE", f"/portfolios/{pid}", params={"confirm": confirm} if confirm else {})
    emit(as_json, {"deleted": pid}, lambda: Console().print(f"portfolio {portfolio} deleted"))


def _today() -> str:
    from marketdesk.clock import LiveClock
    from marketdesk.kit.timeutil import NEW_YORK

    return LiveClock().now().astimezone(NEW_YORK).date().isoformat()


def _describe(t: dict[str, Any]) -> str:
    what = " ".join(str(t[k]) for k in ("qty", "symbol") if t.get(k))
    money = f" @ {t['price']}" if t.get("price") else f" {t['amount']}" if t.get("amount") else ""
    return f"{t['kind']} {what}{money} on {t['date']}".replace("  ", " ")


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.2%}"
