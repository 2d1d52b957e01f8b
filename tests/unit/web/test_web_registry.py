"""How a page joins the web desk: the registry, and the session secret kept in the data dir."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.routing import APIRoute
from nicegui import app as nicegui_app

from marketdesk.config import load_settings
from marketdesk.desk import Desk
from marketdesk.web import PAGE_MODULES, storage_secret
from marketdesk.web.registry import NAV, NavItem, current_desk, desk_page

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
