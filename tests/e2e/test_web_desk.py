"""The web desk in real Chromium against a real desk server on the simulated market."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, Request, expect

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

LAST_CELLS = "[data-testid=watchlist-table] td[data-field=last]"
FLASHED = "td.flash-up-a, td.flash-up-b, td.flash-down-a, td.flash-down-b"
GAUGE_LINE = re.compile(r"^marketdesk_web_quote_streams (\S+)$", re.MULTILINE)
# pixels of the candles' colours (charts.UP_COLOR #16a34a, charts.DOWN_COLOR #dc2626) on the chart's canvas
CANDLE_PIXELS_JS = """
() => {
  const canvas = document.querySelector('[data-testid=price-chart] canvas');
  if (!canvas || !canvas.width || !canvas.height) return {painted: 0, up: 0, down: 0};
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  const near = (i, r, g, b) => Math.abs(data[i] - r) < 40 && Math.abs(data[i + 1] - g) < 40 && Math.abs(data[i + 2] - b) < 40;
  let painted = 0, up = 0, down = 0;
  for (let i = 0; i < data.length; i += 4) {
    if (data[i + 3] === 0) continue;
    painted++;
    if (near(i, 0x16, 0xa3, 0x4a)) up++;
    else if (near(i, 0xdc, 0x26, 0x26)) down++;
  }
  return {painted, up, down};
}
"""


def wait_connected(page: Page) -> None:
    """Wait for NiceGUI's websocket handshake: from then on, clicks reach the server."""
    page.wait_for_function("() => window.did_handshake === true")


def open_desk(page: Page, path: str = "/") -> None:
    page.goto(path)
    wait_connected(page)


def web_quote_streams(desk_url: str) -> float:
    text = httpx.get(f"{desk_url}/metrics", timeout=5.0).text
    found = GAUGE_LINE.search(text)
    assert found is not None, "marketdesk_web_quote_streams is missing from /metrics"
    return float(found.group(1))


def assert_gauge_reaches(desk_url: str, expected: float, timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    value = web_quote_streams(desk_url)
    while value != expected and time.monotonic() < deadline:
        time.sleep(0.2)
        value = web_quote_streams(desk_url)
    assert value == expected, f"web quote subscriptions: {value}, expected {expected}"


def wait_until(condition: Callable[[], bool], timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def watchlist(api: httpx.Client, name: str = "Main") -> list[str]:
    lists = api.get("/api/v1/watchlists").json()
    return next(w["symbols"] for w in lists if w["name"] == name)


def first_equity(api: httpx.Client, symbols: list[str]) -> str:
    for symbol in symbols:
        detail = api.get(f"/api/v1/symbols/{symbol}").json()
        if detail["symbol"]["asset_class"] == "equity":
            return symbol
    raise AssertionError(f"no equity among {symbols}")


def wait_for_chart(page: Page) -> dict[str, int]:
    chart = page.get_by_test_id("price-chart")
    expect(chart.locator("canvas").first).to_be_attached()
    page.wait_for_function(f"() => ({CANDLE_PIXELS_JS})().up + ({CANDLE_PIXELS_JS})().down > 200")
    pixels: dict[str, int] = page.evaluate(CANDLE_PIXELS_JS)
    return pixels


def test_live_subscription_opens_with_the_page_and_closes_when_it_goes(page: Page, desk_url: str) -> None:
    assert_gauge_reaches(desk_url, 0)  # pages of earlier tests have gone
    open_desk(page)
    assert_gauge_reaches(desk_url, 1)
    page.context.close()
    # NiceGUI deletes the client after its reconnect timeout; the page's subscription is then cancelled
    assert_gauge_reaches(desk_url, 0)


def test_desk_says_simulated_and_watchlist_prices_tick_from_the_server(
    page: Page, api: httpx.Client, screenshots: Path
) -> None:
    api_calls: list[str] = []

    def note(request: Request) -> None:
        if "/api/" in request.url:
            api_calls.append(request.url)

    page.on("request", note)
    open_desk(page)

    badge = page.get_by_test_id("simulated-badge")
    expect(badge).to_be_visible()
    expect(badge).to_have_text(re.compile("SIMULATED"))
    expect(page.get_by_test_id("market-clock")).to_contain_text(re.compile(r"(Open|Closed) · (closes|opens)"))
    expect(page).to_have_title("Dashboard · marketdesk")
    expect(page.get_by_test_id("nav-dashboard")).to_be_visible()

    rows = page.locator("[data-testid^=watch-row-]")
    expect(rows).to_have_count(len(watchlist(api)))
    assert rows.count() >= 5, "the first-run watchlist has about 8 symbols"
    expect(page.locator(LAST_CELLS).first).to_have_text(re.compile(r"^\d[\d,]*\.\d\d$"))

    before = page.locator(LAST_CELLS).all_inner_texts()
    page.wait_for_function(
        f"(before) => [...document.querySelectorAll('{LAST_CELLS}')].some((cell, i) => cell.innerText !== before[i])",
        arg=before,
        timeout=10_000,
    )
    expect(page.locator(FLASHED).first).to_be_attached()
    after = page.locator(LAST_CELLS).all_inner_texts()
    assert after != before
    assert api_calls == [], f"the page polled the REST API: {api_calls}"
    page.screenshot(path=str(screenshots / "dashboard.png"), full_page=True)


def test_symbol_page_from_the_watchlist_draws_the_chart_and_key_statistics(
    page: Page, api: httpx.Client, screenshots: Path
) -> None:
    symbol = first_equity(api, watchlist(api))  # a company: it has a market cap and earnings
    open_desk(page)
    page.get_by_test_id(f"watch-link-{symbol}").click()
    page.wait_for_url(f"**/symbol/{symbol}")
    wait_connected(page)

    expect(page.get_by_test_id("symbol-ticker")).to_have_text(symbol)
    expect(page.get_by_test_id("simulated-badge").first).to_be_visible()
    expect(page.get_by_test_id("symbol-last")).to_have_text(re.compile(r"^\d[\d,]*\.\d\d$"))
    pixels = wait_for_chart(page)
    box = page.get_by_test_id("price-chart").locator("canvas").first.bounding_box()
    assert box is not None
    assert box["width"] > 400
    assert box["height"] > 300
    assert pixels["up"] > 0
    assert pixels["down"] > 0

    stats = page.get_by_test_id("key-stats")
    expect(stats.locator('[data-stat="52-week range"]')).to_have_text(re.compile(r"^[\d,.]+ – [\d,.]+$"))
    expect(stats.locator('[data-stat="Market cap"]')).to_have_text(re.compile(r"^[\d.]+[KMBT]$"))
    expect(stats.locator('[data-stat="1-year volatility"]')).to_have_text(re.compile(r"^[\d.]+%$"))
    expect(page.get_by_test_id("events")).to_contain_text("Earnings")
    page.screenshot(path=str(screenshots / "symbol.png"), full_page=True)

    page.get_by_test_id("range-toggle").get_by_role("button", name="3M").click()
    expect(page.get_by_test_id("price-chart")).to_have_attribute("data-range", "3M")
    assert wait_for_chart(page)["painted"] > 0


def test_search_by_name_or_ticker_opens_the_symbol_page(page: Page, api: httpx.Client) -> None:
    open_desk(page)
    row = page.locator("[data-testid^=watch-row-]").nth(1)
    symbol = row.get_attribute("data-symbol")
    assert symbol
    name = row.locator("td").nth(1).inner_text().strip()
    search = page.get_by_test_id("symbol-search")

    search.fill(name.lower())
    result = page.get_by_test_id(f"search-result-{symbol}")
    expect(result).to_be_visible()
    result.click()
    page.wait_for_url(f"**/symbol/{symbol}")
    expect(page.get_by_test_id("symbol-name")).to_have_text(name)

    wait_connected(page)
    other = watchlist(api)[0]
    search = page.get_by_test_id("symbol-search")
    search.fill(other.lower())
    expect(page.get_by_test_id(f"search-result-{other}")).to_be_visible()
    search.press("Enter")
    page.wait_for_url(f"**/symbol/{other}")
    expect(page.get_by_test_id("symbol-ticker")).to_have_text(other)


def test_add_then_remove_a_watchlist_symbol_with_confirmation(page: Page, api: httpx.Client) -> None:
    watched = watchlist(api)
    listing = api.get("/api/v1/symbols", params={"asset_class": "equity", "limit": 200}).json()
    symbol = next(item["symbol"] for item in listing["items"] if item["symbol"] not in watched)
    open_desk(page)

    page.get_by_test_id("watchlist-add-input").fill(symbol.lower())
    page.get_by_test_id("watchlist-add-button").click()
    expect(page.locator(".q-notification").filter(has_text=f"Added {symbol} to Main")).to_be_visible()
    expect(page.get_by_test_id(f"watch-row-{symbol}")).to_be_visible()
    assert symbol in watchlist(api)

    page.get_by_test_id("watchlist-add-input").fill("ZZZZQ9")
    page.get_by_test_id("watchlist-add-input").press("Enter")
    expect(page.locator(".q-notification").filter(has_text="unknown symbol 'ZZZZQ9'")).to_be_visible()
    expect(page.get_by_test_id("watch-row-ZZZZQ9")).to_have_count(0)

    page.get_by_test_id(f"remove-{symbol}").click()
    dialog = page.locator(".q-dialog")
    expect(dialog).to_contain_text(f"Remove {symbol} from Main?")
    dialog.get_by_test_id("confirm-cancel").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_test_id(f"watch-row-{symbol}")).to_be_visible()

    page.get_by_test_id(f"remove-{symbol}").click()
    page.locator(".q-dialog").get_by_test_id("confirm-remove").click()
    expect(page.get_by_test_id(f"watch-row-{symbol}")).to_have_count(0)
    assert watchlist(api) == watched


def test_empty_watchlist_offers_symbols_to_start_with(page: Page, api: httpx.Client) -> None:
    name = f"Empty {time.monotonic_ns()}"
    created = api.post("/api/v1/watchlists", json={"name": name, "symbols": []})
    assert created.status_code == 201
    # the REST session dependency commits after the response has gone out: wait until the list is readable
    wait_until(lambda: name in {w["name"] for w in api.get("/api/v1/watchlists").json()})
    open_desk(page)
    page.get_by_test_id("watchlist-select").click()
    page.get_by_role("option", name=name).click()

    empty = page.get_by_test_id("watchlist-empty")
    expect(empty).to_contain_text(f"{name} is empty")
    suggestion = empty.locator("[data-testid^=suggest-]").first
    symbol = (suggestion.get_attribute("data-testid") or "").removeprefix("suggest-")
    suggestion.click()
    expect(page.get_by_test_id(f"watch-row-{symbol}")).to_be_visible()
    assert watchlist(api, name) == [symbol]


def test_unknown_symbol_page_explains_instead_of_failing(page: Page) -> None:
    response = page.goto("/symbol/NOPE9")
    assert response is not None
    assert response.status == 404
    wait_connected(page)
    not_found = page.get_by_test_id("symbol-not-found")
    expect(not_found).to_contain_text("No symbol called “NOPE9”")
    expect(not_found).to_contain_text("Search by ticker or company name")
    expect(page.get_by_test_id("simulated-badge")).to_be_visible()
    page.get_by_test_id("back-to-dashboard").click()
    page.wait_for_url(re.compile(r"/$"))


def test_dark_mode_toggles_and_is_remembered_by_this_browser(page: Page) -> None:
    open_desk(page)
    body = page.locator("body")
    expect(body).not_to_have_class(re.compile("body--dark"))
    page.get_by_test_id("dark-toggle").click()
    expect(body).to_have_class(re.compile("body--dark"))

    page.reload()
    wait_connected(page)
    expect(page.locator("body")).to_have_class(re.compile("body--dark"))
    page.get_by_test_id("dark-toggle").click()
    expect(page.locator("body")).not_to_have_class(re.compile("body--dark"))


def test_a_browser_that_has_not_signed_in_is_not_served_the_desk(anonymous_page: Page, desk_url: str) -> None:
    """The desk has an admin by now, so a browser without its cookie is sent to sign in, not served the data."""
    open_desk(anonymous_page, "/")
    assert anonymous_page.url.endswith("/login"), anonymous_page.url
    expect(anonymous_page.get_by_test_id("auth-heading")).to_have_text("Sign in")
    expect(anonymous_page.get_by_test_id("login-submit")).to_be_visible()
    expect(anonymous_page.get_by_test_id("watchlist-table")).to_have_count(0)
    expect(anonymous_page.get_by_test_id("navigation")).to_have_count(0)
    assert httpx.get(f"{desk_url}/api/v1/watchlists", timeout=5.0).status_code == 401
