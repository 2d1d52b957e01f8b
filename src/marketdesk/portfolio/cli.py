"""`marketdesk portfolio …`: your portfolios on a running desk, through its API (the same service the web desk and
REST use; like `marketdesk trade`, it never opens the database itself).

    export MARKETDESK_TOKEN=…                                  # an access token (POST /api/v1/auth/login)
    marketdesk portfolio create "Long term"                    # kept by hand
    marketdesk portfolio create "Paper book" --account Paper   # following a trading account's fills
    marketdesk portfolio import "Long term" activities.csv     # generic or Alpaca layout, detected
    marketdesk portfolio add "Long term" buy AAPL --qty 10 --price 185.64 --date 2024-01-03
    marketdesk portfolio show "Long term" --json                # holdings, P&L, TWR and XIRR
    marketdesk portfolio transactions "Long term"
    marketdesk portfolio targets set "Long term" --symbol AAPL=30 --asset-class bond=40 --band 5
    marketdesk portfolio allocation "Long term"                # weights against the targets, drift, bands
    marketdesk portfolio rebalance "Long term" --prefer-losses # the trades back into the bands (never placed)

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
targets_app = typer.Typer(
    help="Allocation targets: weights by asset class, sector and symbol, the band and the minimum trade.",
    no_args_is_help=True,
)
portfolio_app.add_typer(targets_app, name="targets")

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


DIMENSION_OPTIONS = (("asset_class", "Asset class"), ("sector", "Sector"), ("symbol", "Symbol"))
SET_HINT = "set them with `marketdesk portfolio targets set NAME --symbol AAA=60 --symbol BBB=40`"


def _weights(given: list[str] | None, option: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in given or []:
        key, separator, weight = item.rpartition("=")
        if not separator or not key.strip() or not weight.strip():
            raise Rejected(f"{option} {item!r} is not KEY=PERCENT", hint=f"For example: {option} AAA=25.")
        out[key.strip()] = weight.strip()
    return out


@targets_app.command("set")
@handles_errors
def targets_set_command(
    portfolio: Portfolio,
    symbol: Annotated[
        list[str] | None, typer.Option("--symbol", help="SYMBOL=PERCENT, e.g. AAPL=25; repeatable")
    ] = None,
    sector: Annotated[
        list[str] | None, typer.Option("--sector", help="SECTOR=PERCENT, e.g. 'Health Care=15'; repeatable")
    ] = None,
    asset_class: Annotated[
        list[str] | None, typer.Option("--asset-class", help="equity, etf or bond =PERCENT; repeatable")
    ] = None,
    band: Annotated[str, typer.Option("--band", help="± percentage points around each target")] = "5",
    relative_band: Annotated[
        str | None, typer.Option("--relative-band", help="% of each target; the smaller band applies")
    ] = None,
    min_trade: Annotated[str, typer.Option("--min-trade", help="dollars; smaller trades are skipped")] = "100",
    url: Url = DEFAULT_URL,
    token: Token = None,
    as_json: Json = False,
) -> None:
    """Set a portfolio's targets (replacing any before); each dimension's weights sum to 100 at most."""
    body: dict[str, Any] = {
        "symbol": _weights(symbol, "--symbol"), "sector": _weights(sector, "--sector"),
        "asset_class": _weights(asset_class, "--asset-class"), "band_pp": band, "min_trade": min_trade,
    }  # fmt: skip
    if relative_band is not None:
        body["band_relative_pct"] = relative_band
    with Api(url, token) as api:
        saved = api.call("PUT", f"/portfolios/{_portfolio_id(api, portfolio)}/targets", json=body)
    emit(as_json, saved, lambda: _show_targets(saved))


@targets_app.command("show")
@handles_errors
def targets_show_command(
    portfolio: Portfolio, url: Url = DEFAULT_URL, token: Token = None, as_json: Json = False
) -> None:
    """A portfolio's targets, band and minimum trade."""
    with Api(url, token) as api:
        shown = api.call("GET", f"/portfolios/{_portfolio_id(api, portfolio)}/targets")
    emit(as_json, shown, lambda: _show_targets(shown))


@targets_app.command("clear")
@handles_errors
def targets_clear_command(
    portfolio: Portfolio, url: Url = DEFAULT_URL, token: Token = None, as_json: Json = False
) -> None:
    """Remove a portfolio's targets (its transactions stay)."""
    with Api(url, token) as api:
        pid = _portfolio_id(api, portfolio)
        api.call("DELETE", f"/portfolios/{pid}/targets")
    emit(as_json, {"cleared": pid}, lambda: Console().print(f"targets of {portfolio} cleared"))


def _show_targets(targets: dict[str, Any]) -> None:
    if not targets["set"]:
        err.print(f"No targets yet: {SET_HINT}", highlight=False)
        return
    table = Table("Dimension", "Key", "Target")
    for dimension, label in DIMENSION_OPTIONS:
        for key, weight in targets[dimension].items():
            table.add_row(label, key, f"{weight}%")
    console = Console()
    console.print(table)
    relative = f", or {targets['band_relative_pct']}% of the target if smaller" if targets["band_relative_pct"] else ""
    console.print(f"band ±{targets['band_pp']} pp{relative} · minimum trade ${targets['min_trade']}", highlight=False)


@portfolio_app.command("allocation")
@handles_errors
def allocation_command(
    portfolio: Portfolio,
    as_of: Annotated[str | None, typer.Option("--as-of", help="at this day's close (YYYY-MM-DD)")] = None,
    url: Url = DEFAULT_URL,
    token: Token = None,
    as_json: Json = False,
) -> None:
    """Weights against the targets by asset class, sector and symbol: drift, and in or out of band."""
    with Api(url, token) as api:
        pid = _portfolio_id(api, portfolio)
        allocation = api.call("GET", f"/portfolios/{pid}/allocation", params={"as_of": as_of} if as_of else {})

    def human() -> None:
        console = Console()
        if allocation["simulated"]:
            console.print("[yellow]SIMULATED prices[/yellow]")
        for dimension, label in DIMENSION_OPTIONS:
            table = Table(label, "Value", "Weight", "Target", "Drift", "Band", "Status", title=f"By {label.lower()}")
            for line in allocation[dimension]:
                status = line["status"].replace("_", " ")
                style = "red" if line["status"] == "out_of_band" else None
                table.add_row(
                    line["key"], line["value"], f"{line['weight_pct']}%", _or_dash(line["target_pct"], "%"),
                    _or_dash(line["drift_pp"], " pp"), _or_dash(line["band_pp"], " pp"), status, style=style,
                )  # fmt: skip
            console.print(table)
        console.print(f"value {allocation['total_value']} at the close of {allocation['as_of']}", highlight=False)
        if not allocation["targets"]["set"]:
            err.print(f"No targets yet: {SET_HINT}", highlight=False)
        for note in allocation["notes"]:
            err.print(f"note: {note}", highlight=False)

    emit(as_json, allocation, human)


@portfolio_app.command("rebalance")
@handles_errors
def rebalance_command(
    portfolio: Portfolio,
    prefer_losses: Annotated[
        bool, typer.Option("--prefer-losses", help="sell lots with unrealized losses first (tax-loss aware)")
    ] = False,
    fractional: Annotated[bool, typer.Option("--fractional", help="fractional shares (default: whole)")] = False,
    url: Url = DEFAULT_URL,
    token: Token = None,
    as_json: Json = False,
) -> None:
    """The trades that bring every out-of-band line back inside its band. Suggestions only: nothing is placed."""
    params = {"prefer_losses": prefer_losses, "fractional": fractional}
    with Api(url, token) as api:
        advice = api.call("GET", f"/portfolios/{_portfolio_id(api, portfolio)}/rebalance", params=params)

    def human() -> None:
        console = Console()
        if advice["simulated"]:
            console.print("[yellow]SIMULATED prices[/yellow]")
        if not advice["targets"]["set"]:
            err.print(f"No targets yet: {SET_HINT}", highlight=False)
        if advice["trades"]:
            table = Table("Side", "Symbol", "Qty", "Price", "Est. value", "Realized (lots picked)", "Realized (FIFO)")
            for t in advice["trades"]:
                table.add_row(t["side"], t["symbol"], t["qty"], t["price"], t["value"], t["realized_pnl"] or "",
                              t["realized_pnl_fifo"] or "")  # fmt: skip
            console.print(table)
            for t in advice["trades"]:
                console.print(f"{t['side']} {t['qty']} {t['symbol']} · preview {t['preview_url']}", highlight=False)
                console.print(f"  why: {t['reason']}", highlight=False)
            console.print(
                f"cash {advice['cash_before']} → {advice['cash_after']} · realized P&L {advice['realized_pnl']} "
                f"(FIFO {advice['realized_pnl_fifo']}). Nothing is placed: preview each trade on the desk's trade page.",
                highlight=False,
            )
        for s in advice["skipped"]:
            err.print(f"skipped: {s['reason']}", highlight=False)
        for action in advice["actions"]:
            console.print(f"{action['text']}{' · ' + action['preview_url'] if action['preview_url'] else ''}",
                          highlight=False)  # fmt: skip
        for note in advice["notes"]:
            err.print(f"note: {note}", highlight=False)

    emit(as_json, advice, human)


def _or_dash(value: str | None, unit: str) -> str:
    return "—" if value is None else f"{value}{unit}"


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
