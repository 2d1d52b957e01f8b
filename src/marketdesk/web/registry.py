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
browser that may not see the desk gets the sign-in notice instead of the page, and the page's code reads
the user with `web_identity()` (its `owner_id` scopes the user's own data). Path parameters (`/symbol/{symbol}`) become the builder's further
parameters, exactly as with `@ui.page`. A page without a `label` is routable but not in the navigation.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from nicegui import ui

from marketdesk.desk import Desk

PageBuilder = Callable[..., Awaitable[None]]
B = TypeVar("B", bound=PageBuilder)
PAGE_RESPONSE_TIMEOUT_S = 20.0  # a page that fetches from an online provider may need more than NiceGUI's 3 s


@dataclass(frozen=True, slots=True)
class NavItem:
    """One entry of the left navigation."""

    label: str
    path: str
    icon: str

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
    path: str, label: str | None = None, icon: str = "article", *, title: str | None = None
) -> Callable[[B], B]:
    """Register an async page builder `build(desk, **path_params)` at `path`, inside the desk's shell.

    `label` and `icon` (a Material icon name) put the page in the navigation; `title` is the browser tab's
    title (default: the label).
    """
    if not path.startswith("/"):
        raise ValueError(f"page path {path!r} must start with '/'")

    def register(build: B) -> B:
        parameters = list(inspect.signature(build, eval_str=True).parameters.values())
        if not parameters:
            raise TypeError(f"page builder {build.__name__} must take the desk as its first parameter")
        if label is not None and all(item.path != path for item in NAV):
            NAV.append(NavItem(label, path, icon))

        async def page(**path_params: Any) -> None:
            from marketdesk.web.identity import identify_page, sign_in_required
            from marketdesk.web.layout import shell  # the shell imports NAV from here

            desk = current_desk()
            identity = await identify_page(desk)
            if not identity.allowed:
                sign_in_required()
                return
            with shell(desk, active_path=path):
                await build(desk, **path_params)

        # FastAPI and NiceGUI read the route's parameters from this signature: the builder's, minus the desk
        page.__signature__ = inspect.Signature(parameters[1:])  # type: ignore[attr-defined]
        page.__name__ = f"page_{build.__name__}"
        page_title = f"{title or label} · marketdesk" if (title or label) else "marketdesk"
        ui.page(path, title=page_title, response_timeout=PAGE_RESPONSE_TIMEOUT_S)(page)
        return build

    return register
