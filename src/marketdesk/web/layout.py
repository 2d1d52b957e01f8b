"""The shell every page shares: a header (product name, market clock, SIMULATED badge, market-regime traffic
light, symbol search, light/dark toggle, and the account menu: the signed-in email and role, Settings, Admin for
admins, Sign out) and the left navigation built from the page registry (a page kept to a role is listed only for
that role).

For a signed-in browser the shell also keeps the access cookie fresh while the page is open; for a viewer it
hides every control marked with the `desk-write` class (the rows of the screener and dip tables draw theirs in
the browser); for the guest of a desk with no users it offers to create the admin account."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote as url_quote

from nicegui import app, ui

from marketdesk.accounts.roles import Role
from marketdesk.desk import Desk
from marketdesk.errors import MarketdeskError
from marketdesk.marketdata.service import normalize_symbol
from marketdesk.web.identity import WebIdentity
from marketdesk.web.registry import NAV, NavItem
from marketdesk.web.session import REGISTER_PATH, keep_fresh
from marketdesk.web.theme import SIMULATED_COLOR

CLOCK_REFRESH_S = 5.0
REGIME_REFRESH_S = 60.0  # the regime moves with daily data; a minute is plenty
REGIME_LIGHTS = {
    "risk-on": ("Risk-on", "bg-green-500"),
    "neutral": ("Neutral", "bg-amber-400"),
    "risk-off": ("Risk-off", "bg-red-500"),
}
SEARCH_RESULTS = 8
DARK_MODE_KEY = "dark_mode"
WRITE_CLASS = "desk-write"  # a control that changes something: hidden from viewers
SETTINGS_PATH = "/settings"
ADMIN_PATH = "/admin"


def symbol_path(symbol: str) -> str:
    """The URL of a symbol's page."""
    return f"/symbol/{url_quote(symbol, safe='')}"


@contextmanager
def shell(desk: Desk, identity: WebIdentity, *, active_path: str) -> Iterator[ui.column]:
    """Build the header and navigation for `identity`; the page's own content goes in the yielded column."""
    dark = ui.dark_mode(value=bool(app.storage.user.get(DARK_MODE_KEY, False)))
    if not identity.can_write:
        ui.add_head_html(f"<style>.{WRITE_CLASS} {{ display: none !important; }}</style>")
    if identity.user is not None and identity.access_expires_in_s is not None:
        keep_fresh(identity.access_expires_in_s, desk.settings.access_token_minutes * 60)
    drawer = _navigation(active_path, identity)
    with ui.header(elevated=True).classes("items-center gap-3 px-3 py-2").style("background-color: #0f172a"):
        ui.button(icon="menu", on_click=drawer.toggle).props("flat round dense color=white aria-label=Navigation")
        ui.link("marketdesk", "/").classes("text-lg font-semibold tracking-tight text-white no-underline").props(
            "data-testid=brand"
        )
        if desk.simulated:
            simulated_badge(desk)
        refresh_clock = _market_clock(desk)
        refresh_regime = _regime_light(desk)
        ui.space()
        _symbol_search(desk)
        _dark_toggle(dark)
        _account_menu(identity)
    with ui.column().classes("w-full max-w-6xl mx-auto p-4 gap-4") as content:
        if identity.guest:
            _guest_banner()
        yield content
    # A timer waits for the browser's websocket, and NiceGUI sends the page as soon as anything does; starting
    # it after the content is built keeps the whole page (and its status code) in the first response.
    with content:
        ui.timer(CLOCK_REFRESH_S, refresh_clock)
        ui.timer(REGIME_REFRESH_S, refresh_regime)  # its first run reads the regime as soon as the page connects


def simulated_badge(desk: Desk) -> None:
    """The amber chip that says the data is simulated (with the seed, so a run can be reproduced)."""
    chip = ui.chip("SIMULATED", icon="science", color=SIMULATED_COLOR, text_color="black")
    chip.props("dense square data-testid=simulated-badge").classes("font-bold tracking-wider")
    with chip:
        ui.tooltip(
            f"Everything on this desk comes from a simulated market (seed {desk.settings.seed}); "
            "no price here is real market data."
        )


def role_required(role: Role, identity: WebIdentity) -> None:
    """The notice a page kept to `role` shows anyone else (with status 403)."""
    ui.status_code(403)
    with ui.column().classes("w-full items-center pt-16 gap-3 text-center").props("data-testid=role-required"):
        ui.icon("admin_panel_settings", size="3rem").classes("text-grey-6")
        ui.label(f"{role.value.capitalize()}s only").classes("text-2xl font-semibold")
        if identity.user is not None:
            ui.label(
                f"This page is for the desk's {role.value}s; you are signed in as a {identity.user.role.value}. "
                "Ask an admin if you need more."
            ).classes("text-grey-7")
        else:
            ui.label("This desk has no accounts yet, so it has no admin: create the admin account first.").classes(
                "text-grey-7"
            )
            ui.link("Create the admin account", REGISTER_PATH).props("data-testid=role-required-register")
        ui.link("Back to the dashboard", "/").props("data-testid=role-required-home")


def navigation_for(identity: WebIdentity) -> list[NavItem]:
    """The navigation `identity` sees: every page, but those kept to a role only for users holding it."""
    return [item for item in NAV if item.min_role is None or identity.can(item.min_role)]


def _navigation(active_path: str, identity: WebIdentity) -> ui.left_drawer:
    with ui.left_drawer(value=True, bordered=True).props("width=210 breakpoint=900") as drawer:
        drawer.props("data-testid=navigation")
        with ui.list().classes("w-full pt-2"):
            for item in navigation_for(identity):
                active = item.path == active_path
                link = ui.item().props(f'clickable tag=a href="{item.path}" data-testid="{item.test_id}"')
                if active:
                    link.props("active active-class=text-primary").classes("font-semibold")
                with link:
                    with ui.item_section().props("avatar"):
                        ui.icon(item.icon)
                    ui.item_section(item.label)
    return drawer


def _market_clock(desk: Desk) -> Callable[[], None]:
    with ui.row().classes("items-center gap-1 text-sm text-slate-200").props("data-testid=market-clock") as row:
        dot = ui.icon("circle", size="10px")
        text = ui.label().classes("whitespace-nowrap")
        tooltip = ui.tooltip()

    def refresh() -> None:
        clock = desk.market_clock()
        dot.classes(remove="text-green-400 text-slate-400", add="text-green-400" if clock.is_open else "text-slate-400")
        text.set_text(clock.describe())
        row.props(f"data-open={'true' if clock.is_open else 'false'}")
        tooltip.set_text(
            "The simulated market trades whenever the desk runs."
            if clock.simulated_hours
            else "New York Stock Exchange hours (XNYS), with holidays and half days."
        )

    refresh()
    return refresh


def _regime_light(desk: Desk) -> Callable[[], Awaitable[None]]:
    """A traffic light for the market's regime (green risk-on, amber neutral, red risk-off) whose tooltip says why.
    It starts grey and is filled once the page is connected, so no page waits for the regime to be computed."""
    with (
        ui.link(target="/screener")
        .classes("desk-regime no-underline")
        .props('data-testid=regime-light data-state=loading aria-label="Market regime"') as light
    ):
        dot = ui.element("span").classes("desk-regime-dot bg-slate-400")
        text = ui.label("Regime").classes("whitespace-nowrap")
        tooltip = ui.tooltip("Reading the market regime…").props("max-width=360px")

    async def refresh() -> None:
        try:
            async with desk.db.session() as session:
                regime = await desk.screener.regime(session)
        except MarketdeskError as exc:
            state, label, colour, reason = "unknown", "No regime", "bg-slate-400", exc.one_line()
        else:
            state = regime.state.value
            label, colour = REGIME_LIGHTS.get(state, (state, "bg-slate-400"))
            reason = regime.reason
        dot.classes(replace=f"desk-regime-dot {colour}")
        text.set_text(label)
        tooltip.set_text(reason)
        light.props(f"data-state={state}")

    return refresh


def _symbol_search(desk: Desk) -> None:
    """Type a ticker or a name; pick a result, or press Enter for the best match."""
    state: dict[str, Any] = {"seq": 0, "first": None}
    search = (
        ui.input(placeholder="Search symbol or name")
        .props('dense standout dark clearable data-testid=symbol-search aria-label="Search symbols"')
        .classes("w-72")
    )
    with search.add_slot("prepend"):
        ui.icon("search")
    with search:
        menu = ui.menu().props("no-parent-event no-focus no-refocus fit").props("data-testid=search-results")

    async def lookup() -> None:
        state["seq"] += 1
        seq = state["seq"]
        text = (search.value or "").strip()
        if not text:
            state["first"] = None
            menu.close()
            return
        async with desk.db.session() as session:
            page = await desk.market.search(session, text, limit=SEARCH_RESULTS)
        if seq != state["seq"]:
            return  # a newer keystroke has asked again
        state["first"] = page.items[0].symbol if page.items else None
        menu.clear()
        with menu:
            if not page.items:
                ui.item(f"No symbol or name matches “{text}”").props("dense disable")
            for info in page.items:
                with (
                    ui.item(on_click=lambda s=info.symbol: go(s))
                    .props(f'clickable dense data-testid="search-result-{info.symbol}"')
                    .classes("min-w-64")
                ):
                    with ui.item_section():
                        ui.item_label(info.symbol).classes("font-semibold")
                        ui.item_label(info.name).props("caption lines=1")
                    if info.sector:
                        with ui.item_section().props("side"):
                            ui.item_label(info.sector).props("caption")
        menu.open()

    def go(symbol: str) -> None:
        menu.close()
        search.set_value("")
        ui.navigate.to(symbol_path(symbol))

    async def choose() -> None:
        await lookup()
        text = (search.value or "").strip()
        if state["first"] is not None:
            go(state["first"])
            return
        try:
            go(normalize_symbol(text))  # not known: the symbol page explains and offers the search
        except MarketdeskError as exc:
            if text:
                ui.notify(exc.one_line(), type="warning")

    search.on_value_change(lookup)
    search.on("keydown.enter", choose)
    search.on("keydown.esc", menu.close)


def _dark_toggle(dark: ui.dark_mode) -> None:
    def icon_for(value: bool | None) -> str:
        return "light_mode" if value else "dark_mode"

    def toggle() -> None:
        dark.set_value(not dark.value)
        app.storage.user[DARK_MODE_KEY] = bool(dark.value)
        button.props(f"icon={icon_for(dark.value)}")

    button = ui.button(icon=icon_for(dark.value), on_click=toggle).props(
        'flat round dense color=white data-testid=dark-toggle aria-label="Light or dark"'
    )
    with button:
        ui.tooltip("Light or dark (remembered in this browser)")


def _account_menu(identity: WebIdentity) -> None:
    """Who is signed in (email and role), with Settings, Admin (for admins) and Sign out; the guest of a desk with
    no users gets the button that creates its admin account instead."""
    user = identity.user
    if user is None:
        ui.button("Create the admin account", icon="person_add", on_click=lambda: ui.navigate.to(REGISTER_PATH)).props(
            "unelevated dense no-caps color=amber-7 text-color=black data-testid=create-admin"
        )
        return

    def sign_out() -> None:
        ui.run_javascript("mdAuth.signOut()")  # the browser's call: the answer clears its httpOnly cookies

    with ui.button(icon="account_circle").props(
        f'flat dense no-caps color=white data-testid=user-menu aria-label="Account of {user.email}"'
    ):
        ui.label(user.email).classes("ml-1 max-w-56 truncate").props("data-testid=user-email")
        ui.badge(user.role.value, color="blue-grey-7").classes("ml-2 uppercase tracking-wider").props(
            "data-testid=user-role"
        )
        with ui.menu().props("auto-close"):
            with ui.item(on_click=lambda: ui.navigate.to(SETTINGS_PATH)).props("clickable data-testid=menu-settings"):
                ui.item_section("Settings")
            if identity.can(Role.ADMIN):
                with ui.item(on_click=lambda: ui.navigate.to(ADMIN_PATH)).props("clickable data-testid=menu-admin"):
                    ui.item_section("Admin")
            ui.separator()
            with ui.item(on_click=sign_out).props("clickable data-testid=sign-out"):
                ui.item_section("Sign out")


def _guest_banner() -> None:
    with (
        ui.row()
        .classes("w-full items-center gap-3 desk-banner desk-banner-info no-wrap")
        .props("data-testid=guest-banner")
    ):
        ui.icon("lock_open", size="20px")
        ui.label(
            "This desk has no accounts yet: whoever can reach it works on its shared lists. Create the admin "
            "account to give it a sign-in; the admin keeps a copy of these lists."
        ).classes("flex-1")
        ui.link("Create the admin account", REGISTER_PATH).props("data-testid=guest-create-admin")
