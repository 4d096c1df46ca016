"""One trace from an HTTP request to the notifier: API, Temporal, activity, PostgreSQL, relay,
NATS, subscriber.

Real servers (the session's Temporal dev server, PostgreSQL and NATS), everything else in
this process: the API over ASGI, a worker on the traced client, the relay and the notifier in
tasks, on a stream of the test's own.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from temporalio.client import Client

from bus import BusConfig
from devstack.stack import StackAddresses
from eventstore import PostgresEventStore, create_pool
from eventstore.pool import DatabaseSettings
from mentorflow.api import create_app
from mentorflow.converter import data_converter
from mentorflow.settings import Settings
from mentorflow.telemetry import temporal_interceptors
from notifications import RetryPolicy, SmtpConfig
from notifications.directory import CohortContacts
from notifications.messages import Links
from notifications.service import NotifierConfig, run_notifier
from projections import migrate_read_models
from tests.api.conftest import serving
from tests.api.support import Tokens, onboard, start_pair
from tests.bus.support import isolated_bus_config, relay_running
from tests.support import assert_eventually, create_database, open_vault
from worker import build_worker

pytestmark = pytest.mark.servers

PROCESSED = ".ConversationHeld process"
"""The end of the name of FastStream's consumer span for a ConversationHeld message."""


class NobodyToTell:
    """A directory that knows the cohort but no one's address: nothing is sent."""

    async def contacts(self, cohort_id: str, person_ids: list[str]) -> CohortContacts:
        return CohortContacts(cohort_id=cohort_id)

    def forget(self, person_id: str) -> None:
        return None


def named(spans: Sequence[ReadableSpan], prefix: str) -> list[ReadableSpan]:
    return [span for span in spans if span.name.startswith(prefix)]


def of_trace(spans: Sequence[ReadableSpan], trace_id: int) -> list[ReadableSpan]:
    return [span for span in spans if span.context and span.context.trace_id == trace_id]


def conversation_request(spans: Sequence[ReadableSpan]) -> ReadableSpan:
    requests = [
        span
        for span in spans
        if span.kind is SpanKind.SERVER
        and span.name.startswith("POST /mentorships/")
        and span.name.endswith("/conversations")
    ]
    assert len(requests) == 1, [span.name for span in spans if span.kind is SpanKind.SERVER]
    return requests[0]


async def test_a_conversation_logged_through_the_api_is_one_trace_to_the_notifier(
    stack: StackAddresses,
    postgres_server_url: str,
    tmp_path: Path,
    spans: InMemorySpanExporter,
) -> None:
    database_url = await create_database(postgres_server_url, "tracing")
    store = await PostgresEventStore.connect(database_url, max_size=10)
    await migrate_read_models(store.pool)
    client = await Client.connect(
        stack.temporal_address,
        data_converter=data_converter(Settings().payload_keyring()),
        interceptors=temporal_interceptors(),
    )
    task_queue = f"tracing-{uuid.uuid4().hex[:10]}"
    tokens_path = tmp_path / "tokens.json"
    settings = Settings(
        temporal_address=stack.temporal_address,
        database_url=database_url,
        nats_url=stack.nats_url,
        task_queue=task_queue,
        api_tokens_file=tokens_path,
    )
    tokens = Tokens.create(tokens_path)
    bus: BusConfig = isolated_bus_config(stack.nats_url)
    notifier_pool = await create_pool(DatabaseSettings(database_url, min_size=1, max_size=4))
    notifier_config = NotifierConfig(
        bus=bus,
        links=Links("https://mentoring.example.org", "mentorflow@example.org"),
        smtp=SmtpConfig("127.0.0.1", 9, from_address="mentorflow@example.org"),
        durable=f"notifier-{uuid.uuid4().hex[:8]}",
        policy=RetryPolicy(initial=timedelta(0), maximum=timedelta(0)),
        poll_interval=0.1,
    )
    stop_notifier = asyncio.Event()
    notifier = asyncio.create_task(
        run_notifier(notifier_pool, NobodyToTell(), notifier_config, stop_notifier)
    )
    try:
        async with (
            build_worker(client, store, task_queue, await open_vault(store.pool)),
            relay_running(database_url, bus),
            serving(create_app(settings, client=client, pool=store.pool)) as http,
        ):
            pair = await start_pair(client, task_queue)
            await onboard(http, tokens, pair)  # its last request logs the conversation
            request = conversation_request(spans.get_finished_spans())
            assert request.context is not None
            trace_id = request.context.trace_id
            # The notifier processes the event last; every other hop happened before.
            traced = await assert_eventually(
                lambda: asyncio.sleep(0, of_trace(spans.get_finished_spans(), trace_id)),
                lambda found: any(
                    span.kind is SpanKind.CONSUMER and span.name.endswith(PROCESSED)
                    for span in found
                ),
                timeout=30,
                message="the notifier processed the conversation in the request's trace",
            )
            stored = await store.pool.fetchval(
                "SELECT traceparent FROM eventstore.events "
                "WHERE stream_id = $1 AND event_type = 'ConversationHeld'",
                pair.mentorship_id,
            )
    finally:
        stop_notifier.set()
        await asyncio.wait_for(notifier, 30)
        await notifier_pool.close()
        await store.close()

    names = [span.name for span in traced]
    assert named(traced, "StartWorkflowUpdate:") or named(traced, "UpdateWorkflow:"), names
    assert named(traced, "HandleUpdate:"), names
    assert named(traced, "StartActivity:append_events"), names
    assert named(traced, "RunActivity:append_events"), names
    inserts = [
        span
        for span in traced
        if span.instrumentation_scope is not None
        and span.instrumentation_scope.name == "opentelemetry.instrumentation.asyncpg"
        and "INSERT INTO eventstore.events" in str((span.attributes or {}).get("db.statement"))
    ]
    assert inserts, names
    publish = [
        span
        for span in traced
        if span.kind is SpanKind.PRODUCER and span.name.endswith(".ConversationHeld publish")
    ]
    assert len(publish) == 1, names
    # The stored context is the appending activity's span, in the request's trace.
    assert isinstance(stored, str)
    assert stored.split("-")[1] == format(trace_id, "032x")
    run_activity = {
        format(span.context.span_id, "016x")
        for span in named(traced, "RunActivity:append_events")
        if span.context is not None
    }
    assert stored.split("-")[2] in run_activity
