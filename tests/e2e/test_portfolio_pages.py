"""The portfolio and analytics pages in real Chromium against a real desk server: creating a portfolio, recording
a deposit and a buy through the form and reading the holding and totals, importing a statement with a bad row
and seeing its reason, deleting with a confirmation, the analytics page's metric table and charts, and what a
viewer sees (the dashboard's cards and its screenshot: test_portfolio_dashboard.py). The desk's clock is the wall clock and its simulated market holds three years of closes, so
transactions dated a few weeks back are valued at real closes.

The admin's browser (`page`) works on portfolios with names of their own; the analytics and viewer tests make a
user of their own over the API, so no test depends on what another one left behind."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from support.browser_users import new_user

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

PASSWORD = "copper meadow lantern 17"  # noqa: S105 (throwaway accounts of the test desk)

SignedInBrowser = Callable[[str, str], Page]


@dataclass
class Investor:
    """A user of the test desk with one hand-kept portfolio holding one symbol, and an API client as them."""

    email: str
    user_id: str
    portfolio_id: str
    symbol: str
    client: httpx.Client


def wait_connected(page: Page) -> None:
    """Wait for NiceGUI's websocket handshake: from then on, clicks reach the server."""
    page.wait_for_function("() => window.did_handshake === true")


def days_ago(days: int) -> str:
    return (date.today() - timedelta(days=days)).isoformat()  # noqa: DTZ011 (the desk's clock is the wall clock)


def an_equity(api: httpx.Client) -> str:
    """The first equity of the admin's first watchlist (the simulated market's, seeded)."""
    for symbol in api.get("/api/v1/watchlists").json()[0]["symbols"]:
        if api.get(f"/api/v1/symbols/{symbol}").json()["symbol"]["asset_class"] == "equity":
            return str(symbol)
    raise AssertionError("no equity on the first watchlist")


def choose_kind(page: Page, label: str) -> None:
    page.get_by_test_id("txn-kind").click()
    page.get_by_role("option", name=label, exact=True).click()


def create_portfolio(page: Page, name: str) -> None:
    page.get_by_test_id("portfolio-new-name").fill(name)
    page.get_by_test_id("portfolio-create").click()
    expect(page.get_by_test_id("portfolio-picker")).to_contain_text(name)


@pytest.fixture
def make_investor(api: httpx.Client, desk_url: str) -> Iterator[Callable[[], Investor]]:
    """`make_investor()`: a new trader whose portfolio holds a deposit and a buy from two months back."""
    clients: list[httpx.Client] = []

    def make() -> Investor:
        user = new_user(api, desk_url, "investor", PASSWORD)
        email, client = user.email, user.client
        clients.append(client)
        symbol = an_equity(api)
        opened = client.post("/api/v1/portfolios", json={"name": "Long term"})
        assert opened.status_code == 201, opened.text
        portfolio_id = str(opened.json()["id"])
        for body in (
            {"kind": "deposit", "date": days_ago(70), "amount": "20000"},
            {"kind": "buy", "date": days_ago(65), "symbol": symbol, "qty": "40", "price": "100", "fee": "1"},
        ):
            recorded = client.post(f"/api/v1/portfolios/{portfolio_id}/transactions", json=body)
            assert recorded.status_code == 201, recorded.text
        return Investor(email, user.id, portfolio_id, symbol, client)

    yield make
    for client in clients:
        client.close()


def test_a_deposit_and_a_buy_show_the_holding_and_the_totals(page: Page, api: httpx.Client) -> None:
    symbol = an_equity(api)
    page.goto("/portfolio")
    wait_connected(page)
    expect(page.get_by_test_id("nav-portfolio")).to_be_visible()
    name = f"Core {secrets.token_hex(3)}"
    create_portfolio(page, name)

    choose_kind(page, "Deposit")
    page.get_by_test_id("txn-date").fill(days_ago(40))
    page.get_by_test_id("txn-amount").fill("10000")
    page.get_by_test_id("txn-record").click()
    expect(page.get_by_test_id("transaction-row")).to_have_count(1)
    expect(page.get_by_test_id("total-cash")).to_have_text("$10,000.00")

    choose_kind(page, "Buy")
    page.get_by_test_id("txn-date").fill(days_ago(35))
    page.get_by_test_id("txn-symbol").fill(symbol)
    page.get_by_test_id("txn-qty").fill("10")
    page.get_by_test_id("txn-price").fill("100")
    page.get_by_test_id("txn-record").click()

    holding = page.locator(f'[data-testid=holding-row][data-symbol="{symbol}"]')
    expect(holding).to_be_visible()
    expect(holding.locator("[data-field=qty]")).to_have_text("10")
    expect(holding.locator("[data-field=cost_basis]")).to_have_text("$1,000.00")
    expect(page.get_by_test_id("total-cash")).to_have_text("$9,000.00")
    expect(page.get_by_test_id("total-value")).to_contain_text("$")
    expect(page.get_by_test_id("total-twr")).to_contain_text("%")
    expect(page.get_by_test_id("total-xirr")).to_be_visible()
    expect(page.locator(f'[data-testid=allocation-line][data-dimension=symbol][data-key="{symbol}"]')).to_be_visible()
    expect(page.get_by_test_id("portfolio-regime-meaning")).not_to_be_empty()

    ours = next(p for p in api.get("/api/v1/portfolios").json() if p["name"] == name)
    valuation = api.get(f"/api/v1/portfolios/{ours['id']}/valuation").json()
    assert [h["symbol"] for h in valuation["holdings"]] == [symbol]


def test_an_imported_statement_shows_each_row_and_the_reason_a_bad_one_was_rejected(
    page: Page, api: httpx.Client
) -> None:
    symbol = an_equity(api)
    page.goto("/portfolio")
    wait_connected(page)
    create_portfolio(page, f"Imported {secrets.token_hex(3)}")
    statement = (
        f"date,symbol,side,qty,price,fee\n{days_ago(30)},{symbol},buy,5,100,0\n{days_ago(29)},{symbol},buy,lots,100,0\n"
    )
    page.get_by_test_id("import-upload").locator("input[type=file]").set_input_files(
        files=[{"name": "statement.csv", "mimeType": "text/csv", "buffer": statement.encode()}]
    )
    summary = page.get_by_test_id("import-summary")
    expect(summary).to_have_attribute("data-accepted", "1")
    expect(summary).to_have_attribute("data-rejected", "1")
    rejected = page.locator("[data-testid=import-row][data-status=rejected]")
    expect(rejected).to_have_count(1)
    expect(rejected).to_have_attribute("data-line", "3")
    expect(rejected.locator("[data-field=reason]")).to_contain_text("lots")
    expect(page.locator(f'[data-testid=holding-row][data-symbol="{symbol}"] [data-field=qty]')).to_have_text("5")


def test_deleting_a_portfolio_asks_first_and_cancel_keeps_it(page: Page, api: httpx.Client) -> None:
    page.goto("/portfolio")
    wait_connected(page)
    name = f"Scratch {secrets.token_hex(3)}"
    create_portfolio(page, name)
    page.get_by_test_id("portfolio-delete").click()
    expect(page.get_by_test_id("trade-confirm-question")).to_contain_text(name)
    page.get_by_test_id("trade-confirm-keep").click()
    assert any(p["name"] == name for p in api.get("/api/v1/portfolios").json())
    page.get_by_test_id("portfolio-delete").click()
    page.get_by_test_id("trade-confirm-ok").click()
    expect(page.get_by_test_id("portfolio-picker")).not_to_contain_text(name)
    assert all(p["name"] != name for p in api.get("/api/v1/portfolios").json())


def test_the_analytics_page_shows_the_metric_table_and_charts(
    make_investor: Callable[[], Investor], signed_in_browser: SignedInBrowser, screenshots: Path
) -> None:
    investor = make_investor()
    page = signed_in_browser(investor.email, PASSWORD)
    page.goto("/analytics")
    wait_connected(page)
    expect(page.get_by_test_id("analytics-picker")).to_contain_text("Long term")
    expect(page.get_by_test_id("metrics-table")).to_be_visible()
    expect(page.locator("[data-testid=metric-row][data-key=sharpe] [data-field=value]")).not_to_have_text("")
    expect(page.locator("[data-testid=metric-row][data-key=max_drawdown]")).to_be_visible()
    expect(page.get_by_test_id("metrics-conventions")).to_contain_text("252 periods per year")
    for chart in ("equity-chart", "underwater-chart", "heatmap-chart"):
        expect(page.get_by_test_id(chart).locator("canvas").first).to_be_visible()
    expect(page.get_by_test_id("analytics-summary")).to_contain_text("daily returns")
    with page.expect_download() as download:
        page.get_by_test_id("export-metrics").click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    assert text.startswith("series,annual_return,")
    page.screenshot(path=str(screenshots / "analytics.png"), full_page=True)


def test_a_series_too_short_for_a_metric_shows_the_stated_missing_value(
    make_investor: Callable[[], Investor], signed_in_browser: SignedInBrowser
) -> None:
    investor = make_investor()
    page = signed_in_browser(investor.email, PASSWORD)
    page.goto("/analytics")
    wait_connected(page)
    expect(page.get_by_test_id("metrics-table")).to_be_visible()
    # before the buy the portfolio is all cash: its returns never vary, so there is no Sharpe ratio
    page.get_by_test_id("analytics-start").fill(days_ago(70))
    page.get_by_test_id("analytics-end").fill(days_ago(66))
    page.get_by_test_id("analytics-show").click()
    sharpe = page.locator("[data-testid=metric-row][data-key=sharpe]")
    expect(sharpe.locator("[data-field=value]")).to_have_text("—")
    expect(sharpe.locator("[data-field=missing]")).to_contain_text("do not vary")
    # one day is too short for any metric: the library's reason shows instead of a table
    page.get_by_test_id("analytics-end").fill(days_ago(70))
    page.get_by_test_id("analytics-show").click()
    expect(page.get_by_test_id("metrics-error")).to_contain_text("at least 2 returns")
    expect(page.get_by_test_id("metrics-table")).to_have_count(0)


def test_a_viewer_sees_the_portfolio_but_no_write_controls(
    make_investor: Callable[[], Investor], signed_in_browser: SignedInBrowser, api: httpx.Client
) -> None:
    investor = make_investor()
    demoted = api.patch(f"/api/v1/admin/users/{investor.user_id}", json={"role": "viewer"})
    assert demoted.status_code == 200, demoted.text
    viewer = signed_in_browser(investor.email, PASSWORD)
    viewer.goto("/portfolio")
    wait_connected(viewer)
    expect(viewer.locator(f'[data-testid=holding-row][data-symbol="{investor.symbol}"]')).to_be_visible()
    expect(viewer.get_by_test_id("viewer-notice")).to_be_visible()
    expect(viewer.locator(f'[data-testid=allocation-line][data-key="{investor.symbol}"]').first).to_be_visible()
    for control in ("portfolio-create", "portfolio-delete", "portfolio-new-name", "txn-form", "import-section",
                    "targets-form", "targets-save"):  # fmt: skip
        expect(viewer.get_by_test_id(control)).to_have_count(0)
    viewer.goto("/analytics")
    wait_connected(viewer)
    expect(viewer.get_by_test_id("metrics-table")).to_be_visible()
