"""OpenTelemetry tracing, set up once per process from the standard ``OTEL_*`` variables.

One trace follows a request through every hop: the HTTP request (FastAPI instrumentation),
the Temporal client and the workflow and activities it reaches (`temporal_interceptors`),
the database (asyncpg instrumentation), the relay's publish to NATS and the subscribers'
processing (`bus.tracing`: W3C ``traceparent``/``tracestate`` headers, continued from the
context the event store keeps with every event).

Tracing is off unless configured: without ``OTEL_EXPORTER_OTLP_ENDPOINT``,
``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` or ``OTEL_TRACES_EXPORTER`` (or with
``OTEL_SDK_DISABLED=true``) no SDK, exporter or background thread is created and every span
is OpenTelemetry's no-op. The exporter reads the rest of its variables itself (headers,
timeouts, ``OTEL_SERVICE_NAME``, ``OTEL_RESOURCE_ATTRIBUTES``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import opentelemetry.context
import temporalio.client
import temporalio.worker
from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from temporalio.contrib.opentelemetry import TracingInterceptor, TracingWorkflowInboundInterceptor

from mentorflow.correlation import CorrelationInterceptor

EXPORTERS = ("otlp", "console", "none")
"""Values of ``OTEL_TRACES_EXPORTER`` this installation supports."""
OTLP_PROTOCOLS = ("http/protobuf",)
"""Values of ``OTEL_EXPORTER_OTLP_PROTOCOL`` (and ``…_TRACES_PROTOCOL``) it supports."""
UNTRACED_PATHS = "healthz,readyz,metrics"
"""Probes and scrapes: frequent and uninteresting, never traced."""

_provider: TracerProvider | None = None


class TelemetryConfigInvalid(ValueError):
    """The ``OTEL_*`` variables ask for something this installation cannot do.

    Attributes:
        problems: Every problem found.
    """

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def tracing_requested(environ: Mapping[str, str]) -> bool:
    """Whether ``environ`` configures a trace exporter (and does not disable the SDK)."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    exporter = environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if exporter:
        return exporter != "none"
    return bool(
        environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip()
        or environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "").strip()
    )


def span_exporter(environ: Mapping[str, str]) -> SpanExporter:
    """The exporter ``environ`` asks for (OTLP over HTTP unless ``OTEL_TRACES_EXPORTER`` says).

    Raises:
        TelemetryConfigInvalid: An exporter or protocol that is not installed, naming each.
    """
    problems: list[str] = []
    names = [
        name.strip().lower()
        for name in (environ.get("OTEL_TRACES_EXPORTER") or "otlp").split(",")
        if name.strip()
    ]
    if unknown := [name for name in names if name not in EXPORTERS]:
        problems.append(f"OTEL_TRACES_EXPORTER: unsupported {unknown}, use one of {EXPORTERS}")
    if len(names) > 1:
        problems.append("OTEL_TRACES_EXPORTER: name one exporter")
    for variable in ("OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"):
        protocol = environ.get(variable, "").strip().lower()
        if protocol and protocol not in OTLP_PROTOCOLS:
            problems.append(f"{variable}: unsupported {protocol!r}, use one of {OTLP_PROTOCOLS}")
    if problems:
        raise TelemetryConfigInvalid(problems)
    if names == ["console"]:
        return ConsoleSpanExporter()
    # Imported here: the exporter pulls in requests and protobuf, needed only when exporting.
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()  # endpoint, headers, timeout: from the OTEL_EXPORTER_OTLP_* vars


def tracer_provider(service_name: str, environ: Mapping[str, str]) -> TracerProvider:
    """An SDK provider named ``OTEL_SERVICE_NAME``, or ``service_name`` when that is unset."""
    name = environ.get("OTEL_SERVICE_NAME", "").strip() or service_name
    # Resource.create also reads OTEL_RESOURCE_ATTRIBUTES.
    return TracerProvider(resource=Resource.create({SERVICE_NAME: name}))


def configure_tracing(
    service_name: str, environ: Mapping[str, str] | None = None
) -> TracerProvider | None:
    """Set up tracing for this process as ``environ`` (the process's by default) says.

    Does nothing when tracing is not requested (`tracing_requested`) or was already set up.

    Args:
        service_name: ``service.name`` unless ``OTEL_SERVICE_NAME`` is set, e.g.
            ``mentorflow-worker``.
        environ: The variables to read.

    Returns:
        The provider installed, or None.

    Raises:
        TelemetryConfigInvalid: The variables ask for an exporter that is not installed.
    """
    environ = os.environ if environ is None else environ
    if not tracing_requested(environ) or _provider is not None:
        return None
    exporter = span_exporter(environ)
    provider = tracer_provider(service_name, environ)
    return install_tracing(provider, BatchSpanProcessor(exporter))


def install_tracing(provider: TracerProvider, processor: SpanProcessor) -> TracerProvider:
    """Make ``provider`` (with ``processor``) the process's, and instrument asyncpg.

    OpenTelemetry takes a global provider once per process; a second call returns the first
    provider, with ``processor`` added to it (tests add their in-memory exporter so).
    """
    global _provider
    if _provider is None:
        _provider = provider
        trace.set_tracer_provider(provider)
        AsyncPGInstrumentor().instrument(tracer_provider=provider)  # type: ignore[no-untyped-call]
    _provider.add_span_processor(processor)
    return _provider


def shutdown_tracing() -> None:
    """Export what is buffered and stop the exporter (before the process exits)."""
    if _provider is not None:
        _provider.shutdown()


def instrument_api(app: FastAPI) -> None:
    """Trace every request of ``app`` but the probes (the global provider: a no-op when off)."""
    FastAPIInstrumentor.instrument_app(app, excluded_urls=UNTRACED_PATHS)


def temporal_interceptors() -> list[temporalio.client.Interceptor]:
    """The interceptors of every Temporal client (its workers inherit them): the trace, and
    the correlation and causation ids (`mentorflow.correlation`)."""
    return [UpdateTracingInterceptor(), CorrelationInterceptor()]


class UpdateTracingInterceptor(TracingInterceptor):
    """temporalio's `TracingInterceptor`, with update handlers in the update caller's trace.

    The stock interceptor runs an update handler in the context of the workflow's start and
    only links the caller's span, so what a request changes (the activities the handler
    starts, the events they append) lands in the trace of whoever started the workflow,
    possibly weeks earlier. Here the handler runs in the caller's context, as temporalio's
    newer ``OpenTelemetryPlugin`` does. Replay-safe as the stock one: spans are created only
    when not replaying, and headers do not take part in the determinism check.
    """

    def workflow_interceptor_class(
        self, input: temporalio.worker.WorkflowInterceptorClassInput
    ) -> type[TracingWorkflowInboundInterceptor]:
        """The stock workflow interceptor's externs, with `_UpdateTracingWorkflowInterceptor`."""
        super().workflow_interceptor_class(input)
        return _UpdateTracingWorkflowInterceptor


class _UpdateTracingWorkflowInterceptor(TracingWorkflowInboundInterceptor):
    async def handle_update_handler(self, input: temporalio.worker.HandleUpdateInput) -> Any:
        header = input.headers.get(self.header_key)
        if not header:
            return await super().handle_update_handler(input)
        carrier = self.payload_converter.from_payloads([header])[0]
        context = self._set_on_context(self.text_map_propagator.extract(carrier))
        token = opentelemetry.context.attach(context)
        try:
            self._completed_span(f"HandleUpdate:{input.update}", kind=trace.SpanKind.SERVER)
            # The next interceptor itself: the stock method would switch back to the start's.
            return await self.next.handle_update_handler(input)
        finally:
            opentelemetry.context.detach(token)
