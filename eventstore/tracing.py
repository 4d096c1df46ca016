"""The trace context stored with each event: the W3C ``traceparent`` and ``tracestate``.

An append records the context of the span that is current when it is called (an activity's,
an API request's), so that whoever reads the event later, in another process (the relay),
can continue the same trace. Only the OpenTelemetry API is used: without a configured SDK
there is no valid span and nothing is stored.
"""

from __future__ import annotations

from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

TRACEPARENT = "traceparent"
TRACESTATE = "tracestate"

_PROPAGATOR = TraceContextTextMapPropagator()


def current_trace_context() -> tuple[str | None, str | None]:
    """``(traceparent, tracestate)`` of the current span; ``(None, None)`` without one."""
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    return carrier.get(TRACEPARENT), carrier.get(TRACESTATE) or None


def trace_carrier(traceparent: str | None, tracestate: str | None) -> dict[str, str]:
    """The stored values as W3C headers, leaving out what is missing."""
    carrier: dict[str, str] = {}
    if traceparent:
        carrier[TRACEPARENT] = traceparent
        if tracestate:
            carrier[TRACESTATE] = tracestate
    return carrier
