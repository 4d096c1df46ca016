"""The local stack against real servers: start, reuse, crash, restart, stop only its own."""

from __future__ import annotations

import os
import signal
import uuid
from dataclasses import replace
from pathlib import Path

import asyncpg
import nats
import pytest
from google.protobuf.duration_pb2 import Duration
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.api.workflowservice.v1 import RegisterNamespaceRequest
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.common import SearchAttributePair, TypedSearchAttributes

from devstack.stack import (
    SERVER_NAMES,
    LocalStack,
    ServerStartFailed,
    ServerState,
    StackConfig,
    StackConfigInvalid,
    StackStatus,
    free_port,
)
from devstack.stack.state import load_records
from mentorflow.settings import Settings
from tests.stack.conftest import RunningStack
from tests.support import assert_eventually
from workflows.search_attributes import ALL_KEYS, STAGE


async def _registered_search_attributes(address: str, namespace: str) -> dict[str, int]:
    client = await Client.connect(address, namespace=namespace)
    listing = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=namespace)
    )
    return dict(listing.custom_attributes)


def _states(status: StackStatus) -> dict[str, ServerState]:
    return {server.name: server.state for server in status.servers}


async def test_up_starts_every_server_and_status_reports_them_up(
    running_stack: RunningStack,
) -> None:
    status = await running_stack.stack.status()

    assert running_stack.first_up.started == SERVER_NAMES
    assert status.all_up, status
    assert all(server.started_by_stack for server in status.servers)
    assert all(server.log_path and server.log_path.exists() for server in status.servers)


async def test_second_up_starts_nothing(running_stack: RunningStack) -> None:
    again = await LocalStack(running_stack.config).up()

    assert again.started == ()
    assert again.model_copy(update={"started": SERVER_NAMES}) == running_stack.first_up


async def test_stack_env_points_settings_at_the_servers(running_stack: RunningStack) -> None:
    settings = Settings(_env_file=running_stack.config.env_file)
    addresses = running_stack.first_up

    assert settings.temporal_address == addresses.temporal_address
    assert settings.nats_url == addresses.nats_url
    assert settings.database_url == addresses.database_url
    connection = await asyncpg.connect(settings.database_url)
    try:
        assert await connection.fetchval("SELECT current_database()") == "mentorflow"
    finally:
        await connection.close()


async def test_the_contract_search_attributes_are_registered(running_stack: RunningStack) -> None:
    registered = await _registered_search_attributes(
        running_stack.first_up.temporal_address, "default"
    )

    for key in ALL_KEYS:
        assert registered.get(key.name) == int(key.indexed_value_type), key.name


async def test_search_attributes_are_registered_on_a_server_already_running(
    running_stack: RunningStack, tmp_path: Path
) -> None:
    # A namespace without them, on a Temporal server this new stack did not start.
    namespace = f"stack-test-{uuid.uuid4().hex[:8]}"
    client = await Client.connect(running_stack.first_up.temporal_address)
    await client.workflow_service.register_namespace(
        RegisterNamespaceRequest(
            namespace=namespace, workflow_execution_retention_period=Duration(seconds=86400)
        )
    )
    config = replace(running_stack.config, state_dir=tmp_path, temporal_namespace=namespace)

    first = await LocalStack(config).up()
    second = await LocalStack(config).up()

    assert first.started == second.started == ()
    registered = await _registered_search_attributes(first.temporal_address, namespace)
    assert registered[STAGE.name] == IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD


async def test_a_killed_server_is_reported_crashed_and_the_next_up_restarts_it(
    running_stack: RunningStack,
) -> None:
    stack = running_stack.stack
    nats_pid = (await stack.status()).server("nats").pid
    assert nats_pid is not None

    os.kill(nats_pid, signal.SIGKILL)

    status = await assert_eventually(
        stack.status,
        lambda status: status.server("nats").state is ServerState.CRASHED,
        timeout=10,
        message="nats reported crashed",
    )
    assert status.server("nats").exit_code == -signal.SIGKILL
    assert status.crashed == (status.server("nats"),)
    restarted = await stack.up()
    assert restarted.started == ("nats",)
    assert (await stack.status()).all_up


async def test_data_survives_down_and_up(running_stack: RunningStack) -> None:
    stack, addresses = running_stack.stack, running_stack.first_up
    suffix = uuid.uuid4().hex[:10]
    workflow_id, stream, subject = f"stack-{suffix}", f"STACK_{suffix}", f"stacktest.{suffix}"

    database = await asyncpg.connect(addresses.database_url)
    try:
        await database.execute("CREATE TABLE IF NOT EXISTS survivors (name text)")
        await database.execute("INSERT INTO survivors VALUES ($1)", suffix)
    finally:
        await database.close()
    bus = await nats.connect(addresses.nats_url)
    try:
        await bus.jetstream().add_stream(name=stream, subjects=[f"{subject}.>"])
        await bus.jetstream().publish(f"{subject}.kept", b"survives restarts")
    finally:
        await bus.close()
    temporal = await Client.connect(addresses.temporal_address)
    # No worker polls this task queue: the execution simply stays open, stored in SQLite.
    await temporal.start_workflow(
        "NeverPolledWorkflow",
        id=workflow_id,
        task_queue=f"stack-test-{suffix}",
        search_attributes=TypedSearchAttributes([SearchAttributePair(STAGE, "active")]),
    )

    assert await stack.down() == SERVER_NAMES
    assert set(_states(await stack.status()).values()) == {ServerState.DOWN}
    assert (await stack.up()).started == SERVER_NAMES

    database = await asyncpg.connect(addresses.database_url)
    try:
        assert await database.fetchval("SELECT count(*) FROM survivors WHERE name = $1", suffix)
    finally:
        await database.close()
    bus = await nats.connect(addresses.nats_url)
    try:
        message = await bus.jetstream().get_msg(stream, seq=1)
        assert message.data == b"survives restarts"
    finally:
        await bus.close()
    temporal = await Client.connect(addresses.temporal_address)
    description = await temporal.get_workflow_handle(workflow_id).describe()
    assert description.status is WorkflowExecutionStatus.RUNNING
    assert description.typed_search_attributes.get(STAGE) == "active"
    query = f'WorkflowId = "{workflow_id}" AND {STAGE.name} = "active"'
    await assert_eventually(
        lambda: temporal.count_workflows(query),
        lambda count: count.count == 1,
        timeout=15,
        message="workflow found by its search attribute",
    )
    await temporal.get_workflow_handle(workflow_id).terminate(reason="test over")


async def test_down_stops_only_what_up_started(running_stack: RunningStack, tmp_path: Path) -> None:
    # Temporal, PostgreSQL and the SMTP sink already run (the package's stack); only NATS is
    # missing.
    config = replace(
        running_stack.config, state_dir=tmp_path, nats_url=f"nats://127.0.0.1:{free_port()}"
    )
    stack = LocalStack(config)

    assert (await stack.up()).started == ("nats",)
    assert await stack.down() == ("nats",)

    assert _states(await stack.status()) == {
        "temporal": ServerState.UP,
        "nats": ServerState.DOWN,
        "postgres": ServerState.UP,
        "smtp": ServerState.UP,  # the package stack's sink, on the same address
        "oidc": ServerState.UP,  # and its identity provider
    }
    assert (await running_stack.stack.status()).all_up


async def test_a_failed_up_quotes_the_server_log_and_stops_what_it_started(
    running_stack: RunningStack, tmp_path: Path
) -> None:
    # PostgreSQL and the SMTP sink already run; Temporal starts fine; NATS cannot create its
    # store.
    config = replace(
        running_stack.config,
        state_dir=tmp_path,
        temporal_address=f"127.0.0.1:{free_port()}",
        nats_url=f"nats://127.0.0.1:{free_port()}",
    )
    tmp_path.joinpath("nats").write_text("a file where the JetStream store should be")
    stack = LocalStack(config)

    with pytest.raises(ServerStartFailed) as raised:
        await stack.up()

    assert raised.value.server == "nats"
    assert "storage directory is not a directory" in raised.value.log_tail
    assert "storage directory is not a directory" in str(raised.value)
    assert load_records(config.record_file) == {}
    assert _states(await stack.status()) == {
        "temporal": ServerState.DOWN,
        "nats": ServerState.DOWN,
        "postgres": ServerState.UP,
        "smtp": ServerState.UP,  # the package stack's sink, on the same address
        "oidc": ServerState.UP,  # and its identity provider
    }


async def test_no_server_is_started_for_an_address_on_another_machine(tmp_path: Path) -> None:
    # 192.0.2.0/24 is reserved for documentation: nothing answers there.
    config = replace(StackConfig.for_tests(tmp_path), nats_url="nats://192.0.2.1:4222")

    with pytest.raises(StackConfigInvalid) as raised:
        await LocalStack(config).up()

    assert len(raised.value.problems) == 1
    assert raised.value.problems[0].startswith("nats:")
    assert load_records(config.record_file) == {}
