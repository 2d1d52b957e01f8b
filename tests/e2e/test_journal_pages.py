"""The journal page in real Chromium against a real desk server: writing a thesis and checking in on it (the
derived status with its rule, an override, the next action, closing it after a confirmation), annotating a round
trip and filtering the trade statistics, recording a market call, the decision scorecard, and what a viewer sees.
Every figure the page shows is held against what the API answers for the same user.

Each test makes a trader of its own over the API, so no test depends on what another one left behind. The desk's
simulated market is always open and ticks every 0.5 s, so a market order fills within a couple of seconds."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Locator, Page, expect

from support.browser_users import new_user

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

PASSWORD = "saffron harbour kettle 83"  # noqa: S105 (throwaway accounts of the test desk)
NEW_YORK = ZoneInfo("America/New_York")

SignedInBrowser = Callable[[str, str], Page]


@dataclass
class Trader:
    email: str
    user_id: str
    account_id: str
    client: httpx.Client


def ny_today() -> date:
    """The desk's today: the exchange's calendar day (its clock is the wall clock)."""
    return datetime.now(NEW_YORK).date()


def wait_connected(page: Page) -> None:
    page.wait_for_function("() => window.did_handshake === true")


def open_journal(page: Page, tab: str = "theses") -> None:
    page.goto(f"/journal?tab={tab}")
    wait_connected(page)


def equities(api: httpx.Client) -> list[str]:
    symbols = api.get("/api/v1/watchlists").json()[0]["symbols"]
    found = [s for s in symbols if api.get(f"/api/v1/symbols/{s}").json()["symbol"]["asset_class"] == "equity"]
    assert found, f"no equity among {symbols}"
    return found


def choose(page: Page, test_id: str, option: str | re.Pattern[str]) -> None:
    page.get_by_test_id(test_id).click()
    page.get_by_role("option", name=option).click()


def dollars(text: str | None) -> str:
    """An API amount as the page shows it: `+$1,234.56`, `−$5.00`, `$0.00`."""
    if text is None:
        return "—"
    value = Decimal(text).quantize(Decimal("0.01"))
    shown = f"${abs(value):,.2f}"
    return f"+{shown}" if value > 0 else f"−{shown}" if value < 0 else shown


def stat_value(page: Page, test_id: str, key: str) -> Locator:
    return page.locator(f"[data-testid={test_id}][data-key={key}] [data-field=value]")


@pytest.fixture
def make_trader(api: httpx.Client, desk_url: str) -> Iterator[Callable[[], Trader]]:
    """`make_trader()`: a new trader with a paper account, signed in over the API."""
    clients: list[httpx.Client] = []

    def make() -> Trader:
        user = new_user(api, desk_url, "journal", PASSWORD)
        email, client = user.email, user.client
        clients.append(client)
        opened = client.post("/api/v1/accounts", json={"name": "Paper"})
        assert opened.status_code == 201, opened.text
        return Trader(email, user.id, str(opened.json()["id"]), client)

    yield make
    for client in clients:
        client.close()


def filled(trader: Trader, symbol: str, side: str, qty: int, tag: str | None) -> dict[str, Any]:
    """Place a market order over the API and wait for its fill."""
    body: dict[str, Any] = {"account_id": trader.account_id, "symbol": symbol, "side": side, "qty": str(qty)}
    if tag is not None:
        body["tag"] = tag
    placed = trader.client.post("/api/v1/orders", json=body)
    assert placed.status_code in {200, 201}, placed.text
    order_id = placed.json()["id"]
    deadline = time.monotonic() + 20
    while True:
        order = trader.client.get(f"/api/v1/orders/{order_id}").json()["order"]
        if order["status"] == "filled":
            return dict(order)
        assert order["status"] not in {"rejected", "canceled", "expired"}, order
        assert time.monotonic() < deadline, f"not filled in time: {order}"
        time.sleep(0.25)


def test_a_thesis_is_written_and_checked_in_with_the_derived_status_and_its_rule(
    make_trader: Callable[[], Trader], signed_in_browser: SignedInBrowser, api: httpx.Client, screenshots: Path
) -> None:
    trader = make_trader()
    symbol = equities(api)[0]
    page = signed_in_browser(trader.email, PASSWORD)
    open_journal(page)
    expect(page.get_by_test_id("theses-empty")).to_contain_text("No open theses yet")

    page.get_by_test_id("thesis-add").click()
    expect(page.get_by_test_id("thesis-review")).to_have_value(f"{ny_today() + timedelta(days=30):%Y-%m-%d}")
    page.get_by_test_id("thesis-symbol").fill(symbol)
    choose(page, "thesis-reason", re.compile(r"^Momentum — "))
    # the reason suggests its metrics: the 3-month return and the distance above the 200-day average, both up
    expect(page.get_by_test_id("thesis-metric-1")).to_have_value(re.compile(r"\(return_3m_pct\)$"))
    expect(page.get_by_test_id("thesis-metric-2")).to_have_value(re.compile(r"\(above_ma200_pct\)$"))
    page.get_by_test_id("thesis-note").fill("Trend intact after earnings")
    page.get_by_test_id("thesis-submit").click()

    row = page.locator(f'[data-testid=thesis-row][data-symbol="{symbol}"]')
    expect(row).to_be_visible()
    expect(row).to_have_attribute("data-status", "none")
    expect(row.locator("[data-field=review]")).to_contain_text("in 30 days")
    (thesis,) = trader.client.get("/api/v1/journal/theses").json()
    assert (thesis["symbol"], thesis["reason"]) == (symbol, "momentum")
    assert [m["metric"] for m in thesis["metrics"]] == ["return_3m_pct", "above_ma200_pct"]
    assert thesis["review_on"] == f"{ny_today() + timedelta(days=30):%Y-%m-%d}"

    # the check-in: each metric then and now, the derived status and the rule that gave it
    row.get_by_test_id("thesis-checkin").click()
    preview = trader.client.get(f"/api/v1/journal/theses/{thesis['id']}/checkin").json()
    derived = preview["derived_status"]
    expect(page.get_by_test_id("checkin-reading")).to_have_count(2)
    expect(page.get_by_test_id("checkin-derived")).to_have_attribute("data-status", derived)
    expect(page.get_by_test_id("checkin-reason")).to_contain_text(preview["reason"][1:])
    for reading in preview["readings"]:
        shown = page.locator(f"[data-testid=checkin-reading][data-metric={reading['metric']}]")
        expect(shown.get_by_test_id("reading-status")).to_have_attribute("data-status", reading["status"])
        matched = page.locator(f"[data-testid=checkin-rule][data-matched=true][data-status={reading['status']}]")
        expect(matched.first).to_be_visible()
    expect(page.get_by_test_id("checkin-status")).to_be_visible()
    expect(page.locator(".q-notification")).to_have_count(0, timeout=15_000)  # the toast fades before the picture
    page.screenshot(path=str(screenshots / "journal.png"), full_page=True)

    # confirm another status than the derived one, pick "add" and a review in 14 days
    other = "shaken" if derived != "shaken" else "broken"
    page.get_by_test_id("checkin-status").get_by_role("button", name=other.capitalize(), exact=True).click()
    expect(page.get_by_test_id("checkin-override")).to_contain_text(f"You override the derived status ({derived})")
    choose(page, "checkin-action", re.compile(r"^Add — "))
    page.get_by_test_id("checkin-next-days").fill("14")
    page.get_by_test_id("checkin-note").fill("Adding on strength")
    page.get_by_test_id("checkin-submit").click()
    expect(row).to_have_attribute("data-status", other)
    expect(row.locator("[data-field=last_action]")).to_have_text("Add")
    expect(row.locator("[data-field=review]")).to_contain_text("in 14 days")
    detail = trader.client.get(f"/api/v1/journal/theses/{thesis['id']}").json()
    (checkin,) = detail["checkins"]
    assert (checkin["derived_status"], checkin["status"], checkin["overridden"]) == (derived, other, True)
    assert (checkin["action"], checkin["note"]) == ("add", "Adding on strength")
    assert checkin["next_review_on"] == f"{ny_today() + timedelta(days=14):%Y-%m-%d}"

    # selling closes the thesis, after a confirmation; cancelling keeps it open
    row.get_by_test_id("thesis-checkin").click()
    expect(page.get_by_test_id("checkin-history-row")).to_have_count(1)
    choose(page, "checkin-action", re.compile(r"^Sell \(close the thesis\)"))
    expect(page.get_by_test_id("checkin-next-days")).to_be_hidden()
    page.get_by_test_id("checkin-submit").click()
    expect(page.get_by_test_id("trade-confirm-question")).to_contain_text(f"Close the thesis on {symbol}?")
    page.get_by_test_id("trade-confirm-keep").click()
    assert trader.client.get(f"/api/v1/journal/theses/{thesis['id']}").json()["thesis"]["state"] == "open"
    page.get_by_test_id("checkin-submit").click()
    page.get_by_test_id("trade-confirm-ok").click()
    expect(row).to_have_count(0)
    assert trader.client.get(f"/api/v1/journal/theses/{thesis['id']}").json()["thesis"]["state"] == "closed"
    page.get_by_test_id("theses-state").get_by_role("button", name="Closed", exact=True).click()
    expect(row).to_have_attribute("data-state", "closed")


def test_a_thesis_on_a_metric_the_symbol_lacks_is_refused_with_the_metrics_it_has(
    make_trader: Callable[[], Trader], signed_in_browser: SignedInBrowser
) -> None:
    trader = make_trader()
    page = signed_in_browser(trader.email, PASSWORD)
    open_journal(page)
    page.get_by_test_id("thesis-add").click()
    page.get_by_test_id("thesis-symbol").fill("NOSUCH")
    page.get_by_test_id("thesis-submit").click()
    expect(page.get_by_test_id("thesis-form-error")).to_contain_text("NOSUCH")
    assert trader.client.get("/api/v1/journal/theses").json() == []


def test_round_trips_are_annotated_and_their_statistics_filtered_by_tag_symbol_and_date(
    make_trader: Callable[[], Trader], signed_in_browser: SignedInBrowser, api: httpx.Client, screenshots: Path
) -> None:
    trader = make_trader()
    first, second = equities(api)[:2]
    for symbol, tag in ((first, "breakout"), (second, "dip")):
        filled(trader, symbol, "buy", 2, tag)
        filled(trader, symbol, "sell", 2, None)
    filled(trader, first, "buy", 1, "breakout")  # left open
    page = signed_in_browser(trader.email, PASSWORD)
    open_journal(page, "trades")

    rows = page.get_by_test_id("trip-row")
    expect(rows).to_have_count(3)
    stats = trader.client.get("/api/v1/journal/trades/stats").json()
    assert (stats["count"], stats["open_round_trips"]) == (2, 1)
    expect(stat_value(page, "trade-stat", "count")).to_have_text("2")
    expect(stat_value(page, "trade-stat", "wins")).to_have_text(str(stats["wins"]))
    expect(stat_value(page, "trade-stat", "losses")).to_have_text(str(stats["losses"]))
    expect(stat_value(page, "trade-stat", "pnl")).to_have_text(dollars(stats["pnl"]))
    expect(stat_value(page, "trade-stat", "expectancy")).to_have_text(dollars(stats["expectancy"]))
    expect(page.get_by_test_id("signal-row")).to_have_count(2)
    expect(page.get_by_test_id("trade-note").filter(has_text="1 open round trip(s) not measured yet")).to_be_visible()
    page.screenshot(path=str(screenshots / "journal-trades.png"), full_page=True)

    # annotate the closed breakout round trip
    trips = trader.client.get("/api/v1/journal/trades", params={"status": "closed", "tag": "breakout"}).json()
    (breakout,) = trips
    row = page.locator(f'[data-testid=trip-row][data-id="{breakout["id"]}"]')
    row.get_by_test_id("trip-edit").click()
    page.get_by_test_id("trip-reason").fill("Broke out of a six-week base")
    page.get_by_test_id("trip-notes").fill("Sold too early; the trend ran on.")
    page.get_by_test_id("trip-save").click()
    expect(row.locator("[data-field=reason]")).to_have_text("Broke out of a six-week base")
    expect(row.locator("[data-field=notes]")).to_have_text("Sold too early; the trend ran on.")
    saved = trader.client.get(f"/api/v1/journal/trades/{breakout['id']}").json()
    assert (saved["reason"], saved["notes"]) == ("Broke out of a six-week base", "Sold too early; the trend ran on.")

    # the dip tag alone: one closed round trip, and the statistics the API gives for the same filter
    choose(page, "trades-tag", "dip")
    page.get_by_test_id("trades-apply").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-tag", "dip")
    dip = trader.client.get("/api/v1/journal/trades/stats", params={"tag": "dip"}).json()
    expect(stat_value(page, "trade-stat", "count")).to_have_text("1")
    expect(stat_value(page, "trade-stat", "pnl")).to_have_text(dollars(dip["pnl"]))

    # by symbol, every tag: the first symbol's closed and open round trips
    choose(page, "trades-tag", "Every tag")
    page.get_by_test_id("trades-symbol").fill(first)
    page.get_by_test_id("trades-apply").click()
    expect(rows).to_have_count(2)
    expect(stat_value(page, "trade-stat", "count")).to_have_text("1")

    # a range that starts tomorrow holds nothing, and says so
    page.get_by_test_id("trades-start").fill(f"{ny_today() + timedelta(days=1):%Y-%m-%d}")
    page.get_by_test_id("trades-apply").click()
    expect(page.get_by_test_id("trips-none-match")).to_be_visible()
    expect(stat_value(page, "trade-stat", "count")).to_have_text("0")
    page.get_by_test_id("trades-clear").click()
    expect(rows).to_have_count(3)


def test_a_market_call_is_recorded_and_shows_on_the_calendar_with_the_accuracy(
    make_trader: Callable[[], Trader], signed_in_browser: SignedInBrowser, api: httpx.Client, screenshots: Path
) -> None:
    trader = make_trader()
    symbol = equities(api)[0]
    last = Decimal(api.get(f"/api/v1/quotes/{symbol}").json()["last"])
    level = (last * Decimal("1.2")).quantize(Decimal(1))
    page = signed_in_browser(trader.email, PASSWORD)
    open_journal(page, "calls")
    expect(page.get_by_test_id("calls-empty")).to_be_visible()
    expect(page.get_by_test_id("judged-empty")).to_be_visible()

    due = ny_today() + timedelta(days=120)
    page.get_by_test_id("call-symbol").fill(symbol.lower())
    page.get_by_test_id("call-level").fill(str(level))
    page.get_by_test_id("call-due").fill(f"{due:%Y-%m-%d}")
    statement = f"{symbol} closes above {level} on {due:%Y-%m-%d}"
    expect(page.get_by_test_id("call-preview")).to_have_text(statement)
    page.get_by_test_id("call-submit").click()

    month = page.locator(f"[data-testid=calendar-month][data-month='{due:%Y-%m}']")
    expect(month.get_by_test_id("calendar-call")).to_contain_text(statement)
    (call,) = trader.client.get("/api/v1/journal/calls").json()
    assert (call["statement"], call["outcome"], call["mode"]) == (statement, "open", "at_due_date")
    expect(month.get_by_test_id("calendar-call")).to_have_attribute("data-id", call["id"])
    expect(month.get_by_test_id("call-outcome")).to_have_attribute("data-outcome", "open")
    expect(stat_value(page, "call-stat", "calls")).to_have_text("1")
    expect(stat_value(page, "call-stat", "open")).to_have_text("1")
    expect(stat_value(page, "call-stat", "hit_rate")).to_have_text("—")
    expect(page.get_by_test_id("call-note-line")).to_contain_text("No call has been judged yet")
    page.screenshot(path=str(screenshots / "journal-calls.png"), full_page=True)

    # an any-time call the last close already meets would be hit at once: refused, saying what to change
    page.get_by_test_id("call-symbol").fill(symbol)
    page.get_by_test_id("call-level").fill(str((last / 2).quantize(Decimal(1))))
    choose(page, "call-mode", re.compile(r"^Any time by the due date"))
    expect(page.get_by_test_id("call-preview")).to_contain_text(" by ")
    page.get_by_test_id("call-submit").click()
    expect(page.get_by_test_id("call-form-error")).to_contain_text("would be hit at once")
    assert len(trader.client.get("/api/v1/journal/calls").json()) == 1


def test_the_decision_scorecard_groups_logged_verdicts(
    make_trader: Callable[[], Trader], signed_in_browser: SignedInBrowser, api: httpx.Client
) -> None:
    trader = make_trader()
    page = signed_in_browser(trader.email, PASSWORD)
    open_journal(page, "decisions")
    expect(page.get_by_test_id("decisions-empty")).to_be_visible()
    logged = None
    for symbol in equities(api):
        answer = trader.client.post("/api/v1/decisions", json={"symbol": symbol})
        if answer.status_code == 201:
            logged = answer.json()
            break
    assert logged is not None, "no equity of the watchlist has a verdict to log"
    open_journal(page, "decisions")
    expect(page.get_by_test_id("decisions-total")).to_have_attribute("data-total", "1")
    verdict = page.get_by_test_id("decisions-by_verdict").locator(
        f'[data-testid=decision-row][data-key="{logged["verdict"]}"]'
    )
    expect(verdict.locator("[data-field=count]")).to_have_text("1")
    expect(verdict.locator("[data-field=measured_30]")).to_have_text("0/1")  # logged today: nothing measured yet
    expect(verdict.locator("[data-field=win_rate_30]")).to_have_text("—")


def test_a_viewer_sees_the_journal_but_no_write_controls(
    make_trader: Callable[[], Trader], signed_in_browser: SignedInBrowser, api: httpx.Client
) -> None:
    trader = make_trader()
    symbol = equities(api)[0]
    wrote = trader.client.post(
        "/api/v1/journal/theses",
        json={"symbol": symbol, "reason": "momentum", "metrics": [{"metric": "return_3m_pct"}]},
    )
    assert wrote.status_code == 201, wrote.text
    filled(trader, symbol, "buy", 1, "swing")
    demoted = api.patch(f"/api/v1/admin/users/{trader.user_id}", json={"role": "viewer"})
    assert demoted.status_code == 200, demoted.text
    viewer = signed_in_browser(trader.email, PASSWORD)
    open_journal(viewer)
    expect(viewer.get_by_test_id("viewer-notice")).to_be_visible()
    row = viewer.locator(f'[data-testid=thesis-row][data-symbol="{symbol}"]')
    expect(row).to_be_visible()
    expect(viewer.get_by_test_id("thesis-add")).to_have_count(0)
    row.get_by_test_id("thesis-checkin").click()
    expect(viewer.get_by_test_id("checkin-derived")).to_be_visible()
    expect(viewer.get_by_test_id("checkin-viewer")).to_be_visible()
    expect(viewer.get_by_test_id("checkin-submit")).to_be_hidden()
    expect(viewer.get_by_test_id("checkin-status")).to_have_count(0)
    viewer.get_by_test_id("checkin-close").click()
    viewer.get_by_test_id("tab-trades").click()
    expect(viewer.get_by_test_id("trip-row")).to_have_count(1)
    expect(viewer.get_by_test_id("trip-edit")).to_have_count(0)
    viewer.get_by_test_id("tab-calls").click()
    expect(viewer.get_by_test_id("calls-accuracy")).to_be_visible()
    expect(viewer.get_by_test_id("call-form")).to_have_count(0)
