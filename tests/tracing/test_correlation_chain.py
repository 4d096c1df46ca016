"""One HTTP request followed by its ids: the events it recorded, their bus messages, the
notification they triggered and the trace, all linked by correlation and causation ids.

Real servers (the session's Temporal dev server, PostgreSQL, NATS and a real SMTP sink);
the API, a worker, the relay and the notifier run in this process as in
`test_trace_across_hops`.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import nats
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from temporalio.client import Client

from bus import BusConfig
from devstack.stack import StackAddresses
from eventstore import PostgresEventStore, create_pool
from eventstore.pool import DatabaseSettings
from mentorflow.api import create_app
from mentorflow.api.tokens import Role
from mentorflow.converter import data_converter
from mentorflow.correlation import originating
from mentorflow.settings import Settings
from mentorflow.telemetry import temporal_interceptors
from notifications import OutboxKey, RetryPolicy
from notifications.directory import CohortContacts, PersonContact
from notifications.messages import Links
from notifications.service import NotifierConfig, run_notifier
from projections import migrate_read_models
from tests.api.conftest import serving
from tests.api.support import Pair, Tokens, conversation, onboard, start_pair
from tests.bus.support import isolated_bus_config, relay_running
from tests.notifications.conftest import MailSink, mail_sink
from tests.support import assert_eventually, create_database, open_vault
from tests.tracing.test_trace_across_hops import conversation_request
from worker import build_worker
from workflows.origin import ORIGIN_HEADER, Origin

pytestmark = pytest.mark.servers

__all__ = ["mail_sink"]  # the SMTP sink fixture, used here too

REQUEST_ID = f"req-{uuid.uuid4().hex}"
START_ID = f"start-{uuid.uuid4().hex}"


class PairAddresses:
    """A directory that knows the pair's addresses (unique to the test)."""

    def __init__(self, token: str) -> None:
        self.token = token

    def address(self, person_id: str) -> str:
        return f"{person_id}.{self.token}@example.org"

    async def contacts(self, cohort_id: str, person_ids: list[str]) -> CohortContacts:
        people = [
            PersonContact(person_id=person, name=person, email=self.address(person))
            for person in person_ids
        ]
        return CohortContacts(cohort_id=cohort_id, people=people)

    def forget(self, person_id: str) -> None:
        return None


async def prepare(http: httpx.AsyncClient, tokens: Tokens, pair: Pair) -> list[str]:
    """Training, goals and the kickoff through the API (the requests before the one
    followed: the kickoff starts no conversation series, the next conversation does)."""
    held_at = (datetime.now(UTC) - timedelta(minutes=2)).isoformat()
    return (await onboard(http, tokens, pair, held_at=held_at))[:1]


async def update_headers(client: Client, workflow_id: str) -> dict[str, Origin]:
    """The origin header of every update the workflow accepted, by update id."""
    found: dict[str, Origin] = {}
    converter = data_converter(Settings().payload_keyring()).payload_converter
    async for event in client.get_workflow_handle(workflow_id).fetch_history_events():
        if event.HasField("workflow_execution_update_accepted_event_attributes"):
            request = event.workflow_execution_update_accepted_event_attributes.accepted_request
            header = request.input.header.fields.get(ORIGIN_HEADER)
            if header is not None:
                value = converter.from_payloads([header])[0]
                found[request.meta.update_id] = Origin.model_validate(value)
    return found


async def test_one_request_is_followed_by_its_ids_to_the_notification(
    stack: StackAddresses,
    postgres_server_url: str,
    tmp_path: Path,
    spans: InMemorySpanExporter,
    mail_sink: MailSink,
) -> None:
    database_url = await create_database(postgres_server_url, "correlation")
    store = await PostgresEventStore.connect(database_url, max_size=10)
    await migrate_read_models(store.pool)
    client = await Client.connect(
        stack.temporal_address,
        data_converter=data_converter(Settings().payload_keyring()),
        interceptors=temporal_interceptors(),
    )
    task_queue = f"correlation-{uuid.uuid4().hex[:10]}"
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
    directory = PairAddresses(uuid.uuid4().hex[:8])
    smtp = mail_sink.smtp_config()
    notifier_pool = await create_pool(DatabaseSettings(database_url, min_size=1, max_size=4))
    notifier_config = NotifierConfig(
        bus=bus,
        links=Links("https://mentoring.example.org", "mentorflow@example.org"),
        smtp=smtp,
        durable=f"notifier-{uuid.uuid4().hex[:8]}",
        policy=RetryPolicy(initial=timedelta(0), maximum=timedelta(0)),
        poll_interval=0.1,
    )
    stop_notifier = asyncio.Event()
    notifier = asyncio.create_task(
        run_notifier(notifier_pool, directory, notifier_config, stop_notifier)
    )
    connection = await nats.connect(stack.nats_url)
    try:
        async with (
            build_worker(client, store, task_queue, await open_vault(store.pool)),
            relay_running(database_url, bus),
            serving(create_app(settings, client=client, pool=store.pool)) as http,
        ):
            with originating(Origin(correlation_id=START_ID)):
                pair = await start_pair(client, task_queue)
            goals = await prepare(http, tokens, pair)
            spans.clear()
            response = await http.post(
                f"/mentorships/{pair.mentorship_id}/conversations",
                json=conversation(goals, held_at=datetime.now(UTC).isoformat()),
                headers={
                    **tokens.headers(pair.mentor_id, Role.MENTOR),
                    "X-Request-ID": REQUEST_ID,
                },
            )
            assert response.status_code == 201, response.text
            assert response.headers["X-Request-ID"] == REQUEST_ID
            request_span = conversation_request(spans.get_finished_spans())
            assert request_span.context is not None
            held = await store.pool.fetchrow(
                "SELECT event_id, correlation_id, causation_id, traceparent "
                "FROM eventstore.events WHERE stream_id = $1 AND event_type = 'ConversationHeld' "
                "ORDER BY stream_version DESC LIMIT 1",
                pair.mentorship_id,
            )
            assert held is not None
            opening = await store.pool.fetch(
                "SELECT correlation_id, causation_id FROM eventstore.events "
                "WHERE stream_id = $1 AND event_type IN ('MentorshipMatched', 'OnboardingStarted')",
                pair.mentorship_id,
            )
            updates = await update_headers(client, pair.mentorship_id)
            # The bus message of the event.
            js = connection.jetstream()
            subscription = await js.pull_subscribe(
                f"{bus.subject_prefix}.mentorship.ConversationHeld", stream=bus.stream_name
            )
            messages = await subscription.fetch(2, timeout=30)
            # The notification it triggered, delivered to both.
            event_id = held["event_id"]
            rows = await assert_eventually(
                lambda: notifier_pool.fetch(
                    "SELECT recipient, channel, address, state FROM notifications.outbox "
                    "WHERE event_id = $1",
                    event_id,
                ),
                lambda found: len(found) == 2 and all(row["state"] == "sent" for row in found),
                timeout=30,
                message="the conversation's notifications were sent",
            )
    finally:
        stop_notifier.set()
        await asyncio.wait_for(notifier, 30)
        await connection.close()
        await notifier_pool.close()
        await store.close()

    # The events: correlated with the request, caused by its update (the command).
    assert held["correlation_id"] == REQUEST_ID
    update_id = held["causation_id"]
    assert update_id in updates, updates
    assert updates[update_id].correlation_id == REQUEST_ID
    # A start's events carry the starter's origin (here the test's own).
    assert {(row["correlation_id"], row["causation_id"]) for row in opening} == {
        (START_ID, START_ID)
    }
    # The bus message carries the same envelope ids, the event id as message id and the trace.
    [message] = [found for found in messages if json.loads(found.data)["event_id"] == str(event_id)]
    envelope = json.loads(message.data)
    assert (envelope["correlation_id"], envelope["causation_id"]) == (REQUEST_ID, update_id)
    headers = message.headers or {}
    assert headers["Nats-Msg-Id"] == str(event_id)
    assert headers["correlation_id"] == REQUEST_ID
    trace_id = format(request_span.context.trace_id, "032x")
    assert headers["traceparent"].split("-")[1] == trace_id
    # The stored trace context is the request's trace.
    assert held["traceparent"].split("-")[1] == trace_id
    # The notifications name the event: in the outbox and in each mail's Message-ID.
    for row in rows:
        key = OutboxKey(event_id=event_id, recipient=row["recipient"], channel=row["channel"])
        [mail] = [
            mail
            for mail in mail_sink.messages_to(row["address"])
            if mail.message["Message-ID"] == key.message_id(smtp.domain)
        ]
        assert mail.message["Subject"] == "Your conversation series was updated"
