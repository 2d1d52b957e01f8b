"""The tearsheet's "Position size" card in real Chromium against a real desk server on the simulated market: the
range in percent and dollars, the stars, the highlighted safe choice and the reasons, the same as the API answers
for the same user, and its "Trade it" link opening the trade ticket filled and previewed (never submitted).

A trader of its own (with a paper account opened over the API) is used, so the admin's browser keeps the state the
trade page's tests expect."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

PASSWORD = "copper meadow lantern 58"  # noqa: S105 (a throwaway account of the test desk)
BUY_ROWS = "[data-testid=screen-table] tbody tr[data-symbol]"
HEADLINE = re.compile(r"^Recommended: (none \(0%\)|[\d.]+(–[\d.]+)?% · \$[\d,.]+(–\$[\d,.]+)?)$")
FACTORS = ["verdict", "regime", "sector_momentum", "volatility", "name_cap", "sector_cap", "safe_choice", "stars"]


@pytest.fixture
def trader(api: httpx.Client, desk_url: str) -> Iterator[tuple[str, httpx.Client]]:
    """A new trader with a paper account, and an API client signed in as them."""
    email = f"sizer.{secrets.token_hex(4)}@example.com"
    made = api.post("/api/v1/admin/users", json={"email": email, "password": PASSWORD, "role": "trader"})
    assert made.status_code == 201, made.text
    signed_in = httpx.post(f"{desk_url}/api/v1/auth/login", json={"email": email, "password": PASSWORD}, timeout=10)
    assert signed_in.status_code == 200, signed_in.text
    token = signed_in.json()["access_token"]
    with httpx.Client(base_url=desk_url, headers={"Authorization": f"Bearer {token}"}, timeout=10.0) as client:
        opened = client.post("/api/v1/accounts", json={"name": "Paper"})
        assert opened.status_code == 201, opened.text
        yield email, client


def test_the_tearsheet_shows_a_position_size_and_links_to_a_previewed_ticket(
    trader: tuple[str, httpx.Client], signed_in_browser: Callable[[str, str], Page], screenshots: Path
) -> None:
    email, client = trader
    page = signed_in_browser(email, PASSWORD)
    page.goto("/screener")
    page.wait_for_function("() => window.did_handshake === true")
    rows = page.locator(BUY_ROWS)
    expect(rows.first).to_be_visible()
    buy = rows.filter(has=page.locator("[data-testid=verdict-chip]", has_text=re.compile(r"^(Strong Buy|Buy)$")))
    buy = buy.filter(has=page.locator("td:nth-child(5)", has_text=re.compile(r"\d"))).first  # a company (a P/E)
    symbol = str(buy.get_attribute("data-symbol"))
    buy.click()

    sheet = page.get_by_test_id("tearsheet")
    expect(sheet.get_by_test_id("tearsheet-symbol")).to_have_text(symbol)
    card = sheet.get_by_test_id("tearsheet-sizing")
    expect(card).to_have_attribute("data-state", "ready")
    expect(card.get_by_test_id("tearsheet-sizing-headline")).to_have_text(HEADLINE)
    expect(card.get_by_test_id("tearsheet-sizing-basis")).to_have_text(
        "Sizes a new buy for account Paper, equity $100,000."
    )
    stars = int(str(card.get_by_test_id("tearsheet-sizing-stars").get_attribute("data-stars")))
    assert 1 <= stars <= 5
    expect(card.get_by_test_id("tearsheet-sizing-stars")).to_have_text("★" * stars + "☆" * (5 - stars))
    reasons = card.get_by_test_id("tearsheet-sizing-reason")
    assert [reasons.nth(i).get_attribute("data-factor") for i in range(reasons.count())] == FACTORS
    for text in reasons.all_inner_texts():
        assert text.endswith("."), text  # each rule in a sentence
    safe = card.get_by_test_id("tearsheet-sizing-safe")
    expect(safe).to_have_text(re.compile(r"^Safe choice: ([\d.]+% · \$[\d,.]+ · \d+ shares?|stay out)$"))
    expect(card.get_by_test_id("tearsheet-sizing-safe-box")).to_have_class(re.compile("bg-green-1"))  # highlighted

    # the card shows what the API answers this user for the same symbol (prices tick, so compare what they do not
    # move: the verdict's rule, the regime's, the basis)
    answer = client.get("/api/v1/sizing", params={"symbol": symbol})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["verdict"] in {"Strong Buy", "Buy"}
    assert reasons.nth(0).inner_text() == body["reasons"][0]["text"]
    assert reasons.nth(1).inner_text() == body["reasons"][1]["text"]
    assert body["basis"]["name"] == "Paper"
    page.screenshot(path=str(screenshots / "tearsheet.png"))

    shares = int(str(safe.get_attribute("data-shares")))
    assert shares > 0, "a Buy in a fresh $100,000 account has room for at least one share"
    link = card.get_by_test_id("tearsheet-sizing-trade")
    target = urlsplit(str(link.get_attribute("href")))
    assert (target.path, dict(parse_qsl(target.query))) == (
        "/trade",
        {"symbol": symbol, "side": "buy", "qty": str(shares)},
    )
    link.click()
    page.wait_for_url(re.compile(r"/trade\?"))
    expect(page.get_by_test_id("ticket-symbol")).to_have_value(symbol)
    expect(page.get_by_test_id("ticket-qty")).to_have_value(str(shares))
    expect(page.get_by_test_id("preview-headline")).to_contain_text(f"BUY {shares} {symbol} at market (day)")
    expect(page.get_by_test_id("preview-risk")).to_be_visible()
    expect(page.get_by_test_id("preview-compliance")).to_be_visible()
    assert client.get("/api/v1/orders").json() == []  # a link previews; it never places an order
