"""Invariants of the price import over generated files: every row is accounted for, only sound bars are
stored, and a second import changes nothing."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from marketdesk.marketdata.barstore import BarStore
from marketdesk.marketdata.files import import_prices
from marketdesk.marketdata.port import validate_bars

price = st.one_of(st.floats(min_value=-5, max_value=500, allow_nan=False), st.just(float("nan")))
row = st.tuples(
    st.integers(min_value=0, max_value=40),  # day offset: repeats make duplicates
    st.sampled_from(["AAA", "BBB", "", "cc"]),
    price,
    price,
    price,
    price,
    st.integers(min_value=-10, max_value=10_000),
)


def _cell(value: float) -> str:
    return "" if np.isnan(value) else repr(value)


@settings(max_examples=40, deadline=None)
@given(st.lists(row, min_size=1, max_size=60))
def test_every_row_is_accepted_or_rejected_and_only_sound_bars_are_stored(
    rows: list[tuple[int, str, float, float, float, float, int]],
) -> None:
    lines = ["date,ticker,open,high,low,close,volume"]
    for offset, ticker, o, h, low, c, volume in rows:
        day = np.datetime64("2020-01-01") + np.timedelta64(offset, "D")
        lines.append(f"{day},{ticker},{_cell(o)},{_cell(h)},{_cell(low)},{_cell(c)},{volume}")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "generated.csv"
        path.write_text("\n".join(lines) + "\n")
        store = BarStore(Path(folder) / "bars")
        report = import_prices([path], store)
        assert report.ok
        assert report.rows_read == len(rows)
        assert report.rows_accepted + report.rows_rejected == report.rows_read
        assert sum(report.rejections.values()) == report.rows_rejected
        stored = sum(c.rows for c in store.coverage())
        assert stored == report.rows_accepted == report.inserted
        for symbol in store.symbols():
            assert validate_bars(store.read(symbol)) == []
            bars = store.read(symbol)
            assert ((bars["open"] >= bars["low"]) & (bars["open"] <= bars["high"])).all()
            assert ((bars["close"] >= bars["low"]) & (bars["close"] <= bars["high"])).all()
        again = import_prices([path], store)
        assert (again.inserted, again.updated, again.unchanged) == (0, 0, report.rows_accepted)
