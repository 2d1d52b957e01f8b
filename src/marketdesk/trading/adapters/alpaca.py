"""Alpaca as a Broker (Trading API v2, paper or live) through alpaca-py's `TradingClient`.

    broker = AlpacaBroker(key_id, secret_key, paper=True, clock=clock)
    placed = await broker.submit(order)            # same client_order_id again → the same order

- **Wire format**: the client runs with `raw_data=True` and requests are built by hand, so Alpaca's JSON is
  mapped explicitly in `alpaca_schema` (strings → Decimal, times → aware UTC, enums through tables).
  alpaca-py's request models carry quantities and prices as floats; the bodies sent here carry them as
  decimal strings, which Alpaca documents (`"qty": "2"`, `"limit_price": "150"`).
- **Idempotency**: `submit` sends the desk's `client_order_id`. When Alpaca already has one it answers 422
  "client_order_id must be unique"; the adapter then reads that order (GET /v2/orders:by_client_order_id)
  and returns it, after checking it is the same order (symbol, side, quantity).
- **Errors**: 401/403 key refusals → `Rejected` pointing at the key vault; other 403s (insufficient buying
  power, PDT protection) and 400/422 → `Rejected` with Alpaca's message; 404 → `NotFound`; 429 →
  `RateLimited` with Alpaca's `X-RateLimit-Reset`; 408/5xx and network failures → `Temporary`.
- **Retries**: reads, `submit` (safe: the client order id makes a resend idempotent) and `cancel` retry
  `Temporary` with backoff; `replace` never does (a second PATCH could replace the replacement).
  alpaca-py's own fixed 3-second retries are turned off.
- **Live trading** needs `paper=False` *and* `live_confirmed=True`: the desk setting `allow_live_trading`
  (`LIVE_SETTING_ENV`) plus the account's owner typing `LIVE_CONFIRMATION_PHRASE` once. Without both the
  constructor refuses; `trading.venue.Brokers` decides both before it asks for a live broker.
- The desk polls: Alpaca's websocket stream of trade updates is not used (`streams_updates=False`).
- **Exchanges**: every request `submit`, `cancel`, `replace` and `order` make is noted for the audit trail
  (`broker.note_exchange`) with the venue `alpaca-paper` or `alpaca-live`: the method, the path and the query
  or JSON body as sent, and Alpaca's JSON as received (its own field names) or the failure. The headers, which
  carry the keys, are never part of it.
- **Bracket and OCO lookups**: Alpaca nests a bracket's or an OCO's legs only when asked for the nested form
  (`?nested=true`), which GET /v2/orders:by_client_order_id does not take; `order()` reads such an order again
  by its id, nested, so the legs come with it.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol, TypeVar, cast

from alpaca.common.exceptions import APIError
from alpaca.trading.client import TradingClient
from sqlalchemy.ext.asyncio import AsyncSession

from marketdesk.clock import Clock
from marketdesk.errors import (
    MarketdeskError,
    NotFound,
    Operational,
    RateLimited,
    Rejected,
    Temporary,
)
from marketdesk.kit.retry import NO_RETRY, RetryPolicy, Sleep, retry_call
from marketdesk.kit.timeutil import ensure_utc
from marketdesk.logs import get_logger
from marketdesk.marketdata.adapters._common import (
    DEFAULT_TIMEOUT_S,
    retry_after_s,
    scrub,
    translate_common,
    unexpected_format,
    with_timeout,
)
from marketdesk.trading.adapters.alpaca_schema import (
    parse_to_account,
    parse_to_fill,
    parse_to_order,
    parse_to_position,
    to_order_body,
    to_replace_body,
    wire_decimal,
)
from marketdesk.trading.broker import (
    BrokerAccount,
    BrokerCapabilities,
    BrokerExchange,
    BrokerFill,
    BrokerOrder,
    BrokerPosition,
    collecting,
    note_exchange,
)
from marketdesk.trading.orders import SubmitOrder

T = TypeVar("T")

_log = get_logger(__name__)

SOURCE = "Alpaca"
LIVE_CONFIRMATION_PHRASE = "I understand this is real money"
"""What the user types, once, before the desk sends orders to Alpaca's live (real money) account."""
LIVE_SETTING_ENV = "MARKETDESK_ALLOW_LIVE_TRADING"
"""The environment variable of the desk setting `allow_live_trading` (off by default)."""

ALPACA_CAPABILITIES = BrokerCapabilities(
    fractional=True, short=True, extended_hours=True, brackets=True, streams_updates=False
)

API_VERSION = "v2"  # alpaca-py's TradingClient prefixes every path with it
MULTI_LEG_CLASSES = frozenset({"bracket", "oco", "oto"})
ORDERS_PAGE_SIZE = 500  # Alpaca's maximum for GET /v2/orders
ACTIVITIES_PAGE_SIZE = 100  # Alpaca's maximum for GET /v2/account/activities
CANCEL_CONFIRM_POLLS = 3
CANCEL_CONFIRM_WAIT_S = 0.2

_KEY_FIX = (
    "The key id or secret is wrong, revoked, or belongs to the other environment (paper keys start with PK, "
    "live keys with AK). Fix alpaca_key_id and alpaca_secret_key in Settings, Key vault."
)
_DUPLICATE_CODE = 40010001
_INSUFFICIENT_BUYING_POWER_CODE = 40310000
_UNAUTHORIZED_CODE = 40110000


def is_live_confirmation(typed: str) -> bool:
    """True when `typed` is exactly `LIVE_CONFIRMATION_PHRASE` (surrounding spaces ignored)."""
    return typed.strip() == LIVE_CONFIRMATION_PHRASE


# -- errors ------------------------------------------------------------------------------------------


def error_body(text: str) -> tuple[int | None, str]:
    """Alpaca's error body `{"code": 40310000, "message": "..."}` as (code, message); other text as is."""
    try:
        parsed = json.loads(text)
    except ValueError:
        return None, scrub(text.strip())[:200]
    if not isinstance(parsed, dict):
        return None, scrub(text.strip())[:200]
    code = parsed.get("code")
    message = parsed.get("message")
    return (code if isinstance(code, int) else None), scrub(str(message if message is not None else text))[:200]


def is_duplicate_client_order_id(status: int | None, code: int | None, message: str) -> bool:
    """Alpaca's refusal of a client order id it already has (HTTP 422, code 40010001)."""
    text = message.lower().replace("_", " ")
    return status == 422 and (
        "client order id must be unique" in text or (code == _DUPLICATE_CODE and "unique" in text)
    )


def _is_key_refusal(status: int, code: int | None, message: str) -> bool:
    if status == 401 or code == _UNAUTHORIZED_CODE:
        return True
    # A 403 about the request (buying power, PDT protection) carries a 403xxxxx code; a bare one is the key.
    text = message.lower()
    return status == 403 and (code is None or "forbidden" in text or "not authorized" in text)


def http_error(
    status: int, code: int | None, message: str, *, what: str, wait_s: float | None = None
) -> MarketdeskError:
    """Translate an Alpaca HTTP error into the desk's error classes."""
    said = message or f"HTTP {status}"
    if status in (401, 403) and _is_key_refusal(status, code, message):
        return Rejected(f"{SOURCE} refused the API key ({said}; HTTP {status})", hint=_KEY_FIX)
    if status == 403:
        hint = None
        if code == _INSUFFICIENT_BUYING_POWER_CODE or "buying power" in message.lower():
            hint = "Lower the quantity or price, or free buying power by cancelling open orders."
        return Rejected(f"{SOURCE} refused {what}: {said}", hint=hint)
    if status == 404:
        return NotFound(f"{SOURCE} has no {what} ({said})")
    if status == 429:
        return RateLimited(
            f"{SOURCE} is rate limiting requests ({said})",
            hint="The desk waits as long as Alpaca asks and retries; Alpaca allows about 200 requests a minute.",
            retry_after_s=wait_s,
        )
    if status in (400, 422):
        return Rejected(f"{SOURCE} rejected {what}: {said}")
    if status == 408 or status >= 500:
        return Temporary(
            f"{SOURCE} is failing ({said}; HTTP {status})",
            hint="Retry later; an order resent with its client order id is never placed twice.",
            retry_after_s=wait_s,
        )
    return Operational(
        f"{SOURCE} answered HTTP {status} to {what} ({said})",
        hint="The request or Alpaca's API may have changed; report it with this message.",
    )


def _error_json(exc: APIError) -> Any:
    """Alpaca's error body as it sent it (`{"code": …, "message": …}`), or None when it is not JSON."""
    try:
        return json.loads(str(exc))
    except ValueError:
        return None


def _error_line(exc: BaseException) -> str:
    """A failed request in one line, for the audit trail: the HTTP status and Alpaca's message, or the failure."""
    if isinstance(exc, APIError):
        _, message = error_body(str(exc))
        return f"HTTP {exc.status_code}: {message}" if exc.status_code is not None else message
    return scrub(f"{type(exc).__name__}: {exc}")[:200]


def _order_id(broker_order_id: str) -> str:
    """A broker order id as Alpaca writes it (a UUID); anything else cannot name an Alpaca order."""
    try:
        return str(uuid.UUID(broker_order_id))
    except (ValueError, AttributeError, TypeError):
        raise NotFound(
            f"{SOURCE} has no order {broker_order_id!r}", hint="Alpaca order ids are UUIDs, as Alpaca reports them."
        ) from None


class _TradingClient(TradingClient):
    """alpaca-py's trading client, raw JSON, with its own 429/504 retries off and a default timeout."""

    def __init__(
        self, *, api_key: str, secret_key: str, paper: bool, url_override: str | None, timeout_s: float
    ) -> None:
        super().__init__(api_key=api_key, secret_key=secret_key, paper=paper, raw_data=True, url_override=url_override)
        self._retry = 0  # the constructor reads 0 as "use the default of 3"; kit.retry owns backoff
        with_timeout(self._session, timeout_s)


def require_live_confirmation(*, paper: bool, live_confirmed: bool) -> None:
    """Refuse live (real-money) trading unless the desk setting is on and the user typed the phrase."""
    if not paper and not live_confirmed:
        raise Rejected(
            "live trading on Alpaca is not turned on: this would send real-money orders",
            hint=(
                f"An admin turns on allow_live_trading in the desk's Settings ({LIVE_SETTING_ENV}=true), then the "
                f"account's owner types “{LIVE_CONFIRMATION_PHRASE}” on the Trade page; until then use Alpaca "
                "paper trading."
            ),
        )


def live_trading_off(what: str) -> Rejected:
    """The refusal of `what` (opening or trading a live account) on a desk that does not allow live trading."""
    return Rejected(
        f"{what}: live (real-money) trading is turned off on this desk",
        hint=f"An admin turns it on with {LIVE_SETTING_ENV}=true (or allow_live_trading = true in "
        "marketdesk.toml) and restarts the desk; until then use an Alpaca paper account.",
    )


def live_not_confirmed(account_id: str) -> Rejected:
    """The refusal of a live account whose owner has not typed the confirmation phrase yet."""
    return Rejected(
        "this live account places no orders until you confirm live trading: its orders would be real money",
        hint=f"Type “{LIVE_CONFIRMATION_PHRASE}” on the Trade page, or POST /api/v1/accounts/{account_id}/live "
        f'with {{"confirmation": "{LIVE_CONFIRMATION_PHRASE}"}}.',
    )


def check_key_environment(key_id: str, *, paper: bool) -> None:
    """Refuse a key id of the other environment: paper keys start with PK, live keys with AK."""
    if paper and key_id.startswith("AK"):
        raise Rejected(
            "this Alpaca key id is a live key (it starts with AK) but the desk is set to paper trading",
            hint="Store your paper key (it starts with PK) in Settings, Key vault; a live key is for a live account.",
        )
    if not paper and key_id.startswith("PK"):
        raise Rejected(
            "this Alpaca key id is a paper key (it starts with PK) but the desk is set to live trading",
            hint="Store your live key (it starts with AK) in Settings, Key vault.",
        )


def _require(value: str | None, setting: str) -> str:
    if value is None or not value.strip():
        raise Rejected(f"{SOURCE} trading needs {setting} and none is set", hint="Add it in Settings, Key vault.")
    return value.strip()


class AlpacaBroker:
    """Alpaca's Trading API v2 as a `Broker`: paper by default, live only when confirmed."""

    name = "alpaca"
    capabilities = ALPACA_CAPABILITIES

    def __init__(
        self,
        key_id: str | None,
        secret_key: str | None,
        *,
        paper: bool = True,
        live_confirmed: bool = False,
        clock: Clock,
        url_override: str | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        retry: RetryPolicy | None = None,
        sleep: Sleep = time.sleep,
    ) -> None:
        """Build the adapter for one Alpaca account.

        `paper=False` sends real orders, so it also needs `live_confirmed=True` (the desk's live-trading
        setting and the typed `LIVE_CONFIRMATION_PHRASE`). `url_override` points at another base URL (a proxy).
        """
        require_live_confirmation(paper=paper, live_confirmed=live_confirmed)
        key_id = _require(key_id, "alpaca_key_id")
        secret_key = _require(secret_key, "alpaca_secret_key")
        check_key_environment(key_id, paper=paper)
        self.paper = paper
        self.venue = "alpaca-paper" if paper else "alpaca-live"
        self._clock = clock
        self._retry = retry or RetryPolicy()
        self._sleep = sleep
        self._client = _TradingClient(
            api_key=key_id, secret_key=secret_key, paper=paper, url_override=url_override, timeout_s=timeout_s
        )
        self._client_ids: dict[str, str] = {}  # broker order id → client order id (fills name only the former)
        self._ids_lock = threading.Lock()

    # -- plumbing ------------------------------------------------------------------------------------

    def _translate(self, exc: BaseException, *, what: str) -> MarketdeskError:
        if isinstance(exc, APIError):
            status = exc.status_code
            if status is None:
                return unexpected_format(SOURCE, what, exc)
            code, message = error_body(str(exc))
            headers = exc.response.headers if exc.response is not None else {}
            return http_error(status, code, message, what=what, wait_s=retry_after_s(headers, self._clock.now()))
        return translate_common(SOURCE, exc, what=what, symbol=None, clock=self._clock)

    async def _run(self, what: str, call: Callable[[], T], *, retry: bool = True) -> T:
        """Run one blocking exchange with Alpaca in a worker thread, translating errors and retrying."""

        def attempt() -> T:
            try:
                return call()
            except MarketdeskError:
                raise
            except Exception as exc:  # alpaca-py and requests raise many kinds; translate all of them
                raise self._translate(exc, what=what) from None

        def log_retry(number: int, error: Temporary, wait_s: float) -> None:
            _log.info(
                "retrying", source=self.name, what=what, retry=number, wait_s=round(wait_s, 3), error=error.message
            )

        policy = self._retry if retry else NO_RETRY
        return await asyncio.to_thread(retry_call, attempt, policy=policy, sleep=self._sleep, on_retry=log_retry)

    @staticmethod
    def _parsed(what: str, parse: Callable[[], T]) -> T:
        """Run a mapping; a response of the wrong shape is `Operational` (Alpaca changed something)."""
        try:
            return parse()
        except MarketdeskError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise unexpected_format(SOURCE, what, exc) from exc

    def _parse_order(self, raw: Any, *, what: str) -> BrokerOrder:
        order = self._parsed(what, lambda: parse_to_order(cast(Mapping[str, Any], raw)))
        self._remember(order)
        return order

    def _remember(self, order: BrokerOrder) -> None:
        with self._ids_lock:
            self._client_ids[order.broker_order_id] = order.client_order_id
            for leg in order.legs:
                self._client_ids[leg.broker_order_id] = leg.client_order_id

    def _http(self, operation: str, method: str, path: str, data: dict[str, Any] | None = None) -> Any:
        """One request to Alpaca (`method` GET, POST, PATCH or DELETE), noted as an exchange when a caller collects
        them: the method, path and query or JSON body as sent (never the headers: they carry the keys) and
        Alpaca's JSON as received, or the failure."""
        send: Callable[[str, dict[str, Any] | None], Any] = getattr(self._client, method.lower())
        if not collecting():
            return send(path, data)
        request: dict[str, Any] = {"method": method, "path": f"/{API_VERSION}{path}"}
        if data is not None:
            request["query" if method in {"GET", "DELETE"} else "body"] = dict(data)
        try:
            raw = send(path, data)
        except APIError as exc:
            note_exchange(BrokerExchange(operation, request, _error_json(exc), _error_line(exc), self.venue))
            raise
        except Exception as exc:
            note_exchange(BrokerExchange(operation, request, None, _error_line(exc), self.venue))
            raise
        note_exchange(BrokerExchange(operation, request, raw, None, self.venue))
        return raw

    def _get_order_raw(self, order_id: str, operation: str = "order") -> Any:
        return self._http(operation, "GET", f"/orders/{order_id}", {"nested": "true"})

    def _by_client_order_id_raw(self, client_order_id: str, operation: str = "order") -> Any:
        raw = self._http(operation, "GET", "/orders:by_client_order_id", {"client_order_id": client_order_id})
        if isinstance(raw, dict) and raw.get("order_class") in MULTI_LEG_CLASSES and not raw.get("legs"):
            # Alpaca nests the legs only in the nested form, which this endpoint does not take
            raw = self._get_order_raw(str(raw["id"]), operation)
        return raw

    # -- orders --------------------------------------------------------------------------------------

    async def submit(self, order: SubmitOrder) -> BrokerOrder:
        """Place `order`; a `client_order_id` Alpaca already has returns that order, never a second one."""
        body = to_order_body(order)
        what = f"order {order.client_order_id}"

        def call() -> tuple[Any, bool]:
            try:
                return self._http("submit", "POST", "/orders", body), False
            except APIError as exc:
                code, message = error_body(str(exc))
                if not is_duplicate_client_order_id(exc.status_code, code, message):
                    raise
            return self._by_client_order_id_raw(order.client_order_id, "submit"), True

        raw, existing = await self._run(what, call)
        placed = self._parse_order(raw, what=what)
        if existing and (placed.symbol, placed.side, placed.qty) != (order.symbol, order.side, order.qty):
            raise Rejected(
                f"client_order_id {order.client_order_id} already names another order at Alpaca: "
                f"{placed.side.value.upper()} {wire_decimal(placed.qty)} {placed.symbol}, placed "
                f"{placed.submitted_at.isoformat()}",
                hint="Give a new order a new client_order_id; reuse one only to resend the same order.",
            )
        return placed

    async def cancel(self, broker_order_id: str) -> BrokerOrder:
        """Ask Alpaca to cancel; the answer is the order's state afterwards (it may have filled first)."""
        order_id = _order_id(broker_order_id)
        what = f"order {order_id}"

        def call() -> Any:
            try:
                self._http("cancel", "DELETE", f"/orders/{order_id}")
            except APIError as exc:
                if exc.status_code != 422:  # 422: not cancelable any more (filled, canceled …): read its state
                    raise
            raw = self._get_order_raw(order_id, "cancel")
            # Alpaca confirms most cancels at once; give a pending one a moment before answering.
            for _ in range(CANCEL_CONFIRM_POLLS):
                if not isinstance(raw, dict) or raw.get("status") != "pending_cancel":
                    break
                self._sleep(CANCEL_CONFIRM_WAIT_S)
                raw = self._get_order_raw(order_id, "cancel")
            return raw

        return self._parse_order(await self._run(what, call), what=what)

    async def replace(
        self,
        broker_order_id: str,
        *,
        qty: Decimal | None = None,
        limit_price: Decimal | None = None,
        stop_price: Decimal | None = None,
    ) -> BrokerOrder:
        """Change a working order; the answer is the replacement, a new order with its own ids.

        Alpaca gives the replacement a client order id of its own; the original then reports CANCELED with
        the reason "replaced by order <id>".
        """
        order_id = _order_id(broker_order_id)
        body = to_replace_body(qty=qty, limit_price=limit_price, stop_price=stop_price)
        what = f"order {order_id}"
        raw = await self._run(what, lambda: self._http("replace", "PATCH", f"/orders/{order_id}", body), retry=False)
        return self._parse_order(raw, what=what)

    async def order(self, *, client_order_id: str) -> BrokerOrder | None:
        """The order with this client order id, or None when Alpaca never received it."""
        what = f"order {client_order_id}"

        def call() -> Any:
            try:
                return self._by_client_order_id_raw(client_order_id)
            except APIError as exc:
                if exc.status_code == 404:
                    return None
                raise

        raw = await self._run(what, call)
        return None if raw is None else self._parse_order(raw, what=what)

    async def orders(self, *, open_only: bool = True) -> list[BrokerOrder]:
        """Open orders (or all orders), newest first, with bracket legs nested in their entry order."""

        def call() -> list[Any]:
            params: dict[str, str] = {
                "status": "open" if open_only else "all",
                "limit": str(ORDERS_PAGE_SIZE),
                "nested": "true",
                "direction": "desc",
            }
            collected: list[Any] = []
            while True:
                page = self._client.get("/orders", dict(params))
                if not isinstance(page, list):
                    raise TypeError(f"expected a list of orders, got {type(page).__name__}")
                collected.extend(page)
                if len(page) < ORDERS_PAGE_SIZE:
                    return collected
                params["until"] = page[-1]["submitted_at"]

        return [self._parse_order(raw, what="the order list") for raw in await self._run("the order list", call)]

    # -- fills, positions, account ---------------------------------------------------------------------

    async def fills(self, *, since: datetime | None = None) -> list[BrokerFill]:
        """Executions (FILL activities), oldest first, each with the client order id of its order."""

        def call() -> list[Any]:
            params: dict[str, str] = {"direction": "asc", "page_size": str(ACTIVITIES_PAGE_SIZE)}
            if since is not None:
                params["after"] = ensure_utc(since).isoformat()
            collected: list[Any] = []
            while True:
                page = self._client.get("/account/activities/FILL", dict(params))
                if not isinstance(page, list):
                    raise TypeError(f"expected a list of activities, got {type(page).__name__}")
                collected.extend(page)
                if len(page) < ACTIVITIES_PAGE_SIZE:
                    return collected
                params["page_token"] = page[-1]["id"]

        return [await self._to_fill(activity) for activity in await self._run("the fills", call)]

    async def _to_fill(self, activity: Any) -> BrokerFill:
        order_id = self._parsed("the fills", lambda: str(activity["order_id"]))
        client_order_id = await self._client_order_id(order_id)
        return self._parsed("the fills", lambda: parse_to_fill(activity, client_order_id))

    async def _client_order_id(self, broker_order_id: str) -> str:
        with self._ids_lock:
            known = self._client_ids.get(broker_order_id)
        if known is not None:
            return known
        order_id = _order_id(broker_order_id)
        what = f"order {order_id}"
        order = self._parse_order(await self._run(what, lambda: self._get_order_raw(order_id)), what=what)
        return order.client_order_id

    async def positions(self) -> list[BrokerPosition]:
        """Open positions: signed quantity (short negative), average entry and current price."""
        raw = await self._run("the positions", lambda: self._client.get("/positions"))
        return self._parsed("the positions", lambda: [parse_to_position(position) for position in raw])

    async def account(self) -> BrokerAccount:
        """Balances, the previous close's equity and maintenance margin, and Alpaca's flags in `extra`."""
        raw = await self._run("the account", lambda: self._client.get("/account"))
        return self._parsed("the account", lambda: parse_to_account(cast(Mapping[str, Any], raw)))


# -- wiring ----------------------------------------------------------------------------------------


class SecretReader(Protocol):
    """What the factory needs of the vault (`marketdesk.vault.service.VaultService`)."""

    async def reveal(self, session: AsyncSession, owner_id: str, name: str, *, purpose: str = "") -> str: ...


class NamedSecret(Protocol):
    @property
    def name(self) -> str: ...


class KeyVault(SecretReader, Protocol):
    """What the opening check needs of the vault: the names it holds, and one secret read."""

    async def list(self, session: AsyncSession, owner_id: str) -> Sequence[NamedSecret]: ...


KEY_NAMES = ("alpaca_key_id", "alpaca_secret_key")


async def check_alpaca_keys(vault_service: KeyVault, session: AsyncSession, owner_id: str, *, paper: bool) -> None:
    """Refuse opening an Alpaca account whose owner has no Alpaca keys, or keys of the other environment.

    Only the key id is read (audited as `vault.read`); the secret key is only checked to be there. Nothing is
    sent to Alpaca.
    """
    held = {secret.name for secret in await vault_service.list(session, owner_id)}
    missing = [name for name in KEY_NAMES if name not in held]
    if missing:
        raise Rejected(
            f"an Alpaca account needs your Alpaca API keys, and your key vault has no {' and no '.join(missing)}",
            hint=f"Add {' and '.join(missing)} in Settings, Key vault (the Alpaca dashboard, under API Keys), "
            "then open the account again.",
        )
    environment = "paper" if paper else "live"
    key_id = await vault_service.reveal(
        session, owner_id, "alpaca_key_id", purpose=f"opening an alpaca {environment} account"
    )
    check_key_environment(key_id.strip(), paper=paper)


async def alpaca_broker_from_vault(
    vault_service: SecretReader,
    session: AsyncSession,
    owner_id: str,
    *,
    paper: bool,
    live_confirmed: bool,
    clock: Clock,
) -> AlpacaBroker:
    """An `AlpacaBroker` with `owner_id`'s alpaca_key_id and alpaca_secret_key from the key vault.

    A missing key is the vault's `NotFound`, saying where to add it. Each read is audited (`vault.read`).
    """
    require_live_confirmation(paper=paper, live_confirmed=live_confirmed)  # before reading any secret
    purpose = f"alpaca broker ({'paper' if paper else 'live'})"
    key_id = await vault_service.reveal(session, owner_id, "alpaca_key_id", purpose=purpose)
    secret_key = await vault_service.reveal(session, owner_id, "alpaca_secret_key", purpose=purpose)
    return AlpacaBroker(key_id, secret_key, paper=paper, live_confirmed=live_confirmed, clock=clock)
