"""Each standalone service command serves its metrics on ``MENTORFLOW_METRICS_ADDRESS``, and
those with a Temporal client the SDK's on ``MENTORFLOW_METRICS_TEMPORAL_ADDRESS``: the real
commands as processes, on the session's servers."""

from __future__ import annotations

import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from devstack.stack import StackAddresses, free_port
from mentorflow.api.tokens import Role, add_token
from tests.bus.support import isolated_bus_config
from tests.faults.services import ServiceProcess, _environment
from tests.metrics.support import Scrape, scrape
from tests.support import assert_eventually, create_database

pytestmark = [pytest.mark.servers, pytest.mark.slow]


@dataclass(frozen=True)
class Expected:
    """What a command's page must show once it runs."""

    command: str
    series: str
    """A sample with at least one series (the process's own work or reading)."""
    declared: str
    """A family it declares (HELP and TYPE), series or not."""
    temporal: bool = False


GC = "python_gc_objects_collected_total"
"""prometheus_client's own, on every page."""
COMMANDS = [
    Expected("worker", GC, "mentorflow_eventstore_appended_events", temporal=True),
    Expected("relay", "mentorflow_relay_lag_events", "mentorflow_projection_stalled"),
    Expected("projector", "mentorflow_projection_stalled", "mentorflow_cohort_pairs"),
    Expected("notifier", GC, "mentorflow_notifications"),
    Expected(
        "api", "mentorflow_http_requests_total", "mentorflow_command_dead_letters", temporal=True
    ),
]


async def _answers(process: ServiceProcess, url: str) -> Scrape | None:
    process.check_alive()
    try:
        return await scrape(url)
    except httpx.HTTPError:
        return None


def _temporal(page: Scrape) -> bool:
    return any(name.startswith("temporal_") for name in page.families)


@pytest.mark.parametrize("expected", COMMANDS, ids=[expected.command for expected in COMMANDS])
async def test_the_command_serves_its_metrics(
    expected: Expected,
    stack: StackAddresses,
    postgres_server_url: str,
    tmp_path: Path,
) -> None:
    metrics, temporal, api = free_port(), free_port(), free_port()
    bus = isolated_bus_config(stack.nats_url)
    process = ServiceProcess(
        expected.command,
        [str(Path(sys.executable).with_name("mentorflow")), expected.command],
        tmp_path / f"{expected.command}.log",
        _environment(
            MENTORFLOW_STATE_DIR=str(tmp_path),
            MENTORFLOW_TEMPORAL_ADDRESS=stack.temporal_address,
            MENTORFLOW_TASK_QUEUE=f"metrics-{uuid.uuid4().hex[:8]}",
            MENTORFLOW_DATABASE_URL=await create_database(postgres_server_url, "commands"),
            MENTORFLOW_NATS_URL=stack.nats_url,
            MENTORFLOW_BUS_STREAM_NAME=str(bus.stream_name),
            MENTORFLOW_BUS_SUBJECT_PREFIX=str(bus.subject_prefix),
            MENTORFLOW_API_PORT=str(api),
            MENTORFLOW_NOTIFIER_API_TOKEN=add_token(tmp_path / "tokens.json", Role.SERVICE),
            MENTORFLOW_METRICS_ADDRESS=f"127.0.0.1:{metrics}",
            MENTORFLOW_METRICS_TEMPORAL_ADDRESS=f"127.0.0.1:{temporal}",
            MENTORFLOW_METRICS_REFRESH_INTERVAL="0.5",
        ),
    )
    page_url = f"http://127.0.0.1:{metrics}/metrics"
    process.start()
    try:
        if expected.command == "api":  # a request of its own to count
            await assert_eventually(
                lambda: _answers(process, f"http://127.0.0.1:{api}/metrics"),
                lambda page: page is not None,
                timeout=60,
                interval=0.5,
            )
        page = await assert_eventually(
            lambda: _answers(process, page_url),
            lambda page: page is not None and bool(page.series(expected.series)),
            timeout=60,
            interval=0.5,
            message=f"{expected.command} serves {expected.series}",
        )
        sdk = await assert_eventually(
            lambda: _answers(process, f"http://127.0.0.1:{temporal}/metrics"),
            lambda page: not expected.temporal or (page is not None and _temporal(page)),
            timeout=60,
            interval=0.5,
            message=f"{expected.command} serves the Temporal SDK's metrics",
        )
    finally:
        process.stop()

    assert page is not None
    assert page.families[expected.declared].documentation
    if not expected.temporal:
        assert sdk is None, f"{expected.command} has no Temporal client to export metrics of"
