"""Portfolios: holdings kept by hand (transactions, statement imports) or followed from a trading account's fills,
valued daily from price history, with FIFO cost basis, P&L, dividends, TWR and XIRR. See docs/portfolio.md."""
