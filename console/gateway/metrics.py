"""The gateway's Prometheus metrics (`/metrics`): requests, tool calls, refusals and latency, in a registry of the
gateway's own (two gateways in one process, as in tests, do not share counters)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

__all__ = ["CONTENT_TYPE_LATEST", "GatewayMetrics"]

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class GatewayMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("gateway_http_requests", "HTTP requests to the MCP endpoints, by HTTP status",
                                ["status"], registry=self.registry)
        self.refusals = Counter("gateway_refusals", "Requests refused before any tool ran, by error code",
                                ["code"], registry=self.registry)
        self.calls = Counter("gateway_tool_calls", "Tool calls, by group, tool and outcome (ok, pending or an error "
                             "code)", ["group", "tool", "outcome"], registry=self.registry)
        self.latency = Histogram("gateway_tool_call_seconds", "Time to answer a tool call, by group and tool",
                                 ["group", "tool"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.in_flight = Gauge("gateway_tool_calls_in_flight", "Tool calls being answered now", registry=self.registry)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
