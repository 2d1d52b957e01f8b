"""Prometheus metrics of the desk, served at /metrics."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

HTTP_REQUESTS = Counter(
    "marketdesk_http_requests_total", "HTTP requests served", ["method", "route", "status"], registry=REGISTRY
)
HTTP_LATENCY = Histogram(
    "marketdesk_http_request_seconds", "HTTP request latency", ["method", "route"], registry=REGISTRY
)
QUOTES_PUBLISHED = Counter("marketdesk_quotes_published_total", "Quotes published on the bus", registry=REGISTRY)
QUOTE_STREAM_ERRORS = Counter(
    "marketdesk_quote_stream_errors_total", "Times the live quote stream failed and restarted", registry=REGISTRY
)
WEBSOCKET_CLIENTS = Gauge("marketdesk_websocket_clients", "Open API WebSocket connections", registry=REGISTRY)
DATA_SOURCE_ERRORS = Counter(
    "marketdesk_data_source_errors_total", "Failed calls to market-data sources", ["source"], registry=REGISTRY
)
