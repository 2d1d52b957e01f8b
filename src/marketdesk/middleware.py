"""HTTP hardening, as plain ASGI middleware: security headers, a request size limit, the global rate limit, and
no NUL characters in what the API reads.

Security headers go on every response:
- a Content-Security-Policy per kind of response: JSON from /api gets `default-src 'none'`; the web desk's
  pages get what NiceGUI needs, and nothing from another origin (NiceGUI compiles Vue templates in the
  browser, hence 'unsafe-eval'; its page carries inline scripts and styles, hence 'unsafe-inline'; its
  websocket and fetches go to the desk itself; icons and fonts are served by the desk, some as data: URLs);
  the OpenAPI docs page gets the CDN FastAPI loads Swagger UI from;
- X-Content-Type-Options, Referrer-Policy, X-Frame-Options (and frame-ancestors), Cross-Origin-Opener-Policy,
  Permissions-Policy; Strict-Transport-Security only when the request came over https.

The size limit refuses a body over `max_request_bytes` with 413 before the application reads it: at once when
Content-Length says so, and while reading when the body is chunked (or the length lies).

`RefuseNul` refuses, with 422, an /api request whose path, query or JSON body holds the NUL character (U+0000):
no name, symbol or email means anything with one, and PostgreSQL cannot store or even compare text holding one
(every such query failed with a server error). SQLite and PostgreSQL desks answer alike.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from marketdesk.accounts.ratelimit import RateLimiter

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

PAGE_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
API_CSP = "default-src 'none'; frame-ancestors 'none'"
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data: https://fastapi.tiangolo.com; "
    "connect-src 'self'; object-src 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}
HSTS = "max-age=31536000"
API_PATHS = ("/api/", "/healthz", "/readyz", "/metrics")
DOCS_PATHS = ("/api/docs",)
UNLIMITED_PATHS = ("/healthz", "/readyz", "/metrics")


def csp_for(path: str) -> str:
    """The Content-Security-Policy of the response to `path`."""
    if path.startswith(DOCS_PATHS):
        return DOCS_CSP
    if path.startswith(API_PATHS):
        return API_CSP
    return PAGE_CSP


def security_headers(path: str, *, https: bool) -> dict[str, str]:
    """Every security header the response to `path` gets."""
    headers = {**SECURITY_HEADERS, "content-security-policy": csp_for(path)}
    if https:
        headers["strict-transport-security"] = HSTS
    return headers


def _is_https(scope: Scope) -> bool:
    return scope.get("scheme") == "https"


class SecurityHeaders:
    """Adds the security headers to every HTTP response (a header the app set itself is kept)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = security_headers(scope.get("path", ""), https=_is_https(scope))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                added = [(k.encode(), v.encode()) for k, v in extra.items() if k.encode() not in present]
                message["headers"] = [*message.get("headers", []), *added]
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def send_error(
    send: Send, status: int, message: str, hint: str, *, headers: dict[str, str] | None = None
) -> None:
    """Answer with the desk's JSON error body (the same shape as every other refusal)."""
    kind = "Rejected" if status < 500 else "Temporary"
    body = json.dumps({"error": {"type": kind, "message": message, "hint": hint}}).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


class _BodyTooLarge(Exception):
    pass


class RequestSizeLimit:
    """Refuses request bodies over `max_bytes` with 413, whether announced by Content-Length or streamed."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _header(scope, b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await self.refuse(send)
            return
        exchange = _CountedExchange(self, receive, send)
        try:
            await self.app(scope, exchange.receive, exchange.send)
        except Exception:
            if not exchange.exceeded:
                raise
            if not exchange.started:
                await self.refuse(send)

    async def refuse(self, send: Send) -> None:
        await send_error(
            send,
            413,
            f"the request body is larger than {self.max_bytes:,} bytes",
            "Send less at once (split the upload), or raise max_request_bytes in the desk's settings.",
            headers={"connection": "close"},
        )


class _CountedExchange:
    """One request's receive and send, counting the body and turning the answer into 413 once it is too big."""

    def __init__(self, limit: RequestSizeLimit, receive: Receive, send: Send) -> None:
        self.limit = limit
        self._receive = receive
        self._send = send
        self.received = 0
        self.exceeded = False
        self.started = False

    async def receive(self) -> Message:
        message = await self._receive()
        if message["type"] == "http.request":
            self.received += len(message.get("body", b""))
            if self.received > self.limit.max_bytes:
                self.exceeded = True
                raise _BodyTooLarge
        return message

    async def send(self, message: Message) -> None:
        if self.exceeded:  # the app answered the failed read its own way: answer 413 instead, once
            if message["type"] == "http.response.start" and not self.started:
                self.started = True
                await self.limit.refuse(self._send)
            return
        if message["type"] == "http.response.start":
            self.started = True
        await self._send(message)


# `\u0000` in JSON text, unless its backslash is itself escaped (`\\u0000` is a backslash, then "u0000")
JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


class RefuseNul:
    """Refuses /api requests holding U+0000 in the path, the query or a JSON body with 422."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope.get("path", "").startswith("/api/"):
            await self.app(scope, receive, send)
            return
        if "\x00" in scope["path"] or b"%00" in scope.get("query_string", b""):
            await self.refuse(send)
            return
        content_type = _header(scope, b"content-type")
        if content_type is not None and "json" not in content_type:  # FastAPI reads a body without one as JSON
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []  # the whole body, bounded by RequestSizeLimit outside, then replayed to the app
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request" or not message.get("more_body", False):
                break
        if JSON_NUL.search(b"".join(m.get("body", b"") for m in messages)):
            await self.refuse(send)
            return

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

    async def refuse(self, send: Send) -> None:
        await send_error(
            send,
            422,
            "text in the request holds the NUL character (U+0000)",
            "Remove it from the path, the query or the body.",
        )


class GlobalRateLimit:
    """Counts every /api call against the caller's global budget; 429 with Retry-After when it is spent."""

    def __init__(self, app: ASGIApp, limiter: Callable[[], RateLimiter]) -> None:
        self.app = app
        self.limiter = limiter  # read per request: tests and the desk may swap it

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith("/api/") or path.startswith(UNLIMITED_PATHS):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        host = client[0] if client else "unknown"
        wait = await self.limiter().check_global(host)
        if wait is not None:
            await send_error(
                send,
                429,
                "too many requests from this address",
                f"Wait {wait:.0f} s; the desk allows a steady pace (rate_limit_global).",
                headers={"retry-after": str(int(wait))},
            )
            return
        await self.app(scope, receive, send)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value).decode("latin-1").strip()
    return None
