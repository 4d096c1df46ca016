"""The FastStream NATS broker, built from `BusConfig` (never at import time)."""

from __future__ import annotations

import contextlib
import logging
import time
from typing import Any

import nats.errors
import structlog
from faststream.nats import NatsBroker

from bus.config import BusConfig
from bus.tracing import telemetry_middleware

log = structlog.get_logger(__name__)

SPECIFICATION_URL = "nats://localhost:4222"
BROKER_LOGGER = "mentorflow.faststream"
"""FastStream's logger in mentorflow: a plain stdlib logger, so its lines go through the
configured structlog formatting (FastStream's default logger has a handler and format of its
own); `mentorflow.logging.configure_logging` keeps it at WARNING: FastStream's INFO lines are
per-message and per-task chatter ("callback for Task-… is being executed")."""


class EmptyFetchFilter(logging.Filter):
    """Drops FastStream's error record of an empty pull fetch.

    nats-py raises the builtin ``TimeoutError`` when a pull fetch ends without messages
    (``JetStreamContext._fetch_n``), where FastStream 0.7 suppresses only
    ``nats.errors.TimeoutError``: its supervisor then logs "Task-… raised an exception,
    retrying" with a traceback and restarts the consuming task at once. Nothing was fetched,
    so nothing is lost or delayed; every other error is kept.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Whether to keep ``record``."""
        error = record.exc_info[1] if record.exc_info else None
        return not (type(error) is TimeoutError and "retrying" in record.getMessage())


def broker_options() -> dict[str, Any]:
    """What every NatsBroker of mentorflow is created with: the logger and trace headers."""
    logger = logging.getLogger(BROKER_LOGGER)
    if not any(isinstance(known, EmptyFetchFilter) for known in logger.filters):
        logger.addFilter(EmptyFetchFilter())
    return {
        "logger": logger,
        # Trace context in the headers of what it publishes and consumes (bus.tracing).
        "middlewares": (telemetry_middleware(),),
    }


"""The server the AsyncAPI document names, whatever this process connects to."""


class ConnectionReporter:
    """Logs NATS connection trouble as key-values, at most every ``interval`` seconds.

    nats-py reports every failed (re)connect attempt; while the server is down that is one
    record per attempt, so repeats are summarised with a count.
    """

    def __init__(self, interval: float = 30.0) -> None:
        self._interval = interval
        self._last_report = float("-inf")
        self._suppressed = 0

    async def error(self, error: Exception) -> None:
        """nats-py's ``error_cb``."""
        now = time.monotonic()
        if now - self._last_report < self._interval:
            self._suppressed += 1
            return
        log.warning(
            "nats_connection_error",
            error_type=type(error).__name__,
            error=str(error),
            repeated=self._suppressed,
        )
        self._last_report = now
        self._suppressed = 0

    async def disconnected(self) -> None:
        """nats-py's ``disconnected_cb``."""
        log.warning("nats_disconnected")

    async def reconnected(self) -> None:
        """nats-py's ``reconnected_cb``."""
        log.info("nats_reconnected")
        self._last_report = float("-inf")
        self._suppressed = 0


def create_broker(config: BusConfig, **options: Any) -> NatsBroker:
    """A NATS broker that keeps reconnecting for as long as the server is away.

    nats-py gives up after 60 attempts by default and closes the connection for good, which
    would leave a long-running relay or projector publishing into a dead client. Here it
    retries forever, also on the first connect, so ``await broker.start()`` waits for the
    server instead of failing; callers bound that wait themselves if they need to.

    Args:
        config: Where the server is.
        **options: Passed on to `NatsBroker` (e.g. ``name``, ``middlewares``).

    Returns:
        A broker, not yet connected.
    """
    reporter = ConnectionReporter()
    settings: dict[str, Any] = {
        "name": "mentorflow",
        "allow_reconnect": True,
        "max_reconnect_attempts": -1,
        "reconnect_time_wait": 1,
        "connect_timeout": 2,
        "error_cb": reporter.error,
        "disconnected_cb": reporter.disconnected,
        "reconnected_cb": reporter.reconnected,
        "specification_url": SPECIFICATION_URL,
        "description": "mentorflow's NATS with JetStream",
        **broker_options(),
    }
    settings.update(options)
    return NatsBroker(config.nats_url, **settings)


async def close_broker(broker: NatsBroker) -> None:
    """Stop ``broker``, also when its server is away.

    `NatsBroker.stop` drains the connection, which needs the server; while nats-py is
    reconnecting, draining fails and the connection would stay open, reconnecting forever.
    It is closed as it is instead (nothing is lost: the relay's checkpoint never passed an
    unacknowledged event).
    """
    try:
        await broker.stop()
    except (nats.errors.Error, OSError, TimeoutError) as error:
        log.info("nats_closed_without_draining", error_type=type(error).__name__)
        with contextlib.suppress(nats.errors.Error, OSError, TimeoutError):
            await broker.connection.close()
