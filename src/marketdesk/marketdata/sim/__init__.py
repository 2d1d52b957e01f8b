"""The simulated market (`sim`): the embedded default data source, deterministic from a seed.

About 500 equities over the 11 GICS sectors, a few ETFs and a treasury ladder; daily prices from a factor model
with volatility regimes and gaps; quarterly fundamentals consistent with price; earnings with surprises;
dividends and splits; the treasury curve; and a live intraday ticker. It never pretends to be real data:
its capabilities say `simulated=True`, and every view of it should say SIMULATED.

>>> from datetime import UTC, datetime
>>> from marketdesk.clock import SimClock
>>> sim = SimMarketData(SimClock(datetime(2026, 1, 6, 15, tzinfo=UTC)), n_symbols=20, history_years=1)
>>> sim.quote(SIM_BENCHMARK).source
'sim'
"""

from marketdesk.marketdata.sim.adapter import SimMarketData
from marketdesk.marketdata.sim.live import LivePoint
from marketdesk.marketdata.sim.ticker import SimTicker
from marketdesk.marketdata.sim.universe import SIM_BENCHMARK

__all__ = ["SIM_BENCHMARK", "LivePoint", "SimMarketData", "SimTicker"]
