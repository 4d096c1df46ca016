"""An in-memory span exporter on the process's tracer provider.

OpenTelemetry takes a global provider once per process: the first user installs it
(`mentorflow.telemetry.install_tracing`), later ones add their processor to it. Each test
gets the exporter emptied.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from mentorflow.telemetry import install_tracing


@pytest.fixture(scope="session")
def session_spans() -> InMemorySpanExporter:
    """The session's exporter, installed once."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: "mentorflow-tests"}))
    install_tracing(provider, SimpleSpanProcessor(exporter))
    return exporter


@pytest.fixture
def spans(session_spans: InMemorySpanExporter) -> Iterator[InMemorySpanExporter]:
    """The exporter, empty at the start of the test and emptied after it."""
    session_spans.clear()
    yield session_spans
    session_spans.clear()
