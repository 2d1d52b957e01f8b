"""The browser's sign-in, as the web desk's pages see it: the script that talks to the auth API from the browser,
the answer a page gives a browser that is not signed in, and what the auth API answered.

The desk's cookies are httpOnly and only the auth API's answers set them, so signing in, registering, refreshing
and signing out are `fetch` calls the browser makes itself (`static/auth.js`, loaded on every page as
`window.mdAuth`); a page's Python code asks the browser to make one with `call_api` and reads the outcome.

A page request without a valid `md_access` cookie, on a desk that has users, gets one of two answers:

- the browser still holds the sign-in's `md_csrf` cookie (its access cookie expired; its refresh cookie, which
  only travels to /api/v1/auth, may still be good): a tiny refresh-through page that calls
  POST /api/v1/auth/refresh and loads the page again, or goes to the sign-in page when the refresh is refused;
- otherwise: a redirect to `/login?next=<the page>`.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from nicegui import ui

from marketdesk.accounts.cookies import CSRF_COOKIE

AUTH_SCRIPT = Path(__file__).parent / "static" / "auth.js"
LOGIN_PATH = "/login"
REGISTER_PATH = "/register"
API_TIMEOUT_S = 30.0  # a sign-in hashes a password (argon2id) and may queue behind others
NO_STORE = {"Cache-Control": "no-store"}


@functools.cache
def auth_script() -> str:
    """The text of `static/auth.js`."""
    return AUTH_SCRIPT.read_text(encoding="utf-8")


def install_session_script() -> None:
    """Load `window.mdAuth` on every page (once per process)."""
    ui.add_head_html(f"<script>{auth_script()}</script>", shared=True)


def safe_next(target: str | None) -> str:
    """Where to go after signing in: `target` when it is a path of this desk, else the dashboard.

    Anything that could leave the desk (`//host`, `/\\host`, a scheme) or loop back to the sign-in pages is
    replaced by `/`.
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    if "\\" in target or not target.isprintable():
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or parts.path in (LOGIN_PATH, REGISTER_PATH):
        return "/"
    return target


def request_target(request: Request) -> str:
    """The path and query of a page request, to come back to after signing in."""
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def login_url(target: str | None = None, *, path: str = LOGIN_PATH) -> str:
    """The sign-in (or registration) page that returns to `target` afterwards."""
    following = safe_next(target)
    return path if following == "/" else f"{path}?next={quote(following, safe='/')}"


def sign_in_response(request: Request) -> Response:
    """What a page answers a browser that is not signed in on a desk that has users (see the module's doc)."""
    target = request_target(request)
    if request.cookies.get(CSRF_COOKIE):
        return refresh_through(target)
    return RedirectResponse(login_url(target), status_code=303, headers=NO_STORE)


def _script_value(value: str) -> str:
    # a JSON string that cannot close the <script> element it sits in
    return json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def refresh_through(target: str) -> HTMLResponse:
    """A page that renews the access cookie with the refresh cookie, then loads `target` again."""
    destination = _script_value(safe_next(target))
    body = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Renewing your sign-in · marketdesk</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<script>{auth_script()}</script></head>
<body style="font-family: system-ui, sans-serif; color: #334155; display: grid; place-items: center; height: 90vh">
<p id="through-status" data-testid="refresh-through">Renewing your sign-in…</p>
<script>mdAuth.through({destination}, document.getElementById("through-status"));</script>
</body></html>"""
    return HTMLResponse(body, headers=NO_STORE)


def keep_fresh(remaining_s: float, lifetime_s: float) -> None:
    """Have the page refresh its access cookie shortly before it expires, and again each lifetime after."""
    ui.add_body_html(f"<script>mdAuth.keepFresh({remaining_s:.0f}, {lifetime_s:.0f});</script>")


@dataclass(frozen=True, slots=True)
class ApiAnswer:
    """What the desk's API answered a call the browser made: the status and, for a refusal, its message."""

    ok: bool
    status: int
    message: str = ""
    hint: str = ""
    retry_after_s: float | None = None

    @classmethod
    def from_browser(cls, value: Any) -> ApiAnswer:
        """Read `mdAuth.call`'s answer; a page that went away (None) or anything unexpected is a failure."""
        if not isinstance(value, dict):
            return cls(False, 0, "the page lost its connection to the desk", "Reload the page and try again.")
        retry = value.get("retry_after")
        return cls(
            ok=value.get("ok") is True,
            status=int(value.get("status") or 0),
            message=str(value.get("message") or ""),
            hint=str(value.get("hint") or ""),
            retry_after_s=float(retry) if isinstance(retry, int | float) and retry > 0 else None,
        )

    @property
    def throttled(self) -> bool:
        """True when the desk asked to wait (429): too many failed sign-ins, or too many requests."""
        return self.status == 429

    def text(self) -> str:
        """The refusal as one sentence a person can act on: the API's message, then its hint."""
        message = self.message[:1].upper() + self.message[1:]
        if not self.hint:
            return message
        return f"{message} {self.hint}" if message.endswith(".") else f"{message}. {self.hint}"


async def call_api(method: str, path: str, body: dict[str, Any] | None = None) -> ApiAnswer:
    """Have the browser call the desk's API (so the answer's cookies land in the browser) and read the outcome."""
    arguments = [json.dumps(method), json.dumps(path)]
    if body is not None:
        arguments.append(json.dumps(body))
    try:
        value = await ui.run_javascript(f"mdAuth.call({', '.join(arguments)})", timeout=API_TIMEOUT_S)
    except TimeoutError:
        return ApiAnswer(False, 0, "the desk took too long to answer", "Try again in a moment.")
    return ApiAnswer.from_browser(value)
