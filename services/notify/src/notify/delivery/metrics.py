"""Delivery metrics for Prometheus (served at /metrics): sent, failed, dead, replayed, and latency."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

DELIVERIES = Counter(
    "lianxin_notify_deliveries_total", "Delivery attempts by outcome", ["channel", "outcome"]
)
DELIVERY_LATENCY = Histogram(
    "lianxin_notify_delivery_latency_seconds",
    "From the delivery's due time to the receiver's acceptance",
    ["channel"],
    buckets=(0.1, 0.5, 1, 2, 5, 15, 60, 300, 900, 3600, 14400, 86400),
)
ATTEMPT_SECONDS = Histogram("lianxin_notify_attempt_seconds", "Time one send attempt took", ["channel"])
