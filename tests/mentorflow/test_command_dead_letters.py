"""``mentorflow deadletters`` on parked launch commands: real NATS JetStream, PostgreSQL and
the Temporal dev server."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nats
import pytest
import yaml
from faststream.nats import NatsBroker
from temporalio.client import Client
from typer.testing import CliRunner, Result

from devstack.stack import StackAddresses
from domain.cohort_spec import CohortSpec
from eventstore import PostgresEventStore, create_pool
from eventstore.pool import DatabaseSettings
from mentorflow.cli.app import app
from mentorflow.cohorts import LaunchResult, launch_cohort
from mentorflow.commands import REPLY_TO_HEADER, CommandsConfig, include_commands
from mentorflow.converter import data_converter
from mentorflow.settings import Settings
from projections.errors import describe_error
from projections.schema import migrate_read_models
from tests.mentorflow.test_launch_command import EXAMPLE, _config, _spec_json
from tests.support import create_database, open_vault
from worker import build_worker

pytestmark = pytest.mark.servers

SPEC = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
PERSONAL_VALUES = [
    value
    for person in SPEC["participants"]
    for value in (person["name"], person["email"], person["name"].split()[-1])
]
"""Names and addresses of the example spec: none may appear in any output."""


@dataclass
class Launcher:
    """A launcher whose Temporal can be 'unreachable' (raises as the client would)."""

    client: Client
    task_queue: str
    unreachable: bool = False
    launched: list[str] = field(default_factory=list)

    async def __call__(self, spec: CohortSpec) -> LaunchResult:
        if self.unreachable:
            raise ConnectionError("Temporal is unreachable")
        result = await launch_cohort(self.client, spec, self.task_queue)
        if not result.already_launched:
            self.launched.append(spec.cohort_id)
        return result


@dataclass
class Running:
    config: CommandsConfig
    launcher: Launcher
    environment: dict[str, str]


@pytest.fixture
async def running(
    stack: StackAddresses, postgres_server_url: str, clean_database: str, tmp_path: Path
) -> AsyncIterator[Running]:
    """The launch-command consumer on its own streams, and the CLI's environment for them."""
    store = await PostgresEventStore.connect(await create_database(postgres_server_url, "dlq"))
    client = await Client.connect(
        stack.temporal_address, data_converter=data_converter(Settings().payload_keyring())
    )
    task_queue = f"dlq-{uuid.uuid4().hex[:8]}"
    launcher = Launcher(client, task_queue)
    config = _config(max_deliver=2, backoff=(0.1,))
    broker = NatsBroker(stack.nats_url)
    include_commands(broker, launcher, config)
    environment = {
        "MENTORFLOW_STATE_DIR": str(tmp_path),
        "MENTORFLOW_DATABASE_URL": clean_database,
        "MENTORFLOW_NATS_URL": stack.nats_url,
        "MENTORFLOW_COMMANDS_PREFIX": config.prefix,
        "MENTORFLOW_COMMANDS_STREAM": config.stream,
        "MENTORFLOW_COMMANDS_DEAD_LETTER_STREAM": config.dead_letter_stream,
    }
    async with build_worker(client, store, task_queue, await open_vault(store.pool)):
        await broker.start()
        try:
            yield Running(config, launcher, environment)
        finally:
            await broker.stop()
    await store.close()


async def _cli(running: Running, *arguments: str) -> Result:
    """The command line in a thread (it runs its own event loop)."""

    def invoke() -> Result:
        root = logging.getLogger()
        handlers, level = root.handlers[:], root.level
        try:
            return CliRunner().invoke(app, list(arguments), env=running.environment)
        finally:
            root.handlers[:] = handlers
            root.setLevel(level)

    return await asyncio.to_thread(invoke)


async def _send(stack: StackAddresses, config: CommandsConfig, body: str) -> dict[str, Any]:
    connection = await nats.connect(stack.nats_url)
    try:
        inbox = connection.new_inbox()
        replies = await connection.subscribe(inbox)
        await connection.jetstream().publish(
            config.launch_subject, body.encode(), headers={REPLY_TO_HEADER: inbox}
        )
        outcome: dict[str, Any] = json.loads((await replies.next_msg(timeout=90)).data)
        return outcome
    finally:
        await connection.close()


async def _command_rows(running: Running) -> list[dict[str, Any]]:
    listed = await _cli(running, "deadletters", "list", "--json")
    assert listed.exit_code == 0, listed.output
    return [row for row in json.loads(listed.stdout) if row["kind"] == "command"]


async def _stream_messages(stack: StackAddresses, stream: str) -> int:
    connection = await nats.connect(stack.nats_url)
    try:
        info = await connection.jetstream().stream_info(stream)
        return int(info.state.messages)
    finally:
        await connection.close()


def _invalid_spec() -> str:
    spec = json.loads(_spec_json()[0])
    spec["cohort_id"] = "bad id!"
    spec["participants"][0]["email"] = "not an address " + spec["participants"][0]["email"]
    return json.dumps(spec)


def _assert_masked(*outputs: str) -> None:
    for output in outputs:
        for value in PERSONAL_VALUES:
            assert value not in output


async def test_a_rejected_command_is_parked_with_its_body_and_shown_masked(
    stack: StackAddresses, running: Running
) -> None:
    body = _invalid_spec()
    outcome = await _send(stack, running.config, body)
    (row,) = await _command_rows(running)
    reference = row["id"]
    shown = await _cli(running, "deadletters", "show", reference)
    as_json = await _cli(running, "deadletters", "show", reference, "--json")
    listed = await _cli(running, "deadletters", "list")
    connection = await nats.connect(stack.nats_url)
    try:
        raw = await connection.jetstream().get_msg(
            running.config.dead_letter_stream, row["sequence"]
        )
    finally:
        await connection.close()

    assert outcome["status"] == "rejected"
    assert json.loads(raw.data or b"")["command"]["body"] == body  # parked as sent
    assert reference == f"command:{row['sequence']}"
    assert shown.exit_code == 0, shown.output
    assert as_json.exit_code == 0, as_json.output
    detail = json.loads(as_json.stdout)
    assert detail["status"] == "rejected"
    assert detail["command"]["participants"] == len(SPEC["participants"])
    assert detail["command"]["participant_ids"][:2] == ["p-001", "p-002"]
    assert detail["command"]["cohort_id"] == "[personal]"  # not an id: shown masked
    assert len(detail["problems"]) == len(outcome["problems"])
    assert any("participants[0].email" in problem for problem in detail["problems"])
    assert reference in listed.stdout
    _assert_masked(shown.stdout, as_json.stdout, listed.stdout, json.dumps(row))


async def test_a_command_parked_while_temporal_was_down_launches_once_when_retried_twice(
    stack: StackAddresses, running: Running
) -> None:
    body, cohort_id = _spec_json()
    running.launcher.unreachable = True
    failed = await _send(stack, running.config, body)
    (row,) = await _command_rows(running)
    running.launcher.unreachable = False  # Temporal is back
    connection = await nats.connect(stack.nats_url)
    results = await connection.subscribe(running.config.results_subject)

    retried = await _cli(
        running, "deadletters", "retry", row["id"], "--reason", "Temporal back", "--by", "ops-ann"
    )
    retried_again = await _cli(
        running, "deadletters", "retry", row["id"], "--reason", "again", "--by", "ops-bob"
    )
    outcome = json.loads((await results.next_msg(timeout=90)).data)
    await connection.close()
    history = await _cli(running, "deadletters", "history", row["id"], "--json")

    assert (failed["status"], row["status"]) == ("failed", "failed")
    assert "ConnectionError" in row["error"]
    assert retried.exit_code == 0, retried.output
    assert "sent again" in retried.stdout
    assert retried_again.exit_code == 0, retried_again.output
    assert "already retried" in retried_again.stdout
    assert (outcome["status"], outcome["cohort_id"]) == ("launched", cohort_id)
    assert running.launcher.launched == [cohort_id]
    # The original and one retry: asked twice, the command was published once.
    assert await _stream_messages(stack, running.config.stream) == 2
    assert [(a["action"], a["actor"]) for a in json.loads(history.stdout)] == [("retry", "ops-ann")]
    assert await _command_rows(running) == []
    handle = running.launcher.client.get_workflow_handle(f"cohort-{cohort_id}")
    await handle.terminate("test finished")


async def test_discarding_a_command_records_who_and_why_and_removes_it(
    stack: StackAddresses, running: Running
) -> None:
    await _send(stack, running.config, _invalid_spec())
    (row,) = await _command_rows(running)

    discarded = await _cli(
        running, "deadletters", "discard", row["id"], "--yes", "--reason", "sender resent"
    )
    again = await _cli(running, "deadletters", "discard", row["id"], "--yes", "--reason", "x")
    retried = await _cli(running, "deadletters", "retry", row["id"], "--reason", "oops")
    history = await _cli(running, "deadletters", "history", row["id"], "--json")
    unknown = await _cli(running, "deadletters", "show", "command:99999")

    assert discarded.exit_code == 0, discarded.output
    assert again.exit_code == 0, again.output
    assert retried.exit_code == 2
    assert "already discarded" in retried.stderr
    assert [(a["action"], a["reason"]) for a in json.loads(history.stdout)] == [
        ("discard", "sender resent")
    ]
    assert await _command_rows(running) == []
    assert unknown.exit_code == 2
    assert "no command dead letter 99999" in unknown.stderr
    assert await _stream_messages(stack, running.config.stream) == 1  # nothing sent again


async def test_a_stalled_projection_is_listed_read_only_with_the_way_past_it(
    running: Running, clean_database: str
) -> None:
    event_id = uuid.uuid4()
    pool = await create_pool(DatabaseSettings(clean_database, min_size=1, max_size=2))
    try:
        await migrate_read_models(pool)
        await pool.execute(
            "INSERT INTO read_models.positions (projection, stalled_event_id, stalled_error,"
            " stalled_since, stalled_attempts) VALUES ('cohorts', $1, $2, now(), 3)"
            " ON CONFLICT (projection) DO UPDATE SET stalled_event_id = excluded.stalled_event_id,"
            " stalled_error = excluded.stalled_error, stalled_since = excluded.stalled_since,"
            " stalled_attempts = excluded.stalled_attempts",
            event_id,
            describe_error(KeyError("participants")),
        )
    finally:
        await pool.close()
    reference = f"projection:cohorts:{event_id}"

    listed = await _cli(running, "deadletters", "list", "--json")
    shown = await _cli(running, "deadletters", "show", reference)
    retried = await _cli(running, "deadletters", "retry", reference, "--reason", "x")
    discarded = await _cli(running, "deadletters", "discard", reference, "--yes", "--reason", "x")

    assert listed.exit_code == 0, listed.output
    (row,) = [row for row in json.loads(listed.stdout) if row["kind"] == "projection"]
    assert (row["id"], row["state"], row["error_class"]) == (reference, "stalled", "KeyError")
    assert row["actionable"] is False
    assert shown.exit_code == 0, shown.output
    assert "KeyError" in shown.stdout
    for refused in (retried, discarded):
        assert refused.exit_code == 2
        message = " ".join(refused.stderr.replace("│", " ").split())  # unwrap rich's box
        assert f"mentorflow projections skip cohorts {event_id}" in message
