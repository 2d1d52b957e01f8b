"""The analytics page's allocation chart and portfolio comparison in real Chromium against a real desk server:
the allocation by symbol, sector and asset class against the API's valuation, two portfolios and the benchmark
side by side against `GET /api/v1/analytics/compare`, a date range, and the comparison's CSV download.

The test makes an investor of its own over the API (two hand-kept portfolios bought weeks ago, valued at the
simulated market's real closes), so it depends on nothing another test left behind."""

from __future__ import annotations

import csv
import io
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

PASSWORD = "juniper atlas meadow 27"  # noqa: S105 (throwaway accounts of the test desk)


@dataclass
class Investor:
    email: str
    client: httpx.Client
    long_term: str  # 20,000 in and 40 of `first` at its close 70 days ago
    trading: str  # 5,000 in and 10 of `second` at its close 40 days ago
    first: str
    second: str


def days_ago(days: int) -> str:
    return (date.today() - timedelta(days=days)).isoformat()  # noqa: DTZ011 (the desk's clock is the wall clock)


def close_on_or_before(api: httpx.Client, symbol: str, day: str) -> str:
    """The symbol's last close on or before `day` (the price the test buys at), to the cent."""
    start = (date.fromisoformat(day) - timedelta(days=10)).isoformat()
    bars = api.get(f"/api/v1/symbols/{symbol}/bars", params={"start": start, "end": day}).json()
    return f"{[c for c in bars['close'] if c is not None][-1]:.2f}"


def percent(value: float, *, signed: bool) -> str:
    """A fraction as the page shows it: `+12.34%`, `−3.00%` (or unsigned `12.34%`)."""
    text = f"{abs(value) * 100:.2f}%"
    if round(value * 100, 2) < 0:
        return f"−{text}"
    return f"+{text}" if signed and round(value * 100, 2) > 0 else text


@pytest.fixture
def investor(api: httpx.Client, desk_url: str) -> Iterator[Investor]:
    email = f"compare.{secrets.token_hex(4)}@example.com"
    created = api.post("/api/v1/admin/users", json={"email": email, "password": PASSWORD, "role": "trader"})
    assert created.status_code == 201, created.text
    signed_in = httpx.post(f"{desk_url}/api/v1/auth/login", json={"email": email, "password": PASSWORD}, timeout=10)
    client = httpx.Client(
        base_url=desk_url, headers={"Authorization": f"Bearer {signed_in.json()['access_token']}"}, timeout=10.0
    )
    symbols = api.get("/api/v1/watchlists").json()[0]["symbols"]
    first, second = [s for s in symbols if api.get(f"/api/v1/symbols/{s}").json()["symbol"]["asset_class"] == "equity"][
        :2
    ]
    ids = []
    for name, cash, day, symbol, qty in (
        ("Long term", "20000", 70, first, "40"),
        ("Trading", "5000", 40, second, "10"),
    ):
        price = close_on_or_before(api, symbol, days_ago(day))
        made = client.post("/api/v1/portfolios", json={"name": name})
        assert made.status_code == 201, made.text
        ids.append(made.json()["id"])
        for body in (
            {"kind": "deposit", "date": days_ago(day), "amount": cash},
            {"kind": "buy", "date": days_ago(day), "symbol": symbol, "qty": qty, "price": price},
        ):
            recorded = client.post(f"/api/v1/portfolios/{ids[-1]}/transactions", json=body)
            assert recorded.status_code == 201, recorded.text
    yield Investor(email, client, ids[0], ids[1], first, second)
    client.close()


def test_the_allocation_and_the_comparison_match_the_api(
    investor: Investor, signed_in_browser: Callable[[str, str], Page], api: httpx.Client, screenshots: Path
) -> None:
    page = signed_in_browser(investor.email, PASSWORD)
    page.goto("/analytics")
    page.wait_for_function("() => window.did_handshake === true")

    # the allocation of the picked portfolio (the first: Long term), by symbol, sector and asset class
    valuation = investor.client.get(f"/api/v1/portfolios/{investor.long_term}/valuation").json()
    (holding,) = valuation["holdings"]
    expect(page.get_by_test_id("allocation-chart").locator("canvas").first).to_be_visible()
    row = page.locator(f'[data-testid=allocation-row][data-label="{investor.first}"]')
    expect(row.locator("[data-field=share]")).to_have_text(percent(float(holding["weight"]), signed=False))
    cash_share = float(valuation["cash"]) / float(valuation["total_value"])
    expect(page.locator('[data-testid=allocation-row][data-label="Cash"] [data-field=share]')).to_have_text(
        percent(cash_share, signed=False)
    )
    sector = api.get(f"/api/v1/symbols/{investor.first}").json()["symbol"].get("sector") or "Sector unknown"
    page.get_by_test_id("allocation-grouping").get_by_role("button", name="By sector").click()
    expect(page.get_by_test_id("allocation-chart")).to_have_attribute("data-grouping", "sector")
    expect(page.locator(f'[data-testid=allocation-row][data-label="{sector}"]')).to_be_visible()
    page.get_by_test_id("allocation-grouping").get_by_role("button", name="By asset class").click()
    expect(page.locator('[data-testid=allocation-row][data-label="Stocks"] [data-field=share]')).to_have_text(
        percent(float(holding["weight"]), signed=False)
    )

    # both portfolios and the benchmark, over everything, as the API compares them
    params = {"portfolio_id": [investor.long_term, investor.trading], "end": date.today().isoformat()}  # noqa: DTZ011
    served = investor.client.get("/api/v1/analytics/compare", params=params).json()
    rows = page.get_by_test_id("compare-row")
    expect(rows).to_have_count(3)
    for series in served["series"]:
        shown = page.locator(f'[data-testid=compare-row][data-key="{series["key"]}"]')
        expect(shown).to_have_attribute("data-kind", series["kind"])
        expect(shown.locator("[data-field=twr]")).to_have_text(percent(series["twr"], signed=True))
        if series["sharpe"] is not None:
            expect(shown.locator("[data-field=sharpe]")).to_have_text(f"{series['sharpe']:.2f}".replace("-", "−"))
        expect(shown.locator("[data-field=max_drawdown]")).to_have_text(percent(series["max_drawdown"], signed=False))
    expect(page.get_by_test_id("compare-chart").locator("canvas").first).to_be_visible()
    expect(page.locator(".q-notification")).to_have_count(0, timeout=15_000)
    page.evaluate("window.scrollTo(0, 0)")  # the header stays at the top of the picture
    page.screenshot(path=str(screenshots / "analytics.png"), full_page=True)

    # the CSV download holds the same figures as the API's CSV
    with page.expect_download() as download:
        page.get_by_test_id("export-comparison").click()
    downloaded = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
    api_csv = investor.client.get("/api/v1/analytics/compare.csv", params=params).text
    assert downloaded == list(csv.DictReader(io.StringIO(api_csv)))
    assert [r["series"] for r in downloaded] == ["Long term", "Trading", served["benchmark"]]

    # a range: the last 30 days only
    page.get_by_test_id("compare-start").fill(days_ago(30))
    page.get_by_test_id("compare-show").click()
    ranged = investor.client.get("/api/v1/analytics/compare", params={**params, "start": days_ago(30)}).json()
    long_term = page.locator(f'[data-testid=compare-row][data-key="{investor.long_term}"]')
    expect(long_term.locator("[data-field=twr]")).to_have_text(percent(ranged["series"][0]["twr"], signed=True))
    assert ranged["series"][0]["start"] >= days_ago(30)
    expect(long_term.locator("[data-field=span]")).to_contain_text(ranged["series"][0]["start"])


def test_with_one_portfolio_the_comparison_is_with_the_benchmark_and_says_so(
    investor: Investor, signed_in_browser: Callable[[str, str], Page]
) -> None:
    deleted = investor.client.delete(f"/api/v1/portfolios/{investor.trading}", params={"confirm": "Trading"})
    assert deleted.status_code == 204, deleted.text
    page = signed_in_browser(investor.email, PASSWORD)
    page.goto("/analytics")
    page.wait_for_function("() => window.did_handshake === true")
    expect(page.get_by_test_id("compare-one")).to_contain_text("compared with the benchmark")
    expect(page.get_by_test_id("compare-row")).to_have_count(2)
    page.get_by_test_id("compare-benchmark").click()
    page.get_by_test_id("compare-show").click()
    expect(page.get_by_test_id("compare-row")).to_have_count(1)
