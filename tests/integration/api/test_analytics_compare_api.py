"""`GET /api/v1/analytics/compare` (and `compare.csv`) over the real app, on SQLite and PostgreSQL: two portfolios
and SPY side by side, every figure checked against values worked out here from the stored closes alone (the
portfolio's value is its cash plus its shares at each close), and against the portfolio service's own TWR."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from marketdesk.app import create_app
from marketdesk.clock import SimClock
from marketdesk.db import Database
from support.auth import SignedIn, api_desk, create_user, register_admin
from support.fakes import bar_frame

ROOT_252 = math.sqrt(252)


@dataclass(frozen=True)
class Books:
    client: TestClient
    trader: SignedIn
    viewer: SignedIn
    growth: str  # 10,000 deposited and 10 AAA bought at 100 on 2025-01-02
    steady: str  # 5,000 deposited and 20 BBB bought at 50 on 2025-02-03
    closes: dict[str, pd.Series]  # raw closes as stored: AAA, BBB; SPY's adjusted (= raw) closes


@pytest.fixture
def books(tmp_path: Path, clock: SimClock, database: Database) -> Iterator[Books]:
    desk = api_desk(tmp_path / "desk", clock, database_url=database.url)
    days = [d.date() for d in pd.bdate_range("2024-12-02", "2025-03-31")]
    spy = 500 * np.exp(np.cumsum(np.random.default_rng(11).normal(0.0003, 0.01, len(days))))
    desk.store.write(bar_frame(days, spy).reset_index().assign(symbol="SPY"))
    closes = {s: desk.store.read(s, date(2024, 12, 1), date(2025, 3, 31))["close"] for s in ("AAA", "BBB", "SPY")}
    with TestClient(create_app(desk=desk, web=False)) as client:
        admin = register_admin(client)
        trader = create_user(client, admin, "trader@example.com", "trader")
        viewer = create_user(client, admin, "viewer@example.com", "viewer")
        growth = open_portfolio(client, trader, "Growth", "2025-01-02", "10000", "AAA", "10", "100")
        steady = open_portfolio(client, trader, "Steady", "2025-02-03", "5000", "BBB", "20", "50")
        yield Books(client, trader, viewer, growth, steady, closes)


def open_portfolio(
    client: TestClient, user: SignedIn, name: str, day: str, cash: str, symbol: str, qty: str, price: str
) -> str:
    made = client.post("/api/v1/portfolios", json={"name": name}, headers=user.headers)
    assert made.status_code == 201, made.text
    portfolio_id = str(made.json()["id"])
    for body in (
        {"kind": "deposit", "date": day, "amount": cash},
        {"kind": "buy", "date": day, "symbol": symbol, "qty": qty, "price": price},
    ):
        recorded = client.post(f"/api/v1/portfolios/{portfolio_id}/transactions", json=body, headers=user.headers)
        assert recorded.status_code == 201, recorded.text
    return portfolio_id


def values(closes: pd.Series, first: str, cash: float, qty: float) -> pd.Series:
    """The portfolio's end-of-day value from its first day: the cash left plus its shares at each close (cents)."""
    held = closes[closes.index >= pd.Timestamp(first)]
    return cash + (qty * held).round(2)


def chained(daily_values: pd.Series, invested: float) -> pd.Series:
    """Daily returns with the deposit at the start of the first day and no flow after it."""
    before = np.concatenate([[invested], daily_values.to_numpy()[:-1]])
    return pd.Series(daily_values.to_numpy() / before - 1.0, index=daily_values.index)


def expected(returns: pd.Series) -> dict[str, float]:
    r = returns.to_numpy()
    std = float(np.std(r, ddof=1))
    wealth = np.cumprod(1.0 + r)
    peak = np.maximum(np.maximum.accumulate(wealth), 1.0)
    return {
        "twr": float(np.prod(1.0 + r) - 1.0),
        "annual_volatility": std * ROOT_252,
        "sharpe": float(np.mean(r)) / std * ROOT_252,
        "max_drawdown": float((wealth / peak - 1.0).min()),
    }


def check(row: dict[str, object], wanted: dict[str, float]) -> None:
    for key, value in wanted.items():
        assert row[key] == pytest.approx(value, rel=1e-9, abs=1e-12), key


def test_two_portfolios_and_spy_side_by_side_match_figures_worked_out_from_the_closes(books: Books) -> None:
    answer = books.client.get(
        "/api/v1/analytics/compare",
        params={"portfolio_id": [books.growth, books.steady]},
        headers=books.trader.headers,
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    growth, steady, spy = body["series"]
    assert [(s["name"], s["kind"]) for s in body["series"]] == [
        ("Growth", "portfolio"), ("Steady", "portfolio"), ("SPY", "benchmark"),
    ]  # fmt: skip
    assert body["benchmark"] == "SPY"
    assert "Benchmark: SPY" in " ".join(body["notes"])

    # Growth: 10,000 − 1,000 in cash and 10 AAA from 2025-01-02 to the last close, 2025-03-31
    growth_values = values(books.closes["AAA"], "2025-01-02", 9000.0, 10)
    growth_returns = chained(growth_values, 10000.0)
    check(growth, expected(growth_returns))
    assert growth["twr"] == pytest.approx(growth_values.iloc[-1] / 10000.0 - 1.0, rel=1e-9)
    assert (growth["start"], growth["end"]) == ("2025-01-02", "2025-03-31")
    assert growth["observations"] == len(growth_values)
    assert growth["twr_annualized"] is None and "less than a year" in growth["missing"]["twr_annualized"]
    assert growth["growth"][0] == {"date": "2025-01-02", "value": pytest.approx(100 * growth_values.iloc[0] / 10000)}
    assert growth["growth"][-1]["value"] == pytest.approx(100 * growth_values.iloc[-1] / 10000, rel=1e-9)

    # the portfolio service's own TWR over the same days agrees (an independent implementation)
    returns = books.client.get(f"/api/v1/portfolios/{books.growth}/returns", headers=books.trader.headers).json()
    assert growth["twr"] == pytest.approx(returns["twr"], rel=1e-9)

    # Steady: 5,000 − 1,000 in cash and 20 BBB from 2025-02-03
    check(steady, expected(chained(values(books.closes["BBB"], "2025-02-03", 4000.0, 20), 5000.0)))
    assert steady["start"] == "2025-02-03"

    # SPY over the portfolios' days: from the close before 2025-01-02 to 2025-03-31
    spy_closes = books.closes["SPY"]
    spy_returns = spy_closes.pct_change().loc["2025-01-02":"2025-03-31"]
    check(spy, expected(spy_returns))
    before = spy_closes[spy_closes.index < pd.Timestamp("2025-01-02")].iloc[-1]  # SPY's last close before
    assert spy["twr"] == pytest.approx(spy_closes.loc["2025-03-31"] / before - 1.0, rel=1e-9)
    assert body["conventions"]["periods_per_year"] == 252


def test_a_date_range_measures_each_portfolio_and_spy_over_the_same_days(books: Books) -> None:
    params = {"portfolio_id": [books.growth, books.steady], "start": "2025-02-03", "end": "2025-03-14"}
    body = books.client.get("/api/v1/analytics/compare", params=params, headers=books.trader.headers).json()
    growth, steady, spy = body["series"]
    growth_values = values(books.closes["AAA"], "2025-01-02", 9000.0, 10)
    growth_returns = chained(growth_values, 10000.0).loc["2025-02-03":"2025-03-14"]
    check(growth, expected(growth_returns))
    assert growth["twr"] == pytest.approx(growth_values.loc["2025-03-14"] / growth_values.loc["2025-01-31"] - 1)
    steady_values = values(books.closes["BBB"], "2025-02-03", 4000.0, 20).loc[:"2025-03-14"]
    assert steady["twr"] == pytest.approx(steady_values.iloc[-1] / 5000.0 - 1.0, rel=1e-9)
    spy_closes = books.closes["SPY"]
    assert spy["twr"] == pytest.approx(spy_closes.loc["2025-03-14"] / spy_closes.loc["2025-01-31"] - 1.0, rel=1e-9)
    assert (growth["start"], growth["end"], spy["start"], spy["end"]) == ("2025-02-03", "2025-03-14") * 2

    served = books.client.get(
        f"/api/v1/portfolios/{books.growth}/returns", params={"start": "2025-02-03", "end": "2025-03-14"},
        headers=books.trader.headers,
    ).json()  # fmt: skip
    assert growth["twr"] == pytest.approx(served["twr"], rel=1e-9)


def test_the_csv_exports_carry_the_same_figures_and_curves(books: Books) -> None:
    params = {"portfolio_id": [books.growth, books.steady]}
    body = books.client.get("/api/v1/analytics/compare", params=params, headers=books.trader.headers).json()
    figures = books.client.get("/api/v1/analytics/compare.csv", params=params, headers=books.trader.headers)
    assert figures.status_code == 200, figures.text
    assert figures.headers["content-type"].startswith("text/csv")
    assert "portfolio-comparison-figures.csv" in figures.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(figures.text)))
    assert [r["series"] for r in rows] == ["Growth", "Steady", "SPY"]
    for row, served in zip(rows, body["series"], strict=True):
        for key in ("twr", "annual_volatility", "sharpe", "max_drawdown"):
            assert float(row[key]) == served[key], key
        assert row["twr_annualized"] == ""

    curves = books.client.get(
        "/api/v1/analytics/compare.csv", params={**params, "table": "curves"}, headers=books.trader.headers
    )
    lines = curves.text.splitlines()
    assert lines[0] == "date,Growth,Steady,SPY"
    first = lines[1].split(",")
    assert first[0] == "2025-01-02" and first[2] == ""  # Steady has not started
    assert float(first[1]) == pytest.approx(body["series"][0]["growth"][0]["value"])


def test_viewers_compare_too_and_the_benchmark_can_be_left_out(books: Books) -> None:
    # the viewer has no portfolio of its own: the trader's answer 404 for them, like missing ones
    refused = books.client.get(
        "/api/v1/analytics/compare", params={"portfolio_id": books.growth}, headers=books.viewer.headers
    )
    assert refused.status_code == 404
    alone = books.client.get(
        "/api/v1/analytics/compare", params={"portfolio_id": books.growth, "benchmark": "false", "curves": "false"},
        headers=books.trader.headers,
    ).json()  # fmt: skip
    assert [s["name"] for s in alone["series"]] == ["Growth"]
    assert alone["benchmark"] is None and alone["series"][0]["growth"] == []


@pytest.mark.parametrize(
    ("params", "status", "words"),
    [
        ({"portfolio_id": ["nope"]}, 404, "no portfolio 'nope'"),
        ({"portfolio_id": ["GROWTH", "GROWTH"]}, 422, "named twice"),
        ({"portfolio_id": ["GROWTH"], "start": "2025-03-01", "end": "2025-02-01"}, 422, "after it ends"),
        ({"portfolio_id": [f"p{i}" for i in range(11)]}, 422, ""),
        ({}, 422, ""),
    ],
)
def test_bad_requests_say_what_to_fix(books: Books, params: dict[str, object], status: int, words: str) -> None:
    ids = params.get("portfolio_id")
    if isinstance(ids, list):
        params = {**params, "portfolio_id": [books.growth if p == "GROWTH" else p for p in ids]}
    answer = books.client.get("/api/v1/analytics/compare", params=params, headers=books.trader.headers)
    assert answer.status_code == status, answer.text
    assert words in answer.text
