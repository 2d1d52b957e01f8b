"""What every online adapter shares: API-key checks, retries, error translation and small parsers.

Vendor libraries fail in their own ways (requests exceptions, urllib errors, `ValueError` with a
message, their own exception classes). `OnlineSource._fetch` runs one vendor call under
`kit.retry.retry_call` and turns whatever escapes into our three reactions: `Rejected` (fix a key or an
input), `Temporary` (retried with backoff; the chain moves on) or `Operational` (the vendor's format
changed; a person must look). A vendor traceback never reaches the caller.
"""

from __future__ import annotations

import http.client
import json
import math
import numbers
import re
import socket
import time
import urllib.error
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import TypeVar

import pandas as pd
import requests
from requests.adapters import HTTPAdapter

from marketdesk.clock import Clock
from marketdesk.config import ENV_PREFIX
from marketdesk.errors import MarketdeskError, Operational, RateLimited, Rejected, Temporary, UnknownSymbol
from marketdesk.kit.retry import RetryPolicy, Sleep, retry_call
from marketdesk.kit.timeutil import NEW_YORK
from marketdesk.logs import get_logger
from marketdesk.marketdata.port import BAR_COLUMNS, MarketDataBase, empty_bars

T = TypeVar("T")

DEFAULT_TIMEOUT_S = 20.0
"""How long one HTTP request may take before it counts as a network failure."""

_log = get_logger(__name__)

_SECRET_IN_TEXT = re.compile(r"(?i)\b((?:api_?key|apikey|token|secret_?key|key_?id)=)[^&\s'\"]+")


def scrub(text: str) -> str:
    """Mask credentials that vendors put in query strings (`token=`, `apikey=`, `api_key=`) out of `text`.

    requests and urllib quote the full URL in their exception messages; those messages reach our errors
    and logs, and the key must not.

    >>> scrub("url: /query?function=X&apikey=ABC123&limit=50")
    'url: /query?function=X&apikey=***&limit=50'
    """
    return _SECRET_IN_TEXT.sub(r"\1***", text)


def key_hint(settings: Sequence[str]) -> str:
    """The fix for a missing or refused key: the environment variables to set, or the vault."""
    names = " and ".join(f"{ENV_PREFIX}{name.upper()}" for name in settings)
    fields = ", ".join(f"`{name}`" for name in settings)
    return f"Set {names} (or {fields} in marketdesk.toml), or store it in the vault."


def require_key(value: str | None, *, source: str, setting: str, all_settings: Sequence[str] = ()) -> str:
    """Return the key, or raise `Rejected` saying which setting to fill in."""
    if value is None or not value.strip():
        raise Rejected(f"{source} needs an API key and none is set", hint=key_hint(all_settings or (setting,)))
    return value.strip()


class TimeoutHTTPAdapter(HTTPAdapter):
    """A requests transport that applies a default timeout, for vendor clients that pass none."""

    def __init__(self, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        super().__init__()
        self.timeout_s = timeout_s

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float, float] | tuple[float, None] | None = None,
        verify: bool | str = True,
        cert: bytes | str | tuple[bytes | str, bytes | str] | None = None,
        proxies: Mapping[str, str] | None = None,
    ) -> requests.Response:
        """Send as `HTTPAdapter` does, with `timeout_s` when the caller gave no timeout."""
        return super().send(
            request,
            stream=stream,
            timeout=self.timeout_s if timeout is None else timeout,
            verify=verify,
            cert=cert,
            proxies=proxies,
        )


def with_timeout(session: requests.Session, timeout_s: float = DEFAULT_TIMEOUT_S) -> requests.Session:
    """Mount `TimeoutHTTPAdapter` on `session` for http and https, and return it."""
    adapter = TimeoutHTTPAdapter(timeout_s)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def retry_after_s(headers: Mapping[str, str], now: datetime) -> float | None:
    """Read how long a provider asked us to wait: `Retry-After` (seconds or a date) or `X-RateLimit-Reset`."""
    value = headers.get("Retry-After")
    if value:
        text = value.strip()
        if text.isdigit():
            return float(text)
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            when = None
        if when is not None and when.tzinfo is not None:
            return max(0.0, (when - now).total_seconds())
    reset = headers.get("X-RateLimit-Reset") or headers.get("x-ratelimit-reset")
    if reset and reset.strip().isdigit():
        return max(0.0, float(reset) - now.timestamp())
    return None


def http_error(
    source: str,
    status: int,
    *,
    detail: str = "",
    symbol: str | None = None,
    wait_s: float | None = None,
    key_settings: Sequence[str] = (),
) -> MarketdeskError:
    """Translate an HTTP status from a vendor into our error classes."""
    said = f": {scrub(detail.strip())[:200]}" if detail.strip() else ""
    if status == 429:
        return RateLimited(
            f"{source} is rate limiting requests (HTTP 429){said}",
            hint="Wait and retry; a paid plan or fewer symbols per minute avoids it.",
            retry_after_s=wait_s,
        )
    if status in (401, 403):
        fix = key_hint(key_settings) if key_settings else "Check the credentials for this provider."
        return Rejected(
            f"{source} refused the API key (HTTP {status}){said}",
            hint=f"The key may be wrong, revoked or lack the plan for this data. {fix}",
        )
    if status == 404 and symbol is not None:
        return UnknownSymbol(symbol, source=source)
    if status in (408, 425) or status >= 500:
        return Temporary(f"{source} is failing (HTTP {status}){said}", hint="Retry later.", retry_after_s=wait_s)
    return Operational(
        f"{source} answered HTTP {status}{said}",
        hint="The request or the vendor's API may have changed; report it with this message.",
    )


def network_error(source: str, exc: BaseException) -> Temporary:
    """A connection that failed or timed out."""
    return Temporary(
        f"cannot reach {source}: {type(exc).__name__}: {scrub(str(exc))[:200]}",
        hint="Check the internet connection (and any proxy); the desk retries and falls back meanwhile.",
    )


def unreadable(source: str, what: str, exc: BaseException) -> Temporary:
    """A truncated or garbled response: usually transient (a proxy error page, a cut connection)."""
    return Temporary(
        f"{source} sent an unreadable response to {what}: {type(exc).__name__}: {scrub(str(exc))[:160]}",
        hint="Retry later; if it persists the vendor may have changed its format.",
    )


def unexpected_format(source: str, what: str, exc: BaseException) -> Operational:
    """A response that parsed but did not have the shape we expect: the vendor changed something."""
    return Operational(
        f"{source} answered {what} in an unexpected shape ({type(exc).__name__}: {scrub(str(exc))[:160]})",
        hint="The vendor's format may have changed; report it with this message.",
    )


def translate_common(
    source: str, exc: BaseException, *, what: str, symbol: str | None, clock: Clock
) -> MarketdeskError:
    """Map the exceptions every HTTP-based vendor library can raise."""
    if isinstance(exc, MarketdeskError):
        return exc
    if isinstance(exc, requests.exceptions.HTTPError) and exc.response is not None:
        response = exc.response
        return http_error(
            source,
            response.status_code,
            detail=response.text,
            symbol=symbol,
            wait_s=retry_after_s(response.headers, clock.now()),
        )
    if isinstance(exc, requests.exceptions.JSONDecodeError | json.JSONDecodeError | ET.ParseError):
        return unreadable(source, what, exc)
    if isinstance(exc, requests.exceptions.ContentDecodingError | requests.exceptions.ChunkedEncodingError):
        return unreadable(source, what, exc)
    if isinstance(exc, requests.exceptions.RequestException | urllib.error.URLError | socket.timeout | TimeoutError):
        return network_error(source, exc)
    if isinstance(exc, ConnectionError | OSError):
        return network_error(source, exc)
    if isinstance(exc, http.client.HTTPException):  # e.g. IncompleteRead: the body was cut short
        return unreadable(source, what, exc)
    if isinstance(exc, KeyError | IndexError | TypeError | AttributeError | ValueError):
        return unexpected_format(source, what, exc)
    return Operational(
        f"{source} failed on {what}: {type(exc).__name__}: {scrub(str(exc))[:200]}",
        hint="This is unexpected; report it with this message.",
    )


class OnlineSource(MarketDataBase):
    """Base of the online adapters: runs each vendor call under retry and error translation."""

    key_settings: tuple[str, ...] = ()
    """The Settings fields holding this source's credentials, for error hints."""

    def __init__(
        self,
        *,
        clock: Clock,
        retry: RetryPolicy | None = None,
        sleep: Sleep = time.sleep,
    ) -> None:
        self._clock = clock
        self._retry = retry or RetryPolicy()
        self._sleep = sleep

    def _translate(self, exc: BaseException, *, what: str, symbol: str | None) -> MarketdeskError:
        """Map a vendor exception; subclasses recognise their library's own errors first."""
        return translate_common(self.name, exc, what=what, symbol=symbol, clock=self._clock)

    def _fetch(self, what: str, call: Callable[[], T], *, symbol: str | None = None) -> T:
        """Run `call` (one vendor request and its parsing), retrying `Temporary` failures."""

        def attempt() -> T:
            try:
                return call()
            except MarketdeskError:
                raise
            except Exception as exc:  # a vendor library may raise anything; translate all of it
                # `from None`: vendor exceptions quote request URLs, and some vendors put the key in them
                raise self._translate(exc, what=what, symbol=symbol) from None

        def log_retry(number: int, error: Temporary, wait_s: float) -> None:
            _log.info(
                "retrying", source=self.name, what=what, retry=number, wait_s=round(wait_s, 3), error=error.message
            )

        return retry_call(attempt, policy=self._retry, sleep=self._sleep, on_retry=log_retry)


def session_date(instant: datetime) -> date:
    """The New York trading date of an aware instant."""
    return instant.astimezone(NEW_YORK).date()


def parse_utc(text: str) -> datetime:
    """Parse an RFC 3339 timestamp such as '2024-05-01T04:00:00Z' or one with nanoseconds."""
    value = text.strip()
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    head, sep, tail = value.partition(".")
    if sep:  # Python parses at most microseconds; vendors send nanoseconds
        count = len(tail) - len(tail.lstrip("0123456789"))
        digits, zone = tail[:count], tail[count:]
        value = f"{head}.{digits[:6].ljust(6, '0')}{zone}"
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError(f"timestamp {text!r} has no zone")
    return parsed.astimezone(UTC)


def optional_float(value: object) -> float | None:
    """A vendor number that may be missing: None, '', 'None', '-', '.' and NaN become None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip()
        if text in {"", "None", "none", "null", "-", ".", "NaN", "nan"}:
            return None
        return float(text.replace(",", ""))
    if isinstance(value, Decimal | numbers.Real):
        number = float(value)
        return None if math.isnan(number) else number
    raise TypeError(f"expected a number, got {type(value).__name__}")


BarRow = tuple[date, float, float, float, float, float, float]
"""(session date, open, high, low, close, adj_close, volume)."""


def bars_frame(rows: Iterable[BarRow], start: date, end: date) -> pd.DataFrame:
    """Build a bar frame in the port's shape from rows, keeping only sessions in [start, end]."""
    kept = [row for row in rows if start <= row[0] <= end]
    if not kept:
        return empty_bars()
    frame = pd.DataFrame.from_records(
        [row[1:] for row in kept],
        columns=list(BAR_COLUMNS),
        index=pd.DatetimeIndex([pd.Timestamp(row[0]) for row in kept], name="date"),
    ).astype("float64")
    frame = frame[~frame.index.duplicated(keep="last")]
    return frame.sort_index()
