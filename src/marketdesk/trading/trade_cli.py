"""`marketdesk trade …`: place and manage orders on a running desk, through its API (the same road as the web desk:
the order service, the risk engine, compliance, the broker).

    export MARKETDESK_TOKEN=…            # an access token (POST /api/v1/auth/login)
    marketdesk trade buy AAPL 10 --limit 190 --tif gtc
    marketdesk trade buy AAPL 10 --sl 180 --tp 210       # a bracket where the broker supports one
    marketdesk trade oco AAPL 10 --tp 210 --sl 180       # exit 10 held: take profit at 210 or stop out at 180
    marketdesk trade orders --json
    marketdesk trade cancel ORDER_ID
    marketdesk trade kill-switch on

It talks to the desk over HTTP rather than opening the database itself, so a paper account is only ever run by
the desk process that feeds it prices. `--account` names the account (default: your first; one called "Paper"
is opened for you if you have none).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console
from rich.table import Table

from marketdesk.cliutil import Json, emit, err, handles_errors
from marketdesk.errors import NotFound, Rejected, Temporary

trade_app = typer.Typer(help="Place and manage orders on a running desk (through its API).", no_args_is_help=True)

Url = Annotated[str, typer.Option("--url", help="the desk's address")]
Token = Annotated[
    str | None, typer.Option("--token", help="access token [env: MARKETDESK_TOKEN]", envvar="MARKETDESK_TOKEN")
]
Account = Annotated[str | None, typer.Option("--account", help="account name or id (default: your first)")]
DEFAULT_URL = "http://127.0.0.1:8000"
TIMEOUT_S = 15.0


class Api:
    """A small synchronous client of the desk's REST API that turns refusals into our errors."""

    def __init__(self, url: str, token: str | None) -> None:
        if not token:
            raise Rejected("no access token", hint="Sign in (POST /api/v1/auth/login) and set MARKETDESK_TOKEN.")
        self.client = httpx.Client(
            base_url=url.rstrip("/") + "/api/v1", headers={"Authorization": f"Bearer {token}"}, timeout=TIMEOUT_S
        )

    def __enter__(self) -> Api:
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.close()

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self.client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise Temporary(
                f"cannot reach the desk at {self.client.base_url}: {exc}", hint="Is `marketdesk up` running?"
            ) from None
        if response.status_code >= 400:
            try:
                error = response.json().get("error", {})
            except ValueError:
                error = {}
            message = error.get("message") or response.text[:200] or response.reason_phrase
            kind = NotFound if response.status_code == 404 else Temporary if response.status_code >= 500 else Rejected
            raise kind(str(message), hint=error.get("hint"))
        return response.json() if response.content else None

    def account_id(self, wanted: str | None) -> str:
        accounts = self.call("GET", "/accounts")
        if wanted:
            for account in accounts:
                if wanted in (account["id"], account["name"]):
                    return str(account["id"])
            names = ", ".join(a["name"] for a in accounts) or "none yet"
            raise NotFound(f"no account {wanted!r}", hint=f"Yours: {names}.")
        if accounts:
            return str(accounts[0]["id"])
        return str(self.call("POST", "/accounts", json={"name": "Paper"})["id"])


def _amount(text: str | None, field: str) -> str | None:
    if text is None:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise Rejected(f"{field}: {text!r} is not a number") from None
    if not value.is_finite() or value <= 0:
        raise Rejected(f"{field} must be a positive number, got {text}")
    return format(value, "f")


def _submit(api: Api, side: str, symbol: str, qty: str, limit: str | None, stop: str | None, tif: str,
            sl: str | None, tp: str | None, account: str | None) -> Any:  # fmt: skip
    kind = {(False, False): "market", (True, False): "limit", (False, True): "stop", (True, True): "stop_limit"}[
        (limit is not None, stop is not None)
    ]
    body = {
        "account_id": api.account_id(account), "symbol": symbol.upper(), "side": side, "qty": _amount(qty, "quantity"),
        "type": kind, "time_in_force": tif, "limit_price": _amount(limit, "--limit"), "stop_price": _amount(stop, "--stop"),
        "stop_loss": _amount(sl, "--sl"), "take_profit": _amount(tp, "--tp"),
    }  # fmt: skip
    return api.call("POST", "/orders", json={k: v for k, v in body.items() if v is not None})


def oco_body(account_id: str, symbol: str, qty: str, tp: str, sl: str, tif: str) -> dict[str, str]:
    """The POST /orders body of an OCO exit: a take-profit limit with a linked stop-loss. Its side follows from the
    prices: a take-profit above the stop-loss exits a long (sell), one below it covers a short (buy)."""
    take_profit, stop_loss = _amount(tp, "--tp"), _amount(sl, "--sl")
    if take_profit is None or stop_loss is None:
        raise Rejected("an OCO needs both --tp and --sl")
    if Decimal(take_profit) == Decimal(stop_loss):
        raise Rejected(f"--tp and --sl are both {take_profit}: an OCO's take-profit and stop-loss must differ")
    side = "sell" if Decimal(take_profit) > Decimal(stop_loss) else "buy"
    return {
        "account_id": account_id, "symbol": symbol.upper(), "side": side, "qty": _amount(qty, "quantity") or "",
        "type": "limit", "limit_price": take_profit, "time_in_force": tif, "take_profit": take_profit,
        "stop_loss": stop_loss, "order_class": "oco",
    }  # fmt: skip


def _place(side: str, symbol: str, qty: str, limit: str | None, stop: str | None, tif: str, sl: str | None,
           tp: str | None, account: str | None, url: str, token: str | None, as_json: bool) -> None:  # fmt: skip
    with Api(url, token) as api:
        placed = _submit(api, side, symbol, qty, limit, stop, tif, sl, tp, account)
    _report(placed, side, as_json)


def _report(placed: Any, side: str, as_json: bool) -> None:
    def human() -> None:
        colour = "red" if placed["status"] == "rejected" else "green"
        Console().print(
            f"[{colour}]{placed['status'].upper()}[/{colour}] {side.upper()} {placed['qty']} {placed['symbol']} "
            f"({placed['type']}, {placed['time_in_force']}) · order {placed['id']}",
            highlight=False,
        )
        if placed.get("reason"):
            err.print(f"reason: {placed['reason']}", highlight=False)

    emit(as_json, placed, human)
    if placed["status"] == "rejected":
        raise typer.Exit(1)


def _order_command(side: str) -> Any:
    @handles_errors
    def command(
        symbol: Annotated[str, typer.Argument(help="the ticker")],
        qty: Annotated[str, typer.Argument(help="how many (fractional where the broker allows)")],
        limit: Annotated[str | None, typer.Option("--limit", help="limit price")] = None,
        stop: Annotated[str | None, typer.Option("--stop", help="stop price")] = None,
        tif: Annotated[str, typer.Option("--tif", help="day, gtc, ioc or fok")] = "day",
        sl: Annotated[str | None, typer.Option("--sl", help="bracket stop-loss price")] = None,
        tp: Annotated[str | None, typer.Option("--tp", help="bracket take-profit price")] = None,
        account: Account = None,
        url: Url = DEFAULT_URL,
        token: Token = None,
        as_json: Json = False,
    ) -> None:
        _place(side, symbol, qty, limit, stop, tif, sl, tp, account, url, token, as_json)

    command.__doc__ = f"{side.capitalize()} SYMBOL QTY: market, or --limit/--stop; --sl/--tp for a bracket."
    return command


trade_app.command("buy")(_order_command("buy"))
trade_app.command("sell")(_order_command("sell"))


@trade_app.command("oco")
@handles_errors
def oco_command(
    symbol: Annotated[str, typer.Argument(help="the ticker held")],
    qty: Annotated[str, typer.Argument(help="how many to exit")],
    tp: Annotated[str, typer.Option("--tp", help="take-profit (limit) price")],
    sl: Annotated[str, typer.Option("--sl", help="stop-loss (stop) price")],
    tif: Annotated[str, typer.Option("--tif", help="day or gtc")] = "gtc",
    account: Account = None,
    url: Url = DEFAULT_URL,
    token: Token = None,
    as_json: Json = False,
) -> None:
    """Exit QTY of a position held with an OCO pair: a take-profit and a stop-loss, whichever fills first cancels
    the other. --tp above --sl sells a long; --tp below --sl buys back a short."""
    with Api(url, token) as api:
        body = oco_body(api.account_id(account), symbol, qty, tp, sl, tif)
        placed = api.call("POST", "/orders", json=body)
    _report(placed, body["side"], as_json)


@trade_app.command("orders")
@handles_errors
def orders_command(
    status: Annotated[str | None, typer.Option("--status", help="open, filled, canceled, rejected …")] = None,
    account: Account = None,
    url: Url = DEFAULT_URL,
    token: Token = None,
    as_json: Json = False,
) -> None:
    """Your orders, newest first."""
    with Api(url, token) as api:
        params = {"status": status} if status else {}
        if account:
            params["account_id"] = api.account_id(account)
        rows = api.call("GET", "/orders", params=params)

    def human() -> None:
        if not rows:
            err.print("no orders yet: place one with `marketdesk trade buy SYMBOL QTY`", highlight=False)
            return
        table = Table("Order", "Symbol", "Side", "Qty", "Type", "Status", "Filled", "Avg price", "Link", "Reason")
        for r in rows:
            table.add_row(r["id"][:12], r["symbol"], r["side"], r["qty"], r["type"], r["status"], r["filled_qty"],
                          r["average_fill_price"] or "—", _link(r), (r["reason"] or "")[:60])  # fmt: skip
        Console().print(table)

    emit(as_json, rows, human)


def _link(row: dict[str, Any]) -> str:
    """How an order is tied to others: a leg names its parent (an exit of a bracket or an OCO)."""
    parent = row.get("parent_id")
    if parent:
        leg = "take-profit" if row.get("type") == "limit" else "stop-loss"
        return f"{leg} of {str(parent)[:12]}"
    order_class = row.get("order_class") or ""
    return "" if order_class == "simple" else order_class


@trade_app.command("positions")
@handles_errors
def positions_command(
    account: Account = None, url: Url = DEFAULT_URL, token: Token = None, as_json: Json = False
) -> None:
    """Open positions with market value and P&L."""
    with Api(url, token) as api:
        rows = api.call("GET", "/positions", params={"account_id": api.account_id(account)} if account else {})

    def human() -> None:
        if not rows:
            err.print("no open positions", highlight=False)
            return
        table = Table("Symbol", "Qty", "Avg price", "Last", "Value", "Unrealized", "Realized")
        for r in rows:
            table.add_row(r["symbol"], r["qty"], r["average_price"], r["market_price"] or "—", r["market_value"] or "—",
                          r["unrealized_pnl"] or "—", r["realized_pnl"])  # fmt: skip
        Console().print(table)

    emit(as_json, rows, human)


@trade_app.command("cancel")
@handles_errors
def cancel_command(
    order_id: Annotated[str, typer.Argument(help="the order's id")],
    url: Url = DEFAULT_URL,
    token: Token = None,
    as_json: Json = False,
) -> None:
    """Cancel a working order."""
    with Api(url, token) as api:
        canceled = api.call("DELETE", f"/orders/{order_id}")
    emit(as_json, canceled, lambda: Console().print(f"order {canceled['id']} is {canceled['status']}"))


@trade_app.command("kill-switch")
@handles_errors
def kill_switch_command(
    state: Annotated[str, typer.Argument(help="on (halt: only cancels pass) or off")],
    account: Account = None,
    reason: Annotated[str, typer.Option("--reason", help="why, for the audit log")] = "",
    url: Url = DEFAULT_URL,
    token: Token = None,
    as_json: Json = False,
) -> None:
    """Halt an account (on) or let it trade again (off)."""
    if state not in {"on", "off"}:
        raise Rejected(f"kill-switch takes on or off, not {state!r}")
    with Api(url, token) as api:
        account_id = api.account_id(account)
        result = api.call("POST", f"/accounts/{account_id}/kill-switch", json={"on": state == "on", "reason": reason})
    emit(as_json, result, lambda: Console().print(f"account {result['name']} is {result['state'].upper()}"))


@trade_app.command("corporate-actions")
@handles_errors
def corporate_actions_command(
    account: Annotated[
        str | None, typer.Option("--account", help="account name or id (default: all your paper accounts)")
    ] = None,
    url: Url = DEFAULT_URL,
    token: Token = None,
    as_json: Json = False,
) -> None:
    """Apply the splits and dividends now due to your paper accounts, and list what this run applied (the desk
    also applies them at start-up and as each New York day begins)."""
    with Api(url, token) as api:
        if account:
            account_ids = [api.account_id(account)]
        else:
            account_ids = [str(a["id"]) for a in api.call("GET", "/accounts") if a["broker"] == "paper"]
        result: dict[str, list[Any]] = {"applied": [], "not_applied": [], "problems": []}
        for account_id in account_ids:
            done = api.call("POST", f"/accounts/{account_id}/corporate-actions")
            for key, rows in result.items():
                rows.extend(done[key])

    def human() -> None:
        if result["applied"]:
            table = Table("Account", "Symbol", "Action", "Ex-date", "Shares before", "Shares after", "Cash",
                          "Orders canceled", title="Applied")  # fmt: skip
            for r in result["applied"]:
                split = r["kind"] == "split"
                action = f"split {r['value']} for 1" if split else f"dividend {r['value']} a share"
                table.add_row(r["account"], r["symbol"], action, r["ex_date"], r["shares_before"], r["shares_after"],
                              "—" if split else r["cash"], str(r["canceled_orders"]))  # fmt: skip
            Console().print(table)
        else:
            err.print("nothing was due: no split or dividend applied", highlight=False)
        for r in result["not_applied"]:
            err.print(f"[yellow]not applied:[/yellow] {r['account']} {r['symbol']} {r['kind']} of {r['ex_date']}: "
                      f"{r['reason']}", highlight=False)  # fmt: skip
        for problem in result["problems"]:
            err.print(f"[red]not done:[/red] {problem}", highlight=False)

    emit(as_json, result, human)
