"""A process's metrics endpoints: its own registry, the database readings, Temporal's runtime.

Two endpoints at most per process, each off unless configured (``MENTORFLOW_METRICS_*``):

- ``MENTORFLOW_METRICS_ADDRESS``: prometheus_client's HTTP server with the process's
  registry (the in-process counters, the database readings when the process takes them, and
  prometheus_client's process and Python collectors). The API serves the same registry at
  ``/metrics`` on its own port in any case.
- ``MENTORFLOW_METRICS_TEMPORAL_ADDRESS``: the Temporal SDK's own exporter. The SDK's metrics
  live in its Rust core, which serves them itself; merging them into the registry would mean
  re-aggregating every one of them in Python, so they are a scrape target of their own.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import structlog
from prometheus_client import REGISTRY, CollectorRegistry, start_http_server
from temporalio.runtime import (
    LogForwardingConfig,
    LoggingConfig,
    PrometheusConfig,
    Runtime,
    TelemetryConfig,
    TelemetryFilter,
)

from mentorflow.metrics.readings import DatabaseReadings, Reading
from mentorflow.settings import Settings, split_address

log = structlog.get_logger(__name__)


CORE_LOGGER = "temporalio.core"
"""Where the Temporal SDK's Rust core logs go: Python logging, so its lines are formatted
(and filtered) like every other; by default the core writes its own format to stderr."""


def temporal_runtime(address: str | None) -> Runtime:
    """A Temporal runtime forwarding the core's logs (warnings and errors) to Python logging,
    with its metrics served on ``address`` (``host:port``) when one is given.

    Counters end in ``_total`` and durations are histograms in seconds with the unit in
    their name (``temporal_activity_execution_latency_seconds``), as Prometheus names go.

    Raises:
        ValueError: ``address`` is not ``host:port``.
        OSError: Its host name does not resolve.
    """
    logging_config = LoggingConfig(
        filter=TelemetryFilter(core_level="WARN", other_level="ERROR"),
        forwarding=LogForwardingConfig(logger=logging.getLogger(CORE_LOGGER)),
    )
    if address is None:
        return Runtime(telemetry=TelemetryConfig(logging=logging_config))
    host, port = split_address(address)
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:  # a host name: the SDK binds IP addresses only
        ip = ipaddress.ip_address(socket.gethostbyname(host))
    bind_address = f"[{ip}]:{port}" if ip.version == 6 else f"{ip}:{port}"
    return Runtime(
        telemetry=TelemetryConfig(
            logging=logging_config,
            metrics=PrometheusConfig(
                bind_address=bind_address,
                counters_total_suffix=True,
                unit_suffix=True,
                durations_as_seconds=True,
            ),
        )
    )


def use_temporal_metrics(settings: Settings) -> None:
    """Set this process's Temporal runtime: the core's logs through Python logging, and the
    SDK's metrics exported when ``MENTORFLOW_METRICS_TEMPORAL_ADDRESS`` is set. Call it
    before the first client connects.

    Raises:
        RuntimeError: A client connected first (the default runtime exists already).
    """
    address = settings.metrics.temporal_address
    # Without metrics a second call (commands run in one test process) just replaces it.
    Runtime.set_default(temporal_runtime(address), error_if_already_set=address is not None)
    if address is not None:
        log.info("temporal metrics served", address=address)


@asynccontextmanager
async def process_metrics(
    settings: Settings,
    *,
    readings: Sequence[Reading] = (),
    registry: CollectorRegistry = REGISTRY,
) -> AsyncIterator[DatabaseReadings | None]:
    """While the block runs: serve ``registry`` on ``MENTORFLOW_METRICS_ADDRESS`` (when set)
    and keep ``readings`` of the database fresh in it.

    Yields:
        The collector of the readings (None without readings), e.g. to refresh it at once.
    """
    server = None
    if (address := settings.metrics.address) is not None:
        host, port = split_address(address)
        server, _ = start_http_server(port, host, registry)
        log.info("metrics served", address=address)
    collector = None
    halt = asyncio.Event()
    refreshing: asyncio.Task[None] | None = None
    if readings:
        collector = DatabaseReadings(readings)
        registry.register(collector)
        refreshing = asyncio.create_task(
            collector.run(settings.database, halt, settings.metrics.refresh_interval)
        )
    try:
        yield collector
    finally:
        halt.set()
        if refreshing is not None:
            try:
                await refreshing
            except Exception as error:  # metrics never take a service down, nor its stop
                log.error("metrics readings failed", error_type=type(error).__name__)
        if collector is not None:
            registry.unregister(collector)
        if server is not None:
            await asyncio.to_thread(server.shutdown)  # waits for its loop's next turn
            server.server_close()
