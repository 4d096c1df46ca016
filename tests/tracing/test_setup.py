"""Tracing is off unless the OTEL_* variables ask for it; log lines carry the trace."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys

import pytest
import structlog
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace.export import ConsoleSpanExporter
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from mentorflow.logging import configure_logging
from mentorflow.settings import LogFormat
from mentorflow.telemetry import TelemetryConfigInvalid, span_exporter, tracing_requested

# In a fresh interpreter: this one may already have the tests' provider.
UNCONFIGURED_PROCESS = """
import threading
from opentelemetry import trace
import mentorflow.telemetry as telemetry

def no_exporter(environ):
    raise AssertionError("an exporter was created")

telemetry.span_exporter = no_exporter
threads = threading.active_count()
assert telemetry.configure_tracing("mentorflow-test") is None
with trace.get_tracer("test").start_as_current_span("work") as span:
    recorded = span.is_recording()
print(type(trace.get_tracer_provider()).__name__, recorded, threading.active_count() - threads)
"""


def test_without_otel_variables_nothing_is_set_up_or_exported() -> None:
    environment = {name: value for name, value in os.environ.items() if "OTEL" not in name}
    result = subprocess.run(
        [sys.executable, "-c", UNCONFIGURED_PROCESS],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    # OpenTelemetry's no-op: no SDK provider, spans not recorded, no exporter thread.
    assert result.stdout.split() == ["ProxyTracerProvider", "False", "0"]


@pytest.mark.parametrize(
    ("environ", "requested"),
    [
        ({}, False),
        ({"OTEL_SERVICE_NAME": "mentorflow-api"}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, True),
        ({"OTEL_TRACES_EXPORTER": "console"}, True),
        ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, False),
        ({"OTEL_SDK_DISABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, False),
    ],
)
def test_tracing_is_requested_only_by_an_exporter_variable(
    environ: dict[str, str], requested: bool
) -> None:
    assert tracing_requested(environ) is requested


def test_the_exporter_is_otlp_over_http_unless_the_console_is_asked_for() -> None:
    assert isinstance(
        span_exporter({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}), OTLPSpanExporter
    )
    assert isinstance(span_exporter({"OTEL_TRACES_EXPORTER": "console"}), ConsoleSpanExporter)


def test_an_exporter_that_is_not_installed_is_refused_naming_every_problem() -> None:
    with pytest.raises(TelemetryConfigInvalid) as refused:
        span_exporter({"OTEL_TRACES_EXPORTER": "zipkin", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"})

    assert len(refused.value.problems) == 2
    assert "OTEL_TRACES_EXPORTER" in refused.value.problems[0]
    assert "OTEL_EXPORTER_OTLP_PROTOCOL" in refused.value.problems[1]


def test_log_lines_carry_the_current_trace_and_span(
    spans: InMemorySpanExporter, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging(LogFormat.JSON, "INFO")
    try:
        with trace.get_tracer("test").start_as_current_span("work") as span:
            structlog.get_logger("t").info("appended", stream_id="mentorship-c-p")
            logging.getLogger("temporalio.worker").warning("from the stdlib")
        structlog.get_logger("t").info("outside any span")
    finally:
        configure_logging(LogFormat.CONSOLE, "WARNING")
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    context = span.get_span_context()

    for line in lines[:2]:
        assert line["trace_id"] == format(context.trace_id, "032x")
        assert line["span_id"] == format(context.span_id, "016x")
    assert "trace_id" not in lines[2]
    assert [finished.name for finished in spans.get_finished_spans()] == ["work"]
