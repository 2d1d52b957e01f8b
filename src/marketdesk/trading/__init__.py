"""Trading: orders, the risk engine, day-trading compliance, brokers and positions."""
