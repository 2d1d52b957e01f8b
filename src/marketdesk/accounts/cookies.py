"""The web desk's cookies: who the browser is signed in as, and its CSRF token.

- `md_access`: the access token. httpOnly (no script reads it), SameSite=Lax (no cross-site POST carries it),
  Secure when the desk is served over https, path `/`, lives as long as the token.
- `md_refresh`: the refresh token. httpOnly, SameSite=Lax, Secure on https, path `/api/v1/auth` only, so it
  travels to the refresh and logout endpoints and nowhere else.
- `md_csrf`: the sign-in's CSRF token, readable by the page's script, which echoes it in `X-CSRF-Token` on
  every change (double submit). It is an HMAC of the session id, so a planted cookie does not match.
"""

from __future__ import annotations

from fastapi import Request, Response

from marketdesk.accounts.views import TokenPair

ACCESS_COOKIE = "md_access"
REFRESH_COOKIE = "md_refresh"
CSRF_COOKIE = "md_csrf"
CSRF_HEADER = "X-CSRF-Token"
AUTH_PATH = "/api/v1/auth"


def is_https(request: Request) -> bool:
    """True when the browser reached the desk over https (uvicorn's --proxy-headers makes this true behind TLS)."""
    return request.url.scheme == "https"


def set_session_cookies(response: Response, request: Request, pair: TokenPair) -> None:
    """Give the browser its access, refresh and CSRF cookies for one sign-in."""
    secure = is_https(request)
    response.set_cookie(
        ACCESS_COOKIE,
        pair.access_token,
        max_age=pair.expires_in,
        path="/",
        secure=secure,
        httponly=True,
        samesite="lax",
    )
    response.set_cookie(
        REFRESH_COOKIE,
        pair.refresh_token,
        max_age=pair.refresh_expires_in,
        path=AUTH_PATH,
        secure=secure,
        httponly=True,
        samesite="lax",
    )
    response.set_cookie(
        CSRF_COOKIE,
        pair.csrf_token,
        max_age=pair.refresh_expires_in,
        path="/",
        secure=secure,
        httponly=False,  # the page's script reads it to echo it in X-CSRF-Token
        samesite="lax",
    )


def clear_session_cookies(response: Response, request: Request) -> None:
    secure = is_https(request)
    response.delete_cookie(ACCESS_COOKIE, path="/", secure=secure, httponly=True, samesite="lax")
    response.delete_cookie(REFRESH_COOKIE, path=AUTH_PATH, secure=secure, httponly=True, samesite="lax")
    response.delete_cookie(CSRF_COOKIE, path="/", secure=secure, httponly=False, samesite="lax")
