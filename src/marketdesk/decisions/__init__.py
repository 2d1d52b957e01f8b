"""The decision log (every verdict a user saves or acts on, and how it did against the benchmark) and the
historical verdict backtest (the screener run point-in-time over real history). See docs/decisions.md."""
