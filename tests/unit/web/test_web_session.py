"""The browser's sign-in as the pages see it: where a sign-in may lead, what a page answers a browser that is not
signed in, and how the auth API's refusals read."""

from __future__ import annotations

import re

import pytest
from starlette.requests import Request

from marketdesk.web.session import (
    ApiAnswer,
    auth_script,
    login_url,
    refresh_through,
    safe_next,
    sign_in_response,
)


def request(path: str, query: str = "", cookies: dict[str, str] | None = None) -> Request:
    header = "; ".join(f"{name}={value}" for name, value in (cookies or {}).items())
    headers = [(b"cookie", header.encode())] if header else []
    scope = {
        "type": "http",
        "method": "GET",
        "scheme": "http",
        "server": ("127.0.0.1", 8000),
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "headers": headers,
    }
    return Request(scope)


@pytest.mark.parametrize(
    "target",
    ["/settings", "/symbol/BRK.B", "/screener?preset=value&open=AAPL", "/symbol/A%20B"],
)
def test_a_path_of_the_desk_is_where_a_sign_in_goes_on_to(target: str) -> None:
    assert safe_next(target) == target


@pytest.mark.parametrize(
    "target",
    [
        None,
        "",
        "https://evil.example/",
        "//evil.example/path",
        "/\\evil.example",
        "javascript:alert(1)",
        "settings",
        "/login",
        "/login?next=/login",
        "/register",
        "/ok\r\nSet-Cookie: x=1",
    ],
)
def test_anything_that_could_leave_the_desk_or_loop_goes_to_the_dashboard(target: str | None) -> None:
    assert safe_next(target) == "/"


def test_sign_in_url_carries_the_page_to_return_to_but_not_the_dashboard() -> None:
    assert login_url("/settings") == "/login?next=/settings"
    assert login_url("/screener?preset=value&x=1") == "/login?next=/screener%3Fpreset%3Dvalue%26x%3D1"
    assert login_url("/") == "/login"
    assert login_url("//evil.example") == "/login"
    assert login_url("/admin", path="/register") == "/register?next=/admin"


def test_a_browser_without_any_sign_in_cookie_is_redirected_to_sign_in() -> None:
    response = sign_in_response(request("/screener", "preset=value"))
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/screener%3Fpreset%3Dvalue"
    assert response.headers["cache-control"] == "no-store"


def test_a_browser_still_holding_its_csrf_cookie_gets_the_refresh_through_page() -> None:
    response = sign_in_response(request("/settings", cookies={"md_csrf": "token"}))
    assert response.status_code == 200
    body = bytes(response.body).decode()
    assert 'mdAuth.through("/settings", ' in body
    assert "window.mdAuth" in body  # the script itself, inline: the page needs nothing else
    assert response.headers["cache-control"] == "no-store"


def test_the_refresh_through_page_cannot_be_broken_out_of_by_the_path() -> None:
    body = bytes(refresh_through('/symbol/</script><script>alert("x")</script>').body).decode()
    calls = re.findall(r"mdAuth\.through\((.*?), document", body)
    assert calls == ['"/symbol/\\u003c/script\\u003e\\u003cscript\\u003ealert(\\"x\\")\\u003c/script\\u003e"']
    assert body.count("</script>") == 2  # the shared script's and the call's, nothing injected


def test_the_auth_script_defines_the_calls_the_pages_make() -> None:
    script = auth_script()
    for name in ("call", "post", "refresh", "keepFresh", "through", "signOut"):
        assert re.search(rf"\b{name}\b", script), name
    assert "navigator.locks" in script  # refreshes take turns across tabs


def test_a_refusal_reads_as_the_api_words_it_with_its_hint() -> None:
    answer = ApiAnswer.from_browser(
        {
            "ok": False,
            "status": 429,
            "message": "too many failed sign-ins for this account",
            "hint": "Try again in 15 min.",
            "retry_after": 900,
        }
    )
    assert answer.throttled
    assert answer.retry_after_s == 900.0
    assert answer.text() == "Too many failed sign-ins for this account. Try again in 15 min."
    assert ApiAnswer(False, 401, "bad.", "Sign in again.").text() == "Bad. Sign in again."
    assert ApiAnswer(False, 400, "no hint here").text() == "No hint here"


@pytest.mark.parametrize("value", [None, "ok", 3, ["ok"]])
def test_an_answer_that_never_came_is_a_failure_that_says_what_to_do(value: object) -> None:
    answer = ApiAnswer.from_browser(value)
    assert not answer.ok
    assert answer.status == 0
    assert answer.text() == "The page lost its connection to the desk. Reload the page and try again."


def test_a_success_is_only_a_literal_true() -> None:
    assert ApiAnswer.from_browser({"ok": True, "status": 200}).ok
    assert not ApiAnswer.from_browser({"ok": "yes", "status": 200}).ok
    assert ApiAnswer.from_browser({"ok": False, "status": 500, "retry_after": -1}).retry_after_s is None
