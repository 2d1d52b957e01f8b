"""The portfolio dashboard's cards in real Chromium against a real desk server (the simulated market): allocation
against target as bars with the drift coloured out of band, recommended actions with a preview link per trade
(and the loss-first switch), the screener's signals on the holdings, upcoming earnings and ex-dividend dates, the
targets form, the empty states, and the screenshot docs/screenshots/portfolio.png.

Each test makes a trader of its own over the API, so no test depends on what another one left behind. What the
page shows is compared with what the API answers for the same portfolio."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from support.browser_users import new_user

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

PASSWORD = "amber orchard compass 58"  # noqa: S105 (throwaway accounts of the test desk)
SignedInBrowser = Callable[[str, str], Page]


@dataclass
class Trader:
    email: str
    portfolio_id: str
    symbols: list[str]
    client: httpx.Client

    def get(self, path: str, **params: Any) -> Any:
        response = self.client.get(f"/api/v1/portfolios/{self.portfolio_id}{path}", params=params)
        assert response.status_code == 200, response.text
        return response.json()


def days_ago(days: int) -> str:
    return (date.today() - timedelta(days=days)).isoformat()  # noqa: DTZ011 (the desk's clock is the wall clock)


def wait_connected(page: Page) -> None:
    page.wait_for_function("() => window.did_handshake === true")


def equities(api: httpx.Client, count: int) -> list[str]:
    """The first `count` equities the screener rates, the last of them an Avoid where there is one."""
    rows = api.get("/api/v1/screener", params={"limit": 500, "asset": "stock"}).json()["rows"]
    rated = [r for r in rows if r["verdict"] is not None]
    avoid = [r["symbol"] for r in rated if r["verdict"] == "Avoid"]
    others = [r["symbol"] for r in rated if r["verdict"] != "Avoid"]
    return [*others[: count - 1], *(avoid[:1] or others[count - 1 : count])]


def drift_text(drift: str) -> str:
    """The page's drift label for an API drift: one decimal, a sign, a real minus sign."""
    value = round(float(drift), 1)
    sign = "+" if value > 0 else "−" if value < 0 else ""
    return f"{sign}{abs(value):.1f} pp"


@pytest.fixture
def make_trader(api: httpx.Client, desk_url: str) -> Iterator[Callable[..., Trader]]:
    """`make_trader(holdings)`: a new trader whose portfolio took $30,000 and bought `holdings` two months back."""
    clients: list[httpx.Client] = []

    def make(holdings: dict[str, int] | None = None) -> Trader:
        user = new_user(api, desk_url, "dashboard", PASSWORD)
        email, client = user.email, user.client
        client.timeout = httpx.Timeout(30.0)  # a portfolio's first valuation reads the whole price history
        clients.append(client)
        pid = client.post("/api/v1/portfolios", json={"name": "Dashboard"}).json()["id"]
        bodies = [{"kind": "deposit", "date": days_ago(70), "amount": "30000"}]
        bodies += [
            {"kind": "buy", "date": days_ago(65), "symbol": symbol, "qty": str(qty), "price": "100"}
            for symbol, qty in (holdings or {}).items()
        ]
        for body in bodies:
            recorded = client.post(f"/api/v1/portfolios/{pid}/transactions", json=body)
            assert recorded.status_code == 201, recorded.text
        return Trader(email, str(pid), list(holdings or {}), client)

    yield make
    for client in clients:
        client.close()


def test_allocation_bars_and_recommended_actions_match_the_advice(
    make_trader: Callable[..., Trader], api: httpx.Client, signed_in_browser: SignedInBrowser, screenshots: Path
) -> None:
    first, second, third = equities(api, 3)
    trader = make_trader({first: 120, second: 40, third: 30})
    targets = {"symbol": {first: 20, second: 40}, "band_pp": 5, "min_trade": 100}
    assert trader.client.put(f"/api/v1/portfolios/{trader.portfolio_id}/targets", json=targets).status_code == 200
    allocation = trader.get("/allocation")
    advice = trader.get("/rebalance")

    page = signed_in_browser(trader.email, PASSWORD)
    page.goto("/portfolio")
    wait_connected(page)
    expect(page.get_by_test_id("targets-summary")).to_contain_text("Band ±5 pp")
    for line in allocation["symbol"]:
        if line["key"] == "Cash":
            continue
        shown = page.locator(f'[data-testid=allocation-line][data-dimension=symbol][data-key="{line["key"]}"]')
        expect(shown).to_have_attribute("data-status", line["status"])
        if line["target_pct"] is not None:
            drift = shown.get_by_test_id("allocation-drift")
            expect(drift).to_have_text(drift_text(line["drift_pp"]))
            if line["status"] == "out_of_band":
                expect(drift).to_have_class(re.compile("text-negative"))
            expect(shown.get_by_test_id("allocation-target-marker")).to_have_count(1)
        else:
            expect(shown.get_by_test_id("allocation-target-marker")).to_have_count(0)
    assert any(line["status"] == "out_of_band" for line in allocation["symbol"]), "the case needs a drifted line"

    rows = page.get_by_test_id("action-trade")
    expect(rows).to_have_count(len(advice["trades"]))
    for trade in advice["trades"]:
        row = page.locator(f'[data-testid=action-trade][data-symbol="{trade["symbol"]}"]')
        expect(row).to_have_attribute("data-side", trade["side"])
        expect(row).to_have_attribute("data-qty", trade["qty"])
        expect(row.get_by_test_id("action-preview")).to_have_attribute("href", trade["preview_url"])
    assert advice["trades"], "the drifted line asks for trades"

    page.get_by_test_id("prefer-losses").click()  # the advice again, with loss-first lots
    losses = trader.get("/rebalance", prefer_losses=True)
    for trade in losses["trades"]:
        if trade["side"] == "sell":
            realized = page.locator(f'[data-testid=action-trade][data-symbol="{trade["symbol"]}"]').get_by_test_id(
                "action-realized"
            )
            expect(realized).to_contain_text("Realizes ≈")
    expect(page.locator(".q-notification")).to_have_count(0, timeout=15_000)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(screenshots / "portfolio.png"), full_page=True)


def test_signals_show_each_holdings_verdict_and_an_avoid_asks_for_a_review(
    make_trader: Callable[..., Trader], api: httpx.Client, signed_in_browser: SignedInBrowser
) -> None:
    symbols = equities(api, 2)
    trader = make_trader(dict.fromkeys(symbols, 20))
    advice = trader.get("/rebalance")
    page = signed_in_browser(trader.email, PASSWORD)
    page.goto("/portfolio")
    wait_connected(page)
    expect(page.get_by_test_id("signal-row")).to_have_count(len(symbols))
    for reading in advice["verdicts"]:
        row = page.locator(f'[data-testid=signal-row][data-symbol="{reading["symbol"]}"]')
        expect(row.locator("[data-field=verdict]")).to_have_text(reading["verdict"] or "No verdict")
        expect(row.locator("[data-field=logged]")).to_have_text("—")  # nothing logged by this trader yet
    avoid = [r["symbol"] for r in advice["verdicts"] if r["verdict"] == "Avoid"]
    for symbol in avoid:
        review = page.locator(f'[data-testid=action-verdict][data-symbol="{symbol}"]')
        expect(review).to_contain_text(f"Review {symbol}: the screener rates it Avoid")
        expect(review.get_by_test_id("action-verdict-preview")).to_have_attribute(
            "href", f"/trade?symbol={symbol}&side=sell&qty=20"
        )
    if not avoid:
        print("the simulated market rates none of these equities Avoid today; the review row is not shown")
    expect(page.get_by_test_id("actions-empty")).to_have_count(0 if avoid else 1)


def test_upcoming_events_list_the_holdings_next_earnings_reports(
    make_trader: Callable[..., Trader], api: httpx.Client, signed_in_browser: SignedInBrowser
) -> None:
    symbols = equities(api, 3)
    trader = make_trader(dict.fromkeys(symbols, 10))
    today = date.today()  # noqa: DTZ011 (the desk's clock is the wall clock)
    expected = {}
    for symbol in symbols:
        events = api.get(f"/api/v1/research/{symbol}").json()["sections"]["events"]
        report = events["next_report"]
        if report is not None and today <= date.fromisoformat(report) <= today + timedelta(days=90):
            expected[symbol] = report
    page = signed_in_browser(trader.email, PASSWORD)
    page.goto("/portfolio")
    wait_connected(page)
    rows = page.locator("[data-testid=event-row][data-kind=earnings]")
    expect(rows).to_have_count(len(expected))
    for symbol, report in expected.items():
        row = page.locator(f'[data-testid=event-row][data-kind=earnings][data-symbol="{symbol}"]')
        expect(row.locator("[data-field=date]")).to_have_text(report)
    assert expected, "the simulated market schedules each company's next report within a quarter"


def test_an_empty_portfolio_says_what_to_do_and_the_targets_form_sets_and_clears_targets(
    make_trader: Callable[..., Trader], api: httpx.Client, signed_in_browser: SignedInBrowser
) -> None:
    trader = make_trader()
    page = signed_in_browser(trader.email, PASSWORD)
    page.goto("/portfolio")
    wait_connected(page)
    expect(page.get_by_test_id("targets-empty")).to_contain_text("No targets yet: set them in the Targets form")
    expect(page.get_by_test_id("actions-empty")).to_contain_text("Nothing to do yet. Set targets")
    expect(page.get_by_test_id("signals-empty")).to_have_text("No holdings to judge yet.")
    expect(page.get_by_test_id("events-empty")).to_contain_text("No earnings or ex-dividend dates")

    (symbol,) = equities(api, 1)
    page.get_by_test_id("targets-symbol").fill(f"{symbol}=abc")
    page.get_by_test_id("targets-save").click()
    expect(page.get_by_test_id("targets-error")).to_contain_text(
        f"The symbol target for {symbol} 'abc' is not a number"
    )
    page.get_by_test_id("targets-symbol").fill(f"{symbol.lower()}=60")
    page.get_by_test_id("targets-band").fill("4")
    page.get_by_test_id("targets-save").click()
    line = page.locator(f'[data-testid=allocation-line][data-dimension=symbol][data-key="{symbol}"]')
    expect(line).to_have_attribute("data-status", "out_of_band")  # all cash: 0% against 60%
    expect(line.get_by_test_id("allocation-drift")).to_have_text("−60.0 pp")
    expect(page.get_by_test_id("targets-summary")).to_contain_text("Band ±4 pp")
    buy = page.locator(f'[data-testid=action-trade][data-symbol="{symbol}"]')
    expect(buy).to_have_attribute("data-side", "buy")
    saved = trader.get("/targets")
    assert (saved["symbol"], saved["band_pp"]) == ({symbol: "60"}, "4")
    (trade,) = trader.get("/rebalance")["trades"]
    expect(buy.get_by_test_id("action-preview")).to_have_attribute("href", trade["preview_url"])

    page.get_by_test_id("targets-clear").click()
    expect(page.get_by_test_id("targets-empty")).to_be_visible()
    assert trader.get("/targets")["set"] is False
