"""The page registry: how a page joins the desk.

Adding a page is one file and one registration:

1. write `src/marketdesk/web/screener.py`::

       from marketdesk.desk import Desk
       from marketdesk.web.registry import desk_page

       @desk_page("/screener", "Screener", "filter_alt")
       async def screener(desk: Desk) -> None:
           ...  # build the page with ui.*; call desk services, never SQL

2. add `"screener"` to `PAGE_MODULES` in `marketdesk/web/__init__.py` (its place there is its place in the
   navigation).

`desk_page` wraps the builder in the shared shell (header, navigation, SIMULATED badge) and hands it the
running desk as its first argument. It first resolves who the browser is (`marketdesk.web.identity`): a
browser that may not see the desk is answered before any page is built (the refresh-through page when its
access cookie has merely expired, else a redirect to `/login?next=…`; see `marketdesk.web.session`), and the
page's code reads the user with `web_identity()` (its `owner_id` scopes the user's own data, its `can_write`
says whether to offer write controls). `min_role=Role.ADMIN` keeps a page to admins: it is in the navigation
only for them, and anyone else who opens it gets a plain "admins only" notice inside the shell.

Path parameters (`/symbol/{symbol}`) become the builder's further parameters, exactly as with `@ui.page`. A
page without a `label` is routable but not in the navigation. `public_page` registers a page outside the shell
that anyone may open (the sign-in and registration pages); its builder may answer with a `Response` instead.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import Response
from nicegui import ui

from marketdesk.accounts.roles import Role
from marketdesk.desk import Desk

PageBuilder = Callable[..., Awaitable[None]]
PublicBuilder = Callable[..., Awaitable[Response | None]]
B = TypeVar("B", bound=PageBuilder)
P = TypeVar("P", bound=PublicBuilder)
PAGE_RESPONSE_TIMEOUT_S = 20.0  # a page that fetches from an online provider may need more than NiceGUI's 3 s


@dataclass(frozen=True, slots=True)
class NavItem:
    """One entry of the left navigation."""

    label: str
    path: str
    icon: str
    min_role: Role | None = None  # shown only to users holding this role (or a higher one)

    @property
    def test_id(self) -> str:
        return "nav-" + self.label.lower().replace(" ", "-")


NAV: list[NavItem] = []


class _Mounted:
    """The desk the web pages serve. One desk per process: `mount` sets it."""

    desk: Desk | None = None


def set_desk(desk: Desk) -> None:
    _Mounted.desk = desk


def current_desk() -> Desk:
    """The desk the pages were mounted with."""
    if _Mounted.desk is None:
        raise RuntimeError("the web desk is not mounted: call marketdesk.web.mount(app, desk) first")
    return _Mounted.desk


def desk_page(
    path: str,
    label: str | None = None,
    icon: str = "article",
    *,
    title: str | None = None,
    min_role: Role | None = None,
) -> Callable[[B], B]:
    """Register an async page builder `build(desk, **path_params)` at `path`, inside the desk's shell.

    `label` and `icon` (a Material icon name) put the page in the navigation; `title` is the browser tab's
    title (default: the label); `min_role` keeps the page (and its navigation entry) to that role and above.
    """
    _check_path(path)

    def register(build: B) -> B:
        parameters = _parameters(build)
        if label is not None and all(item.path != path for item in NAV):
            NAV.append(NavItem(label, path, icon, min_role))

        async def page(**path_params: Any) -> Response | None:
            from marketdesk.web.identity import identify_page
            from marketdesk.web.layout import role_required, shell  # the shell imports NAV from here
            from marketdesk.web.session import sign_in_response

            desk = current_desk()
            identity = await identify_page(desk)
            if not identity.allowed:
                return sign_in_response(ui.context.client.request)
            with shell(desk, identity, active_path=path):
                if min_role is not None and not identity.can(min_role):
                    role_required(min_role, identity)
                else:
                    await build(desk, **path_params)
            return None

        _register(page, build, path, parameters, title or label)
        return build

    return register


def public_page(path: str, *, title: str) -> Callable[[P], P]:
    """Register an async builder `build(desk, **path_params)` at `path` that anyone may open, outside the shell.

    The builder draws the whole page, or returns a `Response` (a redirect) instead.
    """
    _check_path(path)

    def register(build: P) -> P:
        parameters = _parameters(build)

        async def page(**path_params: Any) -> Response | None:
            return await build(current_desk(), **path_params)

        _register(page, build, path, parameters, title)
        return build

    return register


def _check_path(path: str) -> None:
    if not path.startswith("/"):
        raise ValueError(f"page path {path!r} must start with '/'")


def _parameters(build: Callable[..., Any]) -> list[inspect.Parameter]:
    parameters = list(inspect.signature(build, eval_str=True).parameters.values())
    if not parameters:
        raise TypeError(f"page builder {build.__name__} must take the desk as its first parameter")
    return parameters


def _register(
    page: Callable[..., Awaitable[Response | None]],
    build: Callable[..., Any],
    path: str,
    parameters: list[inspect.Parameter],
    title: str | None,
) -> None:
    # FastAPI and NiceGUI read the route's parameters from this signature: the builder's, minus the desk
    page.__signature__ = inspect.Signature(parameters[1:])  # type: ignore[attr-defined]
    page.__name__ = f"page_{build.__name__}"
    page_title = f"{title} · marketdesk" if title else "marketdesk"
    ui.page(path, title=page_title, response_timeout=PAGE_RESPONSE_TIMEOUT_S)(page)
