"""Replay of recorded vendor responses, so online adapters are tested offline against real formats.

Every request goes through one `Router`: it answers planned requests from the files under
`tests/fixtures/recorded/<vendor>/` and fails loudly on anything else (`router.unplanned` lists them,
and the fixtures assert it is empty). Two transports feed it:
- `replay_requests()`: the `responses` library intercepts every `requests` call in the process
  (yfinance with a `requests.Session`, alpaca-py, finnhub-python, alpha_vantage);
- `LoopbackServer`: a real HTTP server on 127.0.0.1 for libraries built on urllib (fredapi).
Nothing here ever opens a connection beyond the loopback interface.

The installers (`install_yahoo`, `install_alpaca`, …) describe each vendor's endpoints as its library
calls them. `router.queue(route, *replies, when=…)` puts one-shot replies in front of a route (a 429,
a garbled body) and `router.always(route, reply)` replaces a route's answer for the rest of the test.
"""

from __future__ import annotations

import json
import re
import threading
import xml.etree.ElementTree as ET
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
import responses

RECORDED = Path(__file__).resolve().parents[1] / "fixtures" / "recorded"


def recorded_path(vendor: str, name: str) -> Path:
    """The path of a recorded response file."""
    path = RECORDED / vendor / name
    if not path.is_file():
        raise FileNotFoundError(f"no recorded response {path}")
    return path


def recorded_json(vendor: str, name: str) -> Any:
    """A recorded JSON response, parsed."""
    return json.loads(recorded_path(vendor, name).read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Request:
    """What the router sees of one request."""

    method: str
    url: str
    path: str
    host: str
    query: dict[str, list[str]]

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None


@dataclass(frozen=True)
class Reply:
    """One answer: a status, a body and headers, or an exception to raise instead (a network failure)."""

    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    raises: BaseException | None = None

    @classmethod
    def json(cls, data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
        return cls(status, json.dumps(data).encode(), "application/json", headers or {})

    @classmethod
    def text(
        cls, text: str, status: int = 200, content_type: str = "text/plain", headers: dict[str, str] | None = None
    ) -> Reply:
        return cls(status, text.encode(), content_type, headers or {})

    @classmethod
    def file(cls, vendor: str, name: str, status: int = 200, content_type: str | None = None) -> Reply:
        path = recorded_path(vendor, name)
        guessed = {".json": "application/json", ".xml": "text/xml", ".html": "text/html"}.get(path.suffix, "text/plain")
        return cls(status, path.read_bytes(), content_type or guessed)

    @classmethod
    def failure(cls, exc: BaseException) -> Reply:
        return cls(raises=exc)


Handler = Callable[[Request, re.Match[str]], Reply]


@dataclass
class _Route:
    name: str
    method: str
    pattern: re.Pattern[str]
    handler: Handler


class Router:
    """Answers requests from recorded responses; records every call and every unplanned one."""

    def __init__(self) -> None:
        self._routes: list[_Route] = []
        self._queued: dict[str, deque[tuple[Reply, Callable[[Request], bool] | None]]] = {}
        self._always: dict[str, Reply] = {}
        self._lock = threading.Lock()
        self.calls: list[Request] = []
        self.unplanned: list[str] = []

    def route(self, name: str, method: str, url_pattern: str, handler: Handler) -> None:
        """Answer `method` requests whose URL (without the query) fully matches `url_pattern`."""
        self._routes.append(_Route(name, method.upper(), re.compile(url_pattern), handler))

    def queue(self, name: str, *replies: Reply, when: Callable[[Request], bool] | None = None) -> None:
        """Serve `replies`, one per matching request, before the route's normal answer."""
        self._route(name)
        with self._lock:
            self._queued.setdefault(name, deque()).extend((reply, when) for reply in replies)

    def always(self, name: str, reply: Reply) -> None:
        """Answer every later request on the route with `reply`."""
        self._route(name)
        self._always[name] = reply

    def calls_to(self, name: str) -> list[Request]:
        """The requests the named route answered."""
        route = self._route(name)
        return [c for c in self.calls if c.method == route.method and route.pattern.fullmatch(c.url.split("?")[0])]

    def _route(self, name: str) -> _Route:
        for route in self._routes:
            if route.name == name:
                return route
        raise KeyError(f"no route named {name!r}")

    def answer(self, method: str, url: str) -> Reply:
        parts = urlsplit(url)
        request = Request(method.upper(), url, parts.path, parts.hostname or "", parse_qs(parts.query))
        base = url.split("?", 1)[0]
        with self._lock:
            self.calls.append(request)
            for route in self._routes:
                match = route.pattern.fullmatch(base)
                if route.method != request.method or match is None:
                    continue
                queued = self._queued.get(route.name)
                if queued:
                    for position, (reply, when) in enumerate(queued):
                        if when is None or when(request):
                            del queued[position]
                            return reply
                if route.name in self._always:
                    return self._always[route.name]
                return route.handler(request, match)
            self.unplanned.append(f"{method} {url}")
        return Reply.failure(requests.exceptions.ConnectionError(f"unplanned request in a replay test: {method} {url}"))


@contextmanager
def replay_requests() -> Iterator[Router]:
    """Route every `requests` call in the process through a `Router` for the duration."""
    router = Router()

    def callback(prepared: requests.PreparedRequest) -> Any:
        reply = router.answer(prepared.method or "GET", prepared.url or "")
        if reply.raises is not None:
            return reply.raises
        return reply.status, {"Content-Type": reply.content_type, **reply.headers}, reply.body

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        for method in (responses.GET, responses.POST):
            mock.add_callback(method, re.compile(r".*"), callback=callback)
        yield router


class LoopbackServer:
    """A real HTTP server on 127.0.0.1 answering from a `Router`, for urllib-based vendor libraries."""

    def __init__(self, router: Router) -> None:
        self.router = router
        server_router = router

        class _Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                host, port = self.server.server_address[:2]
                reply = server_router.answer("GET", f"http://{host}:{port}{self.path}")
                if reply.raises is not None:
                    self.connection.close()  # an abrupt disconnect, as a failing network does
                    return
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(reply.body)))
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(reply.body)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="loopback-replay", daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> LoopbackServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


# -- vendors -----------------------------------------------------------------------------------------

YAHOO_KNOWN = frozenset({"AAPL"})


def _yahoo_symbol_route(known: frozenset[str], found: str, missing: tuple[int, str]) -> Handler:
    def handler(request: Request, match: re.Match[str]) -> Reply:
        symbol = match.group("symbol")
        if symbol in known:
            return Reply.file("yahoo", found.format(symbol=symbol))
        return Reply.file("yahoo", missing[1], status=missing[0])

    return handler


def install_yahoo(router: Router, known: frozenset[str] = YAHOO_KNOWN) -> None:
    """Yahoo's endpoints as yfinance 1.7 calls them, including its cookie and crumb dance."""
    router.route(
        "yahoo.cookie", "GET", r"https://fc\.yahoo\.com/?", lambda r, m: Reply.text("Not Found", 404, "text/html")
    )
    router.route(
        "yahoo.crumb",
        "GET",
        r"https://query[12]\.finance\.yahoo\.com/v1/test/getcrumb",
        lambda r, m: Reply.text("Xq3zQW2Ed3a"),
    )
    router.route(
        "yahoo.consent",
        "GET",
        r"https://guce\.yahoo\.com/consent",
        lambda r, m: Reply.text("<html><body><p>Consent not required</p></body></html>", 200, "text/html"),
    )
    router.route(
        "yahoo.chart",
        "GET",
        r"https://query[12]\.finance\.yahoo\.com/v8/finance/chart/(?P<symbol>[^/]+)",
        _yahoo_symbol_route(known, "chart_{symbol}.json", (404, "chart_not_found.json")),
    )
    router.route(
        "yahoo.quote_summary",
        "GET",
        r"https://query[12]\.finance\.yahoo\.com/v10/finance/quoteSummary/(?P<symbol>[^/]+)",
        _yahoo_symbol_route(known, "quote_summary_{symbol}.json", (404, "quote_summary_not_found.json")),
    )

    def quote(request: Request, match: re.Match[str]) -> Reply:
        symbol = request.param("symbols") or ""
        if symbol in known:
            return Reply.file("yahoo", f"quote_{symbol}.json")
        return Reply.file("yahoo", "quote_not_found.json")

    router.route("yahoo.quote", "GET", r"https://query[12]\.finance\.yahoo\.com/v7/finance/quote", quote)

    def timeseries(request: Request, match: re.Match[str]) -> Reply:
        # The server returns only the series asked for in `type`, as Yahoo does.
        symbol = match.group("symbol")
        wanted = {t for value in request.query.get("type", []) for t in value.split(",")}
        result = []
        if symbol in known:
            master = recorded_json("yahoo", f"timeseries_{symbol}.json")["timeseries"]["result"]
            result = [item for item in master if item["meta"]["type"][0] in wanted]
        return Reply.json({"timeseries": {"result": result, "error": None}})

    router.route(
        "yahoo.timeseries",
        "GET",
        r"https://query[12]\.finance\.yahoo\.com/ws/fundamentals-timeseries/v1/finance/timeseries/(?P<symbol>[^/]+)",
        timeseries,
    )

    def earnings(request: Request, match: re.Match[str]) -> Reply:
        symbol = request.param("symbol") or ""
        if symbol in known:
            return Reply.file("yahoo", f"earnings_calendar_{symbol}.html")
        return Reply.file("yahoo", "earnings_calendar_no_table.html")

    router.route("yahoo.earnings", "GET", r"https://finance\.yahoo\.com/calendar/earnings", earnings)


ALPACA_DATA = r"https://data\.alpaca\.markets/v2"


def install_alpaca(router: Router, known: frozenset[str] = frozenset({"AAPL"})) -> None:
    """Alpaca market-data v2 as alpaca-py's StockHistoricalDataClient calls it."""

    def bars(request: Request, match: re.Match[str]) -> Reply:
        symbol = request.param("symbols") or ""
        if symbol not in known:
            return Reply.json({"bars": {}, "next_page_token": None})
        return Reply.file("alpaca", f"bars_{symbol}_{request.param('adjustment') or 'raw'}.json")

    def snapshots(request: Request, match: re.Match[str]) -> Reply:
        symbol = request.param("symbols") or ""
        return Reply.file("alpaca", f"snapshots_{symbol}.json") if symbol in known else Reply.json({})

    def latest_bars(request: Request, match: re.Match[str]) -> Reply:
        symbol = request.param("symbols") or ""
        return Reply.file("alpaca", f"latest_bars_{symbol}.json") if symbol in known else Reply.json({"bars": {}})

    router.route("alpaca.bars", "GET", ALPACA_DATA + r"/stocks/bars", bars)
    router.route("alpaca.snapshots", "GET", ALPACA_DATA + r"/stocks/snapshots", snapshots)
    router.route("alpaca.latest_bars", "GET", ALPACA_DATA + r"/stocks/bars/latest", latest_bars)


FINNHUB_API = r"https://(?:api\.)?finnhub\.io/api/v1/"  # finnhub-python joins paths with a double slash


def install_finnhub(router: Router, known: frozenset[str] = frozenset({"AAPL"})) -> None:
    """Finnhub's REST API as finnhub-python's Client calls it."""

    def calendar(request: Request, match: re.Match[str]) -> Reply:
        # Finnhub returns the events between `from` and `to` (inclusive, ISO dates compare as text).
        symbol = request.param("symbol") or ""
        if symbol not in known:
            return Reply.json({"earningsCalendar": []})
        first, last = request.param("from") or "", request.param("to") or "9999-12-31"
        events = recorded_json("finnhub", f"calendar_earnings_{symbol}.json")["earningsCalendar"]
        return Reply.json({"earningsCalendar": [e for e in events if first <= e["date"] <= last]})

    def stock_earnings(request: Request, match: re.Match[str]) -> Reply:
        symbol = request.param("symbol") or ""
        return Reply.file("finnhub", f"stock_earnings_{symbol}.json") if symbol in known else Reply.json([])

    def profile(request: Request, match: re.Match[str]) -> Reply:
        symbol = request.param("symbol") or ""
        return Reply.file("finnhub", f"profile2_{symbol}.json") if symbol in known else Reply.json({})

    router.route("finnhub.calendar", "GET", FINNHUB_API + r"/?calendar/earnings", calendar)
    router.route("finnhub.stock_earnings", "GET", FINNHUB_API + r"/?stock/earnings", stock_earnings)
    router.route("finnhub.profile", "GET", FINNHUB_API + r"/?stock/profile2", profile)


def install_alphavantage(router: Router, known: frozenset[str] = frozenset({"AAPL"})) -> None:
    """Alpha Vantage's single `query` endpoint, answered by `function` (and `tickers` / `maturity`)."""

    def query(request: Request, match: re.Match[str]) -> Reply:
        function = request.param("function")
        if function == "NEWS_SENTIMENT":
            ticker = request.param("tickers") or ""
            if ticker in known:
                return Reply.file("alphavantage", f"news_sentiment_{ticker}.json")
            return Reply.file("alphavantage", "invalid_inputs.json")
        if function == "TREASURY_YIELD":
            return Reply.file("alphavantage", f"treasury_yield_{request.param('maturity')}.json")
        return Reply.file("alphavantage", "invalid_api_call.json")

    router.route("alphavantage.query", "GET", r"https://www\.alphavantage\.co/query", query)


FRED_SERIES = ("DGS1MO", "DGS3MO", "DGS6MO", "DGS1", "DGS2", "DGS3", "DGS5", "DGS7", "DGS10", "DGS20", "DGS30")


def install_fred(router: Router, base_url: str) -> None:
    """FRED's series/observations endpoint as fredapi calls it (XML), on the loopback server."""

    def observations(request: Request, match: re.Match[str]) -> Reply:
        # FRED returns the observations between observation_start and observation_end, as XML by default.
        series = request.param("series_id") or ""
        if series not in FRED_SERIES:
            return Reply.file("fred", "error_series_does_not_exist.xml", status=400)
        first, last = request.param("observation_start") or "", request.param("observation_end") or "9999-12-31"
        root = ET.fromstring(recorded_path("fred", f"{series}.xml").read_bytes())  # noqa: S314 - our own fixture
        for observation in list(root):
            if not first <= observation.get("date", "") <= last:
                root.remove(observation)
        root.set("count", str(len(root)))
        body = b'<?xml version="1.0" encoding="utf-8" ?>\n' + ET.tostring(root)
        return Reply(200, body, "text/xml; charset=UTF-8")

    router.route("fred.observations", "GET", re.escape(base_url) + r"/fred/series/observations", observations)


# -- request bodies and every method (broker adapters) ----------------------------------------------


class BodyRouter(Router):
    """A `Router` that also answers PATCH, PUT and DELETE, and lets handlers read the request body.

    Inside a handler, `router.body_json()` is the JSON body of the request being answered; `router.bodies`
    lists (method, url, body) of every request, in order.
    """

    def __init__(self) -> None:
        super().__init__()
        self._serial = threading.Lock()  # one request at a time, so the current body is this request's
        self._body = b""
        self.bodies: list[tuple[str, str, bytes]] = []

    def answer_with_body(self, method: str, url: str, body: bytes) -> Reply:
        """Answer as `answer` does, with `body` readable by the handler."""
        with self._serial:
            self._body = body
            self.bodies.append((method.upper(), url, body))
            return self.answer(method, url)

    def body_json(self) -> Any:
        """The JSON body of the request being answered, or None when it has none."""
        return json.loads(self._body) if self._body else None


@contextmanager
def replay_requests_with_bodies() -> Iterator[BodyRouter]:
    """As `replay_requests`, for GET, POST, PUT, PATCH and DELETE, with bodies readable (`BodyRouter`)."""
    router = BodyRouter()

    def callback(prepared: requests.PreparedRequest) -> Any:
        body = prepared.body or b""
        reply = router.answer_with_body(
            prepared.method or "GET", prepared.url or "", body.encode() if isinstance(body, str) else body
        )
        if reply.raises is not None:
            return reply.raises
        return reply.status, {"Content-Type": reply.content_type, **reply.headers}, reply.body

    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        for method in (responses.GET, responses.POST, responses.PUT, responses.PATCH, responses.DELETE):
            mock.add_callback(method, re.compile(r".*"), callback=callback)
        yield router
