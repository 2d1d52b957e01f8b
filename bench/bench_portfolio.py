"""Benchmark portfolio valuation. Prints {"bench": NAME, "value": X, "unit": U} lines.

- portfolio_valuation_s: 1,000 transactions across 100 symbols, valued daily over 10 years, best of 5. Inside
  the timing: the FIFO ledger replay (exact Decimal), the daily end-of-day series (every trading day of the 10
  years), the holdings at the last close, and total return, TWR and XIRR over the whole span. Outside: reading
  the prices. Goal < 1 s.
- portfolio_snapshots_sqlite_s: the same portfolio's daily snapshots recomputed and stored by the service on
  SQLite (read the transactions, value every day, replace the stored rows, commit), best of 3.

The prices are real: raw closes of the first 100 S&P 500 tickers (alphabetically) with the full 2011-04-21 to
2021-04-21 history, from `$MARKETDESK_SHARED_DATA` (else `<repo>/../shared/data`). The history is seeded: one
deposit, then buys and sells on random trading days at that day's close, the real splits of the held symbols
(so values stay true), and real dividends until there are 1,000 transactions. Without the data the prices are a
seeded random walk (said on stderr).

Run: .venv/bin/python bench/bench_portfolio.py
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import numpy as np

from benchkit import SP500_DAILY, emit, shared_data
from marketdesk.portfolio.ledger import Kind, Transaction, replay
from marketdesk.portfolio.performance import performance
from marketdesk.portfolio.valuation import PriceHistory, daily_series, value_holdings

TRANSACTIONS = 1_000
SYMBOLS = 100
START, END = date(2011, 4, 21), date(2021, 4, 21)
REPEATS = 5


def real_market() -> tuple[PriceHistory, dict[tuple[str, date], Decimal], dict[tuple[str, date], Decimal]] | None:
    """Raw closes, splits and dividends of 100 tickers over the 10 years; None without the data."""
    path = shared_data() / SP500_DAILY
    if not path.exists():
        return None
    import pyarrow.compute as pc
    import pyarrow.csv as pcsv

    text = {c: "string" for c in ("date", "ticker", "close", "dividend_amount", "split_coefficient")}
    table = pcsv.read_csv(path, convert_options=pcsv.ConvertOptions(include_columns=list(text), column_types=text))
    table = table.filter(pc.and_(pc.greater_equal(table["date"], str(START)), pc.less_equal(table["date"], str(END))))
    frame = table.to_pandas()
    counts = frame.groupby("ticker").size()
    full = sorted(counts[counts == counts.max()].index)[:SYMBOLS]
    frame = frame[frame["ticker"].isin(full)]
    wide = frame.pivot(index="date", columns="ticker", values="close").astype(float)
    history = PriceHistory(np.array(wide.index, dtype="datetime64[D]"), tuple(wide.columns), wide.to_numpy())
    splits = {(r.ticker, date.fromisoformat(r.date)): Decimal(r.split_coefficient)
              for r in frame[frame["split_coefficient"] != "1.0"].itertuples()}  # fmt: skip
    dividends = {(r.ticker, date.fromisoformat(r.date)): Decimal(r.dividend_amount)
                 for r in frame[frame["dividend_amount"] != "0.0"].itertuples()}  # fmt: skip
    return history, splits, dividends


def generated_market() -> PriceHistory:
    rng = np.random.default_rng(7)
    days = np.arange(np.datetime64(START), np.datetime64(END))
    days = days[np.is_busday(days)]
    closes = 50 * np.exp(np.cumsum(rng.normal(0.0003, 0.015, (len(days), SYMBOLS)), axis=0))
    return PriceHistory(days, tuple(f"S{i:03d}" for i in range(SYMBOLS)), np.round(closes, 2))


def seeded_history(
    prices: PriceHistory, splits: dict[tuple[str, date], Decimal], dividends: dict[tuple[str, date], Decimal]
) -> list[Transaction]:
    """1,000 transactions in order: a deposit, trades at the day's close, the held symbols' splits and dividends."""
    rng = np.random.default_rng(11)
    days = [d.astype(object) for d in prices.dates]
    trades = 900 if dividends else TRANSACTIONS - 1  # with real data, room for the splits and dividends
    trade_days = set(rng.choice(len(days), size=trades, replace=False).tolist())
    held: dict[str, Decimal] = {}
    out = [Transaction(days[0], Kind.DEPOSIT, amount=Decimal(1_000_000))]
    income: list[Transaction] = []
    for i, day in enumerate(days):
        for symbol in list(held):
            if (symbol, day) in splits:
                out.append(Transaction(day, Kind.SPLIT, symbol, ratio=splits[symbol, day]))
                held[symbol] *= splits[symbol, day]
            if (symbol, day) in dividends:
                income.append(Transaction(day, Kind.DIVIDEND, symbol, amount=held[symbol] * dividends[symbol, day]))
        if i not in trade_days:
            continue
        j = int(rng.integers(SYMBOLS))
        symbol, close = prices.symbols[j], prices.close[i, j]
        if not np.isfinite(close):
            continue
        price = Decimal(repr(float(close)))
        if symbol in held and rng.random() < 0.35:
            qty = (held[symbol] * Decimal(str(round(rng.uniform(0.2, 1.0), 2)))).quantize(Decimal("0.001"))
            out.append(Transaction(day, Kind.SELL, symbol, qty=qty, price=price, fee=Decimal("1")))
            held[symbol] -= qty
            if held[symbol] == 0:
                del held[symbol]
        else:
            qty = Decimal(int(rng.integers(1, 50)))
            out.append(Transaction(day, Kind.BUY, symbol, qty=qty, price=price, fee=Decimal("1")))
            held[symbol] = held.get(symbol, Decimal(0)) + qty
    room = TRANSACTIONS - len(out)
    chosen = sorted(rng.choice(len(income), size=min(room, len(income)), replace=False).tolist()) if room > 0 else []
    merged = sorted([*out, *(income[k] for k in chosen)], key=lambda t: (t.day, t.kind is not Kind.DEPOSIT))
    return merged[:TRANSACTIONS]


def value(history: Sequence[Transaction], prices: PriceHistory) -> float:
    ledger = replay(history)
    series = daily_series(history, ledger, prices, END)
    value_holdings(ledger, prices, END)
    result = performance(series, ledger)
    assert result.twr is not None, result.notes
    assert result.xirr is not None, result.notes
    return result.twr


def best_s(work: Callable[[], object], repeats: int) -> float:
    work()
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        timings.append(time.perf_counter() - started)
    return min(timings)


def statement(history: Sequence[Transaction]) -> str:
    """The history as a generic statement (a split's ratio in qty, cash in amount)."""
    lines = ["date,symbol,side,qty,price,fee,amount"]
    for t in history:
        qty = t.ratio if t.kind is Kind.SPLIT else t.qty
        cells = (t.day, t.symbol, t.kind.value, qty, t.price, t.fee if t.fee else None, t.amount)
        lines.append(",".join("" if c is None else str(c) for c in cells))
    return "\n".join(lines) + "\n"


async def snapshots_on_sqlite(history: Sequence[Transaction], prices: PriceHistory) -> float:
    from marketdesk.accounts.models import User
    from marketdesk.accounts.roles import CurrentUser, Role
    from marketdesk.clock import SimClock
    from marketdesk.db import Database, upgrade
    from marketdesk.portfolio.service import PortfolioService

    async def closes(symbols: Sequence[str], start: date, end: date) -> PriceHistory:
        return prices

    with tempfile.TemporaryDirectory(prefix="bench-portfolio-") as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        upgrade(url)
        database = Database(url)
        clock = SimClock(datetime(2021, 4, 22, 12, tzinfo=UTC))
        service = PortfolioService(clock, closes)
        user = CurrentUser("bench", "bench@example.com", Role.TRADER, "s")
        async with database.session() as session:
            now = clock.now()
            session.add(User(id="bench", email="bench@example.com", password_hash="!", role="trader",  # noqa: S106 - signs in never
                             created_at=now, password_changed_at=now))  # fmt: skip
            await session.flush()
            portfolio = await service.create(session, user, "Bench")
            report = await service.import_statement(session, user, portfolio.id, statement(history).encode())
            assert report.accepted == len(history), [r for r in report.rows if r.status != "accepted"][:3]
        timings = []
        for _ in range(3):
            started = time.perf_counter()
            async with database.session() as session:
                rebuilt = await service.rebuild_snapshots(session, user, portfolio.id)
            timings.append(time.perf_counter() - started)
        assert rebuilt.days == len(prices.dates), rebuilt
        await database.dispose()
    return min(timings)


def main() -> None:
    market = real_market()
    if market is None:
        print(f"real prices not found under {shared_data()}: using a seeded random walk", file=sys.stderr)
        prices, splits, dividends = generated_market(), {}, {}
    else:
        prices, splits, dividends = market
    history = seeded_history(prices, splits, dividends)
    assert len(history) == TRANSACTIONS, len(history)
    assert len({t.symbol for t in history if t.symbol}) >= SYMBOLS * 0.95
    emit("portfolio_valuation_s", best_s(lambda: value(history, prices), REPEATS), "s")
    emit("portfolio_snapshots_sqlite_s", asyncio.run(snapshots_on_sqlite(history, prices)), "s")


if __name__ == "__main__":
    main()
