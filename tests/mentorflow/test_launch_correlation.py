"""A bus command's message id is the correlation id of everything it starts: the cohort's
events and its relationships' (real NATS JetStream, Temporal dev server and PostgreSQL)."""

from __future__ import annotations

import uuid

import nats
import pytest
from faststream.nats import NatsBroker
from temporalio.client import Client

from devstack.stack import StackAddresses
from eventstore import PostgresEventStore
from mentorflow.cohorts import launch_cohort
from mentorflow.commands import include_commands
from mentorflow.converter import data_converter
from mentorflow.settings import Settings
from mentorflow.telemetry import temporal_interceptors
from tests.mentorflow.test_launch_command import _config, _spec_json
from tests.support import assert_eventually, create_database, open_vault
from worker import build_worker

pytestmark = pytest.mark.servers


async def test_a_commands_message_id_correlates_the_cohort_and_its_relationships(
    stack: StackAddresses, postgres_server_url: str
) -> None:
    store = await PostgresEventStore.connect(await create_database(postgres_server_url, "corr"))
    client = await Client.connect(
        stack.temporal_address,
        data_converter=data_converter(Settings().payload_keyring()),
        interceptors=temporal_interceptors(),
    )
    task_queue = f"corr-{uuid.uuid4().hex[:8]}"
    config = _config()
    broker = NatsBroker(stack.nats_url)
    include_commands(broker, lambda spec: launch_cohort(client, spec, task_queue), config)
    body, cohort_id = _spec_json()
    message_id = f"hr-system-{uuid.uuid4().hex}"
    try:
        async with build_worker(client, store, task_queue, await open_vault(store.pool)):
            await broker.start()
            connection = await nats.connect(stack.nats_url)
            try:
                await connection.jetstream().publish(
                    config.launch_subject, body.encode(), headers={"Nats-Msg-Id": message_id}
                )
            finally:
                await connection.close()
            rows = await assert_eventually(
                lambda: store.pool.fetch(
                    "SELECT stream_id, event_id, event_type, correlation_id, causation_id "
                    "FROM eventstore.events ORDER BY global_position"
                ),
                lambda found: (
                    {"MentorshipsStarted", "OnboardingStarted"}
                    <= {row["event_type"] for row in found}
                ),
                timeout=90,
                message="the cohort started its relationships",
            )
            await client.get_workflow_handle(f"cohort-{cohort_id}").terminate("test finished")
    finally:
        await broker.stop()
        await store.close()

    by_type = {row["event_type"]: row for row in rows}
    launched = by_type["CohortLaunched"]
    assert (launched["correlation_id"], launched["causation_id"]) == (message_id, message_id)
    # Every event of the chain carries the command's id; follow-ups name their cause.
    assert {row["correlation_id"] for row in rows} == {message_id}
    matched = by_type["MatchingCompleted"]
    assert matched["causation_id"] == str(launched["event_id"])
    opening = [row for row in rows if row["event_type"] == "MentorshipMatched"]
    assert opening
    assert {row["causation_id"] for row in opening} == {str(matched["event_id"])}
