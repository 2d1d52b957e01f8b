"""The trade page in real Chromium against a real desk server: opening a paper account, a previewed market buy
that fills live, a risk denial with its reason, a confirmed cancel, the kill switch, what a viewer sees, the
page's order subscription, the ticket's recommended position size with "Use safe size", and trade links that fill
and preview the ticket (never submitting it). The e2e desk's simulated market is always open and ticks every
0.5 s, so a market order fills within a couple of seconds.

The admin's browser (`page`) trades on the admin's own first account; every other test makes a trader of its
own over the API, so no test depends on what another one left behind."""

from __future__ import annotations

import math
import re
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Locator, Page, Request, expect

from support.browser_users import new_user
from support.ticket import look_up_on_the_ticket

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

PASSWORD = "amber quarry lantern 61"  # noqa: S105 (throwaway accounts of the test desk)
GAUGE = "marketdesk_web_order_streams"
FILL_TIMEOUT_MS = 15_000

SignedInBrowser = Callable[[str, str], Page]


@dataclass
class Trader:
    """A user of the test desk with a paper account, and an API client signed in as them."""

    email: str
    user_id: str
    account_id: str
    client: httpx.Client


def wait_connected(page: Page) -> None:
    """Wait for NiceGUI's websocket handshake: from then on, clicks reach the server."""
    page.wait_for_function("() => window.did_handshake === true")


def open_trade(page: Page) -> None:
    page.goto("/trade")
    wait_connected(page)


def wait_until(condition: Callable[[], bool], timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.2)


def equities(api: httpx.Client) -> list[str]:
    """The equities of the admin's first watchlist (the simulated market's, seeded), in its order."""
    symbols = api.get("/api/v1/watchlists").json()[0]["symbols"]
    found = [s for s in symbols if api.get(f"/api/v1/symbols/{s}").json()["symbol"]["asset_class"] == "equity"]
    assert found, f"no equity among {symbols}"
    return found


@pytest.fixture
def make_trader(api: httpx.Client, desk_url: str) -> Iterator[Callable[..., Trader]]:
    """`make_trader(kind=..., policy=...)`: a new trader with a paper account opened over the API."""
    clients: list[httpx.Client] = []

    def make(*, kind: str = "margin", policy: str = "auto") -> Trader:
        user = new_user(api, desk_url, "trader", PASSWORD)
        email, client = user.email, user.client
        clients.append(client)
        opened = client.post("/api/v1/accounts", json={"name": "Paper", "kind": kind, "policy": policy})
        assert opened.status_code == 201, opened.text
        return Trader(email, user.id, str(opened.json()["id"]), client)

    yield make
    for client in clients:
        client.close()


def ticket_look_up(page: Page, symbol: str) -> Decimal:
    """Type `symbol` in the ticket and read the last trade the ticket shows under it (once it is sized)."""
    return look_up_on_the_ticket(page, symbol)


def preview(page: Page, *, allowed: bool) -> Locator:
    page.get_by_test_id("ticket-preview").click()
    headline = page.get_by_test_id("preview-headline")
    expect(headline).to_have_attribute("data-allowed", "true" if allowed else "false")
    return headline


def submit(page: Page, outcome: str) -> str:
    expect(page.get_by_test_id("ticket-submit")).to_be_enabled()
    page.get_by_test_id("ticket-submit").click()
    result = page.get_by_test_id("ticket-result")
    expect(result).to_have_attribute("data-outcome", outcome)
    return result.inner_text()


def not_now(page: Page, symbol: str) -> None:
    """The ticket asks why a new position was opened: answer "Not now" (nothing is written)."""
    expect(page.get_by_test_id("ticket-result")).to_have_attribute("data-thesis", "asked")
    expect(page.get_by_test_id("thesis-prompt-question")).to_have_text(f"Why are you buying {symbol}?")
    page.get_by_test_id("thesis-prompt-later").click()
    expect(page.get_by_test_id("thesis-prompt-question")).to_be_hidden()


def choose(page: Page, group: str, label: str) -> None:
    page.get_by_test_id(group).get_by_role("button", name=label, exact=True).click()


def order_rows(page: Page) -> Locator:
    return page.locator("[data-testid=order-row]")


def confirm(page: Page, question: str, *, ok: bool) -> None:
    dialog = page.locator(".q-dialog").filter(has=page.get_by_test_id("trade-confirm-question"))
    expect(dialog.get_by_test_id("trade-confirm-question")).to_contain_text(question)
    dialog.get_by_test_id("trade-confirm-ok" if ok else "trade-confirm-keep").click()
    expect(dialog).to_be_hidden()


def orders(client: httpx.Client) -> list[dict[str, Any]]:
    answer = client.get("/api/v1/orders")
    assert answer.status_code == 200, answer.text
    return list(answer.json())


def gauge(desk_url: str) -> float:
    found = re.search(rf"^{GAUGE} (\S+)$", httpx.get(f"{desk_url}/metrics", timeout=5.0).text, re.MULTILINE)
    assert found is not None, f"{GAUGE} is missing from /metrics"
    return float(found.group(1))


def test_a_trader_opens_a_paper_account_previews_a_market_buy_and_watches_it_fill(
    page: Page, api: httpx.Client, screenshots: Path
) -> None:
    assert api.get("/api/v1/accounts").json() == [], "the admin must come to the trade page without an account"
    api_calls: list[str] = []

    def note(request: Request) -> None:
        if "/api/" in request.url:
            api_calls.append(request.url)

    page.on("request", note)
    open_trade(page)
    expect(page).to_have_title("Trade · marketdesk")
    expect(page.get_by_test_id("nav-trade")).to_be_visible()
    expect(page.get_by_test_id("trade-empty")).to_contain_text("You have no trading account yet")

    page.get_by_test_id("empty-open-account").click()
    expect(page.get_by_test_id("account-state")).to_have_text("ACTIVE")
    expect(page.get_by_test_id("balance-equity")).to_have_text("$100,000.00")
    expect(page.get_by_test_id("blotter-empty")).to_be_visible()
    expect(page.get_by_test_id("positions-empty")).to_be_visible()
    accounts = api.get("/api/v1/accounts").json()
    assert [(a["name"], a["broker"], a["state"]) for a in accounts] == [("Paper", "paper", "active")]

    symbol = equities(api)[0]
    last = ticket_look_up(page, symbol)
    sizing = page.get_by_test_id("ticket-sizing")
    expect(sizing).to_have_attribute("data-state", "ready")
    expect(sizing.get_by_test_id("ticket-sizing-headline")).to_have_text(re.compile(r"^Recommended: "))
    expect(sizing.get_by_test_id("ticket-sizing-basis")).to_have_text(
        "Sizes a new buy for account Paper, equity $100,000."
    )
    qty = max(1, int(3000 // last))  # about $3,000: well inside 10% of $100,000
    page.get_by_test_id("ticket-qty").fill(str(qty))
    expect(page.get_by_test_id("ticket-submit")).to_be_disabled()  # no submitting before a preview
    expect(preview(page, allowed=True)).to_contain_text(f"Allowed: BUY {qty} {symbol} at market (day)")
    price = Decimal(page.get_by_test_id("preview-price").inner_text().replace(",", ""))
    cost = Decimal(page.get_by_test_id("preview-cost").inner_text().removeprefix("$").replace(",", ""))
    assert abs(cost - price * qty) <= Decimal("0.005") * qty, (cost, price, qty)  # the price is shown rounded
    expect(page.get_by_test_id("preview-risk")).to_have_attribute("data-passed", "true")
    checks = page.get_by_test_id("preview-check")
    names = {str(c.get_attribute("data-check")): c.get_attribute("data-passed") for c in checks.all()}
    assert names == {"trading_state": "true", "throttle": "true", "short_selling": "true", "position_pct": "true"}
    expect(page.get_by_test_id("preview-policy")).to_have_text("Intraday margin")  # auto, after 2026-06-04
    expect(page.get_by_test_id("preview-compliance-reason")).to_contain_text("Allowed")
    assert orders(api) == []  # a preview places nothing

    text = submit(page, "placed")
    assert re.match(rf"(Accepted|Filled): BUY {qty} {symbol} at market \(day\)", text), text
    not_now(page, symbol)
    assert api.get("/api/v1/journal/theses").json() == []
    row = order_rows(page).first
    # the fill is pushed to the open page: no reload, no polling
    expect(row).to_have_attribute("data-status", "filled", timeout=FILL_TIMEOUT_MS)
    expect(row.locator("[data-field=filled]")).to_have_text(str(qty))
    [placed] = orders(api)
    assert (placed["status"], placed["filled_qty"]) == ("filled", str(qty))
    average = Decimal(placed["average_fill_price"])
    expect(row.locator("[data-field=avg_price]")).to_have_text(f"{average:,.2f}")
    position = page.locator(f'[data-testid=position-row][data-symbol="{symbol}"]')
    expect(position.locator("[data-field=qty]")).to_have_text(str(qty))
    expect(position.locator("[data-field=avg_price]")).to_have_text(f"{average:,.2f}")
    expect(position.locator("[data-field=market_value]")).to_have_text(re.compile(r"^\$\d"))
    requirement = page.locator("[data-testid=compliance-value][data-label='Margin requirement']")
    expect(requirement).not_to_have_text("$0.00")  # the position now needs margin
    expect(page.get_by_test_id("ticket-submit")).to_be_disabled()  # the next order needs its own preview
    preview(page, allowed=True)
    expect(page.locator(".q-notification")).to_have_count(0, timeout=10_000)  # the toasts have gone
    page.screenshot(path=str(screenshots / "trade.png"), full_page=True)
    assert api_calls == [], f"the page called the API from the browser: {api_calls}"


def test_an_order_worth_over_10_percent_of_equity_is_denied_with_its_reason(
    make_trader: Callable[..., Trader], signed_in_browser: SignedInBrowser, api: httpx.Client
) -> None:
    trader = make_trader()
    page = signed_in_browser(trader.email, PASSWORD)
    open_trade(page)
    symbol = equities(api)[1]
    last = ticket_look_up(page, symbol)
    qty = math.ceil(20000 / last)  # about 20% of the $100,000 paper equity
    page.get_by_test_id("ticket-qty").fill(str(qty))

    preview(page, allowed=False)
    expect(page.get_by_test_id("preview-risk")).to_have_attribute("data-passed", "false")
    reason = page.get_by_test_id("preview-risk-reason")
    expect(reason).to_have_text(re.compile(rf"^Would make {symbol} \d+\.\d+% of equity .*; your limit is 10%\.$"))
    expect(page.locator("[data-testid=preview-check][data-check=position_pct]")).to_have_attribute(
        "data-passed", "false"
    )
    expect(page.get_by_test_id("preview-compliance")).to_have_attribute("data-passed", "none")
    expect(page.get_by_test_id("preview-compliance-reason")).to_have_text(
        "Not asked: the risk engine refused the order first."
    )

    text = submit(page, "refused")
    assert re.match(rf"Rejected: BUY {qty} {symbol} at market \(day\)\. Would make {symbol} .* of equity", text), text
    expect(page.get_by_test_id("ticket-result")).to_have_attribute("data-thesis", "not-asked")  # nothing opened
    row = order_rows(page).first
    expect(row).to_have_attribute("data-status", "rejected")
    expect(row.locator("[data-field=reason]")).to_contain_text(f"would make {symbol}")
    [denied] = orders(trader.client)
    assert denied["status"] == "rejected"
    assert re.search(rf"would make {symbol} \d+\.\d+% of equity", denied["reason"]), denied["reason"]
    expect(row.locator("[data-field=reason]")).to_have_text(denied["reason"])
    expect(page.get_by_test_id("cancel-order")).to_have_count(0)  # a denied order has nothing to cancel


def test_a_resting_limit_order_is_cancelled_only_after_confirmation(
    make_trader: Callable[..., Trader], signed_in_browser: SignedInBrowser, api: httpx.Client
) -> None:
    trader = make_trader()
    page = signed_in_browser(trader.email, PASSWORD)
    open_trade(page)
    symbol = equities(api)[2]
    last = ticket_look_up(page, symbol)
    limit = (last * Decimal("0.93")).quantize(Decimal("0.01"))  # 7% under the market: inside the 10% collar
    choose(page, "ticket-type", "Limit")
    choose(page, "ticket-tif", "GTC")
    expect(page.get_by_test_id("ticket-stop")).to_be_hidden()
    page.get_by_test_id("ticket-limit").fill(str(limit))
    page.get_by_test_id("ticket-qty").fill("2")
    preview(page, allowed=True)
    expect(page.locator("[data-testid=preview-check][data-check=price_collar]")).to_have_attribute(
        "data-passed", "true"
    )
    text = submit(page, "placed")
    assert text.startswith(f"Accepted: BUY 2 {symbol} limit {limit:,.2f} (gtc)"), text
    not_now(page, symbol)

    row = order_rows(page).first
    expect(row).to_have_attribute("data-status", "accepted")
    order_id = str(row.get_attribute("data-order"))
    row.get_by_test_id("cancel-order").click()
    confirm(page, f"Cancel BUY 2 {symbol} limit {limit:,.2f} (gtc)?", ok=False)
    expect(row).to_have_attribute("data-status", "accepted")
    assert trader.client.get(f"/api/v1/orders/{order_id}").json()["order"]["status"] == "accepted"

    row.get_by_test_id("cancel-order").click()
    confirm(page, "Cancel BUY 2", ok=True)
    expect(order_rows(page).first).to_have_attribute("data-status", "canceled")
    expect(page.get_by_test_id("cancel-order")).to_have_count(0)
    assert trader.client.get(f"/api/v1/orders/{order_id}").json()["order"]["status"] == "canceled"


def test_the_kill_switch_halts_new_orders_until_it_is_turned_off(
    make_trader: Callable[..., Trader], signed_in_browser: SignedInBrowser, api: httpx.Client
) -> None:
    trader = make_trader(kind="cash")
    page = signed_in_browser(trader.email, PASSWORD)
    open_trade(page)
    expect(page.get_by_test_id("compliance-policy")).to_have_attribute("data-policy", "cash-account")
    expect(page.locator("[data-testid=compliance-value][data-label='Settled cash']")).to_have_text("$100,000.00")
    state = page.get_by_test_id("account-state")
    expect(state).to_have_text("ACTIVE")
    expect(page.get_by_test_id("kill-switch-off")).to_be_hidden()

    page.get_by_test_id("kill-switch-on").click()
    confirm(page, "Turn the kill switch on for Paper?", ok=False)
    expect(state).to_have_text("ACTIVE")
    assert trader.client.get(f"/api/v1/accounts/{trader.account_id}").json()["state"] == "active"

    page.get_by_test_id("kill-switch-on").click()
    confirm(page, "Turn the kill switch on for Paper?", ok=True)
    expect(state).to_have_text("HALTED")
    expect(state).to_have_attribute("data-state", "halted")
    expect(page.get_by_test_id("account-state-reason")).to_have_text("kill switch on")
    expect(page.get_by_test_id("kill-switch-on")).to_be_hidden()
    assert trader.client.get(f"/api/v1/accounts/{trader.account_id}").json()["state"] == "halted"

    symbol = equities(api)[0]
    ticket_look_up(page, symbol)
    page.get_by_test_id("ticket-qty").fill("1")
    preview(page, allowed=False)
    expect(page.get_by_test_id("preview-risk-reason")).to_have_text("The kill switch is on: only cancels pass.")
    text = submit(page, "refused")
    assert text == f"Rejected: BUY 1 {symbol} at market (day). The kill switch is on: only cancels pass.", text
    expect(order_rows(page).first.locator("[data-field=reason]")).to_have_text(
        "the kill switch is on: only cancels pass"
    )

    page.get_by_test_id("kill-switch-off").click()
    confirm(page, "Turn the kill switch off for Paper?", ok=True)
    expect(state).to_have_text("ACTIVE")
    assert trader.client.get(f"/api/v1/accounts/{trader.account_id}").json()["state"] == "active"
    preview(page, allowed=True)


def test_a_viewer_sees_orders_positions_and_compliance_but_no_trading_controls(
    make_trader: Callable[..., Trader], signed_in_browser: SignedInBrowser, api: httpx.Client
) -> None:
    trader = make_trader(policy="legacy-pdt")
    symbol = equities(api)[1]
    bought = trader.client.post(
        "/api/v1/orders", json={"account_id": trader.account_id, "symbol": symbol, "side": "buy", "qty": "1"}
    )
    assert bought.status_code == 201, bought.text
    last = Decimal(api.get(f"/api/v1/quotes/{symbol}").json()["last"])
    resting = trader.client.post(
        "/api/v1/orders",
        json={"account_id": trader.account_id, "symbol": symbol, "side": "buy", "qty": "1", "type": "limit",
              "limit_price": str((last * Decimal("0.93")).quantize(Decimal("0.01"))), "time_in_force": "gtc"},
    )  # fmt: skip
    assert resting.json()["status"] == "accepted", resting.text
    wait_until(lambda: trader.client.get(f"/api/v1/orders/{bought.json()['id']}").json()["order"]["status"] == "filled")

    # as a trader, the same account offers every control
    as_trader = signed_in_browser(trader.email, PASSWORD)
    open_trade(as_trader)
    for control in ("ticket-submit", "ticket-preview", "kill-switch-on", "cancel-order", "new-account"):
        expect(as_trader.get_by_test_id(control)).to_be_visible()

    demoted = api.patch(f"/api/v1/admin/users/{trader.user_id}", json={"role": "viewer"})
    assert demoted.status_code == 200, demoted.text
    # the page the trader left open still shows its controls, but its handlers read the role again and refuse
    as_trader.get_by_test_id("cancel-order").click()
    confirm(as_trader, "Cancel BUY 1", ok=True)
    expect(as_trader.locator(".q-notification")).to_contain_text("Viewers cannot trade; you are a viewer.")
    assert trader.client.get(f"/api/v1/orders/{resting.json()['id']}").json()["order"]["status"] == "accepted"
    viewer = signed_in_browser(trader.email, PASSWORD)
    open_trade(viewer)
    expect(viewer.get_by_test_id("user-role")).to_have_text("viewer")
    expect(viewer.get_by_test_id("account-state")).to_have_text("ACTIVE")
    expect(order_rows(viewer)).to_have_count(2)
    expect(viewer.locator("[data-testid=order-row][data-status=filled]")).to_have_count(1)
    expect(viewer.locator("[data-testid=order-row][data-status=accepted]")).to_have_count(1)
    expect(viewer.locator(f'[data-testid=position-row][data-symbol="{symbol}"] [data-field=qty]')).to_have_text("1")
    expect(viewer.get_by_test_id("compliance-policy")).to_have_attribute("data-policy", "legacy-pdt")
    expect(viewer.locator("[data-testid=compliance-value][data-label='Day trades used']")).to_have_text("0 of 3")
    expect(viewer.get_by_test_id("viewer-notice")).to_be_visible()
    for control in (
        "ticket-section", "ticket-submit", "ticket-preview", "cancel-order", "kill-switch-on", "kill-switch-off",
        "new-account",
    ):  # fmt: skip
        expect(viewer.get_by_test_id(control)).to_have_count(0)

    # a viewer with no account is told why there is no button to open one
    newcomer = f"viewer.{secrets.token_hex(4)}@example.com"
    made = api.post("/api/v1/admin/users", json={"email": newcomer, "password": PASSWORD, "role": "viewer"})
    assert made.status_code == 201, made.text
    empty = signed_in_browser(newcomer, PASSWORD)
    open_trade(empty)
    expect(empty.get_by_test_id("trade-empty")).to_contain_text("Viewers cannot open one")
    expect(empty.get_by_test_id("empty-open-account")).to_have_count(0)


def test_a_second_account_opens_from_the_dialog_and_the_picker_switches_between_them(
    make_trader: Callable[..., Trader], signed_in_browser: SignedInBrowser
) -> None:
    trader = make_trader()
    page = signed_in_browser(trader.email, PASSWORD)
    open_trade(page)
    picker = page.get_by_test_id("account-picker")
    expect(picker).to_contain_text("Paper · paper margin")
    expect(page.get_by_test_id("compliance-policy")).to_have_attribute("data-policy", "intraday-margin")

    page.get_by_test_id("new-account").click()
    dialog = page.locator(".q-dialog").filter(has=page.get_by_test_id("dialog-name"))
    expect(dialog.get_by_test_id("dialog-name")).to_have_value("Paper 2")  # a name the trader has not taken
    dialog.get_by_test_id("dialog-kind").click()
    page.get_by_role("option", name="Cash", exact=True).click()
    dialog.get_by_test_id("dialog-open-account").click()
    expect(dialog).to_be_hidden()
    expect(picker).to_contain_text("Paper 2 · paper cash")
    expect(page.get_by_test_id("compliance-policy")).to_have_attribute("data-policy", "cash-account")
    names = {a["name"]: a["kind"] for a in trader.client.get("/api/v1/accounts").json()}
    assert names == {"Paper": "margin", "Paper 2": "cash"}

    open_trade(page)  # the browser remembers the account it last traded (not the first one, the default)
    expect(picker).to_contain_text("Paper 2 · paper cash")
    picker.click()
    page.get_by_role("option", name="Paper · paper margin", exact=True).click()
    expect(picker).to_contain_text("Paper · paper margin")
    expect(page.get_by_test_id("compliance-policy")).to_have_attribute("data-policy", "intraday-margin")


def test_the_order_subscription_opens_with_the_page_and_closes_when_it_goes(page: Page, desk_url: str) -> None:
    wait_until(lambda: gauge(desk_url) == 0)  # the pages of earlier tests have gone
    open_trade(page)
    wait_until(lambda: gauge(desk_url) == 1)
    page.context.close()
    # NiceGUI deletes the client after its reconnect timeout; the page's subscription is then closed
    wait_until(lambda: gauge(desk_url) == 0)


SAFE_TEXT = re.compile(r"^Safe choice: ([\d.]+)% · \$([\d,.]+) · (\d+) shares?$")


def test_the_ticket_sizes_the_symbol_and_use_safe_size_fills_the_quantity(
    make_trader: Callable[..., Trader], signed_in_browser: SignedInBrowser, api: httpx.Client
) -> None:
    trader = make_trader()
    page = signed_in_browser(trader.email, PASSWORD)
    open_trade(page)
    expect(page.get_by_test_id("ticket-sizing")).to_be_hidden()  # nothing to size before a symbol
    symbol = equities(api)[3]
    last = ticket_look_up(page, symbol)
    sizing = page.get_by_test_id("ticket-sizing")
    expect(sizing).to_have_attribute("data-state", "ready")
    expect(sizing).to_have_attribute("data-symbol", symbol)
    safe = sizing.get_by_test_id("ticket-sizing-safe")
    expect(safe).to_have_text(SAFE_TEXT)
    found = SAFE_TEXT.match(safe.inner_text())
    assert found is not None
    percent, dollars, shares = Decimal(found[1]), Decimal(found[2].replace(",", "")), int(found[3])
    # the safe choice's dollars are its percent of the $100,000 equity (both rounded down), and its shares are
    # what those dollars buy at the price the box was worked out at (within a tick of the last trade shown)
    assert percent * 1000 <= dollars < (percent + Decimal("0.01")) * 1000
    assert shares == int(str(safe.get_attribute("data-shares")))
    assert abs(shares - dollars / last) <= Decimal("0.05") * dollars / last + 1

    api_answer = trader.client.get("/api/v1/sizing", params={"symbol": symbol, "account_id": trader.account_id})
    assert api_answer.status_code == 200, api_answer.text
    body = api_answer.json()
    reasons = sizing.get_by_test_id("ticket-sizing-reason")
    assert reasons.nth(0).inner_text() == body["reasons"][0]["text"]  # the verdict's rule, as the API words it
    assert sizing.get_by_test_id("ticket-sizing-stars").get_attribute("data-stars") == str(body["stars"])

    page.get_by_test_id("ticket-sizing-use-safe").click()
    expect(page.get_by_test_id("ticket-qty")).to_have_value(str(shares))
    expect(preview(page, allowed=True)).to_contain_text(f"Allowed: BUY {shares} {symbol} at market (day)")
    assert orders(trader.client) == []


def sized_ticket(
    make_trader: Callable[..., Trader], signed_in_browser: SignedInBrowser, symbol: str
) -> tuple[Trader, Page, str]:
    """A new trader's trade page with `symbol` looked up on the ticket and its position size shown."""
    trader = make_trader()
    page = signed_in_browser(trader.email, PASSWORD)
    open_trade(page)
    ticket_look_up(page, symbol)
    expect(page.get_by_test_id("ticket-sizing")).to_have_attribute("data-state", "ready")
    return trader, page, symbol


def test_looking_the_same_symbol_up_again_keeps_its_size_in_view(
    make_trader: Callable[..., Trader], signed_in_browser: SignedInBrowser, api: httpx.Client
) -> None:
    """The size box stands above the ticket's fields and buttons: a box that shrank to a spinner and grew back
    would move them under the pointer. Looking up the symbol already sized keeps the size shown meanwhile."""
    _, page, symbol = sized_ticket(make_trader, signed_in_browser, equities(api)[5])
    sizing = page.get_by_test_id("ticket-sizing")
    page.evaluate(
        """() => {
            const box = document.querySelector('[data-testid=ticket-sizing]');
            window.sizingStates = [];
            new MutationObserver(() => window.sizingStates.push(box.getAttribute('data-state')))
                .observe(box, {attributes: true, attributeFilter: ['data-state']});
        }"""
    )
    ticket_look_up(page, symbol)  # returns once this look-up's sizing has ended
    assert "loading" not in page.evaluate("() => window.sizingStates")
    expect(sizing).to_have_attribute("data-state", "ready")
    expect(sizing).to_have_attribute("data-symbol", symbol)


def test_sizing_again_leaves_the_use_safe_size_button_in_place_and_it_takes_the_size_shown(
    make_trader: Callable[..., Trader], signed_in_browser: SignedInBrowser, api: httpx.Client
) -> None:
    trader, page, _ = sized_ticket(make_trader, signed_in_browser, equities(api)[3])
    sizing = page.get_by_test_id("ticket-sizing")
    button = page.get_by_test_id("ticket-sizing-use-safe").element_handle()
    drawn = int(str(sizing.get_attribute("data-sized")))
    # an order event makes the page read the account again and the ticket size the symbol again (its price may
    # have moved meanwhile, and the size with it)
    placed = trader.client.post(
        "/api/v1/orders",
        json={"account_id": trader.account_id, "symbol": equities(api)[4], "side": "buy", "qty": "1",
              "type": "limit", "limit_price": "1", "time_in_force": "gtc"},
    )  # fmt: skip
    assert placed.status_code == 201, placed.text
    expect(sizing).to_have_attribute("data-sized", re.compile(rf"^(?!{drawn}$)\d+$"))  # sized again since
    assert button.evaluate("element => element.isConnected"), "the button was drawn again under the pointer"
    button.click()
    qty = page.get_by_test_id("ticket-qty")
    expect(qty).to_have_value(re.compile(r"^[1-9]\d*$"))
    assert qty.input_value() == page.get_by_test_id("ticket-sizing-safe").get_attribute("data-shares")


def test_a_trade_link_fills_the_ticket_and_previews_it_without_submitting(
    make_trader: Callable[..., Trader], signed_in_browser: SignedInBrowser, api: httpx.Client
) -> None:
    trader = make_trader()
    page = signed_in_browser(trader.email, PASSWORD)
    symbol = equities(api)[2]
    page.goto(f"/trade?symbol={symbol.lower()}&side=buy&qty=3")
    wait_connected(page)
    expect(page.get_by_test_id("ticket-symbol")).to_have_value(symbol)
    expect(page.get_by_test_id("ticket-qty")).to_have_value("3")
    expect(page.get_by_test_id("ticket-side").get_by_role("button", name="Buy", exact=True)).to_have_class(
        re.compile("bg-primary")
    )
    headline = page.get_by_test_id("preview-headline")
    expect(headline).to_have_attribute("data-allowed", "true")
    expect(headline).to_contain_text(f"Allowed: BUY 3 {symbol} at market (day)")
    expect(page.get_by_test_id("preview-risk")).to_have_attribute("data-passed", "true")
    expect(page.get_by_test_id("preview-policy")).to_have_text("Intraday margin")
    expect(page.get_by_test_id("preview-compliance-reason")).to_contain_text("Allowed")
    expect(page.get_by_test_id("ticket-sizing")).to_have_attribute("data-state", "ready")
    expect(page.get_by_test_id("ticket-submit")).to_be_enabled()  # ready to submit, but only a person submits
    expect(page.get_by_test_id("trade-link-error")).to_be_hidden()
    time.sleep(1.0)  # ticks arrive meanwhile: still nothing placed
    assert orders(trader.client) == []

    # a sell link previews a sell (of a position the trader does not have: the risk engine says why)
    page.goto(f"/trade?symbol={symbol}&side=sell&qty=1")
    wait_connected(page)
    expect(page.get_by_test_id("preview-headline")).to_contain_text(f"SELL 1 {symbol}")
    assert orders(trader.client) == []


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ("symbol={symbol}&side=short&qty=2", "side must be buy or sell, not 'short'"),
        ("symbol={symbol}&qty=-4", "the quantity must be above 0, got -4"),
        ("symbol={symbol}&qty=2&price=10", "unknown parameter price"),
        ("side=buy&qty=2", "the link names no symbol"),
        ("symbol=ZZZZZQ&qty=2", "unknown symbol 'ZZZZZQ'"),
    ],
)
def test_a_bad_trade_link_says_why_and_leaves_the_ticket_empty(
    make_trader: Callable[..., Trader], signed_in_browser: SignedInBrowser, api: httpx.Client, query: str, says: str
) -> None:
    trader = make_trader()
    page = signed_in_browser(trader.email, PASSWORD)
    page.goto("/trade?" + query.format(symbol=equities(api)[0]))
    wait_connected(page)
    expect(page.get_by_test_id("trade-link-error")).to_contain_text(says)
    expect(page.get_by_test_id("account-state")).to_have_text("ACTIVE")  # the page itself works
    expect(page.get_by_test_id("ticket-symbol")).to_have_value("")
    expect(page.get_by_test_id("ticket-qty")).to_have_value("")
    expect(page.get_by_test_id("preview-headline")).to_have_count(0)
    expect(page.get_by_test_id("ticket-submit")).to_be_disabled()
