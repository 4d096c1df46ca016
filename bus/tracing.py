"""Trace context on the bus: W3C ``traceparent``/``tracestate`` in every message's headers.

FastStream's OpenTelemetry middleware does the messaging part: a publish opens a producer
span (a child of the current span) and writes its context into the message headers; a
consumer extracts it and processes the message in a consumer span, a child of the producer's.
What is ours is where the relay's current span comes from: the relay publishes an event long
after it was appended, so it continues the trace stored with the event
(`eventstore.StoredEvent.trace_context`).

Without a configured OpenTelemetry SDK every span is a no-op and no header is written.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping

from faststream.nats.opentelemetry import NatsTelemetryMiddleware
from opentelemetry import context
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

_PROPAGATOR = TraceContextTextMapPropagator()


def telemetry_middleware() -> NatsTelemetryMiddleware:
    """FastStream's middleware: producer and consumer spans, trace context in the headers."""
    return NatsTelemetryMiddleware(include_messages_counters=False)


@contextlib.contextmanager
def continued_trace(carrier: Mapping[str, str]) -> Iterator[None]:
    """Make the span of ``carrier`` (W3C headers) the current parent for the block.

    An empty carrier (an event appended without tracing) leaves the current context alone.
    """
    if not carrier:
        yield
        return
    token = context.attach(_PROPAGATOR.extract(carrier))
    try:
        yield
    finally:
        context.detach(token)
