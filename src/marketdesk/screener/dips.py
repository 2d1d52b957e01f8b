"""The dip monitor's engine: who is down from the 52-week high, why, and what one might do. Pure.

A dip's cause compares the symbol's fall since its 52-week high with the benchmark's and its sector's
(median) over the same window:
- market-wide: the benchmark fell at least `MARKET_SHARE` as much as the symbol;
- sector: not market-wide, and the sector median fell at least `SECTOR_SHARE` as much;
- company: otherwise — the fall is the company's own.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from marketdesk.errors import Rejected
from marketdesk.screener.model import Verdict

ALLOWED_THRESHOLDS_PCT = (5.0, 10.0, 15.0)
MARKET_SHARE = 0.6
SECTOR_SHARE = 0.6
YEAR = 252


class DipCause(StrEnum):
    MARKET = "market-wide"
    SECTOR = "sector"
    COMPANY = "company"


@dataclass(frozen=True, slots=True)
class Dip:
    symbol: str
    dip_pct: float
    high_date_index: int
    fall_pct: float  # the symbol's fall from its high to now (positive)
    benchmark_fall_pct: float | None
    sector_fall_pct: float | None
    cause: DipCause
    why: str


def check_threshold(threshold_pct: float) -> float:
    """Refuse thresholds other than the monitor's settings, naming the allowed ones."""
    if threshold_pct not in ALLOWED_THRESHOLDS_PCT:
        allowed = ", ".join(f"{t:g}" for t in ALLOWED_THRESHOLDS_PCT)
        raise Rejected(f"dip threshold {threshold_pct:g}% is not offered", hint=f"Use one of {allowed} (percent).")
    return threshold_pct


def _fall_pct(series: np.ndarray, start: int) -> float | None:
    window = series[start:]
    valid = window[np.isfinite(window)]
    if len(valid) < 2 or valid[0] <= 0:
        return None
    return float((1 - valid[-1] / valid[0]) * 100)


def find_dips(
    symbols: tuple[str, ...],
    adj_close: np.ndarray,
    adj_high: np.ndarray,
    benchmark: np.ndarray,
    sector: np.ndarray,
    *,
    threshold_pct: float,
) -> list[Dip]:
    """Every symbol at least `threshold_pct` below its 52-week high, with the cause of its fall."""
    check_threshold(threshold_pct)
    if adj_high.shape[0] == 0 or adj_high.shape[1] == 0:
        return []  # no days (or no symbols) loaded: nothing can be below its high
    highs = adj_high[-YEAR:]
    closes = adj_close[-YEAR:]
    bench = benchmark[-YEAR:]
    offset = max(0, len(adj_close) - YEAR)
    with np.errstate(invalid="ignore", divide="ignore"):
        filled = np.where(np.isfinite(highs), highs, -np.inf)
        high_index = np.argmax(filled, axis=0)
        peak = filled[high_index, np.arange(highs.shape[1])]
        last = _last_valid(closes)
        dip = (1 - last / peak) * 100
    out: list[Dip] = []
    for j in np.flatnonzero(np.isfinite(dip) & (dip >= threshold_pct)):
        start = int(high_index[j])
        own = _fall_pct(closes[:, j], start)
        if own is None or own <= 0:
            continue
        bench_fall = _fall_pct(bench, start) if len(bench) else None
        with np.errstate(invalid="ignore", divide="ignore"):
            falls = (1 - last / closes[start]) * 100  # every symbol's fall over the same days
        peers = (sector == sector[j]) & (np.arange(len(symbols)) != j) & np.isfinite(falls)
        sector_fall = float(np.median(falls[peers])) if sector[j] is not None and peers.any() else None
        cause, why = classify(own, bench_fall, sector_fall, sector[j])
        out.append(Dip(symbols[j], float(dip[j]), start + offset, own, bench_fall, sector_fall, cause, why))
    return sorted(out, key=lambda d: -d.dip_pct)


def classify(
    own: float, benchmark: float | None, sector: float | None, sector_name: str | None
) -> tuple[DipCause, str]:
    """The cause of a fall, and a sentence saying why."""
    if benchmark is not None and benchmark >= MARKET_SHARE * own:
        return DipCause.MARKET, f"The whole market fell too: the benchmark is down {benchmark:.1f}% over the same days."
    if sector is not None and sector >= SECTOR_SHARE * own:
        return DipCause.SECTOR, f"Its sector fell with it: the median {sector_name or 'peer'} is down {sector:.1f}%."
    market = f"the market {_moved(benchmark)}" if benchmark is not None else "the market's move is unknown"
    peers = f"its sector {_moved(sector)}" if sector is not None else "its sector's move is unknown"
    return DipCause.COMPANY, f"Company-specific: it fell {own:.1f}% while {market} and {peers}."


def _moved(fall_pct: float) -> str:
    return f"fell {fall_pct:.1f}%" if fall_pct > 0 else f"rose {-fall_pct:.1f}%"


def suggested_play(cause: DipCause, verdict: Verdict) -> str:
    """A plain suggestion for a dip of a given cause on a name of a given verdict."""
    good = verdict in {Verdict.STRONG_BUY, Verdict.BUY}
    if cause is DipCause.MARKET:
        return (
            "Buy in tranches: a quality name marked down with the market."
            if good
            else "Watch: the market dragged it, but the case is not strong."
        )
    if cause is DipCause.SECTOR:
        return "Starter position; add when the sector steadies." if good else "Wait for the sector to turn."
    return (
        "Check the news before buying; keep it small until the cause is clear."
        if good
        else "Avoid until the company's problem is understood."
    )


def _last_valid(matrix: np.ndarray) -> np.ndarray:
    valid = np.isfinite(matrix)
    rows = np.where(valid.any(axis=0), matrix.shape[0] - 1 - np.argmax(valid[::-1], axis=0), 0)
    values = matrix[rows, np.arange(matrix.shape[1])]
    return np.where(valid.any(axis=0), values, np.nan)
