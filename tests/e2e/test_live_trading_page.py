"""Live (real-money) trading on the trade page, in real Chromium against a desk started with
MARKETDESK_ALLOW_LIVE_TRADING=true: a live Alpaca account opened from the page waits for its owner, who types the
phrase in a confirmation dialog (a wrong phrase is answered with the right one); then the account wears the
"LIVE — real money" badge in the picker, the account bar and the ticket. A viewer sees the waiting account but no
control. And a kill switch thrown through the API is pushed to the open page (the `orders` channel).

Nothing may reach Alpaca: the desk's process gets an HTTP(S) proxy on a closed loopback port, and the keys that
opening the account needs leave the vault before it is confirmed, so the confirmed account's broker stops at the
missing key instead of dialling out."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from e2e import conftest as e2e_conftest
from e2e.conftest import FRESH_DESK_SETTINGS, _running_desk
from marketdesk.trading.adapters.alpaca import LIVE_CONFIRMATION_PHRASE

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

PASSWORD = "copper meadow lantern 83"  # noqa: S105 (throwaway accounts of the test desk)
LIVE_KEY = "AKLIVEKEY00000000001"  # made up, the vault's format for a live key id
SECRET = "aB3dE5fG7hI9jK1lM3nO5pQ7rS9tU1vW3xY5zA7b"  # noqa: S105 (made up)
NOWHERE = "http://127.0.0.1:9"  # the discard port: nothing listens, so a request fails at once, on this machine
LIVE_DESK_SETTINGS = {
    **FRESH_DESK_SETTINGS,
    "MARKETDESK_ALLOW_LIVE_TRADING": "true",
    **{name: NOWHERE for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy")},
    "NO_PROXY": "127.0.0.1,localhost",
    "no_proxy": "127.0.0.1,localhost",
}


# this module's own desk starts while the session's desk (and other xdist workers) may be busy: give it the wait
# a slow machine needs (this copy of the conftest module is this module's alone; the session's keeps its limit)
e2e_conftest.SERVER_START_TIMEOUT_S = max(e2e_conftest.SERVER_START_TIMEOUT_S, 240.0)


@dataclass
class LiveDesk:
    url: str
    admin: httpx.Client


@pytest.fixture(scope="module")
def live_desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveDesk]:
    """A desk of its own that allows live trading, with its first admin registered over the API."""
    with _running_desk(tmp_path_factory.mktemp("live-desk-data"), LIVE_DESK_SETTINGS) as url:
        registered = httpx.post(
            f"{url}/api/v1/auth/register", json={"email": "admin@example.com", "password": PASSWORD}, timeout=10.0
        )
        assert registered.status_code == 201, registered.text
        token = registered.json()["access_token"]
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=10.0) as admin:
            yield LiveDesk(url, admin)


def sign_in(desk: LiveDesk, email: str) -> tuple[httpx.Client, dict[str, str]]:
    """An API client signed in as `email`, and the cookies a browser would keep."""
    answer = httpx.post(f"{desk.url}/api/v1/auth/login", json={"email": email, "password": PASSWORD}, timeout=10.0)
    assert answer.status_code == 200, answer.text
    client = httpx.Client(
        base_url=desk.url, headers={"Authorization": f"Bearer {answer.json()['access_token']}"}, timeout=10.0
    )
    return client, dict(answer.cookies.items())


def new_user(desk: LiveDesk, role: str) -> tuple[str, httpx.Client, dict[str, str]]:
    email = f"{role}.{secrets.token_hex(4)}@example.com"
    made = desk.admin.post("/api/v1/admin/users", json={"email": email, "password": PASSWORD, "role": role})
    assert made.status_code == 201, made.text
    return (email, *sign_in(desk, email))


def store_keys(client: httpx.Client) -> None:
    for name, value in (("alpaca_key_id", LIVE_KEY), ("alpaca_secret_key", SECRET)):
        stored = client.put(f"/api/v1/vault/secrets/{name}", json={"value": value})
        assert stored.status_code == 200, stored.text


def drop_keys(client: httpx.Client) -> None:
    for name in ("alpaca_key_id", "alpaca_secret_key"):
        assert client.delete(f"/api/v1/vault/secrets/{name}").status_code == 204


def browser_as(open_browser: Callable[..., Page], desk: LiveDesk, cookies: dict[str, str]) -> Page:
    page = open_browser(desk.url)
    page.context.add_cookies(
        [
            {"name": "md_access", "value": cookies["md_access"], "url": desk.url, "httpOnly": True, "sameSite": "Lax"},
            {"name": "md_csrf", "value": cookies["md_csrf"], "url": desk.url, "sameSite": "Lax"},
        ]
    )
    page.goto("/trade")
    page.wait_for_function("() => window.did_handshake === true")
    return page


def test_a_trader_opens_a_live_account_and_types_the_phrase_before_it_is_live(
    live_desk: LiveDesk, open_browser: Callable[..., Page], screenshots: Path
) -> None:
    _, client, cookies = new_user(live_desk, "trader")
    store_keys(client)
    page = browser_as(open_browser, live_desk, cookies)

    page.get_by_test_id("empty-venue").click()
    page.get_by_role("option", name="Alpaca live — real money", exact=True).click()
    expect(page.get_by_role("button", name="Open a live Alpaca account")).to_be_visible()
    page.get_by_test_id("empty-name").fill("Real")
    page.get_by_test_id("empty-open-account").click()

    badge = page.get_by_test_id("live-badge")
    expect(badge).to_have_text("LIVE — not confirmed")
    expect(badge).to_have_attribute("data-live", "pending")
    expect(page.get_by_test_id("account-picker")).to_contain_text("Real · live alpaca margin (not confirmed)")
    expect(page.get_by_test_id("live-confirm-panel")).to_be_visible()
    expect(page.get_by_test_id("account-error")).to_contain_text("until you confirm live trading")
    expect(page.get_by_test_id("ticket-live")).to_be_hidden()
    (account,) = client.get("/api/v1/accounts").json()
    assert (account["broker"], account["live"], account["live_confirmed"]) == ("alpaca", True, False)
    drop_keys(client)  # from here on the account's broker stops at the vault, never at Alpaca

    page.get_by_test_id("live-confirm-open").click()
    dialog = page.locator(".q-dialog").filter(has=page.get_by_test_id("live-phrase"))
    expect(dialog.get_by_test_id("live-confirm-title")).to_have_text("Turn on live trading for Real?")
    expect(dialog.get_by_test_id("live-phrase-shown")).to_have_text(LIVE_CONFIRMATION_PHRASE)
    dialog.get_by_test_id("live-phrase").fill("yes")
    dialog.get_by_test_id("live-confirm").click()
    problem = dialog.get_by_test_id("live-confirm-error")
    expect(problem).to_contain_text("does not match the phrase")
    expect(problem).to_contain_text(LIVE_CONFIRMATION_PHRASE)
    assert client.get("/api/v1/accounts").json()[0]["live_confirmed"] is False

    dialog.get_by_test_id("live-phrase").fill(LIVE_CONFIRMATION_PHRASE)
    dialog.get_by_test_id("live-confirm").click()
    expect(dialog).to_be_hidden()
    expect(badge).to_have_text("LIVE — real money")
    expect(badge).to_have_attribute("data-live", "confirmed")
    expect(page.get_by_test_id("account-picker")).to_contain_text("Real · LIVE — real money · alpaca margin")
    expect(page.get_by_test_id("ticket-live")).to_contain_text("LIVE — real money")
    expect(page.get_by_test_id("live-confirm-panel")).to_be_hidden()
    expect(page.get_by_test_id("account-error")).to_contain_text("no alpaca_key_id in your key vault")
    page.screenshot(path=str(screenshots / "trade-live.png"), full_page=True)
    confirmed = client.get("/api/v1/accounts").json()[0]
    assert confirmed["live_confirmed"] is True and confirmed["live_confirmed_at"]

    page.reload()  # the badge is the account's, not the page's
    page.wait_for_function("() => window.did_handshake === true")
    expect(page.get_by_test_id("live-badge")).to_have_text("LIVE — real money")
    client.close()


def test_a_viewer_sees_a_waiting_live_account_but_no_control(
    live_desk: LiveDesk, open_browser: Callable[..., Page]
) -> None:
    email, client, _ = new_user(live_desk, "trader")
    store_keys(client)
    opened = client.post("/api/v1/accounts", json={"name": "Real", "broker": "alpaca", "live": True})
    assert opened.status_code == 201, opened.text
    drop_keys(client)
    user_id = client.get("/api/v1/auth/me").json()["id"]
    demoted = live_desk.admin.patch(f"/api/v1/admin/users/{user_id}", json={"role": "viewer"})
    assert demoted.status_code == 200, demoted.text
    client.close()

    viewer, cookies = sign_in(live_desk, email)
    page = browser_as(open_browser, live_desk, cookies)
    expect(page.get_by_test_id("live-confirm-panel")).to_be_visible()
    expect(page.get_by_test_id("live-confirm-viewer")).to_contain_text("Viewers cannot confirm live trading")
    expect(page.get_by_test_id("live-confirm-open")).to_have_count(0)
    expect(page.get_by_test_id("live-badge")).to_have_text("LIVE — not confirmed")
    refused = viewer.post(
        f"/api/v1/accounts/{opened.json()['id']}/live", json={"confirmation": LIVE_CONFIRMATION_PHRASE}
    )
    assert refused.status_code == 403, refused.text
    viewer.close()


def test_a_kill_switch_thrown_elsewhere_shows_on_the_open_page_at_once(
    live_desk: LiveDesk, open_browser: Callable[..., Page]
) -> None:
    _, client, cookies = new_user(live_desk, "trader")
    account = client.post("/api/v1/accounts", json={"name": "Paper"}).json()
    page = browser_as(open_browser, live_desk, cookies)
    expect(page.get_by_test_id("account-state")).to_have_text("ACTIVE")
    expect(page.get_by_test_id("live-badge")).to_be_hidden()  # a paper account wears no live badge

    thrown = client.post(f"/api/v1/accounts/{account['id']}/kill-switch", json={"on": True, "reason": "from the API"})
    assert thrown.status_code == 200, thrown.text
    expect(page.get_by_test_id("account-state")).to_have_text("HALTED")  # pushed: the page was not reloaded
    expect(page.get_by_test_id("account-state-reason")).to_have_text("from the API")
    expect(page.get_by_test_id("kill-switch-off")).to_be_visible()
    expect(page.get_by_test_id("kill-switch-on")).to_be_hidden()
    client.post(f"/api/v1/accounts/{account['id']}/kill-switch", json={"on": False})
    expect(page.get_by_test_id("account-state")).to_have_text("ACTIVE")
    client.close()
