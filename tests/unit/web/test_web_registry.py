"""How a page joins the web desk: the registry (and who sees a page in the navigation), and the session secret
kept in the data dir."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.routing import APIRoute
from nicegui import app as nicegui_app

from marketdesk.accounts.roles import CurrentUser, Role
from marketdesk.config import load_settings
from marketdesk.desk import Desk
from marketdesk.web import PAGE_MODULES, storage_secret
from marketdesk.web.identity import WebIdentity
from marketdesk.web.layout import navigation_for
from marketdesk.web.registry import NAV, NavItem, current_desk, desk_page, public_page

PATH = "/__registry-test/{ticker}"


@pytest.fixture
def clean_nav() -> Iterator[None]:
    before = list(NAV)
    yield
    NAV[:] = before
    nicegui_app.remove_route(PATH)


def route(path: str) -> APIRoute:
    found = [r for r in nicegui_app.routes if isinstance(r, APIRoute) and r.path == path]
    assert len(found) == 1, f"expected one route at {path}, found {len(found)}"
    return found[0]


@pytest.mark.usefixtures("clean_nav")
def test_page_takes_the_desk_first_and_its_path_parameters_after() -> None:
    async def build(desk: Desk, ticker: str) -> None:
        raise AssertionError("not called: only registered")

    returned = desk_page(PATH, "Registry test", "science")(build)

    assert returned is build
    params = {p.name for p in route(PATH).dependant.path_params}
    assert params == {"ticker"}
    assert NAV[-1] == NavItem("Registry test", PATH, "science")
    assert NAV[-1].test_id == "nav-registry-test"


@pytest.mark.usefixtures("clean_nav")
def test_page_without_a_label_is_routable_but_not_in_the_navigation() -> None:
    async def build(desk: Desk, ticker: str) -> None:
        raise AssertionError("not called")

    before = list(NAV)
    desk_page(PATH)(build)
    assert before == NAV
    assert route(PATH).path == PATH


def test_builder_without_a_desk_parameter_is_refused() -> None:
    async def build() -> None:
        raise AssertionError("not called")

    with pytest.raises(TypeError, match="desk as its first parameter"):
        desk_page("/__registry-test-bad")(build)


def test_path_must_be_absolute() -> None:
    with pytest.raises(ValueError, match="must start with '/'"):
        desk_page("relative")


def test_shipped_pages_are_listed_in_navigation_order() -> None:
    assert PAGE_MODULES[0] == "home"
    assert "symbol" in PAGE_MODULES


def test_current_desk_says_how_to_mount_when_nothing_is(monkeypatch: pytest.MonkeyPatch) -> None:
    from marketdesk.web import registry

    monkeypatch.setattr(registry._Mounted, "desk", None)
    with pytest.raises(RuntimeError, match=r"mount\(app, desk\)"):
        current_desk()


def test_session_secret_is_generated_once_and_private(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    first = storage_secret(settings)
    second = storage_secret(settings)
    assert first == second
    assert len(first) >= 40
    mode = stat.S_IMODE((tmp_path / "web-secret").stat().st_mode)
    assert mode == 0o600


@pytest.mark.usefixtures("clean_nav")
def test_a_page_kept_to_admins_is_in_the_navigation_of_admins_only() -> None:
    async def build(desk: Desk, ticker: str) -> None:
        raise AssertionError("not called")

    desk_page(PATH, "Admin test", "shield", min_role=Role.ADMIN)(build)
    assert NAV[-1] == NavItem("Admin test", PATH, "shield", Role.ADMIN)

    def sees(identity: WebIdentity) -> bool:
        return any(item.path == PATH for item in navigation_for(identity))

    assert sees(signed_in(Role.ADMIN))
    assert not sees(signed_in(Role.TRADER))
    assert not sees(signed_in(Role.VIEWER))
    assert not sees(WebIdentity(user=None, desk_has_users=False))  # the guest of a desk with no users
    assert all(item.min_role is None for item in navigation_for(signed_in(Role.VIEWER)))


@pytest.mark.usefixtures("clean_nav")
def test_a_public_page_is_routable_but_never_in_the_navigation() -> None:
    async def build(desk: Desk, ticker: str) -> None:
        raise AssertionError("not called")

    before = list(NAV)
    assert public_page(PATH, title="Public test")(build) is build
    assert before == NAV
    assert {p.name for p in route(PATH).dependant.path_params} == {"ticker"}


def test_the_account_pages_are_shipped() -> None:
    assert {"login", "settings", "admin"} <= set(PAGE_MODULES)


def signed_in(role: Role) -> WebIdentity:
    return WebIdentity(user=CurrentUser("u1", "ann@example.com", role, "s1", via="cookie"), desk_has_users=True)
