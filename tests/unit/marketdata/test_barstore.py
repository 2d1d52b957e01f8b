from datetime import date
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marketdesk.errors import Rejected
from marketdesk.marketdata.barstore import BUCKETS, BarStore, adjusted_ohlc, bucket_of
from marketdesk.marketdata.port import CorporateAction, CorporateActionKind, validate_bars


def long_frame(symbol: str, days: list[str], closes: list[float]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "symbol": symbol,
            "date": pd.to_datetime(days),
            "open": closes,
            "high": [c * 1.01 for c in closes],
            "low": [c * 0.99 for c in closes],
            "close": closes,
            "adj_close": [c * 0.5 for c in closes],
            "volume": [100.0] * len(closes),
        }
    )


def test_written_bars_read_back_as_a_sound_bar_frame(tmp_path: Path) -> None:
    store = BarStore(tmp_path)
    result = store.write(long_frame("AAA", ["2024-01-03", "2024-01-02"], [11.0, 10.0]))
    assert (result.inserted, result.updated, result.unchanged) == (2, 0, 0)
    bars = store.read("AAA")
    assert validate_bars(bars) == []
    assert list(bars["close"]) == [10.0, 11.0]
    assert list(bars.index.date) == [date(2024, 1, 2), date(2024, 1, 3)]
    assert store.read("AAA", start=date(2024, 1, 3))["close"].tolist() == [11.0]
    assert len(store.read("NOPE")) == 0


def test_reimport_is_idempotent_and_newer_values_win(tmp_path: Path) -> None:
    store = BarStore(tmp_path)
    frame = long_frame("AAA", ["2024-01-02", "2024-01-03"], [10.0, 11.0])
    store.write(frame)
    again = store.write(frame)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)
    changed = store.write(long_frame("AAA", ["2024-01-03", "2024-01-04"], [12.0, 13.0]))
    assert (changed.inserted, changed.updated, changed.unchanged) == (1, 1, 0)
    assert store.read("AAA")["close"].tolist() == [10.0, 12.0, 13.0]


def test_duplicate_rows_within_one_write_keep_the_last(tmp_path: Path) -> None:
    store = BarStore(tmp_path)
    store.write(long_frame("AAA", ["2024-01-02", "2024-01-02"], [10.0, 99.0]))
    assert store.read("AAA")["close"].tolist() == [99.0]


def test_frames_without_the_columns_are_refused(tmp_path: Path) -> None:
    with pytest.raises(Rejected, match="lacks columns"):
        BarStore(tmp_path).write(pd.DataFrame({"symbol": ["A"], "close": [1.0]}))


def test_a_failed_write_leaves_the_stored_file_intact(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = BarStore(tmp_path)
    store.write(long_frame("AAA", ["2024-01-02"], [10.0]))
    import pyarrow.parquet as pq

    def broken(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(pq, "write_table", broken)
    with pytest.raises(OSError, match="disk full"):
        store.write(long_frame("AAA", ["2024-01-03"], [11.0]))
    monkeypatch.undo()
    assert store.read("AAA")["close"].tolist() == [10.0]
    assert not list(tmp_path.rglob("*.tmp"))


def test_universe_matrix_aligns_dates_and_symbols(tmp_path: Path) -> None:
    store = BarStore(tmp_path)
    store.write(long_frame("BBB", ["2024-01-02", "2024-01-04"], [20.0, 21.0]))
    store.write(long_frame("AAA", ["2024-01-02", "2024-01-03"], [10.0, 11.0]))
    matrix = store.read_matrix(field="close")
    assert matrix.symbols == ("AAA", "BBB")
    assert matrix.dates.tolist() == [date(2024, 1, 2), date(2024, 1, 3), date(2024, 1, 4)]
    expected = np.array([[10.0, 20.0], [11.0, np.nan], [np.nan, 21.0]])
    np.testing.assert_array_equal(matrix.values, expected)
    only_b = store.read_matrix(["BBB"], field="close", start=date(2024, 1, 3))
    assert only_b.symbols == ("BBB",) and only_b.values.tolist() == [[21.0]]
    with pytest.raises(Rejected, match="unknown bar field"):
        store.read_matrix(field="price")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.dictionaries(
        st.text(alphabet="ABCDEFGHIJKLMNOP", min_size=1, max_size=4),
        st.lists(st.integers(min_value=0, max_value=400), min_size=1, max_size=20, unique=True),
        min_size=1,
        max_size=12,
    )
)
def test_matrix_matches_per_symbol_reads(tmp_path_factory: pytest.TempPathFactory, data: dict[str, list[int]]) -> None:
    store = BarStore(tmp_path_factory.mktemp("store"))
    for symbol, offsets in data.items():
        days = [str(pd.Timestamp("2020-01-01") + pd.Timedelta(days=o))[:10] for o in offsets]
        store.write(long_frame(symbol, days, [float(o + 1) for o in offsets]))
    matrix = store.read_matrix(field="close")
    assert matrix.symbols == tuple(sorted(data))
    for j, symbol in enumerate(matrix.symbols):
        single = store.read(symbol)
        column = pd.Series(matrix.values[:, j], index=pd.to_datetime(matrix.dates)).dropna()
        assert column.tolist() == single["close"].tolist()
        assert list(column.index) == list(single.index)


def test_corporate_actions_are_upserted_and_filtered(tmp_path: Path) -> None:
    store = BarStore(tmp_path)
    split = CorporateAction("AAA", date(2020, 8, 31), CorporateActionKind.SPLIT, Decimal("4"), "t")
    dividend = CorporateAction("AAA", date(2020, 8, 7), CorporateActionKind.DIVIDEND, Decimal("0.82"), "t")
    assert store.write_actions([split, dividend]) == 2
    assert store.write_actions([split]) == 0
    assert store.actions("AAA") == [dividend, split]
    assert store.actions("AAA", start=date(2020, 8, 10)) == [split]
    assert store.actions("BBB") == []


def test_coverage_and_symbols_and_delete(tmp_path: Path) -> None:
    store = BarStore(tmp_path)
    store.write(long_frame("AAA", ["2024-01-02", "2024-01-05"], [10.0, 11.0]))
    store.write(long_frame("BBB", ["2024-01-03"], [5.0]))
    assert store.symbols() == ["AAA", "BBB"]
    coverage = store.coverage("AAA")
    assert [(c.first, c.last, c.rows) for c in coverage] == [(date(2024, 1, 2), date(2024, 1, 5), 2)]
    assert store.delete_symbol("AAA") == 2
    assert store.symbols() == ["BBB"]


def test_adjusted_ohlc_scales_by_the_adjustment_factor() -> None:
    frame = long_frame("AAA", ["2024-01-02"], [10.0]).set_index("date").drop(columns="symbol")
    adjusted = adjusted_ohlc(frame)
    assert adjusted["close"].iloc[0] == 5.0 and adjusted["high"].iloc[0] == pytest.approx(5.05)


def test_buckets_are_stable_and_in_range() -> None:
    assert bucket_of("AAPL") == bucket_of("AAPL")
    assert all(0 <= bucket_of(s) < BUCKETS for s in ["A", "MSFT", "BRK.B", "^GSPC"])
