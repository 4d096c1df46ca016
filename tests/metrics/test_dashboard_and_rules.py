"""``mentorflow serve`` as a process, with a cohort in it: its metrics pages, and every metric
and label the compose dashboard and alert rules name is one it exports.

Real everything: the session's Temporal, PostgreSQL, NATS and SMTP sink; ``mentorflow serve``
(worker, relay, projector, command consumer, notifier and the API under uvicorn) as the CLI
starts it, with ``MENTORFLOW_METRICS_ADDRESS`` and ``MENTORFLOW_METRICS_TEMPORAL_ADDRESS`` on
free ports. A cohort is launched through the API (one participant's mail is refused for good,
so a notification is dead-lettered) and an invalid launch command is sent on the bus.
"""

from __future__ import annotations

import contextlib
import json
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import nats
import pytest
import yaml
from temporalio.client import Client

from devstack.stack import StackAddresses, free_port
from mentorflow.api.tokens import Role, add_token
from mentorflow.commands import CommandsConfig
from mentorflow.converter import data_converter
from mentorflow.settings import Settings
from tests.api.conftest import _terminate_running
from tests.bus.support import isolated_bus_config
from tests.faults.services import ServiceProcess, _environment
from tests.mentorflow.test_launch_command import EXAMPLE
from tests.metrics.promql import Expression, dashboard_expressions, rule_expressions
from tests.metrics.support import Scrape, scrape
from tests.support import assert_eventually, create_database

pytestmark = [pytest.mark.servers, pytest.mark.slow]

ONLY_ON_FAILURE = frozenset({"mentorflow_metrics_reading_failures_total"})
"""Referenced metrics without series in a healthy run: their labels cannot be checked here
(`tests.metrics.test_database_readings` makes readings fail)."""
SAMPLE_SUFFIXES = {
    "counter": ("_total",),
    "histogram": ("_bucket", "_count", "_sum"),
    "summary": ("", "_count", "_sum"),
}


@dataclass(frozen=True)
class Served:
    """The running ``mentorflow serve`` and what was done to it."""

    api: str
    metrics: str
    temporal: str
    cohort_id: str
    database_url: str


def _spec(cohort_id: str) -> dict[str, Any]:
    """The example cohort, starting now, everybody with an address of the sink; one refused."""
    spec: dict[str, Any] = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    spec["cohort_id"] = cohort_id
    now = datetime.now(UTC)
    spec["program"].update(
        {"starts_at": now.isoformat(), "ends_at": (now + timedelta(days=90)).isoformat()}
    )
    spec["program"]["review_cycles"] = []
    for number, participant in enumerate(spec["participants"]):
        rule = "fail-550" if number == 0 else "person"  # the sink refuses fail-550 for good
        participant["email"] = f"{rule}+{participant['id']}.{cohort_id}@example.org"
    return spec


async def _healthy(process: ServiceProcess, api: str) -> bool:
    process.check_alive()
    try:
        async with httpx.AsyncClient(timeout=5.0) as http:
            return (await http.get(f"{api}/healthz")).status_code == 200
    except httpx.HTTPError:
        return False


async def _send_invalid_command(nats_url: str) -> None:
    connection = await nats.connect(nats_url)
    try:
        await connection.jetstream().publish(
            CommandsConfig().launch_subject, json.dumps({"cohort_id": "bad id!"}).encode()
        )
    finally:
        await connection.close()


@pytest.fixture(scope="module")
async def served(
    stack: StackAddresses, postgres_server_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Served]:
    """``mentorflow serve`` with a cohort launched and a command rejected."""
    state = tmp_path_factory.mktemp("serve-metrics")
    hr_token = add_token(state / "tokens.json", Role.HR_ADMIN)
    service_token = add_token(state / "tokens.json", Role.SERVICE)
    ports = {name: free_port() for name in ("api", "metrics", "temporal")}
    database_url = await create_database(postgres_server_url, "metrics")
    task_queue = f"metrics-{uuid.uuid4().hex[:8]}"
    bus = isolated_bus_config(stack.nats_url)
    process = ServiceProcess(
        "serve",
        [str(Path(sys.executable).with_name("mentorflow")), "serve"],
        state / "serve.log",
        _environment(
            MENTORFLOW_STATE_DIR=str(state),
            MENTORFLOW_TEMPORAL_ADDRESS=stack.temporal_address,
            MENTORFLOW_TASK_QUEUE=task_queue,
            MENTORFLOW_DATABASE_URL=database_url,
            MENTORFLOW_NATS_URL=stack.nats_url,
            MENTORFLOW_BUS_STREAM_NAME=str(bus.stream_name),
            MENTORFLOW_BUS_SUBJECT_PREFIX=str(bus.subject_prefix),
            MENTORFLOW_API_HOST="127.0.0.1",
            MENTORFLOW_API_PORT=str(ports["api"]),
            MENTORFLOW_METRICS_ADDRESS=f"127.0.0.1:{ports['metrics']}",
            MENTORFLOW_METRICS_TEMPORAL_ADDRESS=f"127.0.0.1:{ports['temporal']}",
            MENTORFLOW_METRICS_REFRESH_INTERVAL="0.5",
            MENTORFLOW_NOTIFIER_API_TOKEN=service_token,
            MENTORFLOW_NOTIFIER_DURABLE=f"notifier-{task_queue}",
            MENTORFLOW_NOTIFIER_POLL_INTERVAL="0.2",
            MENTORFLOW_SMTP_HOST=stack.smtp_host,
            MENTORFLOW_SMTP_PORT=str(stack.smtp_port),
        ),
    )
    api = f"http://127.0.0.1:{ports['api']}"
    cohort_id = f"metrics-{uuid.uuid4().hex[:8]}"
    process.start()
    try:
        await assert_eventually(
            lambda: _healthy(process, api), timeout=120, interval=0.5, message="serve answers"
        )
        async with httpx.AsyncClient(base_url=api, timeout=120.0) as http:
            launched = await http.post(
                "/cohorts",
                json=_spec(cohort_id),
                headers={"Authorization": f"Bearer {hr_token}"},
            )
        assert launched.status_code == 202, launched.text
        await _send_invalid_command(stack.nats_url)
        yield Served(
            api=api,
            metrics=f"http://127.0.0.1:{ports['metrics']}/metrics",
            temporal=f"http://127.0.0.1:{ports['temporal']}/metrics",
            cohort_id=cohort_id,
            database_url=database_url,
        )
    finally:
        process.stop()
        client = await Client.connect(
            stack.temporal_address, data_converter=data_converter(Settings().payload_keyring())
        )
        with contextlib.suppress(Exception):
            await _terminate_running(client, task_queue)


@dataclass(frozen=True)
class Pages:
    """The three pages of the process, once the cohort's work shows in them."""

    api: Scrape
    metrics: Scrape
    temporal: Scrape


def _settled(pages: Pages, cohort_id: str) -> bool:
    page = pages.api
    return (
        page.sum("mentorflow_cohort_pairs", cohort_id=cohort_id) > 0
        and page.sum("mentorflow_cohort_missing_pairs", consecutive_misses="3_or_more") > 0
        and page.sum("mentorflow_notifications_total", outcome="sent") > 0
        and page.sum("mentorflow_notifications_total", outcome="dead_lettered") > 0
        and page.sum("mentorflow_command_dead_letters_total", reason="rejected") > 0
        and page.sum("mentorflow_eventstore_appended_events_total") > 0
        and bool(page.series("mentorflow_relay_lag_events"))
        and bool(page.series("mentorflow_projection_stalled"))
        and bool(pages.temporal.series("temporal_activity_execution_latency_seconds_bucket"))
    )


async def _miss_three_conversations(served: Served) -> int:
    """Mark one pair of the cohort as having missed its last three conversations (0: none
    projected yet).

    Three real misses take weeks of the program's cadence: the read model's row stands in
    for them (the projector leaves a row alone until its relationship has a new event).
    """
    connection = await asyncpg.connect(served.database_url)
    try:
        marked: int = await connection.fetchval(
            "WITH one AS (SELECT stream_id FROM read_models.dashboard_pairs "
            "WHERE cohort_id = $1 ORDER BY stream_id LIMIT 1) "
            "UPDATE read_models.dashboard_pairs SET consecutive_misses = 3 "
            "WHERE stream_id IN (SELECT stream_id FROM one) RETURNING 1",
            served.cohort_id,
        )
        return marked or 0
    except asyncpg.UndefinedTableError:
        return 0
    finally:
        await connection.close()


@pytest.fixture(scope="module")
async def pages(served: Served) -> Pages:
    """The pages once the launch was projected, notified and dead-lettered."""

    async def read() -> Pages:
        # Again each time: the projector rewrites the row when the pair has a new event.
        await _miss_three_conversations(served)
        return Pages(
            await scrape(f"{served.api}/metrics"),
            await scrape(served.metrics),
            await scrape(served.temporal),
        )

    return await assert_eventually(
        read,
        lambda pages: _settled(pages, served.cohort_id),
        timeout=180,
        interval=1.0,
        message="the cohort's work in the metrics",
    )


def _exported(pages: Pages) -> dict[str, set[str] | None]:
    """Every sample name the pages export: its label names, or None when declared (HELP and
    TYPE) without a series yet."""
    exported: dict[str, set[str] | None] = {}
    for page in (pages.api, pages.metrics, pages.temporal):
        for family in page.families.values():
            for suffix in SAMPLE_SUFFIXES.get(family.type, ("",)):
                exported.setdefault(family.name + suffix, None)
            for sample in family.samples:
                known = exported.get(sample.name) or set()
                exported[sample.name] = known | set(sample.labels)
    return exported


def _values(pages: Pages, sample_name: str, label: str) -> set[str]:
    return {
        dict(series)[label]
        for page in (pages.api, pages.temporal)
        for series in page.series(sample_name)
        if label in dict(series)
    }


def _problems(
    expression: Expression, pages: Pages, exported: dict[str, set[str] | None]
) -> list[str]:
    problems: list[str] = []
    for metric in sorted(expression.metrics):
        if metric not in exported:
            problems.append(f"{expression.where}: {metric} is not exported")
            continue
        labels = exported[metric]
        if labels is None:
            if metric not in ONLY_ON_FAILURE:
                problems.append(f"{expression.where}: {metric} has no series to check labels on")
            continue
        for label in sorted(expression.grouping - labels):
            problems.append(f"{expression.where}: {metric} has no label {label}")
        for matcher in expression.matchers.get(metric, []):
            if matcher.label not in labels:
                problems.append(f"{expression.where}: {metric} has no label {matcher.label}")
            elif matcher.operator == "=" and matcher.value not in _values(
                pages, metric, matcher.label
            ):
                problems.append(
                    f"{expression.where}: {metric} never has {matcher.label}={matcher.value!r}"
                )
    return problems


def test_every_metric_and_label_of_the_dashboard_and_the_rules_is_exported(
    pages: Pages,
) -> None:
    exported = _exported(pages)
    expressions = [*dashboard_expressions(), *rule_expressions()]
    named = {metric for expression in expressions for metric in expression.metrics}

    problems = [
        problem for expression in expressions for problem in _problems(expression, pages, exported)
    ]

    assert not problems, "\n".join(problems)
    assert {name.split("_")[0] for name in named} == {"mentorflow", "temporal"}
    assert len(named) >= 15
    typo = Expression("a typo", "", metrics={"mentorflow_relay_lag_secnds"})
    assert _problems(typo, pages, exported) == [
        "a typo: mentorflow_relay_lag_secnds is not exported"
    ]


def test_the_metrics_address_serves_what_the_api_serves(pages: Pages) -> None:
    mentorflow = {name for name in pages.api.families if name.startswith("mentorflow_")}

    assert mentorflow == {name for name in pages.metrics.families if name.startswith("mentorflow_")}
    assert "mentorflow_http_requests" in mentorflow
    undocumented = [name for name in mentorflow if not pages.api.families[name].documentation]
    assert not undocumented, "no HELP text"
    assert not [name for name in pages.api.families if name.startswith("temporal_")]


def test_the_cohort_and_its_work_show_in_the_metrics(pages: Pages, served: Served) -> None:
    page = pages.api
    pairs = {
        dict(series)["stage"]: value
        for series, value in page.series("mentorflow_cohort_pairs").items()
        if dict(series)["cohort_id"] == served.cohort_id
    }

    assert sum(pairs.values()) > 0
    missing = page.value(
        "mentorflow_cohort_missing_pairs",
        cohort_id=served.cohort_id,
        consecutive_misses="3_or_more",
    )
    assert missing == 1
    assert page.value("mentorflow_cohort_escalations_total", cohort_id=served.cohort_id) == 0
    assert page.sum("mentorflow_http_requests_total", route="/cohorts", status="202") == 1
    assert page.sum("mentorflow_eventstore_append_duration_seconds_count", outcome="appended") > 0
    assert page.value("mentorflow_projection_stalled", projection="cohort_dashboard") == 0
    assert page.sum("mentorflow_notifications_total", channel="email", outcome="sent") > 0
    assert pages.temporal.series("temporal_workflow_task_schedule_to_start_latency_seconds_bucket")
