"""Broker adapters: the venues behind the `Broker` port (`marketdesk.trading.broker`).

- `alpaca`: Alpaca's Trading API v2 through alpaca-py, paper or live (`AlpacaBroker`, `alpaca_broker_from_vault`).

Each adapter keeps its vendor's wire format in its own module (`alpaca_schema`) and passes
tests/contract/broker_contract.py. Import the adapter module itself; this package imports no vendor library.
"""
