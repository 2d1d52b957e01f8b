"""GET /api/v1/sizing over the real API, on SQLite and PostgreSQL: a size worked out against the trader's paper
account from inputs read back through other routes (the quote, the account, the positions, the research verdict,
the regime, the bars), against a portfolio, against a notional $10,000 for a user with no paper account; another
user's account or portfolio answered 404 like a missing one, a viewer allowed to read, and bad input refused."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import talib
from fastapi.testclient import TestClient

from marketdesk.app import create_app
from marketdesk.clock import SimClock
from marketdesk.db import Database
from marketdesk.desk import Desk
from marketdesk.marketdata.port import AssetClass, Quote, SymbolInfo
from marketdesk.portfolio.sizing import SizingInputs, recommend
from marketdesk.screener.model import RegimeState, Verdict
from support.auth import SignedIn, api_desk, create_user, register_admin
from support.fakes import bar_frame

API = "/api/v1/sizing"
TECH = "Information Technology"
SECTORS = {"AAA": TECH, "TEC1": TECH, "TEC2": TECH, "TEC3": TECH, "HLT1": "Health Care", "SPY": None}
TODAY = date(2026, 11, 20)  # the `clock` fixture's day in New York
ATR_WINDOW_START = TODAY - timedelta(days=150)  # the service reads 150 calendar days of bars for ATR14


@pytest.fixture
def desk(tmp_path: Path, clock: SimClock, database: Database) -> Desk:
    """The small fake market, plus a year and a half of prices up to yesterday for five stocks (four in IT) and
    SPY, the screener's benchmark."""
    desk = api_desk(tmp_path / "desk", clock, database_url=database.url)
    days = [d.date() for d in pd.bdate_range("2025-06-02", "2026-11-19")]
    rng = np.random.default_rng(11)
    frames = [
        bar_frame(days, 100 * np.exp(np.cumsum(rng.normal(0.0005, 0.015, len(days))))).reset_index().assign(symbol=s)
        for s in SECTORS
    ]
    infos = [
        SymbolInfo(s, f"{s} Inc", AssetClass.ETF if sector is None else AssetClass.EQUITY, sector=sector)
        for s, sector in SECTORS.items()
    ]

    async def load() -> None:
        async with desk.db.session() as session:
            await desk.market.load_bulk(session, source="test", infos=infos, history=pd.concat(frames))
        await desk.db.dispose()

    asyncio.run(load())
    return desk


@pytest.fixture
def client(desk: Desk) -> Iterator[TestClient]:
    with TestClient(create_app(desk=desk, web=False)) as test_client:
        test_client.portal.call(desk.paper_feed.stop)  # type: ignore[union-attr]  # the tests feed the quotes
        yield test_client


def tick(client: TestClient, desk: Desk, symbol: str, price: str) -> int:
    """Show the paper venue a quote one second on; the number of fills made."""
    desk.clock.advance(timedelta(seconds=1))  # type: ignore[attr-defined]
    quote = Quote(symbol=symbol, ts=desk.clock.now(), last=Decimal(price), volume=1_000_000)
    client.portal.call(desk.quotes.publish, [quote])  # type: ignore[union-attr]
    return int(client.portal.call(desk.paper_feed.step))  # type: ignore[union-attr]


def get(client: TestClient, user: SignedIn, path: str, **params: Any) -> Any:
    response = client.get(path, params=params, headers=user.headers)
    assert response.status_code == 200, response.text
    return response.json()


def sized(client: TestClient, user: SignedIn, **params: Any) -> dict[str, Any]:
    return dict(get(client, user, API, **params))


def floor_cents(value: Decimal) -> Decimal:
    return max(value, Decimal(0)).quantize(Decimal("0.01"), rounding=ROUND_DOWN)


def three_month_return_pct(client: TestClient, user: SignedIn, symbol: str) -> float:
    bars = get(client, user, f"/api/v1/symbols/{symbol}/bars", start="2026-01-01", end=str(TODAY))
    closes = np.array(bars["adj_close"], dtype=np.float64)
    return float((closes[-1] / closes[-1 - 63] - 1.0) * 100.0)


def independent_inputs(client: TestClient, user: SignedIn, account_id: str, symbol: str) -> SizingInputs:
    """What a size depends on, each read through another route and measured here again."""
    price = Decimal(get(client, user, f"/api/v1/quotes/{symbol}")["last"])
    equity = Decimal(get(client, user, f"/api/v1/accounts/{account_id}")["balances"]["equity"])
    positions = get(client, user, "/api/v1/positions", account_id=account_id)
    held = sum((Decimal(p["market_value"]) for p in positions if p["symbol"] == symbol), Decimal(0))
    in_sector = sum((Decimal(p["market_value"]) for p in positions if SECTORS.get(p["symbol"]) == TECH), Decimal(0))
    verdict = get(client, user, f"/api/v1/research/{symbol}")["verdict"]
    regime = get(client, user, "/api/v1/regime")["state"]
    members = [s for s, sector in SECTORS.items() if sector == TECH]
    median = float(np.median([three_month_return_pct(client, user, s) for s in members]))
    bars = get(client, user, f"/api/v1/symbols/{symbol}/bars", start=str(ATR_WINDOW_START), end=str(TODAY))
    high, low, close, adjusted = (np.array(bars[k], dtype=np.float64) for k in ("high", "low", "close", "adj_close"))
    factor = adjusted / close
    atr = float(talib.ATR(high * factor, low * factor, close * factor, timeperiod=14)[-1])
    return SizingInputs(
        symbol=symbol, price=price, equity=equity, verdict=None if verdict is None else Verdict(verdict),
        regime=RegimeState(regime), sector=TECH, sector_momentum_points=median - three_month_return_pct(client, user, "SPY"),
        atr=(Decimal(repr(atr / float(adjusted[-1]))) * price).quantize(Decimal("0.0001")), held_value=held,
        sector_held_value=in_sector,
    )  # fmt: skip


def test_a_trader_is_sized_against_their_first_paper_account(client: TestClient, desk: Desk) -> None:
    trader = register_admin(client)
    account = client.post("/api/v1/accounts", json={"name": "Paper"}, headers=trader.headers).json()["id"]
    client.post("/api/v1/accounts", json={"name": "Second"}, headers=trader.headers)
    tick(client, desk, "AAA", "100.00")
    order = {"account_id": account, "symbol": "AAA", "side": "buy", "qty": "95"}
    assert client.post("/api/v1/orders", json=order, headers=trader.headers).status_code == 201
    assert tick(client, desk, "AAA", "100.00") == 1  # 95 AAA: about 9.5% of $100,000

    answer = sized(client, trader, symbol="aaa")
    assert answer["basis"]["kind"] == "account"
    assert (answer["basis"]["id"], answer["basis"]["name"]) == (account, "Paper")  # the first paper account
    inputs = independent_inputs(client, trader, account, "AAA")
    assert Decimal(answer["basis"]["equity"]) == inputs.equity
    assert (Decimal(answer["price"]), answer["verdict"], answer["regime"], answer["sector"]) == (
        inputs.price, None if inputs.verdict is None else inputs.verdict.value, inputs.regime, TECH
    )  # fmt: skip
    assert answer["sector_momentum_points"] == pytest.approx(inputs.sector_momentum_points, abs=1e-9)
    assert Decimal(answer["atr"]) == inputs.atr
    expected = recommend(inputs)
    for field in ("low_pct", "high_pct", "safe_pct", "low_dollars", "high_dollars", "safe_dollars"):
        assert Decimal(answer[field]) == getattr(expected, field), field
    assert (answer["low_shares"], answer["high_shares"], answer["safe_shares"], answer["stars"]) == (
        expected.low_shares, expected.high_shares, expected.safe_shares, expected.stars
    )  # fmt: skip
    assert answer["headline"] == expected.headline
    assert [r["text"] for r in answer["reasons"]] == [r.text for r in expected.reasons]

    # by hand: the name cap leaves 10% of equity less what is held, and nothing recommended goes above it
    room = floor_cents(inputs.equity * Decimal("0.10") - inputs.held_value)
    [name_cap] = [c for c in answer["caps"] if c["name"] == "name"]
    assert Decimal(name_cap["room"]) == room
    assert Decimal(answer["high_dollars"]) <= room
    assert Decimal(answer["safe_dollars"]) <= Decimal(answer["low_dollars"]) <= Decimal(answer["high_dollars"])
    # the seeded market makes AAA a Buy (2–4%, $2,000–$4,000 before anything else), so the name cap binds: 95 AAA
    # marked at $100 are $9,500 of $100,000 equity, leaving 10% × $100,000 − $9,500 = $500 (5 shares)
    assert (inputs.equity, inputs.held_value, answer["verdict"]) == (Decimal(100_000), Decimal(9500), "Buy")
    assert (Decimal(answer["high_dollars"]), answer["high_shares"], answer["headline"]) == (
        Decimal(500), 5, "Recommended: 0.5% · $500"
    )  # fmt: skip
    name_reason = next(r for r in answer["reasons"] if r["factor"] == "name_cap")
    assert (name_reason["effect"], name_reason["text"]) == (
        "cap",
        "You hold $9,500 of AAA (9.5% of equity); the 10% cap per name leaves room for $500. "
        "It cuts the range to at most $500.",
    )

    # the same account named explicitly gives the same answer
    assert sized(client, trader, symbol="AAA", account_id=account) == answer


def test_a_portfolio_is_sized_on_its_value_and_holdings(client: TestClient) -> None:
    trader = register_admin(client)
    pid = client.post("/api/v1/portfolios", json={"name": "Core"}, headers=trader.headers).json()["id"]
    for txn in (
        {"kind": "deposit", "date": "2026-11-02", "amount": "20000"},
        {"kind": "buy", "date": "2026-11-02", "symbol": "TEC1", "qty": "40", "price": "100"},
    ):
        assert (
            client.post(f"/api/v1/portfolios/{pid}/transactions", json=txn, headers=trader.headers).status_code == 201
        )

    answer = sized(client, trader, symbol="TEC2", portfolio_id=pid)
    valuation = get(client, trader, f"/api/v1/portfolios/{pid}/valuation")
    total = Decimal(valuation["total_value"])
    [holding] = valuation["holdings"]
    assert answer["basis"] == {"kind": "portfolio", "id": pid, "name": "Core", "equity": valuation["total_value"]}
    rooms = {c["name"]: Decimal(c["room"]) for c in answer["caps"]}
    # TEC2 is not held: the name cap is 10% of the portfolio; TEC1 is in the same sector, so the sector cap is
    # 30% of the portfolio less TEC1's value
    assert rooms["name"] == floor_cents(total * Decimal("0.10"))
    assert rooms["sector"] == floor_cents(total * Decimal("0.30") - Decimal(holding["market_value"]))
    assert Decimal(answer["high_dollars"]) <= min(rooms.values())


def test_a_user_with_no_paper_account_is_sized_on_a_notional_10000(client: TestClient) -> None:
    admin = register_admin(client)
    newcomer = create_user(client, admin, "new@example.com", "trader")
    answer = sized(client, newcomer, symbol="TEC3")
    assert answer["basis"] == {"kind": "notional", "id": None, "name": "you have no paper account", "equity": "10000"}
    assert answer["simulated"] is False
    # each end is one amount x: dollars = x rounded down to the cent, percent = x / $10,000 rounded down to
    # 0.01%, so percent × 100 ≤ dollars < (percent + 0.01) × 100
    for end in ("low", "high", "safe"):
        dollars, percent = Decimal(answer[f"{end}_dollars"]), Decimal(answer[f"{end}_pct"])
        assert percent * 100 <= dollars < percent * 100 + 1, (end, dollars, percent)
    assert [r["factor"] for r in answer["reasons"]][:3] == ["verdict", "regime", "sector_momentum"]


def test_a_viewer_may_read_a_size(client: TestClient) -> None:
    admin = register_admin(client)
    viewer = create_user(client, admin, "viewer@example.com", "viewer")
    assert sized(client, viewer, symbol="HLT1")["basis"]["kind"] == "notional"


def test_another_users_account_or_portfolio_is_not_found_like_a_missing_one(client: TestClient) -> None:
    admin = register_admin(client)
    owner = create_user(client, admin, "owner@example.com", "trader")
    intruder = create_user(client, admin, "intruder@example.com", "trader")
    account = client.post("/api/v1/accounts", json={"name": "Mine"}, headers=owner.headers).json()["id"]
    portfolio = client.post("/api/v1/portfolios", json={"name": "Mine"}, headers=owner.headers).json()["id"]
    assert sized(client, owner, symbol="AAA", account_id=account)["basis"]["id"] == account
    assert sized(client, owner, symbol="AAA", portfolio_id=portfolio)["basis"]["id"] == portfolio
    for key, theirs in (("account_id", account), ("portfolio_id", portfolio)):
        refused = client.get(API, params={"symbol": "AAA", key: theirs}, headers=intruder.headers)
        missing = client.get(API, params={"symbol": "AAA", key: "0" * 32}, headers=intruder.headers)
        assert refused.status_code == missing.status_code == 404
        assert refused.json()["error"]["message"].replace(theirs, "ID") == missing.json()["error"]["message"].replace(
            "0" * 32, "ID"
        )


def test_bad_input_is_refused_with_what_to_fix(client: TestClient) -> None:
    admin = register_admin(client)
    both = client.get(API, params={"symbol": "AAA", "account_id": "a", "portfolio_id": "p"}, headers=admin.headers)
    assert both.status_code == 422
    assert both.json()["error"]["message"] == "give account_id or portfolio_id, not both"
    unknown = client.get(API, params={"symbol": "ZZZZ"}, headers=admin.headers)
    assert unknown.status_code == 404
    assert "unknown symbol 'ZZZZ'" in unknown.json()["error"]["message"]
    assert client.get(API, params={"symbol": "not a symbol"}, headers=admin.headers).status_code == 422
    assert client.get(API, headers=admin.headers).status_code == 422  # the symbol is required
    assert client.get(API, params={"symbol": "AAA"}).status_code == 401
