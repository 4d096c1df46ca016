"""The cohort-launch command on the bus, against real NATS JetStream and the dev server."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import nats
import pytest
import yaml
from faststream.nats import NatsBroker
from prometheus_client import REGISTRY
from temporalio.client import Client
from temporalio.service import RPCError

from devstack.stack import StackAddresses
from domain.cohort_spec import CohortSpec
from eventstore import PostgresEventStore
from mentorflow.cohorts import LaunchResult, launch_cohort
from mentorflow.commands import REPLY_TO_HEADER, CommandsConfig, include_commands
from mentorflow.converter import data_converter
from mentorflow.settings import Settings
from tests.support import create_database, open_vault
from worker import build_worker

EXAMPLE = Path(__file__).parents[2] / "examples" / "cohort-small.yaml"


def _parked(reason: str) -> float:
    """How many launch commands this process parked for ``reason`` (the metric)."""
    labels = {"command": "cohort.launch", "reason": reason}
    return REGISTRY.get_sample_value("mentorflow_command_dead_letters_total", labels) or 0.0


def _spec_json() -> tuple[str, str]:
    spec = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    now = datetime.now(UTC)
    spec["cohort_id"] = f"bus-{uuid.uuid4().hex[:8]}"
    spec["program"].update(
        {"starts_at": now.isoformat(), "ends_at": (now + timedelta(days=90)).isoformat()}
    )
    spec["program"]["review_cycles"] = []
    return json.dumps(spec, default=str), spec["cohort_id"]


def _config(**overrides: Any) -> CommandsConfig:
    unique = uuid.uuid4().hex[:8]
    return CommandsConfig(
        prefix=f"t{unique}",
        stream=f"COMMANDS_{unique}",
        dead_letter_stream=f"COMMANDS_DL_{unique}",
        durable=f"launcher-{unique}",
        **overrides,
    )


async def _send_and_wait(
    stack: StackAddresses, config: CommandsConfig, body: str
) -> dict[str, Any]:
    """Publish a command to JetStream (plain nats-py) and wait for its outcome."""
    connection = await nats.connect(stack.nats_url)
    try:
        inbox = connection.new_inbox()
        replies = await connection.subscribe(inbox)
        await connection.jetstream().publish(
            config.launch_subject, body.encode(), headers={REPLY_TO_HEADER: inbox}
        )
        reply = await replies.next_msg(timeout=90)
        outcome: dict[str, Any] = json.loads(reply.data)
        return outcome
    finally:
        await connection.close()


async def _dead_letters(stack: StackAddresses, config: CommandsConfig) -> list[dict[str, Any]]:
    connection = await nats.connect(stack.nats_url)
    try:
        subscription = await connection.jetstream().subscribe(
            config.dead_letter_subject, stream=config.dead_letter_stream, ordered_consumer=True
        )
        return [json.loads((await subscription.next_msg(timeout=10)).data)]
    finally:
        await connection.close()


@pytest.fixture
async def launcher_running(
    stack: StackAddresses, postgres_server_url: str
) -> AsyncIterator[Callable[..., Awaitable[tuple[Client, CommandsConfig]]]]:
    brokers: list[NatsBroker] = []
    store = await PostgresEventStore.connect(await create_database(postgres_server_url, "cmd"))
    client = await Client.connect(
        stack.temporal_address, data_converter=data_converter(Settings().payload_keyring())
    )
    task_queue = f"cmd-{uuid.uuid4().hex[:8]}"

    async def start(
        launcher: Callable[[CohortSpec], Awaitable[LaunchResult]] | None = None,
        **config_overrides: Any,
    ) -> tuple[Client, CommandsConfig]:
        config = _config(**config_overrides)
        broker = NatsBroker(stack.nats_url)
        include_commands(
            broker, launcher or (lambda spec: launch_cohort(client, spec, task_queue)), config
        )
        await broker.start()
        brokers.append(broker)
        return client, config

    async with build_worker(client, store, task_queue, await open_vault(store.pool)):
        yield start
        for broker in brokers:
            await broker.stop()
    await store.close()


async def test_a_valid_command_launches_the_cohort_once(
    stack: StackAddresses, launcher_running: Callable[..., Awaitable[tuple[Client, CommandsConfig]]]
) -> None:
    client, config = await launcher_running()
    body, cohort_id = _spec_json()

    first = await _send_and_wait(stack, config, body)
    again = await _send_and_wait(stack, config, body)

    assert (first["status"], first["cohort_id"]) == ("launched", cohort_id)
    assert first["pairs"] > 0
    assert [u["mentee_id"] for u in first["unmatched"]] == ["p-013"]
    assert again["status"] == "already_launched"
    description = await client.get_workflow_handle(f"cohort-{cohort_id}").describe()
    assert description.id == f"cohort-{cohort_id}"
    await client.get_workflow_handle(f"cohort-{cohort_id}").terminate("test finished")


async def test_an_invalid_command_is_rejected_with_every_problem_and_starts_nothing(
    stack: StackAddresses, launcher_running: Callable[..., Awaitable[tuple[Client, CommandsConfig]]]
) -> None:
    client, config = await launcher_running()
    body = json.dumps({"cohort_id": "bad id!", "program": {}, "participants": [{"id": "x"}]})
    parked = _parked("rejected")

    outcome = await _send_and_wait(stack, config, body)
    (letter,) = await _dead_letters(stack, config)

    assert _parked("rejected") == parked + 1

    assert outcome["status"] == "rejected"
    assert len(outcome["problems"]) >= 5
    assert any(problem.startswith("cohort_id") for problem in outcome["problems"])
    assert letter["outcome"]["problems"] == outcome["problems"]
    assert json.loads(letter["command"]["body"]) == json.loads(body)
    with pytest.raises(RPCError):
        await client.get_workflow_handle("cohort-bad id!").describe()


async def test_a_command_that_keeps_failing_is_retried_then_parked(
    stack: StackAddresses, launcher_running: Callable[..., Awaitable[tuple[Client, CommandsConfig]]]
) -> None:
    attempts: list[str] = []

    async def unreachable(spec: CohortSpec) -> LaunchResult:
        attempts.append(spec.cohort_id)
        raise ConnectionError("Temporal is unreachable")

    _, config = await launcher_running(unreachable, max_deliver=3, backoff=(0.1,))
    body, cohort_id = _spec_json()
    parked = _parked("failed")

    outcome = await _send_and_wait(stack, config, body)
    (letter,) = await _dead_letters(stack, config)

    assert _parked("failed") == parked + 1

    assert outcome == letter["outcome"]
    assert letter["command"]["body"] == body
    assert (outcome["status"], outcome["cohort_id"]) == ("failed", cohort_id)
    assert attempts == [cohort_id] * 3
