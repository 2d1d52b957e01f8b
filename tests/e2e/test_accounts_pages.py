"""Signing in, registering, settings (password, key vault, sessions), the admin page and what a viewer may do, in
real Chromium against a real desk server. Every browser here signs in through the pages themselves, so the
cookies it holds are the ones the desk's answers set."""

from __future__ import annotations

import re
import secrets
import string
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from playwright.sync_api import Locator, Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

PASSWORD = "copper lantern drifts 58"  # noqa: S105 (throwaway accounts of the test desk)
NEW_PASSWORD = "maple orbit whistle 913"  # noqa: S105
WRONG_PASSWORD = "not the password at all"  # noqa: S105
BULLETS = "••••••"
UPPER_DIGITS = string.ascii_uppercase + string.digits

OpenBrowser = Callable[..., Page]


def wait_connected(page: Page) -> None:
    """Wait for NiceGUI's websocket handshake: from then on, clicks reach the server."""
    page.wait_for_function("() => window.did_handshake === true")


def open_page(page: Page, path: str) -> None:
    page.goto(path)
    wait_connected(page)


def email(prefix: str) -> str:
    return f"{prefix}.{secrets.token_hex(4)}@example.com"


def make_user(api: httpx.Client, role: str, prefix: str | None = None) -> str:
    """A new account of `role` (with PASSWORD), made by the admin over the API."""
    address = email(prefix or role)
    response = api.post("/api/v1/admin/users", json={"email": address, "password": PASSWORD, "role": role})
    assert response.status_code == 201, response.text
    return address


def sign_in(page: Page, address: str, password: str = PASSWORD, path: str = "/login") -> None:
    """Sign in through the sign-in page; wait until the page has gone on."""
    open_page(page, path)
    fill_sign_in(page, address, password)
    page.wait_for_url(lambda url: "/login" not in url)
    wait_connected(page)


def fill_sign_in(page: Page, address: str, password: str) -> None:
    page.get_by_test_id("auth-email").fill(address)
    page.get_by_test_id("login-password").fill(password)
    page.get_by_test_id("login-submit").click()


def refused_sign_in(page: Page, address: str, password: str) -> str:
    """Submit the sign-in form and wait for the refusal (the page empties the password field when it comes)."""
    fill_sign_in(page, address, password)
    expect(page.get_by_test_id("login-password")).to_have_value("")
    return page.get_by_test_id("login-error").inner_text()


def wait_until(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.1)


def wait_for_sign_in_page(page: Page, following: str = "/") -> None:
    """Wait until the browser is on the sign-in page, which will go on to `following` (the dashboard by default)."""
    page.wait_for_url(re.compile(r"/login(\?next=[^&]*)?$"))
    found = re.search(r"[?&]next=([^&]*)", page.url)
    assert (unquote(found.group(1)) if found else "/") == following, page.url


def cookie(page: Page, name: str) -> dict[str, Any] | None:
    return next((dict(c) for c in page.context.cookies() if c["name"] == name), None)


def bearer(desk_url: str, address: str, password: str = PASSWORD) -> httpx.Client:
    """An API client signed in as `address` (a session of its own)."""
    response = httpx.post(f"{desk_url}/api/v1/auth/login", json={"email": address, "password": password}, timeout=10)
    assert response.status_code == 200, response.text
    headers = {"Authorization": f"Bearer {response.json()['access_token']}"}
    return httpx.Client(base_url=desk_url, headers=headers, timeout=10.0)


def confirm_dialog(page: Page) -> Locator:
    return page.locator(".q-dialog").filter(has=page.get_by_test_id("confirm-question"))


def user_row(page: Page, address: str) -> Locator:
    return page.locator(f'[data-testid=user-row][data-email="{address}"]')


def input_values(page: Page) -> list[str]:
    values: list[str] = page.locator("input").evaluate_all("inputs => inputs.map(input => input.value)")
    return values


def alpaca_key_id(last: str) -> str:
    """A well-formed Alpaca paper key id ending in `last`: PK, then 18 capital letters and digits."""
    return "PK" + "".join(secrets.choice(UPPER_DIGITS) for _ in range(18 - len(last))) + last


@pytest.fixture
def registration_closed_after(api: httpx.Client) -> Iterator[None]:
    """Whatever the test does to the desk settings, registration is closed again afterwards."""
    yield
    response = api.patch("/api/v1/admin/settings", json={"open_registration": False, "registration_role": "viewer"})
    assert response.status_code == 200, response.text


def test_wrong_password_is_refused_plainly_and_the_right_one_signs_in(
    open_browser: OpenBrowser, api: httpx.Client, screenshots: Path
) -> None:
    address = make_user(api, "trader")
    page = open_browser()
    page.goto("/settings")
    wait_for_sign_in_page(page, "/settings")
    wait_connected(page)
    expect(page.get_by_test_id("auth-heading")).to_have_text("Sign in")
    page.screenshot(path=str(screenshots / "login.png"), full_page=True)

    assert (
        refused_sign_in(page, address, WRONG_PASSWORD) == "Email or password is not right. Check both, or ask an admin."
    )
    assert "/login" in page.url
    assert cookie(page, "md_access") is None

    fill_sign_in(page, address, PASSWORD)
    page.wait_for_url("**/settings")
    expect(page.get_by_test_id("user-email")).to_have_text(address)
    expect(page.get_by_test_id("user-role")).to_have_text("trader")
    expect(page.get_by_test_id("profile-email")).to_have_text(address)
    access, refresh = cookie(page, "md_access"), cookie(page, "md_refresh")
    assert access is not None and access["httpOnly"]
    assert refresh is not None and refresh["httpOnly"] and refresh["path"] == "/api/v1/auth"


def test_an_account_locked_by_failed_sign_ins_says_how_long_to_wait(
    open_browser: OpenBrowser, api: httpx.Client
) -> None:
    """The test desk locks an account after two failures in a row (MARKETDESK_LOGIN_MAX_FAILURES=2)."""
    address = make_user(api, "viewer", "locked")
    page = open_browser()
    open_page(page, "/login")
    for _ in range(2):
        assert refused_sign_in(page, address, WRONG_PASSWORD).startswith("Email or password is not right")
    # the right password now, but the account is locked
    assert refused_sign_in(page, address, PASSWORD) == "Too many failed sign-ins for this account. Try again in 15 min."
    assert "/login" in page.url
    assert cookie(page, "md_access") is None


def test_an_expired_access_cookie_is_renewed_instead_of_asking_to_sign_in(
    open_browser: OpenBrowser, api: httpx.Client
) -> None:
    address = make_user(api, "trader")
    page = open_browser()
    sign_in(page, address)
    first_refresh = cookie(page, "md_refresh")
    assert first_refresh is not None

    page.context.clear_cookies(name="md_access")  # what the browser does when the access cookie's time is up
    page.goto("/settings")
    page.wait_for_url("**/settings")
    wait_connected(page)
    expect(page.get_by_test_id("profile-email")).to_have_text(address)
    renewed = cookie(page, "md_refresh")
    assert cookie(page, "md_access") is not None
    assert renewed is not None and renewed["value"] != first_refresh["value"]

    # the open page renews the cookie before it expires (here: in a second, as if the token were about to end)
    page.evaluate("localStorage.removeItem('md_refreshed_at'); mdAuth.keepFresh(1, 14400)")
    wait_until(lambda: (cookie(page, "md_refresh") or {}).get("value") != renewed["value"])

    # two refreshes at once (two tabs, say) take turns, so neither reuses a spent refresh token
    outcomes = page.evaluate("Promise.all([mdAuth.refresh(true), mdAuth.refresh(true)]).then(a => a.map(x => x.ok))")
    assert outcomes == [True, True]
    page.context.clear_cookies(name="md_access")
    page.goto("/settings")
    page.wait_for_url("**/settings")
    expect(page.get_by_test_id("profile-email")).to_have_text(address)


def test_vault_key_is_shown_masked_then_replaced_and_deleted_with_confirmation(
    open_browser: OpenBrowser, api: httpx.Client, desk_url: str, screenshots: Path
) -> None:
    address = make_user(api, "trader", "vault")
    page = open_browser()
    sign_in(page, address, path="/login?next=/settings")
    section = page.get_by_test_id("vault-section")
    expect(section.get_by_test_id("vault-empty")).to_be_visible()
    expect(section.get_by_test_id("vault-expected")).to_contain_text("starting with PK (paper) or AK (live)")

    # a value of the wrong shape is refused with what it should look like, and does not stay on the page
    section.get_by_test_id("vault-value").fill("PK12345")
    section.get_by_test_id("vault-save").click()
    expect(section.get_by_test_id("vault-error")).to_have_text(
        "Alpaca_key_id does not look like an Alpaca API key id (got 7 characters): expected 20 capital letters "
        "and digits starting with PK (paper) or AK (live). Copy it again from the Alpaca dashboard, under API Keys."
    )
    expect(section.get_by_test_id("vault-value")).to_have_value("")

    first = alpaca_key_id("Q1")
    section.get_by_test_id("vault-value").fill(first)
    section.get_by_test_id("vault-save").click()
    row = section.locator("[data-testid=vault-row][data-name=alpaca_key_id]")
    expect(row.get_by_test_id("vault-hint")).to_have_text(f"{BULLETS}Q1")
    expect(section.get_by_test_id("vault-error")).to_be_hidden()
    expect(section.get_by_test_id("vault-save")).to_have_text(re.compile("Replace"))
    secret = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(38)) + "z7"
    section.get_by_test_id("vault-kind").click()
    page.get_by_role("option", name=re.compile(r"\(alpaca_secret_key\)")).click()
    section.get_by_test_id("vault-value").fill(secret)
    section.get_by_test_id("vault-save").click()
    expect(section.locator("[data-testid=vault-row][data-name=alpaca_secret_key]")).to_contain_text(f"{BULLETS}z7")
    for value in (first, secret):
        assert value not in page.content(), "a stored secret is in the page's DOM"
        assert value not in input_values(page), "a stored secret stayed in an input"
    with bearer(desk_url, address) as own:
        listed = {item["name"]: item["hint"] for item in own.get("/api/v1/vault/secrets").json()}
    assert listed == {"alpaca_key_id": f"{BULLETS}Q1", "alpaca_secret_key": f"{BULLETS}z7"}
    page.add_style_tag(content=".q-notifications { display: none; }")  # the toasts would cover the form
    page.screenshot(path=str(screenshots / "settings.png"), full_page=True)
    page.add_style_tag(content=".q-notifications { display: block; }")

    replacement = alpaca_key_id("W9")
    row.get_by_test_id("vault-replace").click()
    expect(section.get_by_test_id("vault-kind")).to_contain_text("(alpaca_key_id)")
    section.get_by_test_id("vault-value").fill(replacement)
    section.get_by_test_id("vault-save").click()
    expect(row.get_by_test_id("vault-hint")).to_have_text(f"{BULLETS}W9")
    assert replacement not in page.content()
    assert first not in page.content()

    row.get_by_test_id("vault-delete").click()
    dialog = confirm_dialog(page)
    expect(dialog).to_contain_text("Delete alpaca_key_id from your key vault?")
    dialog.get_by_test_id("confirm-cancel").click()
    expect(dialog).to_be_hidden()
    expect(row).to_be_visible()
    row.get_by_test_id("vault-delete").click()
    confirm_dialog(page).get_by_test_id("confirm-ok").click()
    expect(row).to_have_count(0)
    with bearer(desk_url, address) as own:
        assert [item["name"] for item in own.get("/api/v1/vault/secrets").json()] == ["alpaca_secret_key"]


def test_signing_a_session_out_from_settings_ends_that_browsers_sign_in(
    open_browser: OpenBrowser, api: httpx.Client
) -> None:
    address = make_user(api, "trader", "sessions")
    here, there, elsewhere = open_browser(), open_browser(), open_browser()
    sign_in(there, address)
    sign_in(here, address, path="/login?next=/settings")
    rows = here.locator("[data-testid=session-row]")
    expect(rows).to_have_count(2)
    current = here.locator("[data-testid=session-row][data-current=true]")
    expect(current.get_by_test_id("current-session")).to_have_text(re.compile("This browser"))
    other = here.locator("[data-testid=session-row][data-current=false]")
    expect(other.locator("[data-field=ip]")).to_have_text("127.0.0.1")
    expect(other.locator("[data-field=device]")).to_have_text(re.compile(r"^Chrome.* on Linux$"))

    other.get_by_test_id("revoke-session").click()
    dialog = confirm_dialog(here)
    expect(dialog).to_contain_text(re.compile(r"Sign out Chrome.* at 127\.0\.0\.1\?"))
    dialog.get_by_test_id("confirm-cancel").click()
    expect(rows).to_have_count(2)
    other.get_by_test_id("revoke-session").click()
    confirm_dialog(here).get_by_test_id("confirm-ok").click()
    expect(rows).to_have_count(1)
    expect(here.get_by_test_id("revoke-others")).to_be_hidden()

    there.goto("/")  # its access cookie names a session that has ended; its refresh is refused too
    wait_for_sign_in_page(there)

    sign_in(elsewhere, address)
    here.reload()
    wait_connected(here)
    expect(rows).to_have_count(2)
    here.get_by_test_id("revoke-others").click()
    expect(confirm_dialog(here)).to_contain_text("Sign out every other session?")
    confirm_dialog(here).get_by_test_id("confirm-ok").click()
    expect(rows).to_have_count(1)
    expect(here.locator("[data-testid=session-row][data-current=true]")).to_have_count(1)
    elsewhere.goto("/settings")
    wait_for_sign_in_page(elsewhere, "/settings")
    here.reload()
    wait_connected(here)
    expect(here.get_by_test_id("profile-email")).to_have_text(address)


def test_signing_out_returns_to_the_sign_in_page_and_the_desk_then_needs_a_sign_in(
    open_browser: OpenBrowser, api: httpx.Client
) -> None:
    address = make_user(api, "viewer", "leaving")
    page = open_browser()
    sign_in(page, address)
    expect(page.get_by_test_id("watchlist-table")).to_be_visible()
    page.get_by_test_id("user-menu").click()
    page.get_by_test_id("sign-out").click()
    page.wait_for_url("**/login")
    wait_connected(page)
    expect(page.get_by_test_id("auth-heading")).to_have_text("Sign in")
    assert {c["name"] for c in page.context.cookies()}.isdisjoint({"md_access", "md_refresh", "md_csrf"})

    page.goto("/")
    wait_for_sign_in_page(page)
    assert page.context.request.get("/api/v1/watchlists").status == 401


def test_a_viewer_sees_no_write_controls_and_cannot_use_the_admin_page(
    page: Page, open_browser: OpenBrowser, api: httpx.Client
) -> None:
    """The admin creates the viewer on the admin page; the admin's own pages show the controls the viewer's hide."""
    address = email("viewer")
    open_page(page, "/admin")
    page.get_by_test_id("new-user-email").fill(address)
    page.get_by_test_id("new-user-password").fill(PASSWORD)
    expect(page.get_by_test_id("new-user-role")).to_contain_text("viewer")
    page.get_by_test_id("create-user").click()
    expect(user_row(page, address).get_by_test_id("user-role-select")).to_contain_text("viewer")
    created = next(u for u in api.get("/api/v1/admin/users").json() if u["email"] == address)
    assert created["role"] == "viewer"

    open_page(page, "/")
    expect(page.get_by_test_id("watchlist-add-input")).to_be_visible()
    expect(page.locator("[data-testid^=remove-]").first).to_be_visible()
    expect(page.get_by_test_id("nav-admin")).to_be_visible()

    viewer = open_browser()
    sign_in(viewer, address)
    expect(viewer.get_by_test_id("user-role")).to_have_text("viewer")
    expect(viewer.locator("[data-testid^=watch-row-]").first).to_be_visible()
    expect(viewer.get_by_test_id("watchlist-add-input")).to_have_count(0)
    expect(viewer.get_by_test_id("watchlist-add-button")).to_have_count(0)
    expect(viewer.locator("[data-testid^=remove-]")).to_have_count(0)
    expect(viewer.get_by_test_id("nav-admin")).to_have_count(0)
    expect(viewer.get_by_test_id("nav-settings")).to_be_visible()
    viewer.get_by_test_id("user-menu").click()
    expect(viewer.get_by_test_id("menu-settings")).to_be_visible()
    expect(viewer.get_by_test_id("menu-admin")).to_have_count(0)

    symbol = viewer.locator("[data-testid^=watch-row-]").first.get_attribute("data-symbol")
    open_page(viewer, f"/symbol/{symbol}")
    expect(viewer.get_by_test_id("symbol-ticker")).to_have_text(str(symbol))
    expect(viewer.get_by_test_id("watch-button")).to_have_count(0)

    open_page(viewer, "/screener")
    first_row = viewer.locator("[data-testid=screen-table] tbody tr[data-symbol]").first
    expect(first_row).to_be_visible()
    first_row.locator("[data-testid^=row-menu-]").click()
    expect(viewer.get_by_test_id("menu-tearsheet")).to_be_visible()
    expect(viewer.get_by_test_id("menu-watch")).to_be_hidden()
    expect(viewer.get_by_test_id("save-screen")).to_have_count(0)

    open_page(viewer, "/settings")
    expect(viewer.get_by_test_id("vault-read-only")).to_be_visible()
    expect(viewer.get_by_test_id("vault-save")).to_have_count(0)

    response = viewer.goto("/admin")
    assert response is not None and response.status == 403
    wait_connected(viewer)
    notice = viewer.get_by_test_id("role-required")
    expect(notice).to_contain_text("Admins only")
    expect(notice).to_contain_text("you are signed in as a viewer")
    expect(viewer.get_by_test_id("users-table")).to_have_count(0)
    expect(viewer.get_by_test_id("create-user")).to_have_count(0)


def test_admin_changes_a_role_and_disables_then_enables_a_user_with_confirmation(
    page: Page, open_browser: OpenBrowser, api: httpx.Client
) -> None:
    address = make_user(api, "viewer", "managed")
    open_page(page, "/admin")
    row = user_row(page, address)
    expect(row.get_by_test_id("user-status")).to_have_text("Active")
    mine = user_row(page, api.get("/api/v1/auth/me").json()["email"])
    expect(mine.locator(".q-field--disabled")).to_have_count(1)  # nobody changes their own role
    expect(mine.get_by_test_id("user-toggle")).to_have_count(0)

    row.get_by_test_id("user-role-select").click()
    page.get_by_role("option", name="trader", exact=True).click()
    expect(page.locator(".q-notification").filter(has_text=f"{address} is now a trader")).to_be_visible()

    def stored() -> dict[str, Any]:
        return dict(next(u for u in api.get("/api/v1/admin/users").json() if u["email"] == address))

    assert stored()["role"] == "trader"

    row.get_by_test_id("user-toggle").click()
    expect(confirm_dialog(page)).to_contain_text(f"Disable {address}?")
    confirm_dialog(page).get_by_test_id("confirm-cancel").click()
    expect(row.get_by_test_id("user-status")).to_have_text("Active")
    assert stored()["disabled"] is False
    row.get_by_test_id("user-toggle").click()
    confirm_dialog(page).get_by_test_id("confirm-ok").click()
    expect(row.get_by_test_id("user-status")).to_have_text("Disabled")
    assert stored()["disabled"] is True

    them = open_browser()
    open_page(them, "/login")
    assert refused_sign_in(them, address, PASSWORD) == "This account is disabled. Ask an admin to enable it."

    row.get_by_test_id("user-toggle").click()
    expect(confirm_dialog(page)).to_contain_text(f"Enable {address}?")
    confirm_dialog(page).get_by_test_id("confirm-ok").click()
    expect(row.get_by_test_id("user-status")).to_have_text("Active")
    sign_in(them, address)
    expect(them.get_by_test_id("user-role")).to_have_text("trader")


@pytest.mark.usefixtures("registration_closed_after")
def test_registration_follows_the_desk_setting_and_states_the_password_rules(
    page: Page, open_browser: OpenBrowser, api: httpx.Client
) -> None:
    visitor = open_browser()
    response = visitor.goto("/register")
    assert response is not None and response.status == 403
    wait_connected(visitor)
    expect(visitor.get_by_test_id("registration-closed")).to_be_visible()
    open_page(visitor, "/login")
    expect(visitor.get_by_test_id("to-register")).to_have_count(0)

    open_page(page, "/admin")
    page.get_by_test_id("open-registration").click()
    expect(page.locator(".q-notification").filter(has_text="Registration is open")).to_be_visible()
    assert api.get("/api/v1/admin/settings").json()["open_registration"] is True

    open_page(visitor, "/login")
    visitor.get_by_test_id("to-register").click()
    visitor.wait_for_url("**/register")
    wait_connected(visitor)
    expect(visitor.get_by_test_id("auth-heading")).to_have_text("Create an account")
    expect(visitor.get_by_test_id("password-rules")).to_contain_text("At least 12 characters")
    expect(visitor.get_by_test_id("password-rules")).to_contain_text("most common passwords")

    address = email("joiner")

    def register(password: str, repeat: str | None = None) -> None:
        visitor.get_by_test_id("auth-email").fill(address)
        visitor.get_by_test_id("register-password").fill(password)
        visitor.get_by_test_id("register-repeat").fill(password if repeat is None else repeat)
        visitor.get_by_test_id("register-submit").click()

    error = visitor.get_by_test_id("register-error")
    register("short one")
    expect(error).to_have_text(re.compile(r"^This password has 9 characters; use at least 12\. Choose at least 12"))
    register("password1234!")
    expect(error).to_have_text(re.compile(r"^This password is one of the most common passwords"))
    register(PASSWORD, "something else entirely")
    expect(error).to_have_text("The two passwords differ: type the same one twice")
    register(PASSWORD)
    visitor.wait_for_url(lambda url: "/register" not in url)
    wait_connected(visitor)
    expect(visitor.get_by_test_id("user-email")).to_have_text(address)
    expect(visitor.get_by_test_id("user-role")).to_have_text("viewer")

    page.get_by_test_id("open-registration").click()
    expect(page.locator(".q-notification").filter(has_text="Registration is closed")).to_be_visible()
    assert api.get("/api/v1/admin/settings").json()["open_registration"] is False
    late = open_browser()
    open_page(late, "/register")
    expect(late.get_by_test_id("registration-closed")).to_be_visible()


def test_password_change_needs_the_current_password_and_follows_the_rules(
    open_browser: OpenBrowser, api: httpx.Client, desk_url: str
) -> None:
    address = make_user(api, "trader", "rotating")
    page = open_browser()
    sign_in(page, address, path="/login?next=/settings")
    section = page.get_by_test_id("password-section")
    error = section.get_by_test_id("password-error")

    def change(current: str, new: str) -> None:
        section.get_by_test_id("current-password").fill(current)
        section.get_by_test_id("new-password").fill(new)
        section.get_by_test_id("repeat-password").fill(new)
        section.get_by_test_id("change-password").click()

    change(WRONG_PASSWORD, NEW_PASSWORD)
    expect(error).to_have_text("The current password is not right. Type the password you signed in with.")
    change(PASSWORD, "tiny")
    expect(error).to_have_text(re.compile(r"^This password has 4 characters; use at least 12"))
    change(PASSWORD, NEW_PASSWORD)
    expect(page.locator(".q-notification").filter(has_text="Password changed")).to_be_visible()
    expect(error).to_be_hidden()
    old = httpx.post(f"{desk_url}/api/v1/auth/login", json={"email": address, "password": PASSWORD}, timeout=10)
    assert old.status_code == 401
    bearer(desk_url, address, NEW_PASSWORD).close()
    page.reload()  # this browser's own sign-in stays
    wait_connected(page)
    expect(page.get_by_test_id("profile-email")).to_have_text(address)


def test_a_desk_without_users_serves_its_guest_and_offers_to_create_the_admin(
    open_browser: OpenBrowser, fresh_desk_url: str
) -> None:
    guest = open_browser(fresh_desk_url)
    open_page(guest, "/")
    expect(guest.get_by_test_id("guest-banner")).to_be_visible()
    expect(guest.get_by_test_id("watchlist-add-input")).to_be_visible()  # the guest works on the shared lists
    shared = guest.locator("[data-testid^=watch-row-]")
    expect(shared.first).to_be_visible()
    symbols = [row.get_attribute("data-symbol") for row in shared.all()]

    open_page(guest, "/admin")
    expect(guest.get_by_test_id("role-required")).to_contain_text("create the admin account first")
    open_page(guest, "/login")
    expect(guest.get_by_test_id("auth-heading")).to_have_text("This desk has no accounts yet")

    open_page(guest, "/")
    guest.get_by_test_id("create-admin").click()
    guest.wait_for_url("**/register")
    wait_connected(guest)
    expect(guest.get_by_test_id("auth-heading")).to_have_text("Create the admin account")
    address = email("founder")
    guest.get_by_test_id("auth-email").fill(address)
    guest.get_by_test_id("register-password").fill(PASSWORD)
    guest.get_by_test_id("register-repeat").fill(PASSWORD)
    guest.get_by_test_id("register-submit").click()
    guest.wait_for_url(lambda url: "/register" not in url)
    wait_connected(guest)
    expect(guest.get_by_test_id("user-role")).to_have_text("admin")
    expect(guest.get_by_test_id("guest-banner")).to_have_count(0)
    expect(guest.get_by_test_id("nav-admin")).to_be_visible()
    expect(shared).to_have_count(len(symbols))
    assert [row.get_attribute("data-symbol") for row in shared.all()] == symbols

    stranger = open_browser(fresh_desk_url)
    stranger.goto("/")
    wait_for_sign_in_page(stranger)
