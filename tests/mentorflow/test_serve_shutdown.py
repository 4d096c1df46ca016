"""``mentorflow serve`` stops on SIGTERM in the middle of work: quietly, completely, in time.

The real command in a process of its own, JSON logs: a cohort launched on the bus is being
started (the worker, relay, projector and people reactor all busy) when SIGTERM arrives. The
process exits 0 within its grace period, and every line it wrote is one of its structured
log records (no traceback, no library line in a format of its own).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import asyncpg
import nats
from temporalio.client import Client

from devstack.stack import StackAddresses
from mentorflow.commands import CommandsConfig
from tests.mentorflow.test_launch_command import _spec_json
from tests.support import assert_eventually, create_database

REPOSITORY = Path(__file__).resolve().parents[2]
GRACE_SECONDS = 45
"""What an orchestrator would give it (Kubernetes' default is 30 s; the compose file's
``stop_grace_period`` is longer)."""


async def _events(database_url: str) -> int:
    connection = await asyncpg.connect(database_url)
    try:
        count: int = await connection.fetchval("SELECT count(*) FROM eventstore.events")
        return count
    except asyncpg.UndefinedTableError:
        return 0
    finally:
        await connection.close()


async def test_sigterm_during_work_stops_serve_quietly_and_completely(
    stack: StackAddresses, postgres_server_url: str, tmp_path: Path
) -> None:
    database_url = await create_database(postgres_server_url, "shutdown")
    environment = {
        **os.environ,
        "MENTORFLOW_STATE_DIR": str(tmp_path),
        "MENTORFLOW_TEMPORAL_ADDRESS": stack.temporal_address,
        "MENTORFLOW_DATABASE_URL": database_url,
        "MENTORFLOW_NATS_URL": stack.nats_url,
        "MENTORFLOW_TASK_QUEUE": f"shutdown-{uuid.uuid4().hex[:8]}",
        "MENTORFLOW_LOG_FORMAT": "json",
        "MENTORFLOW_LOG_LEVEL": "INFO",
    }
    executable = Path(sys.executable).with_name("mentorflow")
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            str(executable),
            "serve",
            cwd=REPOSITORY,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    body, _ = _spec_json()
    try:
        connection = await nats.connect(stack.nats_url)
        try:
            jetstream = connection.jetstream()
            await assert_eventually(
                lambda: _stream_exists(jetstream),
                timeout=90,
                message=f"serve's command consumer started:\n{log_path.read_text()[-3000:]}",
            )
            await jetstream.publish(CommandsConfig().launch_subject, body.encode())
        finally:
            await connection.close()
        # Work in progress: the cohort's events are being appended and relayed.
        await assert_eventually(lambda: _events(database_url), lambda count: count > 0, timeout=90)

        process.send_signal(signal.SIGTERM)
        started = time.monotonic()
        code = await asyncio.wait_for(process.wait(), GRACE_SECONDS)
        stopped_in = time.monotonic() - started
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        client = await Client.connect(stack.temporal_address)
        async for execution in client.list_workflows(
            f'TaskQueue = "{environment["MENTORFLOW_TASK_QUEUE"]}" AND ExecutionStatus = "Running"'
        ):
            await client.get_workflow_handle(execution.id).terminate("test finished")

    output = log_path.read_text(encoding="utf-8")
    assert code == 0, output[-3000:]
    assert stopped_in < GRACE_SECONDS
    lines = [line for line in output.splitlines() if line.strip()]
    foreign = [line for line in lines if not _is_record(line)]
    assert foreign == [], "\n".join(foreign[:20])
    events = [json.loads(line)["event"] for line in lines]
    assert "services started" in events
    assert not [
        record for record in map(json.loads, lines) if record.get("level") in ("error", "critical")
    ], output[-3000:]


def _is_record(line: str) -> bool:
    try:
        record = json.loads(line)
    except ValueError:
        return False
    return isinstance(record, dict) and "event" in record and "level" in record


async def _stream_exists(jetstream: nats.js.JetStreamContext) -> bool:
    try:
        await jetstream.stream_info(CommandsConfig().stream)
    except nats.js.errors.NotFoundError:
        return False
    return True
