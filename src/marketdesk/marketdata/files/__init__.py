"""Import of price and fundamentals files (CSV, CSV.gz, Parquet), and the `files` MarketData source.

- `import_prices(paths, store, options)` detects each file's layout (long with a ticker column, one ticker
  per file, Stooq, Yahoo), checks every row, and writes bars and corporate actions to the bar store.
- `import_fundamentals(paths, repository, options, now=…)` reads snapshots, 10-K filings, ETF and
  constituents lists and earnings dates into the market-data tables.
- `FilesMarketData(store)` serves the imported bars as a MarketData source.

Both imports return an `ImportReport`: per file the layout seen, the rows accepted and rejected with
reasons, and what changed in the store. Re-importing a file changes nothing.
"""

from marketdesk.marketdata.files.adapter import FilesMarketData
from marketdesk.marketdata.files.fundamental_layouts import FUNDAMENTALS_MAP_FIELDS
from marketdesk.marketdata.files.fundamentals import import_fundamentals
from marketdesk.marketdata.files.layouts import PRICE_FIELDS
from marketdesk.marketdata.files.options import FileError, ImportOptions
from marketdesk.marketdata.files.prices import import_prices
from marketdesk.marketdata.files.report import FileReport, ImportReport, RejectedRow

__all__ = [
    "FUNDAMENTALS_MAP_FIELDS",
    "PRICE_FIELDS",
    "FileError",
    "FileReport",
    "FilesMarketData",
    "ImportOptions",
    "ImportReport",
    "RejectedRow",
    "import_fundamentals",
    "import_prices",
]
