"""The simulated universe: equities over the 11 GICS sectors, a few ETFs and a treasury ladder, all from a seed.

Every instrument is a column of the same factor model (see `prices.py`): `loadings[k, i]` is how much of
factor `k` instrument `i` carries. Equities load on the market and on their own sector; ETFs on the market
and a blend of sectors, or on bond-price factors; treasuries on their own tenor's bond-price factor only.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from marketdesk.marketdata.port import GICS_SECTORS, TREASURY_TENORS, AssetClass, SymbolInfo
from marketdesk.marketdata.sim.names import ETF_SPECS, SECTOR_PROFILES, company_names
from marketdesk.marketdata.sim.rates import TENOR_YEARS, treasury_coupon_pct
from marketdesk.marketdata.sim.streams import Stream, rng

SIM_BENCHMARK = "SIMX"
"""The broad-market ETF of the simulated market: the benchmark for betas and relative performance."""

KIND_EQUITY, KIND_ETF, KIND_BOND = 0, 1, 2
FACTOR_MARKET = 0
FACTOR_SECTOR0 = 1  # sector k is factor FACTOR_SECTOR0 + k
FACTOR_BOND0 = FACTOR_SECTOR0 + len(GICS_SECTORS)  # treasury tenor j is factor FACTOR_BOND0 + j
N_FACTORS = FACTOR_BOND0 + len(TREASURY_TENORS)


@dataclass(frozen=True)
class CompanyProfile:
    """Per-equity constants that shape the quarterly statements (arrays over the whole universe; 0 elsewhere)."""

    price_to_sales: np.ndarray
    gross_margin: np.ndarray
    operating_margin: np.ndarray
    depreciation: np.ndarray  # D&A / revenue
    capex: np.ndarray  # capex / revenue
    price_to_book: np.ndarray
    debt_to_equity: np.ndarray
    credit_spread_pct: np.ndarray
    cash_to_revenue: np.ndarray  # cash / annual revenue
    other_liabilities: np.ndarray  # non-debt liabilities / annual revenue
    receivables: np.ndarray  # non-cash current assets / annual revenue
    current_liabilities: np.ndarray  # / annual revenue
    negative_equity: np.ndarray  # > 0: equity is minus this many years of revenue
    buyback_rate: np.ndarray  # yearly log shrinkage of the share count


@dataclass(frozen=True)
class Universe:
    """Every simulated instrument and the constants of its price process, as arrays indexed like `symbols`."""

    infos: tuple[SymbolInfo, ...]
    kind: np.ndarray  # KIND_*
    sector: np.ndarray  # index into GICS_SECTORS, -1 for none
    loadings: np.ndarray  # (N_FACTORS, n)
    idio_vol: np.ndarray  # annualized idiosyncratic volatility
    drift: np.ndarray  # annual log drift of the total return
    dividend_yield: np.ndarray  # annual, a fraction; 0 for non-payers
    gap_prob: np.ndarray  # daily probability of an overnight jump
    gap_size: np.ndarray  # standard deviation of such a jump (log)
    initial_price: np.ndarray  # raw price at the epoch
    initial_shares: np.ndarray  # shares outstanding at the epoch
    split_above: np.ndarray  # raw price that triggers a forward split; inf where splits never happen
    reports_earnings: np.ndarray  # bool
    earnings_lag_days: np.ndarray  # days from quarter end to the report
    exdiv_offset_days: np.ndarray  # days from quarter start to the ex-dividend date
    reaction_to_surprise: np.ndarray  # earnings-day log return per unit of surprise
    spread_bps: np.ndarray  # quoted bid-ask spread
    turnover: np.ndarray  # daily volume / shares outstanding
    company: CompanyProfile

    @property
    def symbols(self) -> tuple[str, ...]:
        return tuple(info.symbol for info in self.infos)

    @property
    def size(self) -> int:
        return len(self.infos)

    @cached_property
    def position(self) -> dict[str, int]:
        """Column of each symbol."""
        return {info.symbol: i for i, info in enumerate(self.infos)}

    @cached_property
    def equities(self) -> np.ndarray:
        return np.flatnonzero(self.kind == KIND_EQUITY)


def build_universe(seed: int, n_symbols: int = 500) -> Universe:
    """Draw a universe of `n_symbols` equities plus the ETFs and the treasury ladder; same seed, same universe."""
    if n_symbols < len(GICS_SECTORS):
        raise ValueError(f"n_symbols must be at least {len(GICS_SECTORS)} (one per sector), got {n_symbols}")
    g = rng(seed, Stream.UNIVERSE)
    weights = np.array([p.weight for p in SECTOR_PROFILES])
    counts = _apportion(weights, n_symbols)
    sector = np.repeat(np.arange(len(GICS_SECTORS)), counts)
    n_etf, n_bond = len(ETF_SPECS), len(TREASURY_TENORS)
    n = n_symbols + n_etf + n_bond
    eq = slice(0, n_symbols)
    etf = slice(n_symbols, n_symbols + n_etf)
    bond = slice(n_symbols + n_etf, n)

    kind = np.full(n, KIND_EQUITY, dtype=np.int8)
    kind[etf], kind[bond] = KIND_ETF, KIND_BOND
    sector_all = np.full(n, -1, dtype=np.int16)
    sector_all[eq] = sector

    def by_sector(attribute: str) -> np.ndarray:
        return np.array([getattr(SECTOR_PROFILES[s], attribute) for s in sector], dtype=float)

    loadings = np.zeros((N_FACTORS, n))
    beta = np.clip(by_sector("beta") + g.normal(0.0, 0.22, n_symbols), 0.3, 2.2)
    loadings[FACTOR_MARKET, eq] = beta
    loadings[FACTOR_SECTOR0 + sector, np.arange(n_symbols)] = g.uniform(0.7, 1.25, n_symbols)

    idio_vol = np.zeros(n)
    idio_vol[eq] = np.clip(0.9 * by_sector("idio_vol") * np.exp(g.normal(0.0, 0.3, n_symbols)), 0.08, 0.7)
    payer = g.random(n_symbols) < by_sector("payer_share")
    dividend_yield = np.zeros(n)
    dividend_yield[eq] = np.where(payer, by_sector("dividend_yield") * np.exp(g.normal(0.0, 0.35, n_symbols)), 0.0)
    drift = np.zeros(n)
    drift[eq] = dividend_yield[eq] + g.normal(-0.015, 0.02, n_symbols)

    gap_prob = np.zeros(n)
    gap_prob[eq] = g.uniform(0.001, 0.004, n_symbols)
    gap_size = np.zeros(n)
    gap_size[eq] = g.uniform(0.03, 0.07, n_symbols)

    initial_price = np.empty(n)
    initial_price[eq] = np.exp(g.normal(np.log(35.0), 0.75, n_symbols)).clip(4.0, 400.0)
    market_cap = np.exp(g.normal(np.log(8e9), 0.8, n_symbols)).clip(8e8, 2.5e11)
    initial_shares = np.empty(n)
    initial_shares[eq] = market_cap / initial_price[eq]

    split_above = np.full(n, np.inf)
    split_above[eq] = g.uniform(250.0, 600.0, n_symbols)
    reports = np.zeros(n, dtype=bool)
    reports[eq] = True
    lag = np.zeros(n)
    lag[eq] = g.uniform(20.0, 42.0, n_symbols)
    exdiv = g.uniform(12.0, 58.0, n)
    reaction = np.zeros(n)
    reaction[eq] = g.uniform(0.15, 0.35, n_symbols)
    spread = np.empty(n)
    spread[eq] = np.clip(40.0 / np.sqrt(market_cap / 1e9), 1.0, 40.0)
    turnover = np.empty(n)
    turnover[eq] = np.exp(g.normal(np.log(0.008), 0.4, n_symbols))

    company = _company_profiles(g, sector, n, n_symbols)
    names, industries, tickers = company_names(g, sector, reserved={spec.symbol for spec in ETF_SPECS})
    exchanges = np.where(g.random(n_symbols) < 0.55, "XNYS", "XNAS")
    infos: list[SymbolInfo] = [
        SymbolInfo(
            symbol=tickers[i],
            name=names[i],
            asset_class=AssetClass.EQUITY,
            exchange=str(exchanges[i]),
            sector=GICS_SECTORS[sector[i]],
            industry=industries[i],
        )
        for i in range(n_symbols)
    ]

    for j, spec in enumerate(ETF_SPECS):
        col = n_symbols + j
        infos.append(
            SymbolInfo(
                symbol=spec.symbol,
                name=spec.name,
                asset_class=AssetClass.ETF,
                exchange="ARCX",
                sector=spec.sector,
                industry=spec.category,
                expense_ratio_pct=spec.expense_ratio_pct,
            )
        )
        loadings[FACTOR_MARKET, col] = spec.beta
        for sector_name, weight in spec.sector_weights:
            loadings[FACTOR_SECTOR0 + GICS_SECTORS.index(sector_name), col] = weight
        for tenor, weight in spec.tenor_weights:
            loadings[FACTOR_BOND0 + TREASURY_TENORS.index(tenor), col] = weight
        idio_vol[col] = spec.tracking_vol
        dividend_yield[col] = spec.dividend_yield
        drift[col] = spec.dividend_yield - spec.expense_ratio_pct / 100.0
        initial_price[col] = spec.initial_price
        initial_shares[col] = spec.initial_assets_usd / spec.initial_price
        spread[col] = 1.0
        turnover[col] = 0.02

    for j, tenor in enumerate(TREASURY_TENORS):
        col = n_symbols + n_etf + j
        years = TENOR_YEARS[j]
        label = f"{tenor[:-1]}-{'Month' if tenor.endswith('m') else 'Year'}"
        infos.append(
            SymbolInfo(
                symbol=f"UST{tenor.upper()}",
                name=f"Simulated US Treasury {label}",
                asset_class=AssetClass.BOND,
                sector=None,
                industry="Government Bonds",
                maturity_years=round(years, 4),
                coupon_pct=treasury_coupon_pct(j),
                credit_rating="AAA",
            )
        )
        loadings[FACTOR_BOND0 + j, col] = 1.0
        initial_price[col] = 100.0  # replaced by the curve's price at the epoch (see prices.py)
        initial_shares[col] = 5e8
        spread[col] = 0.5
        turnover[col] = 0.01

    return Universe(
        infos=tuple(infos),
        kind=kind,
        sector=sector_all,
        loadings=loadings,
        idio_vol=idio_vol,
        drift=drift,
        dividend_yield=dividend_yield,
        gap_prob=gap_prob,
        gap_size=gap_size,
        initial_price=initial_price,
        initial_shares=initial_shares,
        split_above=split_above,
        reports_earnings=reports,
        earnings_lag_days=lag,
        exdiv_offset_days=exdiv,
        reaction_to_surprise=reaction,
        spread_bps=spread,
        turnover=turnover,
        company=company,
    )


def exposure(factor_values: np.ndarray, loadings: np.ndarray) -> np.ndarray:
    """(rows × factors) times (factors × instruments), summed in a fixed order so every machine agrees."""
    return np.einsum("tk,kn->tn", factor_values, loadings)


def _apportion(weights: np.ndarray, total: int) -> np.ndarray:
    """Split `total` in proportion to `weights` (largest remainder), at least one each."""
    share = weights / weights.sum() * (total - len(weights))
    counts = np.floor(share).astype(int) + 1
    remainder = total - counts.sum()
    order = np.argsort(-(share - np.floor(share)), kind="stable")
    counts[order[:remainder]] += 1
    return counts


def _company_profiles(g: np.random.Generator, sector: np.ndarray, n: int, n_symbols: int) -> CompanyProfile:
    def by_sector(attribute: str) -> np.ndarray:
        return np.array([getattr(SECTOR_PROFILES[s], attribute) for s in sector], dtype=float)

    def spread(center: np.ndarray, sigma: float) -> np.ndarray:
        return center * np.exp(g.normal(0.0, sigma, n_symbols))

    loser = g.random(n_symbols) < by_sector("loss_share")
    levered = g.random(n_symbols) < 0.06
    negative = (g.random(n_symbols) < 0.025) & ~loser
    heavy_capex = g.random(n_symbols) < 0.06

    price_to_sales = 0.9 * spread(by_sector("price_to_sales"), 0.35) * np.where(loser, 1.8, 1.0)
    gross_margin = np.clip(by_sector("gross_margin") + g.normal(0.0, 0.07, n_symbols), 0.08, 0.95)
    operating_margin = np.where(
        loser,
        g.uniform(-0.35, -0.04, n_symbols),
        np.clip(by_sector("operating_margin") + g.normal(0.0, 0.05, n_symbols), 0.02, 0.55),
    )
    operating_margin = np.minimum(operating_margin, gross_margin - 0.03)
    capex = spread(by_sector("capex"), 0.3) * np.where(heavy_capex, 3.0, 1.0)
    debt_to_equity = spread(by_sector("debt_to_equity"), 0.5) * np.where(levered, 4.0, 1.0)

    def full(values: np.ndarray) -> np.ndarray:
        out = np.zeros(n)
        out[:n_symbols] = values
        return out

    return CompanyProfile(
        price_to_sales=full(price_to_sales),
        gross_margin=full(gross_margin),
        operating_margin=full(operating_margin),
        depreciation=full(spread(by_sector("depreciation"), 0.25)),
        capex=full(capex),
        price_to_book=full(spread(by_sector("price_to_book"), 0.35)),
        debt_to_equity=full(debt_to_equity),
        credit_spread_pct=full(
            np.where(levered | loser, g.uniform(2.5, 6.0, n_symbols), g.uniform(0.6, 2.2, n_symbols))
        ),
        cash_to_revenue=full(g.uniform(0.04, 0.35, n_symbols)),
        other_liabilities=full(g.uniform(0.15, 0.5, n_symbols)),
        receivables=full(g.uniform(0.12, 0.35, n_symbols)),
        current_liabilities=full(g.uniform(0.1, 0.3, n_symbols)),
        negative_equity=full(np.where(negative, g.uniform(0.05, 0.4, n_symbols), 0.0)),
        buyback_rate=full(g.normal(0.008, 0.015, n_symbols)),
    )
