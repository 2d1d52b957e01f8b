"""Asking why, and logging what was decided, in real Chromium against a real desk server on the simulated market:
a buy on the trade ticket that opens a position asks for its thesis, which the Journal then lists (and the order
lands in the decision log as acted on); "Not now" writes nothing; a manual buy on the portfolio page that opens a
position asks too; the tearsheet's "Save verdict" shows up on the Journal's Decisions tab. (The seeded simulated
market rates every name, so the disabled button of a name without a verdict is held in
tests/unit/web/test_web_tearsheet_save.py.)

The e2e desk is shared by every browser test of a worker, and its admin's data leaks between tests: each test
here makes a trader of its own over the API and signs a browser in as them."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Page, expect

from support.browser_users import new_user
from support.ticket import look_up_on_the_ticket

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

PASSWORD = "juniper ledger compass 29"  # noqa: S105 (throwaway accounts of the test desk)
NEW_YORK = ZoneInfo("America/New_York")

SignedInBrowser = Callable[[str, str], Page]


@dataclass
class Trader:
    """A new user of the test desk with a paper account, a browser signed in as them and an API client."""

    email: str
    account_id: str
    client: httpx.Client
    page: Page


def ny_today() -> date:
    """The desk's today: the exchange's calendar day (its clock is the wall clock)."""
    return datetime.now(NEW_YORK).date()


def wait_connected(page: Page) -> None:
    page.wait_for_function("() => window.did_handshake === true")


def wait_until(condition: Callable[[], bool], timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.2)


def screened(api: httpx.Client) -> list[dict[str, Any]]:
    """The screener's stock rows (the simulated market's, seeded), in its order."""
    answer = api.get("/api/v1/screener", params={"limit": 500, "asset": "stock"})
    assert answer.status_code == 200, answer.text
    return list(answer.json()["rows"])


def rated_equities(api: httpx.Client) -> list[str]:
    rated = [str(r["symbol"]) for r in screened(api) if r["verdict"] is not None]
    assert rated, "the simulated market has no rated stock"
    return rated


@pytest.fixture
def make_trader(api: httpx.Client, desk_url: str, signed_in_browser: SignedInBrowser) -> Iterator[Callable[[], Trader]]:
    clients: list[httpx.Client] = []

    def make() -> Trader:
        user = new_user(api, desk_url, "thesis", PASSWORD)
        email, client = user.email, user.client
        clients.append(client)
        opened = client.post("/api/v1/accounts", json={"name": "Paper"})
        assert opened.status_code == 201, opened.text
        return Trader(email, str(opened.json()["id"]), client, signed_in_browser(email, PASSWORD))

    yield make
    for client in clients:
        client.close()


def buy_on_the_ticket(page: Page, symbol: str, qty: int = 1) -> None:
    """Look `symbol` up on the ticket, preview a market buy of `qty` and submit it."""
    look_up_on_the_ticket(page, symbol)
    page.get_by_test_id("ticket-qty").fill(str(qty))
    page.get_by_test_id("ticket-preview").click()
    expect(page.get_by_test_id("preview-headline")).to_have_attribute("data-allowed", "true")
    page.get_by_test_id("ticket-submit").click()
    expect(page.get_by_test_id("ticket-result")).to_have_attribute("data-outcome", "placed")


def choose(page: Page, test_id: str, option: str | re.Pattern[str]) -> None:
    page.get_by_test_id(test_id).click()
    page.get_by_role("option", name=option).click()


def decisions(client: httpx.Client) -> list[dict[str, Any]]:
    answer = client.get("/api/v1/decisions")
    assert answer.status_code == 200, answer.text
    return list(answer.json())


def test_a_new_position_on_the_ticket_asks_for_its_thesis_which_the_journal_then_lists(
    make_trader: Callable[[], Trader], api: httpx.Client
) -> None:
    trader = make_trader()
    page = trader.page
    symbol = rated_equities(api)[0]
    page.goto("/trade")
    wait_connected(page)
    buy_on_the_ticket(page, symbol)

    question = page.get_by_test_id("thesis-prompt-question")
    expect(question).to_have_text(f"Why are you buying {symbol}?")
    expect(page.get_by_test_id("ticket-result")).to_have_attribute("data-thesis", "asked")
    # the Journal's Add-thesis fields: a reason whose metrics fill in, a review in 30 days
    expect(page.get_by_test_id("thesis-review")).to_have_value(f"{ny_today() + timedelta(days=30):%Y-%m-%d}")
    choose(page, "thesis-reason", re.compile(r"^Momentum — "))
    expect(page.get_by_test_id("thesis-metric-1")).to_have_value(re.compile(r"\(return_3m_pct\)$"))
    expect(page.get_by_test_id("thesis-metric-2")).to_have_value(re.compile(r"\(above_ma200_pct\)$"))
    page.get_by_test_id("thesis-note").fill("Breaking out on volume")
    page.get_by_test_id("thesis-prompt-save").click()
    expect(question).to_be_hidden()
    expect(page.locator(".q-notification").filter(has_text=f"Thesis on {symbol} written")).to_be_visible()

    (thesis,) = trader.client.get("/api/v1/journal/theses").json()
    assert (thesis["symbol"], thesis["reason"], thesis["note"]) == (symbol, "momentum", "Breaking out on volume")
    assert [m["metric"] for m in thesis["metrics"]] == ["return_3m_pct", "above_ma200_pct"]
    assert thesis["review_on"] == f"{ny_today() + timedelta(days=30):%Y-%m-%d}"
    # the order is in the decision log as acted on, with its side
    wait_until(lambda: len(decisions(trader.client)) == 1)
    (acted,) = decisions(trader.client)
    (order,) = trader.client.get("/api/v1/orders").json()
    assert (acted["symbol"], acted["action"], acted["side"], acted["order_id"]) == (symbol, "acted", "buy", order["id"])

    # more of a name held, with its thesis open: nothing to ask, and the same day's buy is not logged again
    buy_on_the_ticket(page, symbol)
    expect(page.get_by_test_id("ticket-result")).to_have_attribute("data-thesis", "not-asked")
    expect(question).to_be_hidden()

    page.goto("/journal?tab=theses")
    wait_connected(page)
    row = page.locator(f'[data-testid=thesis-row][data-symbol="{symbol}"]')
    expect(row).to_be_visible()
    expect(row.locator("[data-field=reason]")).to_have_text("Momentum")
    expect(row.locator("[data-field=review]")).to_contain_text("in 30 days")
    assert len(trader.client.get("/api/v1/orders").json()) == 2
    assert len(decisions(trader.client)) == 1


def test_not_now_writes_no_thesis(make_trader: Callable[[], Trader], api: httpx.Client) -> None:
    trader = make_trader()
    page = trader.page
    symbol = rated_equities(api)[1]
    page.goto("/trade")
    wait_connected(page)
    buy_on_the_ticket(page, symbol)
    question = page.get_by_test_id("thesis-prompt-question")
    expect(question).to_have_text(f"Why are you buying {symbol}?")
    page.get_by_test_id("thesis-note").fill("typed, then thought better of it")
    page.get_by_test_id("thesis-prompt-later").click()
    expect(question).to_be_hidden()
    assert trader.client.get("/api/v1/journal/theses", params={"state": "all"}).json() == []

    page.goto("/journal?tab=theses")
    wait_connected(page)
    expect(page.get_by_test_id("theses-empty")).to_contain_text("No open theses yet")


def test_a_manual_buy_that_opens_a_position_asks_for_its_thesis(
    make_trader: Callable[[], Trader], api: httpx.Client
) -> None:
    trader = make_trader()
    page = trader.page
    symbol = rated_equities(api)[2]
    made = trader.client.post("/api/v1/portfolios", json={"name": "By hand"})
    assert made.status_code == 201, made.text
    page.goto("/portfolio")
    wait_connected(page)
    expect(page.get_by_test_id("portfolio-picker")).to_contain_text("By hand")

    def record_buy(qty: str) -> None:
        page.get_by_test_id("txn-kind").click()
        page.get_by_role("option", name="Buy", exact=True).click()
        page.get_by_test_id("txn-symbol").fill(symbol)
        page.get_by_test_id("txn-qty").fill(qty)
        page.get_by_test_id("txn-price").fill("100")
        page.get_by_test_id("txn-record").click()

    record_buy("5")
    question = page.get_by_test_id("thesis-prompt-question")
    expect(question).to_have_text(f"Why are you buying {symbol}?")
    expect(page.get_by_test_id("txn-record")).to_have_attribute("data-thesis", "asked")
    choose(page, "thesis-reason", re.compile(r"^Momentum — "))
    page.get_by_test_id("thesis-prompt-save").click()
    expect(question).to_be_hidden()
    (thesis,) = trader.client.get("/api/v1/journal/theses").json()
    assert (thesis["symbol"], thesis["reason"]) == (symbol, "momentum")

    record_buy("3")  # adding to a holding opens nothing
    expect(page.locator(f'[data-testid=holding-row][data-symbol="{symbol}"] [data-field=qty]')).to_have_text("8")
    expect(page.get_by_test_id("txn-record")).to_have_attribute("data-thesis", "not-asked")
    expect(question).to_be_hidden()


def open_tearsheet(page: Page, symbol: str) -> None:
    page.goto(f"/screener?symbol={symbol}")
    wait_connected(page)
    expect(page.get_by_test_id("tearsheet").get_by_test_id("tearsheet-symbol")).to_have_text(symbol)


def test_a_saved_verdict_shows_on_the_journals_decisions_tab(
    make_trader: Callable[[], Trader], api: httpx.Client
) -> None:
    trader = make_trader()
    page = trader.page
    symbol = rated_equities(api)[3]
    open_tearsheet(page, symbol)
    sheet = page.get_by_test_id("tearsheet")
    shown = sheet.get_by_test_id("tearsheet-verdict").inner_text()
    save = sheet.get_by_test_id("tearsheet-save")
    expect(save).to_be_enabled()
    expect(save).to_have_attribute("data-verdict", shown)
    save.hover()
    expect(page.get_by_test_id("tearsheet-save-hint")).to_have_text(
        f"Log {shown} in your decision log, to see later how it did against the benchmark."
    )
    save.click()
    expect(page.locator(".q-notification").filter(has_text=f"Saved: {shown} on {symbol}")).to_be_visible()

    (saved,) = decisions(trader.client)
    assert (saved["symbol"], saved["action"], saved["side"], saved["verdict"]) == (symbol, "saved", None, shown)
    assert saved["scoring_version"] and saved["config_hash"] and saved["price"]

    page.goto("/journal?tab=decisions")
    wait_connected(page)
    expect(page.get_by_test_id("decisions-total")).to_have_attribute("data-total", "1")
    row = page.get_by_test_id("decisions-by_verdict").locator(f'[data-testid=decision-row][data-key="{shown}"]')
    expect(row.locator("[data-field=count]")).to_have_text("1")
    expect(row.locator("[data-field=measured_30]")).to_have_text("0/1")  # saved today: nothing measured yet
