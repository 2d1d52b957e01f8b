import numpy as np
import pytest

from marketdesk.errors import Rejected
from marketdesk.screener.dips import DipCause, classify, find_dips, suggested_play
from marketdesk.screener.model import Verdict

DAYS = 300


def path(peak_at: int, fall_pct: float) -> np.ndarray:
    """Rises to a peak at `peak_at`, then falls linearly by `fall_pct` to the last day."""
    up = np.linspace(80, 100, peak_at + 1)
    down = np.linspace(100, 100 * (1 - fall_pct / 100), DAYS - peak_at)[1:]
    return np.concatenate([up, down])


def universe(falls: dict[str, float], bench_fall: float) -> tuple[tuple[str, ...], np.ndarray, np.ndarray, np.ndarray]:
    symbols = tuple(falls)
    closes = np.column_stack([path(200, f) for f in falls.values()])
    return symbols, closes, path(200, bench_fall), np.array(["Tech", "Tech", "Tech", "Energy"], dtype=object)


def test_the_causes_follow_the_benchmark_and_the_sector() -> None:
    symbols, closes, bench, sector = universe({"A": 20, "B": 18, "C": 19, "D": 20}, bench_fall=2)
    dips = {d.symbol: d for d in find_dips(symbols, closes, closes, bench, sector, threshold_pct=10)}
    assert dips["A"].cause is DipCause.SECTOR  # Tech peers fell ~18.5% with it, the market 2%
    assert dips["D"].cause is DipCause.COMPANY  # alone in Energy
    assert dips["A"].fall_pct == pytest.approx(20.0)
    assert dips["A"].dip_pct == pytest.approx(20.0)
    market_symbols, market_closes, market_bench, market_sector = universe(
        {"A": 20, "B": 1, "C": 1, "D": 1}, bench_fall=15
    )
    market = find_dips(market_symbols, market_closes, market_closes, market_bench, market_sector, threshold_pct=5)
    assert [d.symbol for d in market] == ["A"]
    assert market[0].cause is DipCause.MARKET
    assert "benchmark is down 15.0%" in market[0].why


def test_only_names_beyond_the_threshold_are_listed_deepest_first() -> None:
    symbols, closes, bench, sector = universe({"A": 4, "B": 12, "C": 7, "D": 16}, bench_fall=0)
    found = find_dips(symbols, closes, closes, bench, sector, threshold_pct=5)
    assert [d.symbol for d in found] == ["D", "B", "C"]


def test_thresholds_outside_the_settings_are_refused_with_the_allowed_ones() -> None:
    symbols, closes, bench, sector = universe({"A": 4, "B": 12, "C": 7, "D": 16}, bench_fall=0)
    with pytest.raises(Rejected, match="5, 10, 15"):
        find_dips(symbols, closes, closes, bench, sector, threshold_pct=50)


def test_company_falls_with_unknown_market_say_so() -> None:
    cause, why = classify(20.0, None, None, None)
    assert cause is DipCause.COMPANY
    assert "unknown" in why
    assert classify(20.0, -3.0, 1.5, "Tech")[1] == (
        "Company-specific: it fell 20.0% while the market rose 3.0% and its sector fell 1.5%."
    )


@pytest.mark.parametrize("cause", list(DipCause))
def test_every_cause_and_verdict_has_a_play(cause: DipCause) -> None:
    plays = {suggested_play(cause, v) for v in Verdict}
    assert len(plays) == 2  # one for good names, one for the rest
    assert all(p.endswith(".") for p in plays)


def test_no_loaded_days_means_no_dips() -> None:
    empty = np.empty((0, 3))
    assert find_dips(("A", "B", "C"), empty, empty, np.empty(0), np.array(["X", "X", "Y"]), threshold_pct=5) == []
