"""The screener, its tearsheet, the dip monitor and the regime light in real Chromium against a real desk server
on the simulated market."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Locator, Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

PRO_HEADERS = ["Ticker", "Price", "Verdict", "Score", "P/E", "ROE", "52W", "DCF", "Flags", "⋯"]  # + Your holdings
NEWBIE_HEADERS = ["Ticker", "Price", "Verdict", "Why?"]
VERDICTS = {"Strong Buy", "Buy", "Hold", "Avoid", "No verdict"}
SECTIONS = [
    "Core metrics",
    "Valuation context",
    "Decision framework",
    "Risk breakdown",
    "Threshold sensitivity",
    "Peers",
    "Events",
]
PRO_ROWS = "[data-testid=screen-table] tbody tr[data-symbol]"
NEWBIE_ROWS = "[data-testid=newbie-table] tbody tr[data-symbol]"
DIP_ROWS = "[data-testid=dip-table] tbody tr[data-symbol]"


def open_page(page: Page, path: str) -> None:
    page.goto(path)
    page.wait_for_function("() => window.did_handshake === true")


def open_screener(page: Page) -> Locator:
    """The screener with its first rows on screen."""
    open_page(page, "/screener")
    rows = page.locator(PRO_ROWS)
    expect(rows.first).to_be_visible()
    return rows


def watchlist(api: httpx.Client, name: str = "Main") -> list[str]:
    lists = api.get("/api/v1/watchlists").json()
    return list(next(w["symbols"] for w in lists if w["name"] == name))


def headers(page: Page, table: str) -> list[str]:
    """The column titles, without the sort arrows' icon names."""
    titles: list[str] = page.locator(f"[data-testid={table}] thead th").evaluate_all(
        "cells => cells.map(th => [...th.childNodes]"
        ".filter(node => !(node.classList && node.classList.contains('q-icon')))"
        ".map(node => node.textContent).join('').trim())"
    )
    return titles


def symbols(rows: Locator, count: int = 15) -> list[str]:
    return [str(rows.nth(i).get_attribute("data-symbol")) for i in range(min(count, rows.count()))]


def scores(page: Page) -> list[float]:
    texts = page.locator(f"{PRO_ROWS} [data-field=score]").all_inner_texts()
    return [float(text) for text in texts if text.strip() != "—"]


def names_in_summary(page: Page) -> int:
    found = re.search(r"(\d+) names", page.get_by_test_id("screen-summary").inner_text())
    assert found is not None, "the summary says how many names matched"
    return int(found.group(1))


@pytest.fixture
def newcomer_page(api: httpx.Client, signed_in_browser: Callable[[str, str], Page]) -> Page:
    """A browser signed in as a new trader who holds nothing. The admin's pages are shared by every browser
    test on this worker's desk, and a portfolio another test gave the admin adds the "Your holdings" column."""
    email, password = f"newcomer.{secrets.token_hex(4)}@example.com", "heron lantern meadow 31"
    created = api.post("/api/v1/admin/users", json={"email": email, "password": password, "role": "trader"})
    assert created.status_code == 201, created.text
    return signed_in_browser(email, password)


def test_pro_table_shows_ten_columns_with_verdict_chips_and_monospace_numbers(
    newcomer_page: Page, screenshots: Path
) -> None:
    page = newcomer_page
    rows = open_screener(page)

    assert headers(page, "screen-table") == PRO_HEADERS
    assert rows.count() >= 20
    chips = page.locator(f"{PRO_ROWS} [data-testid=verdict-chip]")
    assert set(chips.all_inner_texts()) <= VERDICTS
    expect(chips.first).to_have_class(re.compile(r"desk-verdict-(strong-buy|buy|hold|avoid)"))
    expect(page.get_by_test_id("screen-summary")).to_contain_text(re.compile(r"Balanced · Everything · \d+ names"))
    expect(page.get_by_test_id("screen-summary")).to_contain_text("SIMULATED")
    price_font = rows.first.locator("td").nth(1).evaluate("cell => getComputedStyle(cell).fontFamily")
    assert "monospace" in price_font
    # a DCF cell explains itself: a margin of safety, or "—" with the reason it was refused
    expect(rows.first.locator("[data-field=dcf]")).to_have_text(re.compile(r"^([+−]\d+%|0%|—)$"))
    page.screenshot(path=str(screenshots / "screener-pro.png"))

    refused = rows.filter(has=page.locator("[data-field=dcf]", has_text=re.compile("^—$"))).first
    refused.locator("[data-field=dcf]").hover()
    expect(page.locator(".q-tooltip")).to_contain_text(re.compile(r"\w+.{20,}"))  # the reason, in words


def test_sorting_by_score_reorders_the_rows(page: Page) -> None:
    rows = open_screener(page)
    before = symbols(rows)
    score_header = page.locator("[data-testid=screen-table] thead th").nth(3)

    score_header.click()  # highest first
    page.wait_for_function("() => document.querySelector('[data-testid=screen-table] th.sorted') !== null")
    descending = scores(page)
    assert descending == sorted(descending, reverse=True)

    score_header.click()  # lowest first
    page.wait_for_function(
        "(first) => document.querySelector('[data-testid=screen-table] tbody tr[data-symbol]')"
        ".getAttribute('data-symbol') !== first",
        arg=before[0],
    )
    ascending = scores(page)
    assert ascending == sorted(ascending)
    assert symbols(rows) != before


def test_choosing_a_preset_changes_the_list(page: Page) -> None:
    rows = open_screener(page)
    before = (symbols(rows), names_in_summary(page))

    page.get_by_test_id("preset-momentum").click()
    expect(page.get_by_test_id("screen-summary")).to_contain_text("Momentum ·")
    expect(page.get_by_test_id("preset-momentum")).to_have_class(re.compile("desk-active"))
    after = (symbols(rows), names_in_summary(page))
    assert after != before
    assert after[1] < before[1], "Momentum keeps only names above their 200-day average"


def test_bad_expression_says_which_fields_are_valid_and_keeps_the_results(page: Page) -> None:
    rows = open_screener(page)
    total = names_in_summary(page)
    expression = page.get_by_test_id("expression-input")

    expression.fill("foo > 3 and pe < 20")
    expression.press("Enter")
    error = page.get_by_test_id("expression-error")
    expect(error).to_contain_text("unknown field 'foo'")
    expect(error).to_contain_text(re.compile(r"Valid fields: pe, pb, ps"))
    expect(rows.first).to_be_visible()
    assert names_in_summary(page) == total

    expression.fill("pe < 20 and roe > 15%")
    page.get_by_test_id("expression-apply").click()
    expect(error).to_be_hidden()
    expect(page.get_by_test_id("screen-summary")).not_to_contain_text(f" {total} names")
    assert 0 < names_in_summary(page) < total


def test_empty_screens_say_which_filter_to_loosen_or_how_to_import_data(page: Page) -> None:
    open_screener(page)
    page.get_by_test_id("filter-roe-min").fill("15")
    page.get_by_test_id("filters-apply").click()
    expect(page.get_by_test_id("filters-expression")).to_have_text("→ roe >= 0.15")
    page.get_by_test_id("expression-input").fill("dip_pct > 99")
    page.get_by_test_id("expression-apply").click()

    empty = page.get_by_test_id("screen-empty")
    expect(empty).to_contain_text("No names match this screen")
    loosen = empty.get_by_test_id("loosen").first
    expect(loosen).to_contain_text("Drop the expression “dip_pct > 99”")
    loosen.click()
    expect(page.locator(PRO_ROWS).first).to_be_visible()
    expect(page.get_by_test_id("expression-input")).to_have_value("")

    page.get_by_test_id("universe-select").click()
    page.get_by_role("option", name=re.compile(r"^S&P 500 \(0\)")).click()  # nothing imported on the sim
    empty_universe = page.get_by_test_id("universe-empty")
    expect(empty_universe).to_contain_text("S&P 500 has no names to screen")
    expect(empty_universe).to_contain_text("marketdesk data import prices")
    empty_universe.get_by_role("button", name="Screen everything instead").click()
    expect(page.locator(PRO_ROWS).first).to_be_visible()


def test_saved_screens_are_kept_by_the_browser_and_deleted_after_confirmation(page: Page) -> None:
    open_screener(page)
    page.get_by_test_id("preset-value").click()
    expect(page.get_by_test_id("screen-summary")).to_contain_text("Value ·")
    page.get_by_test_id("filter-pe-max").fill("20")
    page.get_by_test_id("filters-apply").click()
    expect(page.get_by_test_id("filters-expression")).to_have_text("→ pe <= 20")
    page.get_by_test_id("save-name").fill("Cheap value")
    page.get_by_test_id("save-screen").click()
    expect(page.get_by_test_id("saved-load-Cheap value")).to_be_visible()

    page.reload()
    page.wait_for_function("() => window.did_handshake === true")
    expect(page.get_by_test_id("screen-summary")).to_contain_text("Balanced ·")
    page.get_by_test_id("saved-load-Cheap value").click()
    expect(page.get_by_test_id("screen-summary")).to_contain_text("Value ·")
    expect(page.get_by_test_id("filter-pe-max")).to_have_value("20")

    page.get_by_test_id("saved-delete-Cheap value").click()
    dialog = page.locator(".q-dialog")
    expect(dialog).to_contain_text("Delete the saved screen “Cheap value”?")
    dialog.get_by_test_id("confirm-cancel").click()
    expect(page.get_by_test_id("saved-load-Cheap value")).to_be_visible()
    page.get_by_test_id("saved-delete-Cheap value").click()
    page.locator(".q-dialog").get_by_test_id("confirm-delete").click()
    expect(page.get_by_test_id("saved-load-Cheap value")).to_have_count(0)


def test_clicking_a_row_opens_the_tearsheet_with_its_seven_sections(page: Page, screenshots: Path) -> None:
    rows = open_screener(page)
    stock = rows.filter(has=page.locator("td:nth-child(5)", has_text=re.compile(r"\d"))).first  # a P/E: a company
    symbol = str(stock.get_attribute("data-symbol"))
    stock.click()

    sheet = page.get_by_test_id("tearsheet")
    expect(sheet.get_by_test_id("tearsheet-symbol")).to_have_text(symbol)
    for title in SECTIONS:
        expect(sheet.locator(".q-expansion-item__container > .q-item").filter(has_text=title)).to_be_visible()
    expect(sheet.get_by_test_id("tearsheet-verdict")).to_have_text(re.compile("Strong Buy|Buy|Hold|Avoid"))
    expect(sheet.get_by_test_id("tearsheet-plain")).to_contain_text(f"{symbol}:")
    expect(sheet.get_by_test_id("tearsheet-dcf")).to_contain_text(re.compile(r"a share|Not computed"))
    expect(sheet.get_by_test_id("tearsheet-section-decision_framework")).to_contain_text("Minimum size")
    expect(sheet.get_by_test_id("tearsheet-section-threshold_sensitivity")).to_contain_text("would make it")
    expect(sheet.get_by_test_id("event-next-earnings")).to_have_text(re.compile(r"\w{3} \d\d \w{3} \d{4}|—"))
    page.screenshot(path=str(screenshots / "screener-tearsheet.png"))

    sheet.get_by_test_id("tearsheet-close").click()
    expect(sheet.get_by_test_id("tearsheet-symbol")).to_be_hidden()


def test_newbie_view_asks_what_you_are_looking_for_and_explains_in_plain_words(
    newcomer_page: Page, screenshots: Path
) -> None:
    page = newcomer_page
    open_screener(page)
    page.get_by_test_id("mode-toggle").get_by_role("button", name="Newbie").click()

    expect(page.get_by_test_id("newbie-question")).to_have_text("What are you looking for?")
    expect(page.get_by_test_id("screener-sidebar")).to_be_hidden()
    rows = page.locator(NEWBIE_ROWS)
    expect(rows.first).to_be_visible()
    assert headers(page, "newbie-table") == NEWBIE_HEADERS
    why = rows.first.locator("td.desk-why").inner_text()
    assert why.strip().endswith("Explain") and len(why) > 30, f"a sentence and its Explain button: {why!r}"
    page.get_by_test_id("goal-value").click()
    expect(page.get_by_test_id("screen-summary")).to_contain_text("Value ·")
    page.screenshot(path=str(screenshots / "screener-newbie.png"))

    symbol = str(rows.first.get_attribute("data-symbol"))
    rows.first.get_by_test_id("why-more").click()
    explanation = page.get_by_test_id("explain-text")
    expect(explanation).to_contain_text(f"{symbol}:")
    expect(explanation).to_contain_text(re.compile("Strong Buy|Buy|Hold|Avoid"))
    page.get_by_test_id("explain-close").click()

    page.reload()  # the view is remembered by this browser
    page.wait_for_function("() => window.did_handshake === true")
    expect(page.get_by_test_id("newbie-question")).to_be_visible()
    page.get_by_test_id("goal-customise").click()
    expect(page.get_by_test_id("screener-sidebar")).to_be_visible()
    expect(page.locator(PRO_ROWS).first).to_be_visible()


def test_dip_monitor_lists_dips_with_their_cause_and_a_play(page: Page, screenshots: Path) -> None:
    open_page(page, "/dips")
    expect(page.get_by_test_id("dip-spinner")).to_be_hidden()
    page.get_by_test_id("dip-universe").click()
    page.get_by_role("option", name="Everything").click()
    page.get_by_test_id("dip-threshold").get_by_role("button", name="5%", exact=True).click()
    status = page.get_by_test_id("dip-status")
    expect(status).to_contain_text(re.compile(r"\d+ dips of 5% or more · computed .* (just computed|from the cache)"))

    rows = page.locator(DIP_ROWS)
    expect(rows.first).to_be_visible()
    assert headers(page, "dip-table") == [
        "Ticker",
        "Price",
        "Dip %",
        "Verdict",
        "Why it dipped",
        "Suggested play",
        "Action",
    ]
    for i in range(min(rows.count(), 10)):
        row = rows.nth(i)
        expect(row.locator("[data-field=cause] .desk-cause")).to_have_text(re.compile("^(Market|Sector|Company)$"))
        expect(row.locator("[data-field=play]")).to_have_text(re.compile(r"\w+.{10,}"))
        expect(row.locator("td").nth(2)).to_have_text(re.compile(r"^−\d+\.\d%$"))
    page.screenshot(path=str(screenshots / "dips.png"))

    page.get_by_test_id("dip-threshold").get_by_role("button", name="15%", exact=True).click()
    expect(status).to_contain_text("dips of 15% or more")
    page.get_by_test_id("dip-threshold").get_by_role("button", name="5%", exact=True).click()
    expect(status).to_contain_text(re.compile("dips of 5% or more .* from the cache"))  # kept for 24 hours
    page.get_by_test_id("dip-refresh").click()
    expect(status).to_contain_text("just computed")

    symbol = str(rows.first.get_attribute("data-symbol"))
    rows.first.get_by_test_id("dip-tearsheet").click()
    expect(page.get_by_test_id("tearsheet-symbol")).to_have_text(symbol)


def test_regime_light_shows_the_state_with_its_reason(page: Page) -> None:
    open_page(page, "/")
    light = page.get_by_test_id("regime-light")
    expect(light).to_be_visible()
    expect(light).to_have_attribute("data-state", re.compile("^(risk-on|neutral|risk-off)$"))
    state = light.get_attribute("data-state")
    expect(light).to_contain_text({"risk-on": "Risk-on", "neutral": "Neutral", "risk-off": "Risk-off"}[str(state)])
    light.hover()
    tooltip = page.locator(".q-tooltip")
    expect(tooltip).to_be_visible()
    expect(tooltip).to_contain_text(re.compile(r"200-day average"))


def test_row_menu_adds_to_the_watchlist_and_opens_the_symbol_page(page: Page, api: httpx.Client) -> None:
    rows = open_screener(page)
    watched = set(watchlist(api))
    symbol = next(s for s in symbols(rows, 50) if s not in watched)
    try:
        page.get_by_test_id(f"row-menu-{symbol}").click()
        page.locator(".q-menu").get_by_test_id("menu-watch").click()
        expect(page.locator(".q-notification").filter(has_text=f"{symbol} is in Main")).to_be_visible()
        assert symbol in watchlist(api)
        expect(page.get_by_test_id("tearsheet-symbol")).to_be_hidden()  # the menu is not a click on the row
    finally:
        api.delete(f"/api/v1/watchlists/Main/symbols/{symbol}")

    page.get_by_test_id(f"row-menu-{symbol}").click()
    page.locator(".q-menu").get_by_test_id("menu-symbol").click()
    page.wait_for_url(f"**/symbol/{symbol}")
    expect(page.get_by_test_id("symbol-ticker")).to_have_text(symbol)


def held_text(weight: float, unrealized_pnl: str) -> str:
    """The "Your holdings" cell worked out from the API's valuation: the weight (a decimal under 10%) and the
    unrealized P&L in whole dollars."""
    percent = f"{weight * 100:.1f}%" if weight < 0.1 else f"{weight * 100:.0f}%"
    pnl = Decimal(unrealized_pnl).quantize(Decimal(1), rounding=ROUND_HALF_EVEN)
    dollars = f"${abs(pnl):,.0f}"
    return f"You own {percent} · {'+' if pnl > 0 else '−' if pnl < 0 else ''}{dollars}"


def test_your_holdings_column_shows_the_weight_and_pnl_of_what_you_own(
    api: httpx.Client, desk_url: str, signed_in_browser: Callable[[str, str], Page], screenshots: Path
) -> None:
    email, password = f"holder.{secrets.token_hex(4)}@example.com", "willow compass orchard 58"
    created = api.post("/api/v1/admin/users", json={"email": email, "password": password, "role": "trader"})
    assert created.status_code == 201, created.text
    page = signed_in_browser(email, password)
    rows = open_screener(page)
    held, other = symbols(rows, 2)
    # holding nothing, the column is not there at all
    assert "Your holdings" not in headers(page, "screen-table")
    expect(page.locator(f"{PRO_ROWS} [data-field=held]")).to_have_count(0)

    token = httpx.post(f"{desk_url}/api/v1/auth/login", json={"email": email, "password": password}, timeout=10)
    bearer = {"Authorization": f"Bearer {token.json()['access_token']}"}
    with httpx.Client(base_url=desk_url, headers=bearer, timeout=10.0) as client:
        portfolio = client.post("/api/v1/portfolios", json={"name": "Core"}).json()["id"]
        bought = (date.today() - timedelta(days=20)).isoformat()  # noqa: DTZ011 (the desk's clock is the wall clock)
        for body in (
            {"kind": "deposit", "date": bought, "amount": "20000"},
            {"kind": "buy", "date": bought, "symbol": held, "qty": "10", "price": "50"},
        ):
            assert client.post(f"/api/v1/portfolios/{portfolio}/transactions", json=body).status_code == 201
        (holding,) = client.get(f"/api/v1/portfolios/{portfolio}/valuation").json()["holdings"]
    wanted = held_text(float(holding["weight"]), holding["unrealized_pnl"])

    rows = open_screener(page)
    assert headers(page, "screen-table") == [*PRO_HEADERS[:-1], "Your holdings", "⋯"]
    expect(page.locator(f"{PRO_ROWS}[data-symbol='{held}'] [data-field=held]")).to_have_text(wanted)
    expect(page.locator(f"{PRO_ROWS}[data-symbol='{other}'] [data-field=held]")).to_have_text("")
    page.screenshot(path=str(screenshots / "screener.png"))
    page.get_by_test_id("mode-toggle").get_by_role("button", name="Newbie").click()
    expect(page.locator(f"{NEWBIE_ROWS}[data-symbol='{held}'] [data-field=held]")).to_have_text(wanted)
    assert headers(page, "newbie-table") == ["Ticker", "Price", "Verdict", "Your holdings", "Why?"]
