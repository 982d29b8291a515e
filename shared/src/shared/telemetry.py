"""Traces (OpenTelemetry, W3C context in HTTP and NATS headers), Prometheus metrics and JSON logs."""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Mapping
from typing import Any

from opentelemetry import context, propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from prometheus_client import Counter, Gauge, Histogram

HTTP_REQUESTS = Counter(
    "lianxin_http_requests_total", "HTTP requests", ["service", "method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "lianxin_http_request_seconds", "HTTP request latency", ["service", "method", "route"]
)
RELAY_PUBLISHED = Counter("lianxin_relay_published_total", "Integration events published", ["service"])
RELAY_LAG = Gauge("lianxin_relay_lag_events", "Stored events not yet published", ["service"])
CONSUMED = Counter("lianxin_consumer_messages_total", "Messages handled", ["service", "consumer", "outcome"])
DEAD_LETTERS = Counter("lianxin_dead_letters_total", "Messages dead-lettered", ["service", "consumer"])
DEADLINES_FIRED = Counter("lianxin_deadlines_fired_total", "Deadlines fired", ["service", "kind"])
PROJECTED = Counter(
    "lianxin_projection_events_total", "Events applied to read models", ["service", "projection"]
)
PROJECTION_PARKED = Counter(
    "lianxin_projection_parked_total",
    "Events a projection could not apply, parked",
    ["service", "projection"],
)

_configured = False


class JsonFormatter(logging.Formatter):
    """One JSON object per line with the trace id; callers never pass personal data in `extra`."""

    RESERVED = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        span = trace.get_current_span().get_span_context()
        payload: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "service": self.service,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if span.is_valid:
            payload["trace_id"] = format(span.trace_id, "032x")
            payload["span_id"] = format(span.span_id, "016x")
        for key, value in record.__dict__.items():
            if key not in self.RESERVED and not key.startswith("_"):
                payload[key] = value if isinstance(value, str | int | float | bool | None) else str(value)
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        return json.dumps(payload, ensure_ascii=False)


def configure(service: str, *, level: str = "INFO", otlp_endpoint: str | None = None) -> None:
    """Idempotent per process: logging to stdout as JSON, a tracer provider exporting over OTLP when set."""
    global _configured
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("uvicorn.access", "nats", "eventsourcing"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if _configured:
        return
    _configured = True
    provider = TracerProvider(resource=Resource.create({"service.name": f"lianxin-{service}"}))
    if otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(
            BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{otlp_endpoint}/v1/traces"))
        )
    trace.set_tracer_provider(provider)


_tracers: dict[str, tuple[trace.TracerProvider, trace.Tracer]] = {}


def tracer(name: str = "lianxin") -> trace.Tracer:
    """The provider's tracer of that name, made once per provider: the SDK builds a new Tracer (and its
    instrumentation scope) on every `get_tracer`, which every request and every consumed message asked for."""
    provider = trace.get_tracer_provider()
    kept = _tracers.get(name)
    if kept is not None and kept[0] is provider:
        return kept[1]
    made = provider.get_tracer(name)
    _tracers[name] = (provider, made)
    return made


def inject_headers(headers: dict[str, str]) -> dict[str, str]:
    propagate.inject(headers)
    return headers


def extract_context(headers: Mapping[str, str] | None) -> context.Context:
    return propagate.extract(dict(headers or {}))


def current_traceparent() -> str | None:
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier.get("traceparent")
