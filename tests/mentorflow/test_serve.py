"""``mentorflow serve`` wiring: a launch command on the bus ends up in the read models."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path

import asyncpg
import nats
import pytest
from temporalio.client import Client

from devstack.stack import StackAddresses
from mentorflow.commands import REPLY_TO_HEADER, CommandsConfig
from mentorflow.services import serve_all
from mentorflow.settings import Settings
from tests.mentorflow.test_launch_command import _spec_json
from tests.support import assert_eventually, create_database


async def _overview_rows(database_url: str, cohort_id: str) -> int:
    connection = await asyncpg.connect(database_url)
    try:
        count: int = await connection.fetchval(
            "SELECT count(*) FROM read_models.mentorship_overview WHERE cohort_id = $1", cohort_id
        )
        return count
    except asyncpg.UndefinedTableError:
        return 0
    finally:
        await connection.close()


async def test_serve_runs_worker_relay_projector_and_command_consumer_together(
    stack: StackAddresses, postgres_server_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MENTORFLOW_STATE_DIR", str(tmp_path))
    database_url = await create_database(postgres_server_url, "serve")
    settings = Settings(
        temporal_address=stack.temporal_address,
        database_url=database_url,
        nats_url=stack.nats_url,
        task_queue=f"serve-{uuid.uuid4().hex[:8]}",
    )
    stop = asyncio.Event()
    services = asyncio.create_task(serve_all(settings, stop))
    body, cohort_id = _spec_json()
    connection = await nats.connect(stack.nats_url)
    try:
        inbox = connection.new_inbox()
        replies = await connection.subscribe(inbox)
        jetstream = connection.jetstream()
        await assert_eventually(  # the command stream exists once the consumer started
            lambda: _stream_exists(jetstream), timeout=60, message="commands stream created"
        )
        await jetstream.publish(
            CommandsConfig().launch_subject, body.encode(), headers={REPLY_TO_HEADER: inbox}
        )
        outcome = json.loads((await replies.next_msg(timeout=90)).data)
        rows = await assert_eventually(
            lambda: _overview_rows(database_url, cohort_id),
            lambda count: count == outcome["pairs"],
            timeout=90,
            message="relationships projected",
        )
    finally:
        await connection.close()
        stop.set()
        await asyncio.wait_for(services, timeout=60)
        client = await Client.connect(stack.temporal_address)
        handle = client.get_workflow_handle(f"cohort-{cohort_id}")
        await handle.terminate("test finished")

    assert outcome["status"] == "launched"
    assert rows > 0


async def _stream_exists(jetstream: nats.js.JetStreamContext) -> bool:
    try:
        await jetstream.stream_info(CommandsConfig().stream)
    except nats.js.errors.NotFoundError:
        return False
    return True
